/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_conf_yaml_pipeline.c - YAML processors and routes read into owned
 * sections (PROCESSOR, ROUTE, RULE) with the lines of their values, and the
 * shapes that are refused at their line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include "sl_common.h"
#include "sl_conf.h"

struct fixture {
	struct sl_conf conf;
	struct sl_diag diag;
	char path[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	if (!f)
		return -1;
	sl_conf_init(&f->conf);
	strcpy(f->path, "/tmp/sl_test_yaml_XXXXXX.yaml");
	fd = mkstemps(f->path, 5);
	if (fd < 0) {
		free(f);
		return -1;
	}
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sl_conf_destroy(&f->conf);
	sl_diag_destroy(&f->diag);
	unlink(f->path);
	free(f);
	return 0;
}

static int load(struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	fclose(fp);
	return sl_conf_load(&f->conf, f->path, &f->diag);
}

/* The diagnostic at `line` containing `needle`, or false. */
static bool has_diag(const struct fixture *f, int line, const char *needle)
{
	char at[96];

	snprintf(at, sizeof(at), "%s:%d: ", f->path, line);
	for (size_t i = 0; i < f->diag.n; i++)
		if (strstr(f->diag.msgs[i], at) &&
		    strstr(f->diag.msgs[i], needle))
			return true;
	sl_diag_print(&f->diag, stderr);
	return false;
}

static size_t count(const struct sl_conf_section *s, const char *key)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += strcmp(s->entries[i].key, key) == 0;
	return n;
}

static const char PIPELINE[] = "pipeline:\n"			   /* 1 */
			       "  inputs:\n"			   /* 2 */
			       "    - name: dummy\n"		   /* 3 */
			       "      processors:\n"		   /* 4 */
			       "        logs:\n"		   /* 5 */
			       "          - name: grep\n"	   /* 6 */
			       "            regex: [a b, c d]\n"   /* 7 */
			       "            condition:\n"	   /* 8 */
			       "              op: or\n"		   /* 9 */
			       "              rules:\n"		   /* 10 */
			       "                - field: $a\n"	   /* 11 */
			       "                  op: in\n"	   /* 12 */
			       "                  value: [x, y]\n" /* 13 */
			       "      routes:\n"		   /* 14 */
			       "        logs:\n"		   /* 15 */
			       "          - name: r1\n"		   /* 16 */
			       "            condition:\n"	   /* 17 */
			       "              default: true\n"	   /* 18 */
			       "            to:\n"		   /* 19 */
			       "              outputs:\n"	   /* 20 */
			       "                - o1\n"		   /* 21 */
			       "                - name: o2\n"	   /* 22 */
			       "      tag: t\n"			   /* 23 */
			       "  outputs:\n"			   /* 24 */
			       "    - name: null\n"		   /* 25 */
			       "      alias: o1\n";		   /* 26 */

static void processors_and_routes_become_owned_sections(void **state)
{
	struct fixture *f = *state;
	const struct sl_conf_section *in, *proc, *rule, *route;

	assert_int_equal(load(f, PIPELINE), 0);
	/* input, processor, its rule, route, output */
	assert_int_equal(f->conf.n, 5);
	in = &f->conf.sections[0];
	proc = &f->conf.sections[1];
	rule = &f->conf.sections[2];
	route = &f->conf.sections[3];
	assert_int_equal(in->kind, SL_SEC_INPUT);
	assert_int_equal(in->owner, 0);
	/* the input keeps its own keys, also those after routes */
	assert_string_equal(sl_conf_get(in, "tag")->value, "t");
	assert_null(sl_conf_get(in, "processors.logs"));
	assert_int_equal(proc->kind, SL_SEC_PROCESSOR);
	assert_int_equal(proc->owner, 1);
	assert_int_equal(proc->line, 6);
	assert_int_equal(count(proc, "regex"), 2);
	assert_string_equal(sl_conf_get(proc, "condition.op")->value, "or");
	assert_int_equal(sl_conf_get(proc, "condition.op")->line, 9);
	assert_int_equal(rule->kind, SL_SEC_RULE);
	assert_int_equal(rule->owner, 2);
	assert_int_equal(count(rule, "value"), 2);
	assert_string_equal(sl_conf_get(rule, "op")->value, "in");
	assert_int_equal(sl_conf_get(rule, "op")->line, 12);
	assert_int_equal(route->kind, SL_SEC_ROUTE);
	assert_int_equal(route->owner, 1);
	assert_string_equal(sl_conf_get(route, "condition.default")->value,
			    "true");
	assert_int_equal(count(route, "to"), 2);
	assert_int_equal(route->entries[route->n - 1].line, 22);
	assert_string_equal(route->entries[route->n - 1].value, "o2");
	assert_int_equal(f->conf.sections[4].kind, SL_SEC_OUTPUT);
}

static void other_signals_are_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "pipeline:\n"
				 "  outputs:\n"
				 "    - name: null\n"
				 "      processors:\n"
				 "        traces:\n"
				 "          - name: grep\n"),
			 -SL_ECONFIG);
	assert_true(has_diag(f, 5, "sluice carries logs only"));
}

static void processors_belong_to_inputs_and_outputs(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "pipeline:\n"
				 "  filters:\n"
				 "    - name: grep\n"
				 "      processors:\n"
				 "        logs: []\n"
				 "  outputs:\n"
				 "    - name: null\n"
				 "      routes:\n"
				 "        logs: []\n"),
			 -SL_ECONFIG);
	assert_true(has_diag(f, 4, "inputs and outputs"));
	assert_true(has_diag(f, 8, "belongs to inputs only"));
}

static void bad_route_shapes_are_refused_at_their_line(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "pipeline:\n"
				 "  inputs:\n"
				 "    - name: dummy\n"
				 "      routes:\n"
				 "        logs:\n"
				 "          - name: a\n"
				 "            condition:\n"
				 "              rules:\n"
				 "                - field: $x\n"
				 "                  op: eq\n"
				 "                  valeu: 1\n"
				 "          - name: b\n"
				 "            to:\n"
				 "              outputs:\n"
				 "                - name: o\n"
				 "                  fallback: p\n"),
			 -SL_ECONFIG);
	assert_true(has_diag(f, 11, "unknown key 'valeu'"));
	assert_true(has_diag(f, 6, "'to' is required"));
	assert_true(has_diag(f, 16, "'fallback' is not supported"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(processors_and_routes_become_owned_sections),
	    T(other_signals_are_refused),
	    T(processors_belong_to_inputs_and_outputs),
	    T(bad_route_shapes_are_refused_at_their_line),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
