/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cli.c - the command line turned into config sections: one-liners
 * in order with -p/-m/-t applied to the plugin named last, -f as a
 * [SERVICE] Flush, the demo when no pipeline is given, and usage errors;
 * Fluent Bit's flags: [SERVICE] keys that win over the file's, -e as a
 * [PLUGINS] Path, and the flags sluice refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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

/* The value of `key` over every [SERVICE] section, and how many set it. */
static const char *service_value(const struct sl_conf *conf, const char *key,
				 int *times)
{
	const char *v = NULL;

	*times = 0;
	for (size_t i = 0; i < conf->n; i++) {
		const struct sl_conf_section *s = &conf->sections[i];

		for (size_t j = 0; s->kind == SL_SEC_SERVICE && j < s->n; j++)
			if (strcasecmp(s->entries[j].key, key) == 0) {
				v = s->entries[j].value;
				(*times)++;
			}
	}
	return v;
}

static void service_flags_win_over_the_file(void **state)
{
	char path[] = "/tmp/sluice-test-cli-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct parsed p;
	int times;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("[SERVICE]\n    HTTP_Port 2020\n    Flush 1\n", f);
	fclose(f);
	const char *argv[] = {
	    "sluice",	 "-c", path, "-P",     "2021", "-H", "--http_listen",
	    "127.0.0.1", "-Y", "-b", "/var/x", "-f",   "2"};
	parse(&p, (int)(sizeof(argv) / sizeof(argv[0])), argv);
	unlink(path);
	assert_int_equal(p.rc, 0);
	assert_string_equal(service_value(&p.conf, "http_port", &times),
			    "2021");
	assert_int_equal(times, 1); /* the file's entry was taken out */
	assert_string_equal(service_value(&p.conf, "flush", &times), "2");
	assert_int_equal(times, 1);
	assert_string_equal(service_value(&p.conf, "http_server", &times),
			    "on");
	assert_string_equal(service_value(&p.conf, "http_listen", &times),
			    "127.0.0.1");
	assert_string_equal(service_value(&p.conf, "hot_reload", &times), "on");
	assert_string_equal(service_value(&p.conf, "storage.path", &times),
			    "/var/x");
	done(&p);
}

static void plugin_flag_adds_a_plugins_path(void **state)
{
	const char *argv[] = {"sluice", "-e",	     "redact.so",
			      "-e",	"/lib/x.so", "-D"};
	struct parsed p;
	int found = 0;

	(void)state;
	parse(&p, 6, argv);
	assert_int_equal(p.rc, 0);
	assert_true(p.cli.dry_run);
	for (size_t i = 0; i < p.conf.n; i++) {
		const struct sl_conf_section *s = &p.conf.sections[i];

		if (s->kind != SL_SEC_PLUGINS)
			continue;
		/* a bare name is the working directory's, not dlopen's path */
		assert_string_equal(get(s, "path"),
				    found ? "/lib/x.so" : "./redact.so");
		found++;
	}
	assert_int_equal(found, 2);
	done(&p);
}

static void refused_flags_say_why(void **state)
{
	const char *daemon_[] = {"sluice", "-d"};
	const char *supervisor[] = {"sluice", "--supervisor"};
	const char *custom[] = {"sluice", "-C", "calyptia"};
	const char *trace[] = {"sluice", "--trace-input", "x"};
	const char **cases[] = {daemon_, supervisor, custom, trace};
	const int argc[] = {2, 2, 3, 3};
	const char *words[] = {"background", "supervisor", "custom",
			       "chunk trace"};
	struct parsed p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse(&p, argc[i], cases[i]);
		assert_int_equal(p.rc, -SL_ECONFIG);
		assert_int_equal(p.diag.n, 1);
		assert_non_null(strstr(p.diag.msgs[0], words[i]));
		done(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(one_liners_build_sections_in_order),
	    cmocka_unit_test(no_pipeline_means_the_demo),
	    cmocka_unit_test(usage_errors_are_reported),
	    cmocka_unit_test(version_and_help_stop_early),
	    cmocka_unit_test(service_flags_win_over_the_file),
	    cmocka_unit_test(plugin_flag_adds_a_plugins_path),
	    cmocka_unit_test(refused_flags_say_why),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
