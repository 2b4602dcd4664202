/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_multiline.h - the [MULTILINE_PARSER] definitions the parser module
 * reads (sl_parser.c), and the pattern matcher their rules are compiled
 * with (sl_parser_regex.c). Public to the inputs, for in_tail's
 * multiline.parser; not part of the plugin ABI (sluice_plugin.h).
 */
#ifndef SL_MULTILINE_H
#define SL_MULTILINE_H

#include "sl_parser.h"

/* ---- regex (PCRE2, JIT when available) --------------------------------- */
struct sl_parser_regex;

/*
 * Compiles a Fluent Bit (Onigmo/Ruby style) pattern: "/re/" with optional
 * trailing i, m, x flags, or a bare pattern; \uHHHH is accepted. Matching is
 * byte-wise (no UTF mode), ^ and $ also match at line breaks as in Ruby.
 * On error returns -SL_EINVAL and writes a message into err.
 */
int sl_parser_regex_compile(const char *pattern, struct sl_parser_regex **out,
			    char *err, size_t err_len);
void sl_parser_regex_destroy(struct sl_parser_regex *re);
/* 1 when `re` matches somewhere in [s, s+len), 0 when not, or -SL_ENOMEM. */
int sl_parser_regex_match(struct sl_parser_regex *re, const char *s,
			  size_t len);

/* ---- [MULTILINE_PARSER] -------------------------------------------------- */
enum sl_ml_type {
	SL_ML_REGEX = 1,
	SL_ML_ENDSWITH,
	SL_ML_EQUAL,
};

struct sl_ml_rule {
	char *from_state;	    /* owned */
	char *pattern;		    /* owned, as written (with its /.../) */
	char *to_state;		    /* owned; NULL when the rule has none */
	struct sl_parser_regex *re; /* owned, compiled pattern */
	int line;
};

struct sl_ml_parser {
	char *name; /* owned */
	enum sl_ml_type type;
	char *match_string; /* owned or NULL (endswith/equal) */
	bool negate;
	char *key_content, *key_pattern, *key_group; /* owned or NULL */
	char *parser;		  /* owned or NULL: a [PARSER] name */
	int64_t flush_timeout_ms; /* -1: tail's default */
	struct sl_ml_rule *rules; /* owned, in file order */
	size_t n_rules;
	const char *file; /* borrowed from the config tree */
	int line;
};

/* The [MULTILINE_PARSER] named `name`, or NULL. Borrowed from `ps`. */
const struct sl_ml_parser *
sl_parsers_find_multiline(const struct sl_parsers *ps, const char *name);

#endif
