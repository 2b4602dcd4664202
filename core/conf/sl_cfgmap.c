/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_cfgmap.c - config maps applied to plugin contexts: defaults, then the
 * section's entries, with unknown, repeated, out-of-range and missing keys
 * reported with their file:line. Also the value parsers (Fluent Bit's
 * semantics: decimal size suffixes, on/off booleans) and `sluice -h` lines.
 * It does not know any plugin; plugins only hand it their tables.
 */
#include "sl_cfgmap.h"
#include "sl_suggest.h"
#include "sl_log.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- value parsers --------------------------------------------------------
 */

int sl_cfg_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"on", "true", "yes"};
	static const char *const no[] = {"off", "false", "no"};

	/* As Fluent Bit's flb_utils_bool: "1" and "0" are not booleans. */
	for (size_t i = 0; i < SL_ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -SL_EINVAL;
}

int sl_cfg_parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!*s ||
	    !(s[0] == '-' || s[0] == '+' || (s[0] >= '0' && s[0] <= '9')))
		return -SL_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -SL_EINVAL;
	*out = v;
	return 0;
}

/*
 * Reads an unsigned decimal number ("12", "1.5", ".5") at the start of `s`.
 * Sets *end after it and *frac when it has a '.'. -SL_EINVAL without digits.
 */
static int parse_unsigned(const char *s, double *out, const char **end,
			  bool *frac)
{
	const char *p = s;
	size_t digits = 0;
	char tmp[64];

	*frac = false;
	while ((*p >= '0' && *p <= '9') || (*p == '.' && !*frac)) {
		if (*p == '.')
			*frac = true;
		else
			digits++;
		p++;
	}
	if (digits == 0 || (size_t)(p - s) >= sizeof(tmp))
		return -SL_EINVAL;
	memcpy(tmp, s, (size_t)(p - s));
	tmp[p - s] = '\0';
	*out = strtod(tmp, NULL);
	*end = p;
	return 0;
}

int sl_cfg_parse_size(const char *s, int64_t *out)
{
	static const struct {
		const char *suffix;
		double mult;
	} units[] = {
	    {"", 1},	 {"K", 1e3}, {"KB", 1e3}, {"M", 1e6},
	    {"MB", 1e6}, {"G", 1e9}, {"GB", 1e9},
	};
	const char *end;
	double v;
	bool frac;

	/* Fluent Bit reads "false" as no size (0). */
	if (strcasecmp(s, "false") == 0) {
		*out = 0;
		return 0;
	}
	if (parse_unsigned(s, &v, &end, &frac) < 0)
		return -SL_EINVAL;
	for (size_t i = 0; i < SL_ARRAY_LEN(units); i++) {
		if (strcasecmp(end, units[i].suffix) != 0)
			continue;
		if (!*end && !frac)
			return sl_cfg_parse_int(s, out);
		v *= units[i].mult;
		if (!(v < 9.2e18))
			return -SL_EINVAL;
		*out = (int64_t)v;
		return 0;
	}
	return -SL_EINVAL;
}

int sl_cfg_parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!*s || strspn(s, "0123456789.eE+-") != strlen(s))
		return -SL_EINVAL; /* no "inf", "nan", hex or blanks */
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return -SL_EINVAL;
	*out = v;
	return 0;
}

int sl_cfg_parse_time(const char *s, double *out)
{
	const char *end;
	double v, mult;
	bool frac;

	if (parse_unsigned(s, &v, &end, &frac) < 0)
		return -SL_EINVAL;
	switch (*end) {
	case '\0':
	case 's':
	case 'S':
		mult = 1;
		break;
	case 'm':
	case 'M':
		mult = 60;
		break;
	case 'h':
	case 'H':
		mult = 3600;
		break;
	case 'd':
	case 'D':
		mult = 86400;
		break;
	default:
		return -SL_EINVAL;
	}
	if (*end && end[1])
		return -SL_EINVAL;
	v *= mult;
	if (!isfinite(v))
		return -SL_EINVAL;
	*out = v;
	return 0;
}

int sl_cfg_split_pair(const char *s, char **key, char **rest)
{
	const char *k, *k_end, *r;
	size_t r_len;

	k = s + strspn(s, " \t");
	k_end = k + strcspn(k, " \t");
	r = k_end + strspn(k_end, " \t");
	r_len = strlen(r);
	while (r_len > 0 && (r[r_len - 1] == ' ' || r[r_len - 1] == '\t'))
		r_len--;
	if (k_end == k || r_len == 0)
		return -SL_EINVAL;
	*key = strndup(k, (size_t)(k_end - k));
	*rest = strndup(r, r_len);
	if (!*key || !*rest) {
		free(*key);
		free(*rest);
		*key = *rest = NULL;
		return -SL_ENOMEM;
	}
	return 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * A quoted word starting at s (*s is the quote): its unescaped text into
 * `o` (room for strlen(s)), NUL-terminated. Returns the character after
 * the closing quote, or NULL when it is unterminated.
 */
static const char *unquote(const char *s, char *o)
{
	char q = *s++;

	while (*s != q) {
		if (*s == '\0')
			return NULL;
		if (*s == '\\' && (s[1] == q || s[1] == '\\'))
			s++;
		*o++ = *s++;
	}
	*o = '\0';
	return s + 1;
}

/*
 * Fluent Bit's rule for regex rules (flb_utils_split(value, ' ', 1)): KEY
 * is the first word, VALUE every byte after the one blank that follows it,
 * so "log  ^ x" matches " ^ x" and quotes are part of the pattern.
 */
static int split_kv_verbatim(const char *s, struct sl_cfg_kv *out)
{
	const char *p = s, *k;
	char *key, *val;

	while (blank(*p))
		p++;
	k = p;
	while (*p && !blank(*p))
		p++;
	if (p == k || !*p || !p[1])
		return -SL_EINVAL;
	key = strndup(k, (size_t)(p - k));
	val = strdup(p + 1);
	if (!key || !val) {
		free(key);
		free(val);
		return -SL_ENOMEM;
	}
	out->key = key;
	out->value = val;
	out->value_quoted = false;
	return 0;
}

int sl_cfg_split_kv(const char *s, unsigned flags, struct sl_cfg_kv *out)
{
	size_t n = strlen(s);
	char *key, *val;
	const char *p = s, *end;
	bool quoted = false;

	if (flags & SL_CFG_VERBATIM)
		return split_kv_verbatim(s, out);
	key = malloc(n + 1);
	val = malloc(n + 1);
	if (!key || !val)
		goto oom;
	while (blank(*p))
		p++;
	if (*p == '"' || *p == '\'') {
		p = unquote(p, key);
		if (!p)
			goto unterminated;
		if (*p && !blank(*p))
			goto inval; /* 'a'b */
	} else {
		size_t k = 0;

		while (*p && !blank(*p))
			key[k++] = *p++;
		key[k] = '\0';
	}
	while (blank(*p))
		p++;
	end = p + strlen(p);
	while (end > p && blank(end[-1]))
		end--;
	if (!*key || end == p)
		goto inval;
	/* one quoted word is unquoted; anything else is taken as written */
	if (*p == '"' || *p == '\'') {
		const char *after = unquote(p, val);

		if (!after)
			goto unterminated;
		quoted = after == end;
	}
	if (!quoted) {
		memcpy(val, p, (size_t)(end - p));
		val[end - p] = '\0';
	}
	out->key = key;
	out->value = val;
	out->value_quoted = quoted;
	return 0;
inval:
	free(key);
	free(val);
	return -SL_EINVAL;
unterminated:
	free(key);
	free(val);
	return -SL_EPARSE;
oom:
	free(key);
	free(val);
	return -SL_ENOMEM;
}

/* ---- storage --------------------------------------------------------------
 */

static void kv_free(struct sl_cfg_kv *kv)
{
	free(kv->key);
	free(kv->value);
	kv->key = kv->value = NULL;
}

static void kvlist_free(struct sl_cfg_kvlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		kv_free(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* Appends one validated KEY VALUE item to the list at ctx + offset. */
static int kv_add(const struct sl_cfg_option *opt, void *ctx, const char *value,
		  const char *file, int line)
{
	struct sl_cfg_kvlist l;
	size_t offset = opt->offset;
	struct sl_cfg_kv kv = {.file = file, .line = line}, *items;
	int rc = sl_cfg_split_kv(value, opt->flags, &kv);

	if (rc < 0)
		return rc;
	memcpy(&l, (char *)ctx + offset, sizeof(l));
	items = realloc(l.items, (l.n + 1) * sizeof(*items));
	if (!items) {
		kv_free(&kv);
		return -SL_ENOMEM;
	}
	l.items = items;
	l.items[l.n++] = kv;
	memcpy((char *)ctx + offset, &l, sizeof(l));
	return 0;
}

static void strlist_free(struct sl_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void multi_free(struct sl_cfg_multi *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->items[i].value);
	free(m->items);
	m->items = NULL;
	m->n = 0;
}

/* Comma-separated items, trimmed, empty ones dropped. */
static int strlist_parse(const char *s, struct sl_strlist *out)
{
	struct sl_strlist l = {0};
	const char *p = s;

	for (;;) {
		const char *c = strchr(p, ','), *e = c ? c : p + strlen(p);
		const char *b = p;

		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > b) {
			char **v = realloc(l.v, (l.n + 1) * sizeof(*v));

			if (!v)
				goto oom;
			l.v = v;
			l.v[l.n] = strndup(b, (size_t)(e - b));
			if (!l.v[l.n])
				goto oom;
			l.n++;
		}
		if (!c)
			break;
		p = c + 1;
	}
	*out = l;
	return 0;
oom:
	strlist_free(&l);
	return -SL_ENOMEM;
}

static int multi_add(void *ctx, size_t offset, const char *value,
		     const char *file, int line)
{
	struct sl_cfg_multi m;
	struct sl_cfg_item *items;
	char *v = strdup(value);

	if (!v)
		return -SL_ENOMEM;
	memcpy(&m, (char *)ctx + offset, sizeof(m));
	items = realloc(m.items, (m.n + 1) * sizeof(*items));
	if (!items) {
		free(v);
		return -SL_ENOMEM;
	}
	m.items = items;
	m.items[m.n].value = v;
	m.items[m.n].file = file;
	m.items[m.n].line = line;
	m.n++;
	memcpy((char *)ctx + offset, &m, sizeof(m));
	return 0;
}

union value {
	int64_t i;
	double d;
	bool b;
};

static const char *expected(enum sl_cfg_type type)
{
	switch (type) {
	case SL_CFG_INT:
		return "an integer";
	case SL_CFG_BOOL:
		return "on/off, true/false or yes/no";
	case SL_CFG_SIZE:
		return "a size such as 512, 32K, 5M or 1G";
	case SL_CFG_DOUBLE:
		return "a number";
	case SL_CFG_TIME:
		return "seconds, optionally with an s, m, h or d suffix";
	case SL_CFG_KV:
		return "KEY VALUE";
	default:
		return "a value";
	}
}

/* Parses `s` for the option's type. -SL_EINVAL when it is not one. */
static int parse_typed(const struct sl_cfg_option *opt, const char *s,
		       union value *v)
{
	switch (opt->type) {
	case SL_CFG_INT:
		return sl_cfg_parse_int(s, &v->i);
	case SL_CFG_SIZE:
		return sl_cfg_parse_size(s, &v->i);
	case SL_CFG_BOOL:
		return sl_cfg_parse_bool(s, &v->b);
	case SL_CFG_DOUBLE:
		return sl_cfg_parse_double(s, &v->d);
	case SL_CFG_TIME:
		return sl_cfg_parse_time(s, &v->d);
	case SL_CFG_STR:
	case SL_CFG_SLIST:
		return 0;
	case SL_CFG_KV: {
		struct sl_cfg_kv kv;
		int rc = sl_cfg_split_kv(s, opt->flags, &kv);

		if (rc == 0)
			kv_free(&kv);
		/* ENOMEM is found again, and reported, when storing */
		return rc == -SL_ENOMEM ? 0 : rc;
	}
	}
	return -SL_EINVAL;
}

static bool in_range(const struct sl_cfg_option *opt, const union value *v)
{
	double x;

	if (opt->max <= opt->min)
		return true;
	switch (opt->type) {
	case SL_CFG_INT:
	case SL_CFG_SIZE:
		x = (double)v->i;
		break;
	case SL_CFG_DOUBLE:
	case SL_CFG_TIME:
		x = v->d;
		break;
	default:
		return true;
	}
	return x >= opt->min && x <= opt->max;
}

/*
 * Checks `s` against the option's type and range, reporting at file:line.
 * Returns 0, -SL_EINVAL (reported).
 */
static int validate(const struct sl_cfg_option *opt, const char *key,
		    const char *s, union value *v, const char *what,
		    const char *file, int line, struct sl_diag *diag)
{
	int rc = parse_typed(opt, s, v);

	if (rc == -SL_EPARSE) {
		sl_diag_add(diag, file, line,
			    "invalid value '%s' for option '%s' of %s: "
			    "unterminated quote",
			    s, key, what);
		return -SL_EINVAL;
	}
	if (rc < 0) {
		const char *colon = opt->desc ? strchr(opt->desc, ':') : NULL;
		int n = 0;

		/* a KV option's desc starts with its own words: "KEY REGEX:" */
		if (opt->type == SL_CFG_KV && colon && colon - opt->desc < 40 &&
		    memchr(opt->desc, ' ', (size_t)(colon - opt->desc)))
			n = (int)(colon - opt->desc);
		sl_diag_add(diag, file, line,
			    "invalid value '%s' for option '%s' of %s: "
			    "expected %.*s",
			    s, key, what,
			    n ? n : (int)strlen(expected(opt->type)),
			    n ? opt->desc : expected(opt->type));
		return -SL_EINVAL;
	}
	if (!in_range(opt, v)) {
		sl_diag_add(diag, file, line,
			    "option '%s' of %s is %s, outside %g..%g", key,
			    what, s, opt->min, opt->max);
		return -SL_EINVAL;
	}
	return 0;
}

/* Stores a validated value into ctx, replacing (and freeing) what was there. */
static int store(const struct sl_cfg_option *opt, void *ctx, const char *s,
		 const union value *v)
{
	char *field = (char *)ctx + opt->offset;

	switch (opt->type) {
	case SL_CFG_STR: {
		char *old, *copy = strdup(s);

		if (!copy)
			return -SL_ENOMEM;
		memcpy(&old, field, sizeof(old));
		free(old);
		memcpy(field, &copy, sizeof(copy));
		return 0;
	}
	case SL_CFG_SLIST: {
		struct sl_strlist old, l;

		if (strlist_parse(s, &l) < 0)
			return -SL_ENOMEM;
		memcpy(&old, field, sizeof(old));
		strlist_free(&old);
		memcpy(field, &l, sizeof(l));
		return 0;
	}
	case SL_CFG_INT:
	case SL_CFG_SIZE:
		memcpy(field, &v->i, sizeof(v->i));
		return 0;
	case SL_CFG_BOOL:
		memcpy(field, &v->b, sizeof(v->b));
		return 0;
	case SL_CFG_DOUBLE:
	case SL_CFG_TIME:
		memcpy(field, &v->d, sizeof(v->d));
		return 0;
	case SL_CFG_KV: {
		struct sl_cfg_kv old, kv = {0};
		int rc = sl_cfg_split_kv(s, opt->flags, &kv);

		if (rc < 0)
			return rc;
		memcpy(&old, field, sizeof(old));
		kv_free(&old);
		memcpy(field, &kv, sizeof(kv));
		return 0;
	}
	}
	return -SL_EINVAL;
}

/* ---- apply ----------------------------------------------------------------
 */

static size_t map_len(const struct sl_cfg_option *map)
{
	size_t n = 0;

	while (map && map[n].name)
		n++;
	return n;
}

static bool skipped(const char *const *skip, const char *key)
{
	for (size_t i = 0; skip && skip[i]; i++)
		if (strcasecmp(skip[i], key) == 0)
			return true;
	return false;
}

/* Finds the option for `key`: exact names first, then prefixes. */
static bool find(const struct sl_cfgmap_target *targets, size_t n_targets,
		 const char *key, size_t *t_out, size_t *i_out)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t t = 0; t < n_targets; t++) {
			const struct sl_cfg_option *map = targets[t].map;

			for (size_t i = 0; map && map[i].name; i++) {
				bool prefix = map[i].flags & SL_CFG_PREFIX;
				size_t len = strlen(map[i].name);

				if (pass == 0
					? (!prefix &&
					   strcasecmp(key, map[i].name) == 0)
					: (prefix && strlen(key) >= len &&
					   strncasecmp(key, map[i].name, len) ==
					       0)) {
					*t_out = t;
					*i_out = i;
					return true;
				}
			}
		}
	}
	return false;
}

/* The option name closest to a misspelt `key`, or NULL (sl_suggest.h). */
static const char *closest(const struct sl_cfgmap_target *targets,
			   size_t n_targets, const char *key)
{
	struct sl_suggest s;

	sl_suggest_start(&s, key);
	for (size_t t = 0; t < n_targets; t++)
		for (const struct sl_cfg_option *o = targets[t].map;
		     o && o->name; o++)
			if (!(o->flags & SL_CFG_PREFIX))
				sl_suggest_offer(&s, o->name);
	return s.best;
}

static int apply_entry(const struct sl_cfgmap_target *tg,
		       const struct sl_cfg_option *opt,
		       const struct sl_conf_entry *e,
		       const struct sl_conf_entry **first, const char *what,
		       struct sl_diag *diag)
{
	union value v;
	int rc;

	if ((opt->flags & SL_CFG_PREFIX) && (opt->flags & SL_CFG_IGNORED)) {
		/* accepted, never stored: an IGNORED option has no field; a
		 * warning, so --dry-run shows what a Fluent Bit config loses */
		sl_log(SL_LOG_WARN, "config",
		       "%s:%d: option %s of %s is accepted for Fluent Bit "
		       "compatibility and has no effect",
		       e->file ? e->file : "-", e->line, e->key, what);
		return 0;
	}
	if (opt->flags & SL_CFG_PREFIX) {
		char *item;

		if (asprintf(&item, "%s %s", e->key + strlen(opt->name),
			     e->value) < 0)
			goto oom;
		rc = multi_add(tg->ctx, opt->offset, item, e->file, e->line);
		free(item);
		if (rc < 0)
			goto oom;
		return 0;
	}
	if (*first && !(opt->flags & SL_CFG_MULTI)) {
		sl_diag_add(diag, e->file, e->line,
			    "option '%s' is given more than once for %s "
			    "(first on line %d)",
			    e->key, what, (*first)->line);
		return -SL_ECONFIG;
	}
	/*
	 * An empty value (a ${VAR} that is not set, or YAML's "") where the
	 * option needs one is an error: taking the default instead would run
	 * a pipeline other than the one written.
	 */
	if (!*e->value && !(opt->flags & (SL_CFG_IGNORED | SL_CFG_MULTI)) &&
	    ((opt->flags & SL_CFG_REQUIRED) || (opt->def && *opt->def))) {
		sl_diag_add(
		    diag, e->file, e->line,
		    "option '%s' of %s is empty; it needs a value%s%s%s",
		    e->key, what, opt->def ? " (default '" : "",
		    opt->def ? opt->def : "", opt->def ? "')" : "");
		*first = e;
		return -SL_ECONFIG;
	}
	if (validate(opt, e->key, e->value, &v, what, e->file, e->line, diag) <
	    0)
		return -SL_ECONFIG;
	if (opt->flags & SL_CFG_IGNORED) {
		if (!*first)
			sl_log(SL_LOG_WARN, "config",
			       "%s:%d: option %s of %s is accepted for Fluent "
			       "Bit compatibility and has no effect",
			       e->file ? e->file : "-", e->line, e->key, what);
		*first = e;
		return 0;
	}
	*first = e;
	if (opt->flags & SL_CFG_MULTI)
		rc = opt->type == SL_CFG_KV
			 ? kv_add(opt, tg->ctx, e->value, e->file, e->line)
			 : multi_add(tg->ctx, opt->offset, e->value, e->file,
				     e->line);
	else
		rc = store(opt, tg->ctx, e->value, &v);
	if (rc < 0)
		goto oom;
	return 0;
oom:
	sl_diag_add(diag, e->file, e->line, "out of memory");
	return -SL_ECONFIG;
}

static int apply_defaults(const struct sl_cfgmap_target *tg,
			  const struct sl_conf_section *sec, const char *what,
			  struct sl_diag *diag)
{
	int rc = 0;

	for (const struct sl_cfg_option *o = tg->map; o && o->name; o++) {
		union value v;

		if (!o->def || (o->flags & (SL_CFG_IGNORED | SL_CFG_MULTI |
					    SL_CFG_PREFIX)))
			continue;
		/* a bad default is a bug in the plugin's table */
		if (validate(o, o->name, o->def, &v, what, sec->file, sec->line,
			     diag) < 0) {
			rc = -SL_ECONFIG;
			continue;
		}
		if (store(o, tg->ctx, o->def, &v) < 0) {
			sl_diag_add(diag, sec->file, sec->line,
				    "out of memory");
			rc = -SL_ECONFIG;
		}
	}
	return rc;
}

int sl_cfgmap_apply(const struct sl_cfgmap_target *targets, size_t n_targets,
		    const struct sl_conf_section *sec, const char *const *skip,
		    const char *what, struct sl_diag *diag)
{
	const struct sl_conf_entry ***first;
	int rc = 0;

	if (!what)
		what = sec->header;
	first = calloc(n_targets ? n_targets : 1, sizeof(*first));
	if (!first)
		goto oom;
	for (size_t t = 0; t < n_targets; t++) {
		first[t] =
		    calloc(map_len(targets[t].map) + 1, sizeof(*first[t]));
		if (!first[t])
			goto oom;
		if (apply_defaults(&targets[t], sec, what, diag) < 0)
			rc = -SL_ECONFIG;
	}

	for (size_t j = 0; j < sec->n; j++) {
		const struct sl_conf_entry *e = &sec->entries[j];
		size_t t, i;

		if (skipped(skip, e->key))
			continue;
		if (!find(targets, n_targets, e->key, &t, &i)) {
			const char *near = closest(targets, n_targets, e->key);

			sl_diag_add(diag, e->file, e->line,
				    "unknown option '%s' for %s%s%s%s", e->key,
				    what, near ? "; did you mean '" : "",
				    near ? near : "", near ? "'?" : "");
			rc = -SL_ECONFIG;
			continue;
		}
		if (apply_entry(&targets[t], &targets[t].map[i], e,
				&first[t][i], what, diag) < 0)
			rc = -SL_ECONFIG;
	}

	for (size_t t = 0; t < n_targets; t++) {
		const struct sl_cfg_option *map = targets[t].map;

		for (size_t i = 0; map && map[i].name; i++) {
			if (first[t][i])
				continue;
			if (map[i].flags & SL_CFG_REQUIRED) {
				sl_diag_add(diag, sec->file, sec->line,
					    "missing required option '%s' "
					    "for %s",
					    map[i].name, what);
				rc = -SL_ECONFIG;
			} else if ((map[i].flags & SL_CFG_MULTI) &&
				   !(map[i].flags &
				     (SL_CFG_PREFIX | SL_CFG_IGNORED)) &&
				   map[i].def) {
				/* a MULTI default stands only when unset */
				if ((map[i].type == SL_CFG_KV
					 ? kv_add(&map[i], targets[t].ctx,
						  map[i].def, sec->file, 0)
					 : multi_add(targets[t].ctx,
						     map[i].offset, map[i].def,
						     sec->file, 0)) < 0)
					goto oom;
			}
		}
	}
	for (size_t t = 0; t < n_targets; t++)
		free(first[t]);
	free(first);
	return rc;
oom:
	if (first) {
		for (size_t t = 0; t < n_targets; t++)
			free(first[t]);
		free(first);
	}
	sl_diag_add(diag, sec->file, sec->line, "out of memory");
	return -SL_ECONFIG;
}

void sl_cfgmap_release(const struct sl_cfg_option *map, void *ctx)
{
	for (const struct sl_cfg_option *o = map; o && o->name; o++) {
		char *field = (char *)ctx + o->offset;

		if (o->flags & SL_CFG_IGNORED)
			continue;
		if (o->type == SL_CFG_KV && (o->flags & SL_CFG_MULTI)) {
			struct sl_cfg_kvlist l;

			memcpy(&l, field, sizeof(l));
			kvlist_free(&l);
			memcpy(field, &l, sizeof(l));
		} else if (o->type == SL_CFG_KV) {
			struct sl_cfg_kv kv;

			memcpy(&kv, field, sizeof(kv));
			kv_free(&kv);
			memcpy(field, &kv, sizeof(kv));
		} else if (o->flags & (SL_CFG_MULTI | SL_CFG_PREFIX)) {
			struct sl_cfg_multi m;

			memcpy(&m, field, sizeof(m));
			multi_free(&m);
			memcpy(field, &m, sizeof(m));
		} else if (o->type == SL_CFG_STR) {
			char *s = NULL;

			memcpy(&s, field, sizeof(s));
			free(s);
			s = NULL;
			memcpy(field, &s, sizeof(s));
		} else if (o->type == SL_CFG_SLIST) {
			struct sl_strlist l;

			memcpy(&l, field, sizeof(l));
			strlist_free(&l);
			memcpy(field, &l, sizeof(l));
		}
	}
}

/* ---- help -----------------------------------------------------------------
 */

static const char *type_name(const struct sl_cfg_option *o)
{
	static const char *const names[] = {
	    [SL_CFG_STR] = "string",	[SL_CFG_INT] = "integer",
	    [SL_CFG_BOOL] = "bool",	[SL_CFG_SIZE] = "size",
	    [SL_CFG_DOUBLE] = "number", [SL_CFG_TIME] = "time",
	    [SL_CFG_SLIST] = "list",	[SL_CFG_KV] = "key value",
	};

	if (o->flags & SL_CFG_PREFIX)
		return "multi";
	if ((size_t)o->type < SL_ARRAY_LEN(names) && names[o->type])
		return names[o->type];
	return "?";
}

static void name_of(const struct sl_cfg_option *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", o->name,
		 (o->flags & SL_CFG_PREFIX) ? "*" : "");
}

static void default_of(const struct sl_cfg_option *o, char *buf, size_t size)
{
	if (o->def)
		snprintf(buf, size, "[%s]", o->def);
	else if (o->flags & SL_CFG_REQUIRED)
		snprintf(buf, size, "(required)");
	else if (o->flags & (SL_CFG_MULTI | SL_CFG_PREFIX))
		snprintf(buf, size, "(multi)");
	else
		buf[0] = '\0';
}

void sl_cfgmap_help(const struct sl_cfg_option *map, FILE *out)
{
	int wn = 0, wt = 0, wd = 0;
	char name[128], def[128];

	/* IGNORED options are left out: they exist only to be accepted. */
	for (const struct sl_cfg_option *o = map; o && o->name; o++) {
		if (o->flags & SL_CFG_IGNORED)
			continue;
		name_of(o, name, sizeof(name));
		default_of(o, def, sizeof(def));
		if ((int)strlen(name) > wn)
			wn = (int)strlen(name);
		if ((int)strlen(type_name(o)) > wt)
			wt = (int)strlen(type_name(o));
		if ((int)strlen(def) > wd)
			wd = (int)strlen(def);
	}
	for (const struct sl_cfg_option *o = map; o && o->name; o++) {
		if (o->flags & SL_CFG_IGNORED)
			continue;
		name_of(o, name, sizeof(name));
		default_of(o, def, sizeof(def));
		fprintf(out, "  %-*s  %-*s  %-*s  %s\n", wn, name, wt,
			type_name(o), wd, def, o->desc ? o->desc : "");
	}
}

/* ---- machine-readable help (-J) -----------------------------------------
 */

void sl_cfgmap_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* The same options, names and defaults as sl_cfgmap_help(), as data: the
 * man pages are generated from this, so they cannot drift from -h. */
void sl_cfgmap_help_json(const struct sl_cfg_option *map, FILE *out)
{
	const char *sep = "";
	char name[128];

	fputc('[', out);
	for (const struct sl_cfg_option *o = map; o && o->name; o++) {
		if (o->flags & SL_CFG_IGNORED)
			continue;
		name_of(o, name, sizeof(name));
		fprintf(out, "%s{\"name\":", sep);
		sl_cfgmap_json_string(out, name);
		fputs(",\"type\":", out);
		sl_cfgmap_json_string(out, type_name(o));
		fputs(",\"default\":", out);
		if (o->def)
			sl_cfgmap_json_string(out, o->def);
		else
			fputs("null", out);
		fprintf(out, ",\"required\":%s,\"multi\":%s,\"prefix\":%s",
			(o->flags & SL_CFG_REQUIRED) ? "true" : "false",
			(o->flags & SL_CFG_MULTI) ? "true" : "false",
			(o->flags & SL_CFG_PREFIX) ? "true" : "false");
		if (o->max > o->min &&
		    (o->type == SL_CFG_INT || o->type == SL_CFG_DOUBLE))
			fprintf(out, ",\"min\":%.17g,\"max\":%.17g", o->min,
				o->max);
		fputs(",\"description\":", out);
		sl_cfgmap_json_string(out, o->desc ? o->desc : "");
		fputc('}', out);
		sep = ",";
	}
	fputc(']', out);
}
