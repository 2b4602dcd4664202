/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_parser.c - [PARSER] and [MULTILINE_PARSER] sections turned into
 * parsers, and sl_parser_apply(): text in, record body and time out.
 * Format json reuses the record's own validation (no re-serialising);
 * regex, logfmt and ltsv build the body with sl_buf. The multiline state
 * machine itself belongs to tail; here its rules are only validated.
 */
#include "sl_parser_int.h"
#include "sl_cfgmap.h"
#include "sl_time.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum parser_format {
	FMT_JSON = 1,
	FMT_REGEX,
	FMT_LOGFMT,
	FMT_LTSV,
	FMT_TSKV,
};

enum field_type {
	TYPE_STRING = 1,
	TYPE_INT,
	TYPE_FLOAT,
	TYPE_BOOL,
	TYPE_HEX,
};

struct field_type_rule {
	char *key; /* owned */
	size_t key_len;
	enum field_type type;
};

/* Per-parser scratch: parsers run on one thread (the engine's) at a time. */
struct parser_scratch {
	struct sl_buf body, tmp, conv;
	uint64_t time_errors;
};

struct sl_parser {
	char *name;
	enum parser_format format;
	struct sl_parser_regex *re;
	bool skip_empty, no_bare_keys;
	char *time_key;
	size_t time_key_len;
	bool has_time_fmt;
	struct sl_time_fmt tfmt;
	bool time_keep, time_strict;
	struct field_type_rule *types;
	size_t n_types;
	struct parser_scratch *sc; /* owned; mutable behind a const parser */
	const char *file;
	int line;
};

struct sl_parsers {
	struct sl_parser **v;
	size_t n;
	struct sl_ml_parser **ml;
	size_t n_ml;
};

/* ---- configuration --------------------------------------------------------
 */

struct parser_opts {
	char *name, *format, *regex, *time_key, *time_format, *time_offset;
	char *time_zone, *types;
	bool time_keep, time_strict, time_system_timezone, skip_empty;
	bool no_bare_keys;
	struct sl_cfg_multi decode_field, decode_field_as;
};

#define PO(f) offsetof(struct parser_opts, f)
/* Every key Fluent Bit 5.1 reads in a [PARSER] section (src/flb_parser.c). */
static const struct sl_cfg_option parser_map[] = {
    {.name = "name",
     .type = SL_CFG_STR,
     .flags = SL_CFG_REQUIRED,
     .offset = PO(name),
     .desc = "parser name, used by Parser options"},
    {.name = "format",
     .type = SL_CFG_STR,
     .flags = SL_CFG_REQUIRED,
     .offset = PO(format),
     .desc = "json, regex, logfmt, ltsv or tskv"},
    {.name = "regex",
     .type = SL_CFG_STR,
     .offset = PO(regex),
     .desc = "pattern with named groups (Format regex)"},
    {.name = "time_key",
     .type = SL_CFG_STR,
     .offset = PO(time_key),
     .desc = "field holding the event time"},
    {.name = "time_format",
     .type = SL_CFG_STR,
     .offset = PO(time_format),
     .desc = "strptime format (%L fraction, %z), or epoch, epoch_ms, epoch_us, "
	     "epoch_ns"},
    {.name = "time_keep",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = PO(time_keep),
     .desc = "keep the Time_Key field in the body"},
    {.name = "time_strict",
     .type = SL_CFG_BOOL,
     .def = "on",
     .offset = PO(time_strict),
     .desc = "warn when the time field does not parse"},
    {.name = "time_offset",
     .type = SL_CFG_STR,
     .offset = PO(time_offset),
     .desc = "fixed UTC offset (+hhmm) for times without a zone"},
    {.name = "time_system_timezone",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = PO(time_system_timezone),
     .desc = "times without a zone are in the system's local time"},
    {.name = "time_zone",
     .type = SL_CFG_STR,
     .offset = PO(time_zone),
     .desc = "IANA zone (America/New_York) for times without a zone"},
    {.name = "types",
     .type = SL_CFG_STR,
     .offset = PO(types),
     .desc = "KEY:TYPE ... with integer, float, bool, hex or string"},
    {.name = "skip_empty_values",
     .type = SL_CFG_BOOL,
     .def = "on",
     .offset = PO(skip_empty),
     .desc = "drop empty regex captures"},
    {.name = "logfmt_no_bare_keys",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = PO(no_bare_keys),
     .desc = "logfmt: a key without value fails the line"},
    {.name = "decode_field",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI | SL_CFG_IGNORED,
     .offset = PO(decode_field),
     .desc = "Fluent Bit field decoder (not applied by sluice)"},
    {.name = "decode_field_as",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI | SL_CFG_IGNORED,
     .offset = PO(decode_field_as),
     .desc = "Fluent Bit field decoder (not applied by sluice)"},
    SL_CFG_END,
};
#undef PO

struct ml_opts {
	char *name, *type, *parser, *key_content, *key_pattern, *key_group;
	char *match_string;
	bool negate;
	int64_t flush_timeout;
	struct sl_cfg_multi rules;
};

#define MO(f) offsetof(struct ml_opts, f)
/* The keys of a [MULTILINE_PARSER] section in Fluent Bit 5.1. */
static const struct sl_cfg_option ml_map[] = {
    {.name = "name",
     .type = SL_CFG_STR,
     .flags = SL_CFG_REQUIRED,
     .offset = MO(name),
     .desc = "multiline parser name"},
    {.name = "type",
     .type = SL_CFG_STR,
     .flags = SL_CFG_REQUIRED,
     .offset = MO(type),
     .desc = "regex, endswith or equal"},
    {.name = "parser",
     .type = SL_CFG_STR,
     .offset = MO(parser),
     .desc = "[PARSER] applied to the joined message"},
    {.name = "key_content",
     .type = SL_CFG_STR,
     .offset = MO(key_content),
     .desc = "field holding the text to join"},
    {.name = "key_pattern",
     .type = SL_CFG_STR,
     .offset = MO(key_pattern),
     .desc = "field matched by the rules"},
    {.name = "key_group",
     .type = SL_CFG_STR,
     .offset = MO(key_group),
     .desc = "field grouping lines"},
    {.name = "match_string",
     .type = SL_CFG_STR,
     .offset = MO(match_string),
     .desc = "text for endswith/equal"},
    {.name = "negate",
     .type = SL_CFG_BOOL,
     .def = "off",
     .offset = MO(negate),
     .desc = "negate the endswith/equal match"},
    {.name = "flush_timeout",
     .type = SL_CFG_INT,
     .def = "-1",
     .offset = MO(flush_timeout),
     .desc = "milliseconds before a pending message is flushed"},
    {.name = "rule",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = MO(rules),
     .desc = "\"state\" \"/regex/\" \"next_state\""},
    SL_CFG_END,
};
#undef MO

static int entry_line(const struct sl_conf_section *sec, const char *key)
{
	const struct sl_conf_entry *e = sl_conf_get(sec, key);

	return e ? e->line : sec->line;
}

static void parser_free(struct sl_parser *p)
{
	if (!p)
		return;
	free(p->name);
	sl_parser_regex_destroy(p->re);
	free(p->time_key);
	sl_time_fmt_destroy(&p->tfmt);
	for (size_t i = 0; i < p->n_types; i++)
		free(p->types[i].key);
	free(p->types);
	if (p->sc) {
		sl_buf_destroy(&p->sc->body);
		sl_buf_destroy(&p->sc->tmp);
		sl_buf_destroy(&p->sc->conv);
		free(p->sc);
	}
	free(p);
}

static void ml_free(struct sl_ml_parser *m)
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
	free(m->match_string);
	free(m->key_content);
	free(m->key_pattern);
	free(m->key_group);
	free(m->parser);
	free(m);
}

void sl_parsers_destroy(struct sl_parsers *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->n; i++)
		parser_free(ps->v[i]);
	for (size_t i = 0; i < ps->n_ml; i++)
		ml_free(ps->ml[i]);
	free(ps->v);
	free(ps->ml);
	free(ps);
}

const struct sl_parser *sl_parsers_find(const struct sl_parsers *ps,
					const char *name)
{
	for (size_t i = 0; ps && i < ps->n; i++)
		if (strcmp(ps->v[i]->name, name) == 0)
			return ps->v[i];
	return NULL;
}

const struct sl_ml_parser *
sl_parsers_find_multiline(const struct sl_parsers *ps, const char *name)
{
	for (size_t i = 0; ps && i < ps->n_ml; i++)
		if (strcmp(ps->ml[i]->name, name) == 0)
			return ps->ml[i];
	return NULL;
}

const char *sl_parser_name(const struct sl_parser *p)
{
	return p->name;
}

static int parse_format(const char *s, enum parser_format *out)
{
	static const struct {
		const char *name;
		enum parser_format f;
	} fmts[] = {
	    {"json", FMT_JSON}, {"regex", FMT_REGEX}, {"logfmt", FMT_LOGFMT},
	    {"ltsv", FMT_LTSV}, {"tskv", FMT_TSKV},
	};

	for (size_t i = 0; i < SL_ARRAY_LEN(fmts); i++) {
		if (strcasecmp(s, fmts[i].name) == 0) {
			*out = fmts[i].f;
			return 0;
		}
	}
	return -SL_EINVAL;
}

/* "key:type key2:type" as Fluent Bit's Types. */
static int parse_types(struct sl_parser *p, const char *s, const char *file,
		       int line, struct sl_diag *diag)
{
	static const struct {
		const char *name;
		enum field_type t;
	} names[] = {
	    {"integer", TYPE_INT}, {"float", TYPE_FLOAT},   {"bool", TYPE_BOOL},
	    {"hex", TYPE_HEX},	   {"string", TYPE_STRING},
	};
	int bad = 0;

	while (*s) {
		const char *tok = s, *colon;
		size_t len;
		struct field_type_rule *r;
		int t = 0;

		/* Fluent Bit splits on spaces; commas are taken as spaces too
		 */
		while (*s && !isspace((unsigned char)*s) && *s != ',')
			s++;
		len = (size_t)(s - tok);
		while (isspace((unsigned char)*s) || *s == ',')
			s++;
		if (!len)
			continue;
		colon = memchr(tok, ':', len);
		if (colon) {
			for (size_t i = 0; i < SL_ARRAY_LEN(names); i++) {
				size_t tl = len - (size_t)(colon + 1 - tok);

				if (strlen(names[i].name) == tl &&
				    strncasecmp(colon + 1, names[i].name, tl) ==
					0)
					t = (int)names[i].t;
			}
		}
		if (!colon || colon == tok || !t) {
			sl_diag_add(
			    diag, file, line,
			    "parser '%s': bad Types entry '%.*s' (expected "
			    "KEY:integer|float|bool|hex|string)",
			    p->name, (int)len, tok);
			bad = 1;
			continue;
		}
		r = realloc(p->types, (p->n_types + 1) * sizeof(*r));
		if (!r)
			return -SL_ENOMEM;
		p->types = r;
		r += p->n_types;
		r->key_len = (size_t)(colon - tok);
		r->key = strndup(tok, r->key_len);
		if (!r->key)
			return -SL_ENOMEM;
		r->type = (enum field_type)t;
		p->n_types++;
	}
	return bad ? -SL_ECONFIG : 0;
}

static int check_dup(struct sl_parsers *ps, const char *name, bool ml,
		     const char *file, int line, struct sl_diag *diag)
{
	const char *pf = NULL;
	int pl = 0;

	if (ml) {
		const struct sl_ml_parser *m =
		    sl_parsers_find_multiline(ps, name);

		if (m) {
			pf = m->file;
			pl = m->line;
		}
	} else {
		const struct sl_parser *p = sl_parsers_find(ps, name);

		if (p) {
			pf = p->file;
			pl = p->line;
		}
	}
	if (!pf)
		return 0;
	/* Fluent Bit refuses a second parser of the same name, and so do we. */
	sl_diag_add(diag, file, line, "%sparser '%s' already defined at %s:%d",
		    ml ? "multiline " : "", name, pf, pl);
	return -SL_ECONFIG;
}

static int build_time(struct sl_parser *p, struct parser_opts *o,
		      const struct sl_conf_section *sec, struct sl_diag *diag)
{
	const char *err;
	int rc;

	if (!o->time_format) {
		if (o->time_zone || o->time_offset)
			sl_log(SL_LOG_WARN, "parser",
			       "%s:%d: parser '%s': Time_Offset/Time_Zone "
			       "without Time_Format has no effect",
			       sec->file, sec->line, p->name);
		return 0;
	}
	rc = sl_time_fmt_init(&p->tfmt, o->time_format, &err);
	if (rc == -SL_ENOMEM)
		return rc;
	if (rc < 0) {
		sl_diag_add(diag, sec->file, entry_line(sec, "time_format"),
			    "parser '%s': %s: '%s'", p->name, err,
			    o->time_format);
		return -SL_ECONFIG;
	}
	p->has_time_fmt = true;
	p->tfmt.system_tz = o->time_system_timezone;
	if (o->time_zone && (o->time_system_timezone || o->time_offset)) {
		sl_diag_add(diag, sec->file, entry_line(sec, "time_zone"),
			    "parser '%s': Time_Zone cannot be combined with %s",
			    p->name,
			    o->time_offset ? "Time_Offset"
					   : "Time_System_Timezone");
		return -SL_ECONFIG;
	}
	if (o->time_zone) {
		rc = sl_time_fmt_set_zone(&p->tfmt, o->time_zone);
		if (rc == -SL_ENOMEM)
			return rc;
		if (rc < 0) {
			sl_diag_add(
			    diag, sec->file, entry_line(sec, "time_zone"),
			    "parser '%s': unknown or unreadable Time_Zone '%s'",
			    p->name, o->time_zone);
			return -SL_ECONFIG;
		}
	}
	if (o->time_offset && !o->time_system_timezone &&
	    sl_time_parse_offset(o->time_offset, strlen(o->time_offset),
				 &p->tfmt.offset) < 0) {
		sl_diag_add(diag, sec->file, entry_line(sec, "time_offset"),
			    "parser '%s': bad Time_Offset '%s' (expected "
			    "+hhmm, -hh:mm or Z)",
			    p->name, o->time_offset);
		return -SL_ECONFIG;
	}
	return 0;
}

static int build_parser(struct sl_parsers *ps,
			const struct sl_conf_section *sec, struct sl_diag *diag)
{
	struct parser_opts o = {0};
	struct sl_cfgmap_target t = {parser_map, &o};
	struct sl_parser *p = NULL, **v;
	char err[256];
	int rc;

	rc = sl_cfgmap_apply(&t, 1, sec, NULL, "[PARSER]", diag);
	if (rc < 0)
		goto out;
	rc = check_dup(ps, o.name, false, sec->file, entry_line(sec, "name"),
		       diag);
	if (rc < 0)
		goto out;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->sc = calloc(1, sizeof(*p->sc))) ||
	    !(p->name = strdup(o.name))) {
		rc = -SL_ENOMEM;
		goto out;
	}
	p->file = sec->file;
	p->line = sec->line;
	p->skip_empty = o.skip_empty;
	p->no_bare_keys = o.no_bare_keys;
	p->time_keep = o.time_keep;
	p->time_strict = o.time_strict;
	if (parse_format(o.format, &p->format) < 0) {
		sl_diag_add(diag, sec->file, entry_line(sec, "format"),
			    "parser '%s': unknown Format '%s' (json, regex, "
			    "logfmt, ltsv or tskv)",
			    p->name, o.format);
		rc = -SL_ECONFIG;
		goto out;
	}
	if (p->format == FMT_REGEX) {
		if (!o.regex) {
			sl_diag_add(diag, sec->file, sec->line,
				    "parser '%s': Format regex needs a Regex",
				    p->name);
			rc = -SL_ECONFIG;
			goto out;
		}
		rc = sl_parser_regex_compile(o.regex, &p->re, err, sizeof(err));
		if (rc < 0) {
			if (rc != -SL_ENOMEM) {
				sl_diag_add(diag, sec->file,
					    entry_line(sec, "regex"),
					    "parser '%s': %s", p->name, err);
				rc = -SL_ECONFIG;
			}
			goto out;
		}
	}
	if (o.time_key) {
		p->time_key = strdup(o.time_key);
		if (!p->time_key) {
			rc = -SL_ENOMEM;
			goto out;
		}
		p->time_key_len = strlen(p->time_key);
	}
	rc = build_time(p, &o, sec, diag);
	if (rc < 0)
		goto out;
	if (o.types) {
		rc = parse_types(p, o.types, sec->file,
				 entry_line(sec, "types"), diag);
		if (rc < 0)
			goto out;
	}
	v = realloc(ps->v, (ps->n + 1) * sizeof(*v));
	if (!v) {
		rc = -SL_ENOMEM;
		goto out;
	}
	ps->v = v;
	ps->v[ps->n++] = p;
	p = NULL;
out:
	parser_free(p);
	sl_cfgmap_release(parser_map, &o);
	return rc;
}

/* Splits a rule into up to 4 tokens: "quoted \" text" or bare words. */
static int rule_tokens(const char *s, char *tok[4], size_t *n)
{
	*n = 0;
	for (;;) {
		struct sl_buf b = {0};

		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			return 0;
		if (*n == 4)
			return -SL_EINVAL;
		if (*s == '"') {
			const char *run = ++s;

			while (*s && *s != '"') {
				if (*s == '\\' && s[1] == '"') {
					if (sl_buf_append(
						&b, run, (size_t)(s - run)) < 0)
						goto nomem;
					run = ++s;
				}
				s++;
			}
			if (!*s) {
				sl_buf_destroy(&b);
				return -SL_EINVAL;
			}
			if (sl_buf_append(&b, run, (size_t)(s - run)) < 0)
				goto nomem;
			s++;
		} else {
			const char *run = s;

			while (*s && !isspace((unsigned char)*s))
				s++;
			if (sl_buf_append(&b, run, (size_t)(s - run)) < 0)
				goto nomem;
		}
		tok[(*n)++] = b.data;
		continue;
	nomem:
		sl_buf_destroy(&b);
		return -SL_ENOMEM;
	}
}

static int ml_state_known(const struct sl_ml_parser *m, const char *state)
{
	for (size_t i = 0; i < m->n_rules; i++)
		if (strcmp(m->rules[i].from_state, state) == 0)
			return 1;
	return 0;
}

static int build_rules(struct sl_ml_parser *m, const struct ml_opts *o,
		       struct sl_diag *diag)
{
	int bad = 0, rc;

	m->rules = calloc(o->rules.n ? o->rules.n : 1, sizeof(*m->rules));
	if (!m->rules)
		return -SL_ENOMEM;
	for (size_t i = 0; i < o->rules.n; i++) {
		const struct sl_cfg_item *it = &o->rules.items[i];
		struct sl_ml_rule *r = &m->rules[m->n_rules];
		char *tok[4] = {0}, err[256];
		size_t n;

		rc = rule_tokens(it->value, tok, &n);
		if (rc == -SL_ENOMEM)
			return rc;
		if (rc < 0 || n < 2 || n > 3) {
			for (size_t k = 0; k < 4; k++)
				free(tok[k]);
			sl_diag_add(diag, it->file, it->line,
				    "multiline parser '%s': rule must be "
				    "\"state\" \"/regex/\" \"next_state\"",
				    m->name);
			bad = 1;
			continue;
		}
		r->from_state = tok[0];
		r->pattern = tok[1];
		r->to_state = tok[2];
		r->line = it->line;
		m->n_rules++;
		rc = sl_parser_regex_compile(r->pattern, &r->re, err,
					     sizeof(err));
		if (rc == -SL_ENOMEM)
			return rc;
		if (rc < 0) {
			sl_diag_add(diag, it->file, it->line,
				    "multiline parser '%s': %s", m->name, err);
			bad = 1;
		}
	}
	if (bad)
		return -SL_ECONFIG;
	if (!m->n_rules || !ml_state_known(m, "start_state")) {
		sl_diag_add(diag, m->file, m->line,
			    "multiline parser '%s': type regex needs a rule "
			    "for \"start_state\"",
			    m->name);
		return -SL_ECONFIG;
	}
	for (size_t i = 0; i < m->n_rules; i++) {
		const struct sl_ml_rule *r = &m->rules[i];

		if (r->to_state && !ml_state_known(m, r->to_state)) {
			sl_diag_add(diag, m->file, r->line,
				    "multiline parser '%s': next state '%s' "
				    "has no rule",
				    m->name, r->to_state);
			bad = 1;
		}
	}
	return bad ? -SL_ECONFIG : 0;
}

static char *dup_opt(const char *s, int *rc)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*rc = -SL_ENOMEM;
	return d;
}

static int build_ml(struct sl_parsers *ps, const struct sl_conf_section *sec,
		    struct sl_diag *diag)
{
	struct ml_opts o = {0};
	struct sl_cfgmap_target t = {ml_map, &o};
	struct sl_ml_parser *m = NULL, **v;
	int rc;

	rc = sl_cfgmap_apply(&t, 1, sec, NULL, "[MULTILINE_PARSER]", diag);
	if (rc < 0)
		goto out;
	rc = check_dup(ps, o.name, true, sec->file, entry_line(sec, "name"),
		       diag);
	if (rc < 0)
		goto out;
	m = calloc(1, sizeof(*m));
	if (!m) {
		rc = -SL_ENOMEM;
		goto out;
	}
	m->file = sec->file;
	m->line = sec->line;
	m->negate = o.negate;
	m->flush_timeout_ms = o.flush_timeout;
	m->name = dup_opt(o.name, &rc);
	m->match_string = dup_opt(o.match_string, &rc);
	m->key_content = dup_opt(o.key_content, &rc);
	m->key_pattern = dup_opt(o.key_pattern, &rc);
	m->key_group = dup_opt(o.key_group, &rc);
	m->parser = dup_opt(o.parser, &rc);
	if (rc < 0)
		goto out;
	if (!strcasecmp(o.type, "regex")) {
		m->type = SL_ML_REGEX;
	} else if (!strcasecmp(o.type, "endswith")) {
		m->type = SL_ML_ENDSWITH;
	} else if (!strcasecmp(o.type, "equal") || !strcasecmp(o.type, "eq")) {
		m->type = SL_ML_EQUAL;
	} else {
		sl_diag_add(diag, sec->file, entry_line(sec, "type"),
			    "multiline parser '%s': unknown type '%s' (regex, "
			    "endswith or equal)",
			    m->name, o.type);
		rc = -SL_ECONFIG;
		goto out;
	}
	if (m->type == SL_ML_REGEX) {
		rc = build_rules(m, &o, diag);
	} else if (!m->match_string) {
		sl_diag_add(diag, sec->file, sec->line,
			    "multiline parser '%s': type %s needs match_string",
			    m->name, o.type);
		rc = -SL_ECONFIG;
	}
	if (rc < 0)
		goto out;
	v = realloc(ps->ml, (ps->n_ml + 1) * sizeof(*v));
	if (!v) {
		rc = -SL_ENOMEM;
		goto out;
	}
	ps->ml = v;
	ps->ml[ps->n_ml++] = m;
	m = NULL;
out:
	ml_free(m);
	sl_cfgmap_release(ml_map, &o);
	return rc;
}

int sl_parsers_build(const struct sl_conf *conf, struct sl_diag *diag,
		     struct sl_parsers **out)
{
	struct sl_parsers *ps = calloc(1, sizeof(*ps));
	int rc, failed = 0;

	*out = NULL;
	if (!ps)
		return -SL_ENOMEM;
	for (size_t i = 0; i < conf->n; i++) {
		if (conf->sections[i].kind != SL_SEC_PARSER)
			continue;
		rc = build_parser(ps, &conf->sections[i], diag);
		if (rc == -SL_ENOMEM)
			goto nomem;
		failed |= rc < 0;
	}
	/* After every [PARSER], so that `parser` may name any of them. */
	for (size_t i = 0; i < conf->n; i++) {
		const struct sl_conf_section *sec = &conf->sections[i];
		const struct sl_ml_parser *m;

		if (sec->kind != SL_SEC_MULTILINE_PARSER)
			continue;
		rc = build_ml(ps, sec, diag);
		if (rc == -SL_ENOMEM)
			goto nomem;
		failed |= rc < 0;
		m = rc == 0 ? ps->ml[ps->n_ml - 1] : NULL;
		if (m && m->parser && !sl_parsers_find(ps, m->parser)) {
			sl_diag_add(
			    diag, sec->file, entry_line(sec, "parser"),
			    "multiline parser '%s': unknown parser '%s'",
			    m->name, m->parser);
			failed = 1;
		}
	}
	if (failed) {
		sl_parsers_destroy(ps);
		return -SL_ECONFIG;
	}
	*out = ps;
	return 0;
nomem:
	sl_parsers_destroy(ps);
	return -SL_ENOMEM;
}

/* ---- applying ---------------------------------------------------------------
 */

static int time_from_text(const struct sl_parser *p, const char *s, size_t len,
			  int64_t *ts)
{
	uint64_t n;

	if (sl_time_parse(&p->tfmt, s, len, sl_now_ns(), ts) == 0)
		return 0;
	/* Logged at 1, 2, 4, 8... failures: visible, never a flood. */
	n = ++p->sc->time_errors;
	if ((n & (n - 1)) == 0)
		sl_log(p->time_strict ? SL_LOG_WARN : SL_LOG_DEBUG, "parser",
		       "parser '%s': time '%.*s' does not match '%s' (%llu so "
		       "far)",
		       p->name, (int)(len > 64 ? 64 : len), s,
		       p->tfmt.fmt ? p->tfmt.fmt : "epoch",
		       (unsigned long long)n);
	return -SL_EPARSE;
}

static const struct field_type_rule *find_type(const struct sl_parser *p,
					       const char *key, size_t len)
{
	for (size_t i = 0; i < p->n_types; i++)
		if (p->types[i].key_len == len &&
		    memcmp(p->types[i].key, key, len) == 0)
			return &p->types[i];
	return NULL;
}

static int append_number(struct sl_buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int append_number(struct sl_buf *out, const char *fmt, ...)
{
	char num[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(num, sizeof(num), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(num))
		return -SL_EINVAL;
	return sl_buf_append(out, num, (size_t)n);
}

/*
 * Writes `val` as JSON, converted per Types. A value that does not convert
 * stays a string (Fluent Bit would write 0, inventing data).
 */
static int append_typed(struct sl_buf *out, const struct field_type_rule *t,
			const char *val, size_t len)
{
	char num[64], *end;

	if (!t || t->type == TYPE_STRING)
		return sl_json_append_string(out, val, len);
	if (t->type == TYPE_BOOL)
		return sl_buf_append(
		    out,
		    len >= 4 && !strncasecmp(val, "true", 4) ? "true" : "false",
		    len >= 4 && !strncasecmp(val, "true", 4) ? 4 : 5);
	if (len == 0 || len >= sizeof(num))
		return sl_json_append_string(out, val, len);
	memcpy(num, val, len);
	num[len] = '\0';
	errno = 0;
	if (t->type == TYPE_FLOAT) {
		double d = strtod(num, &end);
		double back;

		while (isspace((unsigned char)*end))
			end++;
		if (end == num || *end || errno || !isfinite(d))
			return sl_json_append_string(out, val, len);
		/* The shortest text that reads back the same; always a float.
		 */
		snprintf(num, sizeof(num), "%.15g", d);
		if (sscanf(num, "%lf", &back) != 1 || back != d)
			snprintf(num, sizeof(num), "%.17g", d);
		if (!strpbrk(num, ".eE"))
			strcat(num, ".0");
		return sl_buf_append(out, num, strlen(num));
	} else {
		long long v = strtoll(num, &end, t->type == TYPE_HEX ? 16 : 10);

		while (isspace((unsigned char)*end))
			end++;
		if (end == num || *end || errno)
			return sl_json_append_string(out, val, len);
		return append_number(out, "%lld", v);
	}
}

struct build {
	const struct sl_parser *p;
	struct sl_buf *out;
	bool skip_empty;
	size_t n;
	bool have_time;
	int64_t ts;
};

static int emit(void *arg, const char *key, size_t klen, const char *val,
		size_t vlen)
{
	struct build *b = arg;
	const struct sl_parser *p = b->p;

	if (val && vlen == 0 && b->skip_empty)
		return 0;
	if (val && p->time_key && p->has_time_fmt && klen == p->time_key_len &&
	    memcmp(key, p->time_key, klen) == 0 &&
	    time_from_text(p, val, vlen, &b->ts) == 0) {
		b->have_time = true;
		if (!p->time_keep)
			return 0;
	}
	if ((b->n++ && sl_buf_append(b->out, ",", 1) < 0) ||
	    sl_json_append_string(b->out, key, klen) < 0 ||
	    sl_buf_append(b->out, ":", 1) < 0)
		return -SL_ENOMEM;
	if (!val)
		return sl_buf_append(b->out, "true", 4);
	return append_typed(b->out, find_type(p, key, klen), val, vlen);
}

/* ltsv (label:value) and tskv (key=value, first field "tskv"), tab separated.
 */
static int scan_tabbed(const char *s, size_t len, char sep, bool tskv,
		       struct build *b)
{
	const char *end = s + len;
	bool first = true;
	int rc;

	while (len && (end[-1] == '\n' || end[-1] == '\r')) {
		end--;
		len--;
	}
	if (!len)
		return -SL_EPARSE;
	while (s <= end) {
		const char *f = s, *fe = memchr(s, '\t', (size_t)(end - s)), *k;

		if (!fe)
			fe = end;
		s = fe + 1;
		if (tskv && first && fe - f == 4 && !memcmp(f, "tskv", 4)) {
			first = false;
			continue;
		}
		first = false;
		if (fe == f)
			continue;
		k = memchr(f, sep, (size_t)(fe - f));
		if (!k || k == f)
			return -SL_EPARSE;
		rc = emit(b, f, (size_t)(k - f), k + 1, (size_t)(fe - k - 1));
		if (rc < 0)
			return rc;
	}
	return b->n || b->have_time ? 0 : -SL_EPARSE;
}

static int apply_text(const struct sl_parser *p, const char *text, size_t len,
		      struct sl_record *dst)
{
	struct build b = {.p = p, .out = &p->sc->body};
	int rc;

	sl_buf_reset(b.out);
	if (sl_buf_append(b.out, "{", 1) < 0)
		return -SL_ENOMEM;
	switch (p->format) {
	case FMT_REGEX:
		b.skip_empty = p->skip_empty;
		rc = sl_parser_regex_fields(p->re, text, len, emit, &b);
		break;
	case FMT_LOGFMT:
		rc = sl_parser_logfmt_scan(text, len, p->no_bare_keys,
					   &p->sc->tmp, emit, &b);
		break;
	case FMT_LTSV:
		rc = scan_tabbed(text, len, ':', false, &b);
		break;
	default:
		rc = scan_tabbed(text, len, '=', true, &b);
		break;
	}
	if (rc < 0)
		return rc == -SL_ENOMEM ? rc : -SL_EPARSE;
	if (sl_buf_append(b.out, "}", 1) < 0)
		return -SL_ENOMEM;
	rc = sl_record_set_body(dst, b.out->data, b.out->len);
	if (rc < 0)
		return rc;
	if (!sl_utf8_valid(text, len))
		dst->flags |= SL_REC_REPAIRED;
	if (b.have_time)
		sl_record_set_time(dst, b.ts);
	return 0;
}

/* The text of top-level value `node`: a string unescaped, else its literal. */
static int node_text(const struct sl_parser *p, const struct sl_record *rec,
		     const struct sl_view_node *nd, const char **s, size_t *len)
{
	const char *raw = rec->body + nd->val_off;

	if (nd->type != SL_VAL_STRING) {
		*s = raw;
		*len = nd->val_len;
		return 0;
	}
	if (!memchr(raw + 1, '\\', nd->val_len - 2)) {
		*s = raw + 1;
		*len = nd->val_len - 2;
		return 0;
	}
	sl_buf_reset(&p->sc->tmp);
	if (sl_json_unescape_append(&p->sc->tmp, raw + 1, nd->val_len - 2) < 0)
		return -SL_ENOMEM;
	*s = p->sc->tmp.data ? p->sc->tmp.data : "";
	*len = p->sc->tmp.len;
	return 0;
}

static int json_types(const struct sl_parser *p, struct sl_record *dst)
{
	for (size_t i = 0; i < p->n_types; i++) {
		const struct field_type_rule *t = &p->types[i];
		const struct sl_view *v;
		const struct sl_view_node *nd;
		const char *s;
		size_t len;
		uint32_t idx;
		int rc;

		if (t->type == TYPE_STRING || sl_record_view(dst, &v) < 0)
			continue;
		idx = sl_view_find_key(v, dst->body, 0, t->key, t->key_len);
		if (idx == UINT32_MAX)
			continue;
		nd = &v->nodes[idx];
		if (nd->type != SL_VAL_STRING && nd->type != SL_VAL_NUMBER &&
		    nd->type != SL_VAL_BOOL)
			continue;
		if (node_text(p, dst, nd, &s, &len) < 0)
			return -SL_ENOMEM;
		sl_buf_reset(&p->sc->conv);
		if (append_typed(&p->sc->conv, t, s, len) < 0)
			return -SL_ENOMEM;
		/* A number or bool that does not convert is left as it is. */
		if (nd->type != SL_VAL_STRING && p->sc->conv.data[0] == '"')
			continue;
		rc = sl_record_set(dst, t->key, t->key_len, p->sc->conv.data,
				   p->sc->conv.len);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int json_time(const struct sl_parser *p, struct sl_record *dst)
{
	const struct sl_view *v;
	const char *s;
	size_t len;
	uint32_t idx;
	int64_t ts;

	if (sl_record_view(dst, &v) < 0)
		return 0;
	idx = sl_view_find_key(v, dst->body, 0, p->time_key, p->time_key_len);
	if (idx == UINT32_MAX)
		return 0;
	if (v->nodes[idx].type != SL_VAL_STRING &&
	    v->nodes[idx].type != SL_VAL_NUMBER)
		return 0;
	if (node_text(p, dst, &v->nodes[idx], &s, &len) < 0)
		return -SL_ENOMEM;
	if (time_from_text(p, s, len, &ts) < 0)
		return 0; /* kept in the body, time unchanged */
	sl_record_set_time(dst, ts);
	if (!p->time_keep)
		return sl_record_remove(dst, p->time_key, p->time_key_len) ==
			       -SL_ENOMEM
			   ? -SL_ENOMEM
			   : 0;
	return 0;
}

int sl_parser_apply(const struct sl_parser *p, const char *text, size_t len,
		    struct sl_record *dst)
{
	int rc;

	if (p->format != FMT_JSON)
		return apply_text(p, text, len, dst);
	/* The hot path: one validation pass and one copy into the record. */
	rc = sl_record_replace_json(dst, text, len);
	if (rc < 0)
		return rc == -SL_ENOMEM ? rc : -SL_EPARSE;
	if (p->n_types && (rc = json_types(p, dst)) < 0)
		return rc;
	if (p->time_key && p->has_time_fmt)
		return json_time(p, dst);
	return 0;
}
