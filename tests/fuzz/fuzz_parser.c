/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_parser.c - feeds arbitrary bytes to the json, regex, logfmt and ltsv
 * parsers (each with a Time_Key) and to the time parser. The first byte
 * picks the target; the rest is the input line.
 */
#include "sl_parser.h"
#include "sl_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const defs[][6] = {
    {"j", "json", NULL, "time", "%Y-%m-%dT%H:%M:%S.%L%z", "n:integer f:float"},
    {"r", "regex",
     "^(?<host>[^ ]*) (?<time>[^\\]]*) \"(?<msg>.*)\" (?<code>\\d*)$", "time",
     "%d/%b/%Y:%H:%M:%S %z", "code:integer"},
    {"l", "logfmt", NULL, "ts", "epoch_ms", "n:hex b:bool"},
    {"t", "ltsv", NULL, "time", "%s.%L", NULL},
};
static const char *const time_fmts[] = {
    "%Y-%m-%d %H:%M:%S,%L",
    "%Y-%m-%dT%H:%M:%S.%LZ",
    "%b %d %H:%M:%S",
    "%a %b %e %T %Y %Z",
    "%D %I:%M %p %j",
    "epoch",
    "epoch_ns",
    "%s%L%y",
};

static struct sl_conf conf;
static struct sl_parsers *parsers;

static void setup(void)
{
	struct sl_diag diag = {0};

	sl_conf_init(&conf);
	for (size_t i = 0; i < SL_ARRAY_LEN(defs); i++) {
		struct sl_conf_section *s = sl_conf_add_section(
		    &conf, SL_SEC_PARSER, "PARSER", "fuzz", 1);
		const char *keys[] = {"name",	  "format",	 "regex",
				      "time_key", "time_format", "types"};

		for (size_t k = 0; s && k < 6; k++)
			if (defs[i][k])
				sl_conf_add_entry(&conf, s, keys[k], defs[i][k],
						  "fuzz", 2);
	}
	if (sl_parsers_build(&conf, &diag, &parsers) < 0) {
		sl_diag_print(&diag, stderr);
		abort();
	}
	sl_diag_destroy(&diag);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sl_record rec;
	static int ready;
	const char *text = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	unsigned pick;

	if (!ready) {
		setup();
		sl_record_init(&rec);
		ready = 1;
	}
	if (size == 0)
		return 0;
	pick = data[0];
	if (pick & 0x80) {
		struct sl_time_fmt tf;
		const char *err;
		int64_t ns;

		if (sl_time_fmt_init(&tf,
				     time_fmts[pick % SL_ARRAY_LEN(time_fmts)],
				     &err) == 0)
			sl_time_parse(&tf, text, len, 0, &ns);
		sl_time_fmt_destroy(&tf);
		return 0;
	}
	sl_record_reset_line(&rec, 0, "log", 3, text, len);
	if (sl_parser_apply(
		sl_parsers_find(parsers, defs[pick % SL_ARRAY_LEN(defs)][0]),
		text, len, &rec) == 0) {
		size_t blen;
		const char *body = sl_record_body(&rec, &blen);

		/* whatever a parser produced must be a valid JSON object */
		if (!body || sl_record_reset_json(&rec, 0, body, blen) < 0)
			abort();
	}
	return 0;
}
