/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_multiline.c - arbitrary file content through tail's multiline
 * engine (the bytes come from whatever writes the followed files). The
 * first byte picks the parsers (a bit each: docker, cri, go, java, python,
 * ruby, a [MULTILINE_PARSER] regex and an endswith one) and the clock
 * steps; the rest is cut into lines as tail_file.c would. Every group must
 * lie inside what was fed, come out in file order, and after the final
 * flush everything fed must be out: joining never loses a line.
 */
#include "sl_conf.h"
#include "sl_diag.h"
#include "sl_log.h"
#include "sl_parser.h"
#include "../../inputs/tail/tail_multiline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const builtins[] = {"docker", "cri",	   "go",
				       "java",	 "python", "ruby"};

static struct sl_conf conf;
static struct sl_parsers *parsers;

static void add(struct sl_conf_section *s, const char *k, const char *v)
{
	if (!s || sl_conf_add_entry(&conf, s, k, v, "fuzz", 1) < 0)
		abort();
}

static void setup(void)
{
	struct sl_diag diag = {0};
	struct sl_conf_section *s;

	sl_log_set_level(SL_LOG_ERROR);
	sl_conf_init(&conf);
	s = sl_conf_add_section(&conf, SL_SEC_MULTILINE_PARSER,
				"MULTILINE_PARSER", "fuzz", 1);
	add(s, "name", "rx");
	add(s, "type", "regex");
	add(s, "flush_timeout", "500");
	add(s, "rule", "\"start_state\" \"/^[A-Z][a-z]{2} \\d+ /\" \"cont\"");
	add(s, "rule", "\"cont\" \"/^\\s+at /\" \"cont\"");
	s = sl_conf_add_section(&conf, SL_SEC_MULTILINE_PARSER,
				"MULTILINE_PARSER", "fuzz", 1);
	add(s, "name", "ends");
	add(s, "type", "endswith");
	add(s, "match_string", "\\");
	add(s, "negate", "true");
	if (sl_parsers_build(&conf, &diag, &parsers) < 0) {
		sl_diag_print(&diag, stderr);
		abort();
	}
	sl_diag_destroy(&diag);
}

struct seen {
	int64_t last_end, fed_end;
	size_t max_len;
};

static int on_out(void *arg, const struct tail_ml_out *o)
{
	struct seen *s = arg;

	if (o->start > o->end || o->end > s->fed_end || o->end < s->last_end)
		abort();
	if (o->base && (!o->key || o->base_len == 0))
		abort();
	s->last_end = o->end;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct tail_ml ml;
	struct tail_ml_group g;
	struct seen s = {0};
	char err[256];
	unsigned pick;
	const char *text = (const char *)data + 1;
	size_t len = size ? size - 1 : 0, pos = 0;
	int64_t now = 0;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size == 0)
		return 0;
	pick = data[0];
	if (tail_ml_init(&ml, 256) < 0)
		return 0;
	tail_ml_group_init(&g);
	for (size_t i = 0; i < 6; i++)
		if (pick & (1u << i))
			tail_ml_add(&ml, builtins[i], parsers, err,
				    sizeof(err));
	if (pick & 0x40)
		tail_ml_add(&ml, "rx", parsers, err, sizeof(err));
	if ((pick & 0x80) || ml.n == 0)
		tail_ml_add(&ml, "ends", parsers, err, sizeof(err));
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		int64_t start = (int64_t)pos;

		pos += n + (nl ? 1 : 0);
		s.fed_end = (int64_t)pos;
		if (tail_ml_feed(&ml, &g, text + start, n, start, s.fed_end, 1,
				 now, on_out, &s) < 0)
			break;
		/* a clock that sometimes jumps past flush_timeout */
		now += (n & 7) == 7 ? 5 * (int64_t)SL_NS_PER_SEC : 1000;
		tail_ml_expire(&ml, &g, now, on_out, &s);
	}
	tail_ml_flush(&ml, &g, on_out, &s);
	if (pos == len && s.last_end != s.fed_end)
		abort(); /* a line fed was never emitted */
	tail_ml_group_destroy(&g);
	tail_ml_destroy(&ml);
	return 0;
}
