/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_syslog_parse.c - the syslog input's message parser on its own: the
 * RFC 5424 examples (RFC 5424 section 6.5), structured data unescaped and
 * de-duplicated, RFC 3164 (its section 5.4 examples) and the variants
 * devices send (no hostname, <PRI> only, Cisco sequence numbers, '*' and
 * zone names, ISO timestamps, year after the day), year inference for
 * year-less dates, invalid UTF-8, and what is not syslog at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../inputs/syslog/syslog_parse.h"
#include "sl_time.h"
#include "sl_utf8.h"

static int64_t at(int y, int mo, int d, int h, int mi, int s)
{
	return (sl_time_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
		s) *
	       SL_NS_PER_SEC;
}

/* "now" for the tests: 2026-12-02T00:00:00Z */
#define NOW at(2026, 12, 2, 0, 0, 0)

static struct syslog_parsed last;
static struct sl_buf out; /* freed by teardown */

/* The JSON of `msg` (in `out`, valid until the next call). */
static const char *parse_opt(const char *msg, size_t len, int64_t now,
			     const char *sd_key)
{
	struct syslog_parse_opts o = {.sd_key = sd_key};

	sl_buf_reset(&out);
	assert_int_equal(syslog_parse(msg, len, now, &o, &out, &last), 0);
	assert_true(sl_utf8_valid(out.data, out.len));
	assert_int_equal(sl_buf_append(&out, "", 1), 0);
	return out.data;
}

static int teardown(void **state)
{
	(void)state;
	sl_buf_destroy(&out);
	return 0;
}

static const char *parse(const char *msg)
{
	return parse_opt(msg, strlen(msg), NOW, NULL);
}

static void rfc5424_examples(void **state)
{
	(void)state;
	/* RFC 5424 6.5 example 1 (the BOM starts MSG and is dropped) */
	assert_string_equal(
	    parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - "
		  "ID47 - \xEF\xBB\xBF'su root' failed for lonvick on "
		  "/dev/pts/8"),
	    "{\"pri\":\"34\",\"time\":\"2003-10-11T22:14:15.003Z\","
	    "\"host\":\"mymachine.example.com\",\"ident\":\"su\",\"pid\":"
	    "\"-\",\"msgid\":\"ID47\",\"extradata\":\"-\",\"message\":\"'su "
	    "root' failed for lonvick on /dev/pts/8\"}");
	assert_true(last.rfc5424);
	assert_int_equal(last.ts_ns,
			 at(2003, 10, 11, 22, 14, 15) + 3 * 1000000);
	/* example 2: offset and microseconds */
	assert_string_equal(
	    parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc "
		  "8710 - - %% It's time to make the do-nuts."),
	    "{\"pri\":\"165\",\"time\":\"2003-08-24T05:14:15.000003-07:00\","
	    "\"host\":\"192.0.2.1\",\"ident\":\"myproc\",\"pid\":\"8710\","
	    "\"msgid\":\"-\",\"extradata\":\"-\",\"message\":\"%% It's time "
	    "to make the do-nuts.\"}");
	assert_int_equal(last.ts_ns, at(2003, 8, 24, 12, 14, 15) + 3000);
	/* NILVALUE time: no time of its own */
	parse("<13>1 - - - - - -");
	assert_true(last.rfc5424);
	assert_int_equal(last.ts_ns, 0);
}

static void rfc5424_structured_data(void **state)
{
	/* RFC 5424 6.5 example 3 */
	static const char msg[] =
	    "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - "
	    "ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" "
	    "eventID=\"1011\"] \xEF\xBB\xBF"
	    "An application event log entry...";
	/* example 4: two elements, no MSG */
	static const char two[] =
	    "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - "
	    "ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" "
	    "eventID=\"1011\"][examplePriority@32473 class=\"high\"]";

	(void)state;
	assert_string_equal(
	    parse_opt(msg, strlen(msg), NOW, "sd"),
	    "{\"pri\":\"165\",\"time\":\"2003-10-11T22:14:15.003Z\",\"host\":"
	    "\"mymachine.example.com\",\"ident\":\"evntslog\",\"pid\":\"-\","
	    "\"msgid\":\"ID47\",\"extradata\":\"[exampleSDID@32473 "
	    "iut=\\\"3\\\" "
	    "eventSource=\\\"Application\\\" eventID=\\\"1011\\\"]\",\"sd\":{"
	    "\"exampleSDID@32473\":{\"iut\":\"3\",\"eventSource\":"
	    "\"Application\",\"eventID\":\"1011\"}},\"message\":\"An "
	    "application event log entry...\"}");
	assert_string_equal(
	    parse_opt(two, strlen(two), NOW, "sd"),
	    "{\"pri\":\"165\",\"time\":\"2003-10-11T22:14:15.003Z\",\"host\":"
	    "\"mymachine.example.com\",\"ident\":\"evntslog\",\"pid\":\"-\","
	    "\"msgid\":\"ID47\",\"extradata\":\"[exampleSDID@32473 "
	    "iut=\\\"3\\\" "
	    "eventSource=\\\"Application\\\" eventID=\\\"1011\\\"]"
	    "[examplePriority@32473 class=\\\"high\\\"]\",\"sd\":{"
	    "\"exampleSDID@32473\":{\"iut\":\"3\",\"eventSource\":"
	    "\"Application\",\"eventID\":\"1011\"},\"examplePriority@32473\":"
	    "{\"class\":\"high\"}}}");
	/* without the option: the string only */
	assert_null(strstr(parse(two), "\"sd\""));
}

static void rfc5424_sd_escapes_and_duplicates(void **state)
{
	static const char esc[] = "<13>1 - h a p m [x@1 a=\"q\\\"b\\\\c\\]d\" "
				  "e=\"x\\y\"] m";
	static const char dup[] =
	    "<13>1 - h a p m [a@1 x=\"1\" x=\"2\"][a@1 y=\"3\"][b@1] m";

	(void)state;
	/* \" \\ \] lose their backslash; any other backslash stays */
	assert_non_null(strstr(
	    parse_opt(esc, strlen(esc), NOW, "sd"),
	    "\"sd\":{\"x@1\":{\"a\":\"q\\\"b\\\\c]d\",\"e\":\"x\\\\y\"}}"));
	/* first SD-ID and PARAM-NAME win: no duplicate JSON keys */
	assert_non_null(strstr(parse_opt(dup, strlen(dup), NOW, "sd"),
			       "\"sd\":{\"a@1\":{\"x\":\"1\"},\"b@1\":{}}"));
}

static void rfc5424_broken_is_read_as_3164(void **state)
{
	(void)state;
	/* unterminated SD: not RFC 5424, but still a message */
	assert_string_equal(parse("<13>1 - host app - - [x@1 a=\"b] text"),
			    "{\"pri\":\"13\",\"message\":\"1 - host app - - "
			    "[x@1 a=\\\"b] text\"}");
	assert_false(last.rfc5424);
	/* a bad timestamp is not RFC 5424 either */
	parse("<13>1 2003-13-11T22:14:15Z h a p m - text");
	assert_false(last.rfc5424);
}

static void rfc3164_examples(void **state)
{
	(void)state;
	/* RFC 3164 5.4 example 1; the year is inferred from "now" */
	assert_string_equal(
	    parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for "
		  "lonvick on /dev/pts/8"),
	    "{\"pri\":\"34\",\"time\":\"Oct 11 22:14:15\",\"host\":"
	    "\"mymachine\",\"ident\":\"su\",\"message\":\"'su root' failed "
	    "for lonvick on /dev/pts/8\"}");
	assert_false(last.rfc5424);
	assert_int_equal(last.ts_ns, at(2026, 10, 11, 22, 14, 15));
	/* example 2: a space-padded day, an IP as host, no colon */
	assert_string_equal(
	    parse("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!"),
	    "{\"pri\":\"13\",\"time\":\"Feb  5 17:32:18\",\"host\":"
	    "\"10.0.0.99\",\"ident\":\"Use\",\"message\":\"the BFG!\"}");
	assert_int_equal(last.ts_ns, at(2026, 2, 5, 17, 32, 18));
	/* tag with pid */
	assert_string_equal(
	    parse("<38>Jan  2 03:04:05 web1 sshd[4242]: Accepted publickey"),
	    "{\"pri\":\"38\",\"time\":\"Jan  2 03:04:05\",\"host\":\"web1\","
	    "\"ident\":\"sshd\",\"pid\":\"4242\",\"message\":\"Accepted "
	    "publickey\"}");
}

static void rfc3164_variants(void **state)
{
	(void)state;
	/* no hostname (what /dev/log senders write) */
	assert_string_equal(
	    parse("<86>Dec  1 10:00:00 sudo[77]: alice : TTY=pts/0"),
	    "{\"pri\":\"86\",\"time\":\"Dec  1 10:00:00\",\"ident\":\"sudo\","
	    "\"pid\":\"77\",\"message\":\"alice : TTY=pts/0\"}");
	assert_string_equal(parse("<86>Dec  1 10:00:00 cron: job done"),
			    "{\"pri\":\"86\",\"time\":\"Dec  1 10:00:00\","
			    "\"ident\":\"cron\",\"message\":\"job done\"}");
	/* <PRI> and text only */
	assert_string_equal(parse("<13>just some text"),
			    "{\"pri\":\"13\",\"message\":\"just some text\"}");
	assert_int_equal(last.ts_ns, 0);
	assert_string_equal(parse("<0>"), "{\"pri\":\"0\",\"message\":\"\"}");
	/* ISO timestamp in a 3164 message (rsyslog's RFC3339 templates) */
	assert_string_equal(
	    parse("<13>2024-01-02T03:04:05.678+01:00 host app[9]: msg"),
	    "{\"pri\":\"13\",\"time\":\"2024-01-02T03:04:05.678+01:00\","
	    "\"host\":\"host\",\"ident\":\"app\",\"pid\":\"9\",\"message\":"
	    "\"msg\"}");
	assert_int_equal(last.ts_ns, at(2024, 1, 2, 2, 4, 5) + 678000000);
	/* ISO without offset: UTC */
	parse("<13>2024-01-02T03:04:05 host app: msg");
	assert_int_equal(last.ts_ns, at(2024, 1, 2, 3, 4, 5));
}

static void rfc3164_cisco(void **state)
{
	(void)state;
	/* sequence number, '*' (clock not set), milliseconds */
	assert_string_equal(
	    parse("<189>52: *Mar  1 18:46:11.123: %SYS-5-CONFIG_I: Configured "
		  "from console by vty0"),
	    "{\"pri\":\"189\",\"seq\":\"52\",\"time\":\"Mar  1 18:46:11.123\","
	    "\"message\":\"%SYS-5-CONFIG_I: Configured from console by "
	    "vty0\"}");
	assert_int_equal(last.ts_ns, at(2026, 3, 1, 18, 46, 11) + 123000000);
	/* Cisco IE 3000 Switch Software Configuration Guide (OL-13018-03),
	 * "System Log Message Format" examples, with a <PRI> added */
	assert_string_equal(
	    parse("<189>*Mar 1 18:48:50.483 UTC: %SYS-5-CONFIG_I: Configured "
		  "from console by vty2 (10.34.195.36)"),
	    "{\"pri\":\"189\",\"time\":\"Mar 1 18:48:50.483 UTC\","
	    "\"message\":\"%SYS-5-CONFIG_I: Configured from console by vty2 "
	    "(10.34.195.36)\"}");
	assert_int_equal(last.ts_ns, at(2026, 3, 1, 18, 48, 50) + 483000000);
	/* uptime stamps are no date: all text */
	assert_string_equal(
	    parse("<187>00:00:46: %LINK-3-UPDOWN: Interface Port-channel1, "
		  "changed state to up"),
	    "{\"pri\":\"187\",\"message\":\"00:00:46: %LINK-3-UPDOWN: "
	    "Interface Port-channel1, changed state to up\"}");
	/* a time and nothing after it, single-digit day */
	assert_string_equal(parse("<189>Mar 1 18:46:11"),
			    "{\"pri\":\"189\",\"time\":\"Mar 1 18:46:11\","
			    "\"message\":\"\"}");
	/* a year after the day */
	parse("<190>Mar  1 2024 18:46:11: %LINK-3-UPDOWN: up");
	assert_int_equal(last.ts_ns, at(2024, 3, 1, 18, 46, 11));
}

static void year_inference(void **state)
{
	(void)state;
	/* a December message read on 2 January is last year's */
	parse_opt("<13>Dec 31 23:59:59 h a: m", 26, at(2027, 1, 2, 0, 0, 0),
		  NULL);
	assert_int_equal(last.ts_ns, at(2026, 12, 31, 23, 59, 59));
	/* a clock a little ahead of ours is still this year */
	parse_opt("<13>Jan  3 00:00:00 h a: m", 26, at(2027, 1, 2, 0, 0, 0),
		  NULL);
	assert_int_equal(last.ts_ns, at(2027, 1, 3, 0, 0, 0));
	/* Feb 29 in a year without one: the last leap year */
	parse_opt("<13>Feb 29 12:00:00 h a: m", 26, at(2027, 3, 1, 0, 0, 0),
		  NULL);
	assert_int_equal(last.ts_ns, at(2024, 2, 29, 12, 0, 0));
	/* no such day at all: not a time, all text */
	assert_string_equal(parse("<13>Feb 30 12:00:00 h a: m"),
			    "{\"pri\":\"13\",\"message\":\"Feb 30 12:00:00 h "
			    "a: m\"}");
}

static void invalid_utf8_repaired(void **state)
{
	static const char msg[] = "<13>1 - h a - - - bad \xC0\xAF end \xff";
	static const char hdr[] = "<13>1 - h\xff a - - - m";

	(void)state;
	/* overlong and stray bytes: one U+FFFD per maximal subpart */
	assert_string_equal(parse_opt(msg, sizeof(msg) - 1, NOW, NULL),
			    "{\"pri\":\"13\",\"time\":\"-\",\"host\":\"h\","
			    "\"ident\":\"a\",\"pid\":\"-\",\"msgid\":\"-\","
			    "\"extradata\":\"-\",\"message\":\"bad "
			    "\xEF\xBF\xBD\xEF\xBF\xBD end \xEF\xBF\xBD\"}");
	assert_true(last.repaired);
	/* RFC 5424 header fields are ASCII: not RFC 5424, still kept */
	assert_string_equal(parse_opt(hdr, sizeof(hdr) - 1, NOW, NULL),
			    "{\"pri\":\"13\",\"message\":\"1 - h\xEF\xBF\xBD "
			    "a - - - m\"}");
	assert_false(last.rfc5424);
	assert_true(last.repaired);
	parse("<13>fine");
	assert_false(last.repaired);
	/* control bytes and NUL inside an octet-counted message: escaped */
	assert_string_equal(
	    parse_opt("<13>a\0b\tc\nd", 11, NOW, NULL),
	    "{\"pri\":\"13\",\"message\":\"a\\u0000b\\tc\\nd\"}");
}

static void not_syslog(void **state)
{
	static const char *const bad[] = {
	    "",	      "hello",	 "<",	 "<>",	"<>x",
	    "<192>x", "<1234>x", "<1x>", "<13", " <13>x",
	};
	struct sl_buf b = {0};
	struct syslog_parsed res;

	(void)state;
	assert_int_equal(sl_buf_append(&b, "kept", 4), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    syslog_parse(bad[i], strlen(bad[i]), NOW, NULL, &b, &res),
		    -SL_EPARSE);
		assert_int_equal(b.len, 4); /* nothing appended */
	}
	sl_buf_destroy(&b);
}

static void rfc3339(void **state)
{
	int64_t ns = 0;

	(void)state;
	assert_int_equal(
	    syslog_parse_rfc3339("1985-04-12T23:20:50.52Z", 23, false, &ns),
	    23);
	assert_int_equal(ns, at(1985, 4, 12, 23, 20, 50) + 520000000);
	assert_int_equal(
	    syslog_parse_rfc3339("1985-04-12T23:20:50", 19, false, &ns), 0);
	assert_int_equal(
	    syslog_parse_rfc3339("1985-04-12T23:20:50", 19, true, &ns), 19);
	assert_int_equal(
	    syslog_parse_rfc3339("1985-04-12T23:20:50+05:30", 25, false, &ns),
	    25);
	assert_int_equal(ns, at(1985, 4, 12, 17, 50, 50));
	assert_int_equal(
	    syslog_parse_rfc3339("1985-02-30T23:20:50Z", 20, false, &ns), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rfc5424_examples),
	    cmocka_unit_test(rfc5424_structured_data),
	    cmocka_unit_test(rfc5424_sd_escapes_and_duplicates),
	    cmocka_unit_test(rfc5424_broken_is_read_as_3164),
	    cmocka_unit_test(rfc3164_examples),
	    cmocka_unit_test(rfc3164_variants),
	    cmocka_unit_test(rfc3164_cisco),
	    cmocka_unit_test(year_inference),
	    cmocka_unit_test(invalid_utf8_repaired),
	    cmocka_unit_test(not_syslog),
	    cmocka_unit_test(rfc3339),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
