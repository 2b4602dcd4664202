/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cli.c - the command line turned into config sections: one-liners
 * in order with -p/-m/-t applied to the plugin named last, -f as a
 * [SERVICE] Flush, the demo when no pipeline is given, and usage errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sl_cli.h"

struct parsed {
	struct sl_conf conf;
	struct sl_diag diag;
	struct sl_cli cli;
	int rc;
};

static void parse(struct parsed *p, int argc, const char **argv)
{
	memset(p, 0, sizeof(*p));
	sl_conf_init(&p->conf);
	p->rc = sl_cli_parse(argc, (char **)argv, &p->cli, &p->conf, &p->diag);
}

static void done(struct parsed *p)
{
	sl_conf_destroy(&p->conf);
	sl_diag_destroy(&p->diag);
}

static const char *get(const struct sl_conf_section *s, const char *key)
{
	const struct sl_conf_entry *e = sl_conf_get(s, key);

	return e ? e->value : NULL;
}

static void one_liners_build_sections_in_order(void **state)
{
	const char *argv[] = {
	    "sluice", "-i", "tail",   "-p", "path=/var/log/a.log", "-t",
	    "app",    "-F", "grep",   "-p", "regex=log x",	   "-m",
	    "app*",   "-o", "stdout", "-p", "format=json_lines",   "-f",
	    "0.5"};
	struct parsed p;

	(void)state;
	parse(&p, (int)(sizeof(argv) / sizeof(argv[0])), argv);
	assert_int_equal(p.rc, 0);
	assert_false(p.cli.demo);
	assert_int_equal(p.conf.n, 4);
	assert_int_equal(p.conf.sections[0].kind, SL_SEC_INPUT);
	assert_string_equal(get(&p.conf.sections[0], "name"), "tail");
	assert_string_equal(get(&p.conf.sections[0], "path"), "/var/log/a.log");
	assert_string_equal(get(&p.conf.sections[0], "tag"), "app");
	assert_null(get(&p.conf.sections[0], "match"));
	assert_int_equal(p.conf.sections[1].kind, SL_SEC_FILTER);
	/* the value keeps its spaces; -m replaces the default Match "*" */
	assert_string_equal(get(&p.conf.sections[1], "regex"), "log x");
	assert_string_equal(get(&p.conf.sections[1], "match"), "app*");
	assert_string_equal(get(&p.conf.sections[2], "match"), "*");
	assert_string_equal(get(&p.conf.sections[2], "format"), "json_lines");
	assert_int_equal(p.conf.sections[3].kind, SL_SEC_SERVICE);
	assert_string_equal(get(&p.conf.sections[3], "flush"), "0.5");
	done(&p);
}

static void no_pipeline_means_the_demo(void **state)
{
	const char *argv[] = {"sluice"};
	struct parsed p;

	(void)state;
	parse(&p, 1, argv);
	assert_int_equal(p.rc, 0);
	assert_true(p.cli.demo);
	assert_int_equal(sl_cli_demo(&p.conf), 0);
	assert_true(p.conf.n >= 3);
	done(&p);
}

static void usage_errors_are_reported(void **state)
{
	const char *before[] = {"sluice", "-p", "a=b", "-i", "dummy"};
	const char *novalue[] = {"sluice", "-i", "dummy", "-p", "novalue"};
	const char *tag_on_output[] = {"sluice", "-o", "null", "-t", "x"};
	const char *match_on_input[] = {"sluice", "-i", "dummy", "-m", "x"};
	const char *stray[] = {"sluice", "extra-arg"};
	const char *unknown[] = {"sluice", "-Z"};
	const char **cases[] = {before,		novalue, tag_on_output,
				match_on_input, stray,	 unknown};
	const int argc[] = {5, 5, 5, 5, 2, 2};
	struct parsed p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse(&p, argc[i], cases[i]);
		assert_int_equal(p.rc, -SL_ECONFIG);
		assert_true(p.diag.n >= 1);
		assert_non_null(strstr(p.diag.msgs[0], "sluice: "));
		done(&p);
	}
}

static void version_and_help_stop_early(void **state)
{
	const char *v[] = {"sluice", "-V", "-c", "/does/not/exist"};
	const char *h[] = {"sluice", "--help"};
	struct parsed p;

	(void)state;
	parse(&p, 4, v);
	/* -V does not load the config, so a missing file is no error */
	assert_int_equal(p.rc, 0);
	assert_true(p.cli.show_version);
	done(&p);
	parse(&p, 2, h);
	assert_int_equal(p.rc, 0);
	assert_true(p.cli.show_help);
	done(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(one_liners_build_sections_in_order),
	    cmocka_unit_test(no_pipeline_means_the_demo),
	    cmocka_unit_test(usage_errors_are_reported),
	    cmocka_unit_test(version_and_help_stop_early),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
