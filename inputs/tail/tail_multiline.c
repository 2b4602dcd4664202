/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_multiline.c - the multiline engine of tail. Each line is first
 * "analysed" by a parser (its content, the text its rules look at, the JSON
 * object it came in, its time), then either continues the file's pending
 * group, starts a new one, or goes out alone. Regex rules follow Fluent
 * Bit: a group starts on a "start_state" rule and goes on while a rule of
 * the current state matches; a line that matches none ends the group.
 * One pending group per file: docker/cri partials of stdout and stderr
 * interleaved within one message are not told apart.
 */
#include "tail_multiline.h"

#include "sl_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ml_kind {
	ML_DOCKER = 1,
	ML_CRI,
	ML_USER,
};

struct tail_ml_def {
	enum ml_kind kind;
	const struct sl_ml_parser *p;	/* ML_USER: borrowed, or `own` */
	struct sl_ml_parser *own;	/* owned: a built-in's compiled rules */
	const struct sl_parser *parser; /* ML_USER with `parser`: borrowed */
	struct sl_accessor *content;	/* owned: key_content, or NULL */
	struct sl_accessor *pattern;	/* owned: key_pattern, or NULL */
	char *key;			/* owned: where the content goes back */
	int64_t flush_ns;
};

/* One line as a parser sees it; everything borrowed for the feed call. */
struct ml_line {
	const char *text, *subj, *base;
	size_t len, subj_len, base_len;
	int64_t ts_ns;
};

/* ---- setup -------------------------------------------------------------- */

int tail_ml_init(struct tail_ml *ml, size_t max_len)
{
	const char *err = NULL;

	memset(ml, 0, sizeof(*ml));
	ml->max_len = max_len;
	ml->min_flush_ns = INT64_MAX;
	sl_record_init(&ml->scratch);
	ml->scratch_ok = true;
	ml->acc_log = sl_accessor_create("log", &err);
	ml->acc_time = sl_accessor_create("time", &err);
	if (!ml->acc_log || !ml->acc_time)
		goto err;
	if (sl_time_fmt_init(&ml->rfc3339, "%Y-%m-%dT%H:%M:%S.%L%z", &err) < 0)
		goto err;
	ml->fmt_ok = true;
	return 0;
err:
	tail_ml_destroy(ml);
	return -SL_ENOMEM;
}

/* ---- regex built-ins ---------------------------------------------------- */

/*
 * Fluent Bit's stack-trace parsers go, java, python and ruby, as data: a
 * line matching `re` while the group is in one of the comma-separated
 * states `from` joins it and moves it to `to`. They run through the same
 * rule walk as a [MULTILINE_PARSER] of type regex, on the "log" field of a
 * JSON line or on the whole line, with the default flush_timeout.
 */
struct builtin_rule {
	const char *from, *re, *to;
};

struct builtin {
	const char *name;
	const struct builtin_rule *rules;
	size_t n;
};

static const struct builtin_rule go_rules[] = {
    {"start_state", "/\\bpanic: /", "go_after_panic"},
    {"start_state", "/http: panic serving/", "go_goroutine"},
    {"go_after_panic, go_after_signal, go_frame_1", "/^$/", "go_goroutine"},
    {"go_after_panic", "/^\\[signal /", "go_after_signal"},
    {"go_goroutine", "/^goroutine \\d+ \\[[^\\]]+\\]:$/", "go_frame_1"},
    {"go_frame_1", "/^(?:[^\\s.:]+\\.)*[^\\s.():]+\\(|^created by /",
     "go_frame_2"},
    {"go_frame_2", "/^\\s/", "go_frame_1"},
};

static const struct builtin_rule java_rules[] = {
    {"start_state, java_start_exception",
     "/(.)(?:Exception|Error|Throwable|V8 errors stack trace)[:\\r\\n]/",
     "java_after_exception"},
    {"java_after_exception", "/^[\\t ]*nested exception is:[\\t ]*/",
     "java_start_exception"},
    {"java_after_exception", "/^[\\r\\n]*$/", "java_after_exception"},
    {"java_after_exception, java", "/^[\\t ]+(?:eval )?at /", "java"},
    /* C#: an inner exception, and an exception out of async code */
    {"java_after_exception, java",
     "/^[\\t ]+--- End of inner exception stack trace ---$/", "java"},
    {"java_after_exception, java",
     "/^--- End of stack trace from previous location where exception "
     "was thrown ---$/",
     "java"},
    {"java_after_exception, java", "/^[\\t ]*(?:Caused by|Suppressed):/",
     "java_after_exception"},
    {"java_after_exception, java",
     "/^[\\t ]*... \\d+ (?:more|common frames omitted)/", "java"},
};

static const struct builtin_rule python_rules[] = {
    {"start_state", "/^Traceback \\(most recent call last\\):$/", "python"},
    {"python", "/^[\\t ]+File /", "python_code"},
    {"python_code", "/[^\\t ]/", "python"},
    /* the exception line ends the traceback: back to start_state */
    {"python", "/^(?:[^\\s.():]+\\.)*[^\\s.():]+:/", "start_state"},
};

static const struct builtin_rule ruby_rules[] = {
    {"start_state, ruby_start_exception", "/^.+:\\d+:in\\s+.*/",
     "ruby_after_exception"},
    {"ruby_after_exception, ruby", "/^\\s+from\\s+.*:\\d+:in\\s+.*/", "ruby"},
};

#define BUILTIN(n, r)                                                          \
	{                                                                      \
		n, r, sizeof(r) / sizeof((r)[0])                               \
	}
static const struct builtin builtins[] = {
    BUILTIN("go", go_rules),
    BUILTIN("java", java_rules),
    BUILTIN("python", python_rules),
    BUILTIN("ruby", ruby_rules),
};
#undef BUILTIN

static void builtin_free(struct sl_ml_parser *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_rules; i++) {
		free(m->rules[i].from_state);
		free(m->rules[i].pattern);
		free(m->rules[i].to_state);
		sl_parser_regex_destroy(m->rules[i].re);
	}
	free(m->rules);
	free(m->name);
	free(m);
}

static const struct builtin *builtin_find(const char *name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(builtins[i].name, name) == 0)
			return &builtins[i];
	return NULL;
}

/* Compiles `b` into a parser shaped like a [MULTILINE_PARSER]. */
static int builtin_compile(const struct builtin *b, struct sl_ml_parser **out,
			   char *err, size_t err_len)
{
	struct sl_ml_parser *m = calloc(1, sizeof(*m));
	int rc = -SL_ENOMEM;

	if (!m)
		return rc;
	m->type = SL_ML_REGEX;
	m->flush_timeout_ms = -1;
	m->name = strdup(b->name);
	m->rules = calloc(b->n, sizeof(*m->rules));
	if (!m->name || !m->rules)
		goto err;
	for (size_t i = 0; i < b->n; i++) {
		struct sl_ml_rule *r = &m->rules[i];
		char e[256];

		m->n_rules++;
		r->from_state = strdup(b->rules[i].from);
		r->pattern = strdup(b->rules[i].re);
		r->to_state = strdup(b->rules[i].to);
		if (!r->from_state || !r->pattern || !r->to_state)
			goto err;
		rc = sl_parser_regex_compile(r->pattern, &r->re, e, sizeof(e));
		if (rc < 0) {
			/* only a broken table (a bug) or no memory */
			snprintf(err, err_len,
				 "multiline parser '%s': rule %zu: "
				 "%s",
				 b->name, i + 1, e);
			goto err;
		}
		rc = -SL_ENOMEM;
	}
	*out = m;
	return 0;
err:
	builtin_free(m);
	return rc;
}

/* ---- the list ----------------------------------------------------------- */

static void def_destroy(struct tail_ml_def *d)
{
	builtin_free(d->own);
	sl_accessor_destroy(d->content);
	sl_accessor_destroy(d->pattern);
	free(d->key);
}

void tail_ml_destroy(struct tail_ml *ml)
{
	for (size_t i = 0; i < ml->n; i++)
		def_destroy(&ml->defs[i]);
	free(ml->defs);
	ml->defs = NULL;
	ml->n = 0;
	sl_accessor_destroy(ml->acc_log);
	sl_accessor_destroy(ml->acc_time);
	ml->acc_log = ml->acc_time = NULL;
	if (ml->fmt_ok)
		sl_time_fmt_destroy(&ml->rfc3339);
	ml->fmt_ok = false;
	if (ml->scratch_ok)
		sl_record_destroy(&ml->scratch);
	ml->scratch_ok = false;
	free(ml->t1.buf);
	free(ml->t2.buf);
	memset(&ml->t1, 0, sizeof(ml->t1));
	memset(&ml->t2, 0, sizeof(ml->t2));
	sl_buf_destroy(&ml->cri_base);
}

/* A key_content / key_pattern: "$log" or "log", one top-level field. */
static int field_acc(const char *spec, struct sl_accessor **acc, char **key,
		     char *err, size_t err_len)
{
	const char *e = NULL;

	*acc = sl_accessor_create(spec, &e);
	if (!*acc) {
		snprintf(err, err_len, "key '%s': %s", spec, e ? e : "invalid");
		return -SL_EINVAL;
	}
	if (sl_accessor_depth(*acc) != 1 || !sl_accessor_last_key(*acc)) {
		snprintf(err, err_len,
			 "key '%s': only a top-level field is "
			 "supported",
			 spec);
		return -SL_EINVAL;
	}
	if (key) {
		*key = strdup(sl_accessor_last_key(*acc));
		if (!*key)
			return -SL_ENOMEM;
	}
	return 0;
}

int tail_ml_add(struct tail_ml *ml, const char *name,
		const struct sl_parsers *ps, char *err, size_t err_len)
{
	struct tail_ml_def d = {0}, *nd;
	int rc = 0;

	if (strcmp(name, "docker") == 0) {
		d.kind = ML_DOCKER;
		d.key = strdup("log");
	} else if (strcmp(name, "cri") == 0) {
		d.kind = ML_CRI;
		d.key = strdup("log");
	} else if (builtin_find(name)) {
		d.kind = ML_USER;
		rc = builtin_compile(builtin_find(name), &d.own, err, err_len);
		d.p = d.own;
		if (rc == 0)
			rc = field_acc("log", &d.content, &d.key, err, err_len);
		if (rc < 0) {
			def_destroy(&d);
			return rc;
		}
	} else {
		d.kind = ML_USER;
		d.p = ps ? sl_parsers_find_multiline(ps, name) : NULL;
		if (!d.p) {
			snprintf(err, err_len,
				 "multiline parser '%s' is not "
				 "defined (built-ins: docker, cri, go, java, "
				 "python, ruby)",
				 name);
			return -SL_ENOENT;
		}
		if (d.p->parser) {
			d.parser = sl_parsers_find(ps, d.p->parser);
			if (!d.parser) {
				snprintf(err, err_len,
					 "multiline parser '%s': "
					 "parser '%s' is not defined",
					 name, d.p->parser);
				return -SL_ENOENT;
			}
		}
		if (d.p->key_content || d.parser)
			rc = field_acc(d.p->key_content ? d.p->key_content
							: "log",
				       &d.content, &d.key, err, err_len);
		if (rc == 0 && d.p->key_pattern)
			rc = field_acc(d.p->key_pattern, &d.pattern, NULL, err,
				       err_len);
		if (rc < 0) {
			def_destroy(&d);
			return rc;
		}
	}
	if (d.kind != ML_USER && !d.key)
		return -SL_ENOMEM;
	d.flush_ns = (int64_t)TAIL_ML_FLUSH_MS_DEFAULT * 1000000;
	if (d.p && d.p->flush_timeout_ms >= 0)
		d.flush_ns = d.p->flush_timeout_ms * 1000000;
	nd = realloc(ml->defs, (ml->n + 1) * sizeof(*nd));
	if (!nd) {
		def_destroy(&d);
		return -SL_ENOMEM;
	}
	ml->defs = nd;
	ml->defs[ml->n++] = d;
	if (d.flush_ns < ml->min_flush_ns)
		ml->min_flush_ns = d.flush_ns;
	return 0;
}

void tail_ml_group_init(struct tail_ml_group *g)
{
	memset(g, 0, sizeof(*g));
	g->def = -1;
}

void tail_ml_group_destroy(struct tail_ml_group *g)
{
	sl_buf_destroy(&g->text);
	sl_buf_destroy(&g->base);
	g->def = -1;
}

/* ---- analysing one line ------------------------------------------------- */

static void parse_time(struct tail_ml *ml, const char *s, size_t len,
		       int64_t *ts_ns)
{
	int64_t t;

	if (sl_time_parse(&ml->rfc3339, s, len, *ts_ns, &t) == 0)
		*ts_ns = t;
}

/* "<time> <stdout|stderr> <P|F> <message>" */
static int analyse_cri(struct tail_ml *ml, const char *s, size_t len,
		       struct ml_line *l)
{
	const char *end = s + len, *sp1, *sp2, *flag;
	struct sl_buf *b = &ml->cri_base;

	sp1 = memchr(s, ' ', len);
	if (!sp1 || sp1 == s)
		return -SL_ENOENT;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2)
		return -SL_ENOENT;
	if (!((sp2 - sp1 - 1 == 6 && memcmp(sp1 + 1, "stdout", 6) == 0) ||
	      (sp2 - sp1 - 1 == 6 && memcmp(sp1 + 1, "stderr", 6) == 0)))
		return -SL_ENOENT;
	flag = sp2 + 1;
	if (flag >= end || (*flag != 'P' && *flag != 'F') ||
	    (flag + 1 < end && flag[1] != ' '))
		return -SL_ENOENT;
	l->subj = flag;
	l->subj_len = 1;
	l->text = flag + 1 < end ? flag + 2 : end;
	l->len = (size_t)(end - l->text);
	parse_time(ml, s, (size_t)(sp1 - s), &l->ts_ns);
	sl_buf_reset(b);
	if (sl_buf_append(b, "{\"time\":", 8) < 0 ||
	    sl_json_append_string(b, s, (size_t)(sp1 - s)) < 0 ||
	    sl_buf_append(b, ",\"stream\":", 10) < 0 ||
	    sl_json_append_string(b, sp1 + 1, 6) < 0 ||
	    sl_buf_append(b, "}", 1) < 0)
		return -SL_ENOMEM;
	l->base = b->data;
	l->base_len = b->len;
	return 0;
}

/* The string field `acc` of the scratch record, or -SL_ENOENT. */
static int string_field(struct tail_ml *ml, struct sl_accessor *acc,
			struct sl_text *t, const char **s, size_t *len)
{
	struct sl_value v;

	if (sl_record_get(&ml->scratch, acc, &v) < 0 || v.type != SL_VAL_STRING)
		return -SL_ENOENT;
	return sl_record_get_text(&ml->scratch, acc, t, s, len) < 0 ? -SL_ENOENT
								    : 0;
}

static int analyse_docker(struct tail_ml *ml, const char *s, size_t len,
			  struct ml_line *l)
{
	const char *t;
	size_t tl;
	int rc;

	if (len == 0 || s[0] != '{')
		return -SL_ENOENT;
	rc = sl_record_reset_json(&ml->scratch, l->ts_ns, s, len);
	if (rc < 0)
		return rc == -SL_ENOMEM ? rc : -SL_ENOENT;
	if (string_field(ml, ml->acc_log, &ml->t1, &l->text, &l->len) < 0)
		return -SL_ENOENT;
	if (string_field(ml, ml->acc_time, &ml->t2, &t, &tl) == 0)
		parse_time(ml, t, tl, &l->ts_ns);
	l->subj = l->text;
	l->subj_len = l->len;
	l->base = s;
	l->base_len = len;
	return 0;
}

static int analyse_user(struct tail_ml *ml, const struct tail_ml_def *d,
			const char *s, size_t len, struct ml_line *l)
{
	struct sl_record *r = &ml->scratch;
	int rc;

	l->text = s;
	l->len = len;
	l->base = NULL;
	if (d->parser) {
		sl_record_reset_line(r, l->ts_ns, "log", 3, s, len);
		rc = sl_parser_apply(d->parser, s, len, r);
		if (rc < 0)
			return rc == -SL_ENOMEM ? rc : -SL_ENOENT;
		if (string_field(ml, d->content, &ml->t1, &l->text, &l->len) <
		    0)
			return -SL_ENOENT;
		l->ts_ns = sl_record_time(r);
		l->base = sl_record_body(r, &l->base_len);
		if (!l->base)
			return -SL_ENOMEM;
	} else if (d->content && len && s[0] == '{' &&
		   sl_record_reset_json(r, l->ts_ns, s, len) == 0 &&
		   string_field(ml, d->content, &ml->t1, &l->text, &l->len) ==
		       0) {
		l->base = s;
		l->base_len = len;
	}
	l->subj = l->text;
	l->subj_len = l->len;
	if (d->pattern && l->base &&
	    string_field(ml, d->pattern, &ml->t2, &l->subj, &l->subj_len) < 0)
		return -SL_ENOENT;
	return 0;
}

static int analyse(struct tail_ml *ml, const struct tail_ml_def *d,
		   const char *s, size_t len, int64_t ts_ns, struct ml_line *l)
{
	memset(l, 0, sizeof(*l));
	l->ts_ns = ts_ns;
	switch (d->kind) {
	case ML_CRI:
		return analyse_cri(ml, s, len, l);
	case ML_DOCKER:
		return analyse_docker(ml, s, len, l);
	case ML_USER:
		break;
	}
	return analyse_user(ml, d, s, len, l);
}

/* ---- rules -------------------------------------------------------------- */

/* `state` is one of the comma-separated names of `list`. */
static bool state_in(const char *list, const char *state)
{
	size_t sl = strlen(state);

	for (const char *p = list; *p;) {
		const char *e;
		size_t n;

		while (*p == ' ' || *p == ',')
			p++;
		e = p;
		while (*e && *e != ',')
			e++;
		n = (size_t)(e - p);
		while (n && p[n - 1] == ' ')
			n--;
		if (n && n == sl && memcmp(p, state, n) == 0)
			return true;
		p = e;
	}
	return false;
}

/* The first rule leaving `state` whose regex matches, or NULL. */
static const struct sl_ml_rule *rule_for(const struct sl_ml_parser *p,
					 const char *state,
					 const struct ml_line *l)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct sl_ml_rule *r = &p->rules[i];

		if (state_in(r->from_state, state) &&
		    sl_parser_regex_match(r->re, l->subj ? l->subj : "",
					  l->subj_len) == 1)
			return r;
	}
	return NULL;
}

/* endswith / equal / docker / cri: this line ends its group. */
static bool completes(const struct tail_ml_def *d, const struct ml_line *l)
{
	const char *m;
	size_t ml_len;
	bool hit;

	switch (d->kind) {
	case ML_DOCKER:
		return l->len && l->text[l->len - 1] == '\n';
	case ML_CRI:
		return l->subj[0] == 'F';
	case ML_USER:
		break;
	}
	m = d->p->match_string ? d->p->match_string : "";
	ml_len = strlen(m);
	if (d->p->type == SL_ML_ENDSWITH)
		hit = l->subj_len >= ml_len &&
		      memcmp(l->subj + l->subj_len - ml_len, m, ml_len) == 0;
	else
		hit = l->subj_len == ml_len && memcmp(l->subj, m, ml_len) == 0;
	return hit != d->p->negate;
}

/* ---- groups ------------------------------------------------------------- */

static int emit_group(struct tail_ml_group *g, tail_ml_emit_fn fn, void *arg)
{
	struct tail_ml_out o = {
	    .text = g->text.data ? g->text.data : "",
	    .len = g->text.len,
	    .base = g->base.len ? g->base.data : NULL,
	    .base_len = g->base.len,
	    .key = g->key,
	    .ts_ns = g->ts_ns,
	    .start = g->start,
	    .end = g->end,
	};

	if (g->def < 0)
		return 0;
	g->def = -1;
	g->lines = 0;
	return fn(arg, &o);
}

static int begin(struct tail_ml *ml, struct tail_ml_group *g, int def,
		 const struct ml_line *l, int64_t start, int64_t end,
		 int64_t now_ns)
{
	const struct tail_ml_def *d = &ml->defs[def];

	sl_buf_reset(&g->text);
	sl_buf_reset(&g->base);
	if ((l->base && sl_buf_append(&g->base, l->base, l->base_len) < 0) ||
	    sl_buf_append(&g->text, l->text ? l->text : "", l->len) < 0)
		return -SL_ENOMEM;
	g->def = def;
	g->key = d->key;
	g->ts_ns = l->ts_ns;
	g->start = start;
	g->end = end;
	g->lines = 1;
	g->deadline_ns = now_ns + d->flush_ns;
	return 0;
}

static int max_rc(int a, int b)
{
	if (a < 0 || b < 0)
		return a < b ? a : b;
	return a > b ? a : b;
}

/*
 * Adds a line to the pending group; one that would make it longer than
 * max_len goes out first and the line begins the next one.
 */
static int append(struct tail_ml *ml, struct tail_ml_group *g,
		  const struct ml_line *l, int64_t start, int64_t end,
		  int64_t now_ns, tail_ml_emit_fn fn, void *arg)
{
	const struct tail_ml_def *d = &ml->defs[g->def];
	bool sep = d->kind == ML_USER;
	int def = g->def, rc;

	if (g->text.len + l->len + sep > ml->max_len) {
		rc = emit_group(g, fn, arg);
		return max_rc(rc, begin(ml, g, def, l, start, end, now_ns));
	}
	if ((sep && sl_buf_append(&g->text, "\n", 1) < 0) ||
	    sl_buf_append(&g->text, l->text ? l->text : "", l->len) < 0)
		return -SL_ENOMEM;
	g->end = end;
	g->lines++;
	g->deadline_ns = now_ns + d->flush_ns;
	return 0;
}

/* Tries the pending group. 1 when the line was taken, 0 when not. */
static int continue_group(struct tail_ml *ml, struct tail_ml_group *g,
			  const char *s, size_t len, int64_t start, int64_t end,
			  int64_t ts_ns, int64_t now_ns, tail_ml_emit_fn fn,
			  void *arg, int *out)
{
	const struct tail_ml_def *d = &ml->defs[g->def];
	struct ml_line l;
	int rc;

	rc = analyse(ml, d, s, len, ts_ns, &l);
	if (rc == -SL_ENOMEM)
		return rc;
	if (rc < 0)
		return 0;
	if (d->kind == ML_USER && d->p->type == SL_ML_REGEX) {
		const struct sl_ml_rule *r = rule_for(d->p, g->state, &l);

		if (!r || strcmp(g->state, "start_state") == 0)
			return 0;
		*out = append(ml, g, &l, start, end, now_ns, fn, arg);
		if (r->to_state)
			g->state = r->to_state;
		return 1;
	}
	rc = append(ml, g, &l, start, end, now_ns, fn, arg);
	if (rc >= 0 && completes(d, &l))
		rc = max_rc(rc, emit_group(g, fn, arg));
	*out = rc;
	return 1;
}

int tail_ml_feed(struct tail_ml *ml, struct tail_ml_group *g, const char *s,
		 size_t len, int64_t start, int64_t end, int64_t ts_ns,
		 int64_t now_ns, tail_ml_emit_fn fn, void *arg)
{
	struct tail_ml_out raw;
	int rc = 0, taken;

	if (g->def >= 0) {
		taken = continue_group(ml, g, s, len, start, end, ts_ns, now_ns,
				       fn, arg, &rc);
		if (taken != 0)
			return taken < 0 ? taken : rc;
		rc = emit_group(g, fn, arg);
	}
	for (size_t i = 0; i < ml->n; i++) {
		const struct tail_ml_def *d = &ml->defs[i];
		const struct sl_ml_rule *r = NULL;
		struct ml_line l;
		int rc2 = analyse(ml, d, s, len, ts_ns, &l);

		if (rc2 == -SL_ENOMEM)
			return rc2;
		if (rc2 < 0)
			continue;
		if (d->kind == ML_USER && d->p->type == SL_ML_REGEX) {
			r = rule_for(d->p, "start_state", &l);
			if (!r)
				continue;
		}
		rc2 = begin(ml, g, (int)i, &l, start, end, now_ns);
		if (rc2 < 0)
			return rc2;
		if (r) {
			g->state = r->to_state ? r->to_state : "start_state";
			return rc;
		}
		if (completes(d, &l))
			rc = max_rc(rc, emit_group(g, fn, arg));
		return rc;
	}
	/* No parser takes it: the line goes out alone, as without any. */
	raw = (struct tail_ml_out){
	    .text = s,
	    .len = len,
	    .ts_ns = ts_ns,
	    .start = start,
	    .end = end,
	};
	return max_rc(rc, fn(arg, &raw));
}

int tail_ml_flush(struct tail_ml *ml, struct tail_ml_group *g,
		  tail_ml_emit_fn fn, void *arg)
{
	(void)ml;
	return emit_group(g, fn, arg);
}

int tail_ml_expire(struct tail_ml *ml, struct tail_ml_group *g, int64_t now_ns,
		   tail_ml_emit_fn fn, void *arg)
{
	if (g->def < 0 || now_ns < g->deadline_ns)
		return 0;
	return tail_ml_flush(ml, g, fn, arg);
}
