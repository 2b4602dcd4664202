/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_parser_regex.c - PCRE2 (JIT) behind [PARSER] Format regex and the
 * [MULTILINE_PARSER] rules. Fluent Bit writes Onigmo/Ruby patterns; the
 * differences that matter in parsers files (/.../flags, \uHHHH, line
 * anchors) are handled here; compiling goes through the one PCRE2 wrapper,
 * sl_regex_compile_opts, in byte mode. It does not build records
 * (sl_parser.c does).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "sl_parser_int.h"
#include "sl_regex.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct named_group {
	const char *name; /* points into PCRE2's name table */
	size_t len;
	uint32_t group;
};

struct sl_parser_regex {
	pcre2_code *code;
	pcre2_match_data *md; /* reused: one thread uses a regex at a time */
	bool jit;
	struct named_group *names; /* owned, ordered by group number */
	uint32_t n_names;
	char **long_names; /* owned: names over PCRE2's 32-byte limit */
	uint32_t n_long;
};

/* Generated stand-in for long_names[i]; PCRE2 10.42 caps names at 32. */
#define LONG_PREFIX "_sluice_long_"

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

static int long_index(const struct sl_parser_regex *re, const char *name,
		      size_t len)
{
	for (uint32_t i = 0; i < re->n_long; i++)
		if (strlen(re->long_names[i]) == len &&
		    memcmp(re->long_names[i], name, len) == 0)
			return (int)i;
	return -1;
}

/*
 * Copies `pat` into `out`, replacing group names longer than 32 bytes (in
 * (?<name>, (?'name', (?P<name> and \k<name>) by short stand-ins. Onigmo
 * has no such limit and Fluent Bit's own istio-envoy-proxy parser needs it.
 */
static int rewrite_long_names(struct sl_parser_regex *re, const char *pat,
			      size_t len, struct sl_buf *out)
{
	size_t i = 0;
	bool in_class = false;

	while (i < len) {
		size_t open = 0, n;
		char num[48];
		int idx;

		if (pat[i] == '\\' && i + 1 < len) {
			if (!in_class && pat[i + 1] == 'k' && i + 2 < len &&
			    strchr("<'{", pat[i + 2]))
				open = 3;
			else {
				if (sl_buf_append(out, pat + i, 2) < 0)
					return -SL_ENOMEM;
				i += 2;
				continue;
			}
		} else if (in_class) {
			in_class = pat[i] != ']';
		} else if (pat[i] == '[') {
			/* '[', '[^', then a ']' right there is a literal */
			size_t st = i++;

			if (i < len && pat[i] == '^')
				i++;
			if (i < len && pat[i] == ']')
				i++;
			if (sl_buf_append(out, pat + st, i - st) < 0)
				return -SL_ENOMEM;
			in_class = true;
			continue;
		} else if (i + 3 < len && !memcmp(pat + i, "(?P<", 4)) {
			open = 4;
		} else if (i + 2 < len && pat[i] == '(' && pat[i + 1] == '?' &&
			   (pat[i + 2] == '<' || pat[i + 2] == '\'')) {
			open = 3;
		}
		for (n = 0;
		     open && i + open + n < len && name_char(pat[i + open + n]);
		     n++)
			;
		if (!open || n <= 32) {
			size_t step = open ? open + n : 1;

			if (sl_buf_append(out, pat + i, step) < 0)
				return -SL_ENOMEM;
			i += step;
			continue;
		}
		idx = long_index(re, pat + i + open, n);
		if (idx < 0) {
			char **v = realloc(re->long_names,
					   (re->n_long + 1) * sizeof(*v));

			if (!v)
				return -SL_ENOMEM;
			re->long_names = v;
			v[re->n_long] = strndup(pat + i + open, n);
			if (!v[re->n_long])
				return -SL_ENOMEM;
			idx = (int)re->n_long++;
		}
		snprintf(num, sizeof(num), LONG_PREFIX "%d", idx);
		if (sl_buf_append(out, pat + i, open) < 0 ||
		    sl_buf_append(out, num, strlen(num)) < 0)
			return -SL_ENOMEM;
		i += open + n;
	}
	return sl_buf_append(out, "", 0);
}

static int cmp_group(const void *a, const void *b)
{
	const struct named_group *x = a, *y = b;

	return x->group < y->group ? -1 : x->group > y->group;
}

static int load_names(struct sl_parser_regex *re)
{
	uint32_t count = 0, entry = 0;
	PCRE2_SPTR table = NULL;

	pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &count);
	if (!count)
		return 0;
	pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
	pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &table);
	re->names = calloc(count, sizeof(*re->names));
	if (!re->names)
		return -SL_ENOMEM;
	for (uint32_t i = 0; i < count; i++) {
		PCRE2_SPTR e = table + (size_t)i * entry;

		re->names[i].group = (uint32_t)e[0] << 8 | e[1];
		re->names[i].name = (const char *)e + 2;
		re->names[i].len = strlen((const char *)e + 2);
		if (!strncmp(re->names[i].name, LONG_PREFIX,
			     strlen(LONG_PREFIX))) {
			unsigned long k = strtoul(
			    re->names[i].name + strlen(LONG_PREFIX), NULL, 10);

			if (k < re->n_long) {
				re->names[i].name = re->long_names[k];
				re->names[i].len = strlen(re->long_names[k]);
			}
		}
	}
	re->n_names = count;
	/* The table is sorted by name; records keep the pattern's order. */
	qsort(re->names, count, sizeof(*re->names), cmp_group);
	return 0;
}

int sl_parser_regex_compile(const char *pattern, struct sl_parser_regex **out,
			    char *err, size_t err_len)
{
	uint32_t opts = PCRE2_MULTILINE;
	size_t len = strlen(pattern);
	pcre2_compile_context *cctx;
	struct sl_buf pat = {0};
	struct sl_parser_regex *re;
	size_t jit_size = 0;
	char why[200];

	*out = NULL;
	/* "/re/flags" as Fluent Bit accepts; a bare pattern otherwise. */
	if (len >= 2 && pattern[0] == '/') {
		size_t end = len - 1;

		while (end > 0 && strchr("imx", pattern[end]))
			end--;
		if (end > 0 && pattern[end] == '/') {
			for (size_t i = end + 1; i < len; i++)
				opts |= pattern[i] == 'i'   ? PCRE2_CASELESS
					: pattern[i] == 'm' ? PCRE2_DOTALL
							    : PCRE2_EXTENDED;
			pattern++;
			len = end - 1;
		}
	}
	re = calloc(1, sizeof(*re));
	cctx = pcre2_compile_context_create(NULL);
	if (!re || !cctx || rewrite_long_names(re, pattern, len, &pat) < 0) {
		sl_parser_regex_destroy(re);
		sl_buf_destroy(&pat);
		pcre2_compile_context_free(cctx);
		snprintf(err, err_len, "out of memory");
		return -SL_ENOMEM;
	}
	/* Onigmo's \uHHHH (used in parsers files) and \x{...} both work. */
	pcre2_set_compile_extra_options(cctx, PCRE2_EXTRA_ALT_BSUX);
	/*
	 * The one PCRE2 wrapper (sl_regex.c), in byte mode: parsers run on
	 * raw lines, and "/re/flags" was read above.
	 */
	re->code = sl_regex_compile_opts(
	    pat.data, pat.len, SL_REGEX_BYTES | SL_REGEX_RAW,
	    opts | PCRE2_ALT_BSUX, cctx, why, sizeof(why));
	pcre2_compile_context_free(cctx);
	sl_buf_destroy(&pat);
	if (!re->code) {
		snprintf(err, err_len, "invalid regex: %s", why);
		sl_parser_regex_destroy(re);
		return -SL_EINVAL;
	}
	re->jit =
	    pcre2_pattern_info(re->code, PCRE2_INFO_JITSIZE, &jit_size) == 0 &&
	    jit_size > 0;
	re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
	if (!re->md || load_names(re) < 0) {
		sl_parser_regex_destroy(re);
		snprintf(err, err_len, "out of memory");
		return -SL_ENOMEM;
	}
	*out = re;
	return 0;
}

void sl_parser_regex_destroy(struct sl_parser_regex *re)
{
	if (!re)
		return;
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re->names);
	for (uint32_t i = 0; i < re->n_long; i++)
		free(re->long_names[i]);
	free(re->long_names);
	free(re);
}

static int run(struct sl_parser_regex *re, const char *s, size_t len)
{
	int rc;

	if (re->jit)
		rc = pcre2_jit_match(re->code, (PCRE2_SPTR)s, len, 0, 0, re->md,
				     NULL);
	else
		rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, re->md,
				 NULL);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc == PCRE2_ERROR_NOMEMORY)
		return -SL_ENOMEM;
	/* Match and JIT-stack limits count as "did not match". */
	return rc < 0 ? 0 : 1;
}

int sl_parser_regex_match(struct sl_parser_regex *re, const char *s, size_t len)
{
	return run(re, s, len);
}

int sl_parser_regex_fields(struct sl_parser_regex *re, const char *s,
			   size_t len, sl_parser_field_cb cb, void *arg)
{
	PCRE2_SIZE *ov;
	uint32_t n_pairs;
	int rc = run(re, s, len);

	if (rc <= 0)
		return rc < 0 ? rc : -SL_EPARSE;
	ov = pcre2_get_ovector_pointer(re->md);
	n_pairs = pcre2_get_ovector_count(re->md);
	for (uint32_t i = 0; i < re->n_names; i++) {
		uint32_t g = re->names[i].group;

		if (g >= n_pairs || ov[2 * g] == PCRE2_UNSET ||
		    ov[2 * g + 1] < ov[2 * g])
			continue;
		rc = cb(arg, re->names[i].name, re->names[i].len, s + ov[2 * g],
			ov[2 * g + 1] - ov[2 * g]);
		if (rc < 0)
			return rc;
	}
	return 0;
}
