/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_conf_telemetry.c - the YAML `telemetry` block by Fluent Bit's
 * rules: the nested form becomes dotted entries at their lines; the flat
 * dotted key, a scalar, an unknown key at any level, a non-map
 * tag_records and service-only options on an input are errors naming
 * the line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_common.h"
#include "sl_conf.h"

struct loaded {
	struct sl_conf conf;
	struct sl_diag diag;
	int rc;
};

static void load(struct loaded *l, const char *yaml)
{
	char path[] = "/tmp/sluice-test-telemetry-XXXXXX.yaml";
	int fd = mkstemps(path, 5);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(yaml, f);
	fclose(f);
	memset(l, 0, sizeof(*l));
	sl_conf_init(&l->conf);
	l->rc = sl_conf_load(&l->conf, path, &l->diag);
	unlink(path);
}

static void done(struct loaded *l)
{
	sl_conf_destroy(&l->conf);
	sl_diag_destroy(&l->diag);
}

static void nested_block_becomes_dotted_entries(void **state)
{
	struct loaded l;
	const struct sl_conf_entry *e;

	(void)state;
	load(&l, "service:\n"
		 "  telemetry:\n"
		 "    metrics:\n"
		 "      logs:\n"
		 "        tag_records:\n"
		 "          enabled: 1\n"
		 "          max_series: 7\n"
		 "pipeline:\n"
		 "  inputs:\n"
		 "    - name: dummy\n"
		 "      telemetry:\n"
		 "        metrics: {logs: {tag_records: {enabled: false}}}\n");
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.conf.n, 2);
	e = sl_conf_get(&l.conf.sections[0],
			"telemetry.metrics.logs.tag_records.enabled");
	assert_non_null(e);
	assert_string_equal(e->value, "on"); /* YAML 1 is Fluent Bit's true */
	assert_int_equal(e->line, 6);
	e = sl_conf_get(&l.conf.sections[0],
			"telemetry.metrics.logs.tag_records.max_series");
	assert_string_equal(e->value, "7");
	e = sl_conf_get(&l.conf.sections[1],
			"telemetry.metrics.logs.tag_records.enabled");
	assert_string_equal(e->value, "false");
	done(&l);
}

static void malformed_blocks_are_errors_at_their_line(void **state)
{
	static const struct {
		const char *yaml;
		int line;
		const char *words;
	} cases[] = {
	    {"service:\n  telemetry: oops\n", 2, "nested map"},
	    {"service:\n  telemetry.metrics.logs.tag_records: true\n", 2,
	     "nested 'telemetry' block"},
	    {"service:\n  telemetry:\n    metricz: {}\n", 3, "'metricz'"},
	    {"service:\n  telemetry:\n    metrics: true\n", 3,
	     "'telemetry.metrics' must be a map"},
	    {"service:\n  telemetry:\n    metrics:\n      logs:\n"
	     "        tag_record: true\n",
	     5, "'tag_record'"},
	    {"service:\n  telemetry:\n    metrics:\n      logs:\n"
	     "        tag_records: true\n",
	     5, "must be a map with an 'enabled' key"},
	    {"service:\n  telemetry:\n    metrics:\n      logs:\n"
	     "        tag_records:\n          max_serie: 5\n",
	     6, "'max_serie'"},
	    {"pipeline:\n  inputs:\n    - name: dummy\n      telemetry:\n"
	     "        metrics:\n          logs:\n            tag_records:\n"
	     "              max_tag_length: 5\n",
	     8, "[SERVICE] option"},
	};
	struct loaded l;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[32];

		load(&l, cases[i].yaml);
		assert_int_equal(l.rc, -SL_ECONFIG);
		assert_int_equal(l.diag.n, 1);
		snprintf(want, sizeof(want), ":%d: ", cases[i].line);
		if (!strstr(l.diag.msgs[0], want) ||
		    !strstr(l.diag.msgs[0], cases[i].words))
			fail_msg("case %zu: %s", i, l.diag.msgs[0]);
		done(&l);
	}
}

static void empty_block_sets_nothing(void **state)
{
	struct loaded l;

	(void)state;
	load(&l, "service:\n  telemetry:\n    metrics:\n      logs:\n"
		 "        tag_records: {}\n");
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.conf.sections[0].n, 0);
	done(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nested_block_becomes_dotted_entries),
	    cmocka_unit_test(malformed_blocks_are_errors_at_their_line),
	    cmocka_unit_test(empty_block_sets_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
