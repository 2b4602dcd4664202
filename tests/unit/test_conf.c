/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_conf.c - the classic config reader and the config tree: grammar
 * (indentation, key/value split, comments, CRLF), @INCLUDE and @SET, ${VAR}
 * expansion, which sections each kind of file allows, and errors that carry
 * FILE:LINE, all reported in one pass.
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
#include "sl_log.h"

#define DATA SL_TEST_DATA_DIR "/conf"

struct fixture {
	struct sl_conf conf;
	struct sl_diag diag;
	char dir[64];
	char *path;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	sl_conf_init(&f->conf);
	strcpy(f->dir, "/tmp/sl_test_conf.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	sl_conf_destroy(&f->conf);
	sl_diag_destroy(&f->diag);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f->path);
	free(f);
	return 0;
}

/*
 * Writes `len` bytes (SIZE_MAX: strlen) to <tmpdir>/<name> and returns the
 * path (owned by the fixture, valid until the next write).
 */
static const char *write_file(struct fixture *f, const char *name,
			      const char *text, size_t len)
{
	FILE *fp;

	if (len == SIZE_MAX)
		len = strlen(text);
	free(f->path);
	assert_true(asprintf(&f->path, "%s/%s", f->dir, name) > 0);
	fp = fopen(f->path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	fclose(fp);
	return f->path;
}

static int load_text(struct fixture *f, const char *text)
{
	return sl_conf_load(
	    &f->conf, write_file(f, "test.conf", text, strlen(text)), &f->diag);
}

/* True when some diagnostic contains `needle`. */
static bool has_diag(const struct fixture *f, const char *needle)
{
	for (size_t i = 0; i < f->diag.n; i++)
		if (strstr(f->diag.msgs[i], needle))
			return true;
	return false;
}

static void dump_diag(const struct fixture *f)
{
	sl_diag_print(&f->diag, stderr);
}

static const char *value_of(const struct sl_conf_section *sec, const char *key)
{
	const struct sl_conf_entry *e = sl_conf_get(sec, key);

	return e ? e->value : NULL;
}

/* ---- grammar --------------------------------------------------------------
 */

static void sections_and_entries_keep_order_and_lines(void **state)
{
	struct fixture *f = *state;
	const struct sl_conf_section *s;

	assert_int_equal(load_text(f, "[SERVICE]\n"
				      "    Flush 1\n"
				      "\n"
				      "[INPUT]\n"
				      "    Name dummy\n"
				      "    Tag  app.log\n"
				      "[output]\n"
				      "    Name  stdout\n"
				      "    Match *\n"),
			 0);
	assert_int_equal(f->conf.n, 3);
	assert_int_equal(f->conf.sections[0].kind, SL_SEC_SERVICE);
	assert_int_equal(f->conf.sections[1].kind, SL_SEC_INPUT);
	assert_int_equal(f->conf.sections[2].kind, SL_SEC_OUTPUT);
	s = &f->conf.sections[1];
	assert_int_equal(s->line, 4);
	assert_int_equal(s->n, 2);
	assert_string_equal(s->entries[1].key, "Tag");
	assert_string_equal(s->entries[1].value, "app.log");
	assert_int_equal(s->entries[1].line, 6);
	assert_string_equal(s->entries[1].file, f->path);
	assert_string_equal(f->conf.main_file, f->path);
}

static void section_kinds_are_case_insensitive(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "[Input]\n    Name a\n"
				      "[fIlTeR]\n    Name b\n"
				      "[plugins]\n    Path /x.so\n"
				      "[UPSTREAM]\n    name u\n"
				      "[NODE]\n    host h\n"
				      "[custom]\n    name c\n"
				      "[BOGUS]\n    name d\n"),
			 0);
	assert_int_equal(f->conf.n, 7);
	assert_int_equal(f->conf.sections[0].kind, SL_SEC_INPUT);
	assert_int_equal(f->conf.sections[1].kind, SL_SEC_FILTER);
	assert_int_equal(f->conf.sections[2].kind, SL_SEC_PLUGINS);
	assert_int_equal(f->conf.sections[3].kind, SL_SEC_UPSTREAM);
	assert_int_equal(f->conf.sections[4].kind, SL_SEC_NODE);
	assert_int_equal(f->conf.sections[5].kind, SL_SEC_CUSTOM);
	/* unknown headers are kept for later validation to name them */
	assert_int_equal(f->conf.sections[6].kind, SL_SEC_OTHER);
	assert_string_equal(f->conf.sections[6].header, "BOGUS");
}

static void key_and_value_split_at_first_blank_run(void **state)
{
	struct fixture *f = *state;
	const struct sl_conf_section *s;

	assert_int_equal(load_text(f, "[FILTER]\n"
				      "    Regex    log   ^a  b$\n"
				      "    Name\tgrep\n"
				      "    Add \t x y \t \n"),
			 0);
	s = &f->conf.sections[0];
	assert_string_equal(s->entries[0].key, "Regex");
	assert_string_equal(s->entries[0].value, "log   ^a  b$");
	assert_string_equal(value_of(s, "name"), "grep");
	/* right-trimmed, inner blanks kept */
	assert_string_equal(value_of(s, "ADD"), "x y");
}

static void comments_and_blank_lines_are_skipped(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "# top comment\n"
				      "[INPUT]\n"
				      "    # indented comment\n"
				      "  # comment at another indent\n"
				      "    Name dummy\n"
				      "   \t \n"
				      "\n"
				      "    Tag x # not a comment\n"),
			 0);
	assert_int_equal(f->conf.sections[0].n, 2);
	assert_string_equal(value_of(&f->conf.sections[0], "Tag"),
			    "x # not a comment");
}

static void crlf_line_endings_are_accepted(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(sl_conf_load(&f->conf, DATA "/crlf.conf", &f->diag),
			 0);
	assert_int_equal(f->conf.n, 2);
	assert_string_equal(value_of(&f->conf.sections[0], "Flush"), "5");
	assert_string_equal(value_of(&f->conf.sections[1], "Name"), "dummy");
}

static void indent_is_fixed_by_first_indented_line(void **state)
{
	struct fixture *f = *state;

	/* Fluent Bit's indent_level_error.conf: 4 spaces, then 6 */
	assert_int_equal(load_text(f, "[INPUT]\n"
				      "    Name dummy\n"
				      "\n"
				      "[OUTPUT]\n"
				      "      Name stdout\n"
				      "      Match *\n"),
			 -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:5: invalid indentation level"));
	assert_true(has_diag(f, "test.conf:6: invalid indentation level"));
}

static void any_indent_width_works_when_consistent(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "[INPUT]\n"
				      "  Name dummy\n"
				      "[OUTPUT]\n"
				      "  Name null\n"),
			 0);
	assert_int_equal(f->conf.sections[1].n, 1);
}

static void tab_indent_must_stay_tab(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "[INPUT]\n"
				      "\tName dummy\n"
				      "\tTag a\n"
				      " Match b\n"),
			 -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:4: invalid indentation level: "
				"inconsistent use of tab and space"));
}

static void less_indented_line_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "[INPUT]\n"
				      "    Name dummy\n"
				      "  Tag a\n"),
			 -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:3: invalid indentation level"));
}

static void double_indent_is_accepted(void **state)
{
	struct fixture *f = *state;

	/* Fluent Bit reads two indent levels as group content */
	assert_int_equal(load_text(f, "[INPUT]\n"
				      "    Name dummy\n"
				      "        Tag a\n"),
			 0);
	assert_string_equal(value_of(&f->conf.sections[0], "Tag"), "a");
}

static void unindented_key_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "[INPUT]\nName dummy\n"), -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:2: invalid indentation level"));
}

static void indented_header_is_an_error(void **state)
{
	struct fixture *f = *state;

	/* conf/parser_custom.conf in Fluent Bit: " [PARSER]" on line 1 */
	assert_int_equal(load_text(f, " [INPUT]\n    Name x\n"
				      " [OUTPUT]\n    Name y\n"),
			 -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:1: section header '[INPUT]' must "
				"not be indented"));
	assert_true(has_diag(f, "test.conf:3: section header '[OUTPUT]'"));
	/* one error per header, not one per following line */
	assert_int_equal(f->diag.n, 2);
}

static void key_without_value_is_an_error(void **state)
{
	struct fixture *f = *state;

	/* Fluent Bit's issue_5880.conf: a bare "ADD" on line 9 */
	assert_int_equal(load_text(f, "[INPUT]\n"
				      "    Name dummy\n"
				      "    Tag dummy\n"
				      "\n"
				      "[FILTER]\n"
				      "    Name modify\n"
				      "    Match *\n"
				      "    ADD foo bar\n"
				      "    ADD\n"
				      "    Format   \n"),
			 -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:9: key 'ADD' has no value"));
	assert_true(has_diag(f, "test.conf:10: key 'Format' has no value"));
}

static void every_error_is_reported_in_one_pass(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "Name outside\n"
				      "[INPUT\n"
				      "[INPUT]\n"
				      "    Name\n"
				      "@FOO bar\n"
				      "    Tag ok\n"),
			 -SL_ECONFIG);
	assert_int_equal(f->diag.n, 4);
	assert_true(has_diag(f, "test.conf:1:"));
	assert_true(has_diag(f, "test.conf:2: bad section header"));
	assert_true(has_diag(f, "test.conf:4: key 'Name' has no value"));
	assert_true(has_diag(f, "test.conf:5: unknown directive '@FOO'"));
	/* parsing went on: the good line made it */
	assert_string_equal(value_of(&f->conf.sections[0], "Tag"), "ok");
}

static void key_before_any_section_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "    Name dummy\n[INPUT]\n    Name a\n"),
			 -SL_ECONFIG);
	assert_true(
	    has_diag(f, "test.conf:1: 'Name' is outside of any section"));
}

static void groups_are_reported_not_supported(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "[INPUT]\n"
				      "    name tail\n"
				      "    [GROUP 1]\n"
				      "        key1 aa\n"
				      "    tag t\n"),
			 -SL_ECONFIG);
	assert_int_equal(f->diag.n, 1);
	assert_true(has_diag(f, "test.conf:3: groups"));
	assert_string_equal(value_of(&f->conf.sections[0], "tag"), "t");
	assert_null(value_of(&f->conf.sections[0], "key1"));
}

static void long_lines_have_no_fixed_limit(void **state)
{
	struct fixture *f = *state;
	size_t n = 200000;
	char *text = malloc(n + 64), *p;

	assert_non_null(text);
	p = text + sprintf(text, "[FILTER]\n    Code ");
	memset(p, 'a', n);
	strcpy(p + n, "\n");
	assert_int_equal(load_text(f, text), 0);
	assert_int_equal(strlen(value_of(&f->conf.sections[0], "Code")), n);
	free(text);
}

static void nul_byte_is_an_error_not_a_crash(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "[INPUT]\n    Name du\0mmy\n    Tag a\n";

	assert_int_equal(
	    sl_conf_load(&f->conf,
			 write_file(f, "nul.conf", text, sizeof(text) - 1),
			 &f->diag),
	    -SL_ECONFIG);
	assert_true(has_diag(f, "nul.conf:2: NUL byte"));
	assert_string_equal(value_of(&f->conf.sections[0], "Tag"), "a");
}

static void multiline_rule_keeps_raw_value(void **state)
{
	struct fixture *f = *state;
	const struct sl_conf_section *s;

	assert_int_equal(sl_conf_load_parsers(&f->conf, DATA "/parsers.conf",
					      NULL, &f->diag),
			 0);
	assert_int_equal(f->conf.n, 2);
	s = &f->conf.sections[1];
	assert_int_equal(s->kind, SL_SEC_MULTILINE_PARSER);
	assert_string_equal(s->entries[3].key, "rule");
	assert_string_equal(s->entries[3].value,
			    "\"start_state\"   \"/([a-zA-Z]+ \\d+ "
			    "\\d+\\:\\d+\\:\\d+)(.*)/\"  \"cont\"");
}

/* ---- includes -------------------------------------------------------------
 */

static void include_globs_relative_to_including_file(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	    sl_conf_load(&f->conf, DATA "/include/main.conf", &f->diag), 0);
	dump_diag(f);
	/* inputs-a, nested (from inputs-b), inputs-b, outputs, service */
	assert_int_equal(f->conf.n, 5);
	assert_string_equal(value_of(&f->conf.sections[0], "Tag"), "a");
	assert_int_equal(f->conf.sections[1].kind, SL_SEC_FILTER);
	assert_non_null(strstr(f->conf.sections[1].file, "sub/nested.conf"));
	assert_string_equal(value_of(&f->conf.sections[2], "Tag"), "b");
	assert_int_equal(f->conf.sections[3].kind, SL_SEC_OUTPUT);
	assert_int_equal(f->conf.sections[4].kind, SL_SEC_SERVICE);
	assert_int_equal(f->conf.sections[4].line, 5);
}

static void missing_include_is_an_error_at_include_line(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	    sl_conf_load(&f->conf, DATA "/include/missing.conf", &f->diag),
	    -SL_ECONFIG);
	assert_true(has_diag(f, "missing.conf:4: cannot include"));
	assert_true(has_diag(f, "does-not-exist.conf"));
	assert_true(has_diag(f, "missing.conf:5: @INCLUDE nothing-*.conf: "
				"no file matches"));
}

static void self_include_is_detected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	    sl_conf_load(&f->conf, DATA "/recursion/self.conf", &f->diag),
	    -SL_ECONFIG);
	assert_true(has_diag(f, "self.conf:3: "));
	assert_true(has_diag(f, "included twice"));
}

static void mutual_include_is_detected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	    sl_conf_load(&f->conf, DATA "/recursion/a.conf", &f->diag),
	    -SL_ECONFIG);
	assert_int_equal(f->diag.n, 1);
	assert_true(has_diag(f, "b.conf:1: "));
}

static void missing_main_file_names_it(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(sl_conf_load(&f->conf, DATA "/nope.conf", &f->diag),
			 -SL_ECONFIG);
	assert_true(has_diag(f, "nope.conf: cannot open configuration file"));
}

static void include_directive_is_case_insensitive(void **state)
{
	struct fixture *f = *state;

	write_file(f, "inc.conf", "[OUTPUT]\n    Name null\n", SIZE_MAX);
	assert_int_equal(load_text(f, "@include inc.conf\n"), 0);
	assert_int_equal(f->conf.n, 1);
}

/* ---- variables ------------------------------------------------------------
 */

static void set_and_env_variables_expand(void **state)
{
	struct fixture *f = *state;
	const struct sl_conf_section *s;

	setenv("SL_TEST_PORT", "2021", 1);
	setenv("SL_TEST_SHADOW", "from-env", 1);
	unsetenv("SL_TEST_UNSET");
	assert_int_equal(load_text(f, "@SET tag = app.one\n"
				      "@SET SL_TEST_SHADOW=from-set\n"
				      "[INPUT]\n"
				      "    Tag ${tag}\n"
				      "    Port ${SL_TEST_PORT}\n"
				      "    Shadow ${SL_TEST_SHADOW}\n"
				      "    Empty x${SL_TEST_UNSET}y\n"
				      "    Def ${SL_TEST_UNSET:-fallback}\n"
				      "    Def2 ${SL_TEST_PORT:-9}\n"
				      "    Later ${late}\n"
				      "@SET late=yes\n"),
			 0);
	s = &f->conf.sections[0];
	assert_string_equal(value_of(s, "Tag"), "app.one");
	assert_string_equal(value_of(s, "Port"), "2021");
	assert_string_equal(value_of(s, "Shadow"), "from-set");
	assert_string_equal(value_of(s, "Empty"), "xy");
	assert_string_equal(value_of(s, "Def"), "fallback");
	assert_string_equal(value_of(s, "Def2"), "2021");
	/* as in Fluent Bit, @SET applies to the whole configuration */
	assert_string_equal(value_of(s, "Later"), "yes");
}

static void expand_keeps_text_that_is_not_a_variable(void **state)
{
	struct fixture *f = *state;
	char *out;

	out = sl_conf_expand(&f->conf, "a ${ b ${} c ${unterminated");
	assert_string_equal(out, "a ${ b ${} c ${unterminated");
	free(out);
	setenv("SL_TEST_EMPTY", "", 1);
	out = sl_conf_expand(&f->conf, "[${SL_TEST_EMPTY:-d}]");
	/* an empty environment variable counts as unset */
	assert_string_equal(out, "[d]");
	free(out);
}

static void set_without_equals_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "@SET novalue\n"), -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:1: @SET needs NAME=VALUE"));
}

/* ---- file kinds -----------------------------------------------------------
 */

static void parser_sections_are_refused_in_main_config(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "[INPUT]\n    Name dummy\n"
				      "[PARSER]\n    Name json\n"
				      "[MULTILINE_PARSER]\n    Name m\n"),
			 -SL_ECONFIG);
	assert_true(has_diag(f, "test.conf:3: [PARSER] sections belong in a "
				"Parsers_File"));
	assert_true(has_diag(f, "test.conf:5: [MULTILINE_PARSER]"));
}

static void parsers_file_refuses_other_sections(void **state)
{
	struct fixture *f = *state;
	const char *p =
	    write_file(f, "p.conf",
		       "[PARSER]\n    Name a\n[INPUT]\n    Name b\n", SIZE_MAX);

	assert_int_equal(sl_conf_load_parsers(&f->conf, p, NULL, &f->diag),
			 -SL_ECONFIG);
	assert_true(has_diag(f, "p.conf:3: [INPUT] is not allowed in a "
				"Parsers_File"));
}

static void parsers_file_is_relative_to_base_dir(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	    sl_conf_load_parsers(&f->conf, "parsers.conf", DATA, &f->diag), 0);
	assert_int_equal(f->conf.sections[0].kind, SL_SEC_PARSER);
}

static void plugins_file_allows_only_plugins(void **state)
{
	struct fixture *f = *state;
	const char *p = write_file(f, "pl.conf",
				   "[PLUGINS]\n    Path /a.so\n"
				   "[OUTPUT]\n    Name x\n",
				   SIZE_MAX);

	assert_int_equal(sl_conf_load_plugins(&f->conf, p, NULL, &f->diag),
			 -SL_ECONFIG);
	assert_int_equal(f->diag.n, 1);
	assert_true(has_diag(f, "pl.conf:3: [OUTPUT] is not allowed"));
}

static void main_config_of_only_plugins_upstream_node_loads(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	    load_text(f, "[PLUGINS]\n"
			 "[UPSTREAM]\n    name forward-balancing\n"
			 "[NODE]\n    name node-1\n    host 127.0.0.1\n"),
	    0);
	assert_int_equal(f->conf.n, 3);
}

static void empty_file_loads(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, ""), 0);
	assert_int_equal(f->conf.n, 0);
}

static void yaml_names_go_to_the_yaml_reader(void **state)
{
	struct fixture *f = *state;
	const char *p = write_file(
	    f, "c.YAML", "service:\n  flush: ${SL_TEST_FLUSH}\n", SIZE_MAX);

	/* classic would reject "service:" at column 0 */
	setenv("SL_TEST_FLUSH", "3", 1);
	assert_int_equal(sl_conf_load(&f->conf, p, &f->diag), 0);
	assert_int_equal(f->conf.n, 1);
	assert_int_equal(f->conf.sections[0].kind, SL_SEC_SERVICE);
	/* values from the YAML reader are expanded too */
	assert_string_equal(value_of(&f->conf.sections[0], "flush"), "3");
}

static void yaml_main_config_may_define_parsers(void **state)
{
	struct fixture *f = *state;
	const char *p = write_file(
	    f, "p.yaml", "parsers:\n  - name: j\n    format: json\n", SIZE_MAX);

	/* only the classic format keeps [PARSER] out of the main file */
	assert_int_equal(sl_conf_load(&f->conf, p, &f->diag), 0);
	assert_int_equal(f->conf.sections[0].kind, SL_SEC_PARSER);
}

/* ---- the tree API ---------------------------------------------------------
 */

static void tree_api_adds_and_finds_case_insensitively(void **state)
{
	struct fixture *f = *state;
	const char *file = sl_conf_intern_file(&f->conf, "cli");
	struct sl_conf_section *s;

	assert_ptr_equal(file, sl_conf_intern_file(&f->conf, "cli"));
	s = sl_conf_add_section(&f->conf, SL_SEC_INPUT, "INPUT", file, 0);
	assert_non_null(s);
	assert_int_equal(sl_conf_add_entry(&f->conf, s, "Path", "/a", file, 1),
			 0);
	assert_int_equal(sl_conf_add_entry(&f->conf, s, "path", "/b", file, 2),
			 0);
	assert_string_equal(sl_conf_get(s, "PATH")->value, "/a");
	assert_null(sl_conf_get(s, "tag"));
	sl_conf_destroy(&f->conf);
	assert_int_equal(f->conf.n, 0);
	sl_conf_destroy(&f->conf); /* idempotent */
}

/* The names an expansion reports as undefined, comma-separated. */
static void collect_undefined(void *arg, const char *name, size_t len)
{
	char *names = arg;

	if (*names)
		strcat(names, ",");
	strncat(names, name, len);
}

static void undefined_variables_are_reported_by_name(void **state)
{
	struct fixture *f = *state;
	char names[256] = "";
	char *out;

	setenv("SL_TEST_PORT", "2021", 1);
	unsetenv("SL_TEST_UNSET");
	unsetenv("SL_TEST_OTHER");
	assert_int_equal(load_text(f, "@SET mine=1\n"), 0);
	/* a default, @SET and the environment are not undefined */
	out = sl_conf_expand_report(&f->conf,
				    "${SL_TEST_UNSET}:${SL_TEST_UNSET:-d}:"
				    "${mine}:${SL_TEST_PORT}:${SL_TEST_OTHER}",
				    collect_undefined, names);
	assert_non_null(out);
	assert_string_equal(out, ":d:1:2021:");
	assert_string_equal(names, "SL_TEST_UNSET,SL_TEST_OTHER");
	free(out);
}

/* Loads `name` with `text`, the log going to a file; returns the log. */
static char *load_logged(struct fixture *f, const char *name, const char *text)
{
	char *log_path, *log = calloc(1, 8192);
	FILE *fp;

	assert_non_null(log);
	assert_true(asprintf(&log_path, "%s/log", f->dir) > 0);
	assert_int_equal(sl_log_set_file(log_path), 0);
	sl_conf_load(&f->conf, write_file(f, name, text, SIZE_MAX), &f->diag);
	assert_int_equal(sl_log_set_file(NULL), 0);
	fp = fopen(log_path, "rb");
	assert_non_null(fp);
	fread(log, 1, 8191, fp);
	fclose(fp);
	unlink(log_path);
	free(log_path);
	return log;
}

static void loading_warns_about_unset_variables_at_file_line(void **state)
{
	struct fixture *f = *state;
	char want[256];
	char *log;

	unsetenv("SL_TEST_UNSET");
	log = load_logged(f, "vars.conf",
			  "[INPUT]\n    Name dummy\n    Tag a${SL_TEST_UNSET}\n"
			  "    Alias ${SL_TEST_UNSET:-fine}\n");
	snprintf(want, sizeof(want),
		 "%s/vars.conf:3: variable ${SL_TEST_UNSET}", f->dir);
	assert_non_null(strstr(log, want));
	assert_non_null(strstr(log, "[warn]"));
	assert_null(strstr(log, ":4:")); /* a default is not warned about */
	free(log);

	log = load_logged(f, "vars.yaml",
			  "pipeline:\n  inputs:\n    - name: dummy\n"
			  "      tag: ${SL_TEST_UNSET}\n");
	snprintf(want, sizeof(want),
		 "%s/vars.yaml:4: variable ${SL_TEST_UNSET} in option 'tag'",
		 f->dir);
	assert_non_null(strstr(log, want));
	free(log);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(sections_and_entries_keep_order_and_lines),
	    T(section_kinds_are_case_insensitive),
	    T(key_and_value_split_at_first_blank_run),
	    T(comments_and_blank_lines_are_skipped),
	    T(crlf_line_endings_are_accepted),
	    T(indent_is_fixed_by_first_indented_line),
	    T(any_indent_width_works_when_consistent),
	    T(tab_indent_must_stay_tab),
	    T(less_indented_line_is_an_error),
	    T(double_indent_is_accepted),
	    T(unindented_key_is_an_error),
	    T(indented_header_is_an_error),
	    T(key_without_value_is_an_error),
	    T(every_error_is_reported_in_one_pass),
	    T(key_before_any_section_is_an_error),
	    T(groups_are_reported_not_supported),
	    T(long_lines_have_no_fixed_limit),
	    T(nul_byte_is_an_error_not_a_crash),
	    T(multiline_rule_keeps_raw_value),
	    T(include_globs_relative_to_including_file),
	    T(missing_include_is_an_error_at_include_line),
	    T(self_include_is_detected),
	    T(mutual_include_is_detected),
	    T(missing_main_file_names_it),
	    T(include_directive_is_case_insensitive),
	    T(set_and_env_variables_expand),
	    T(expand_keeps_text_that_is_not_a_variable),
	    T(set_without_equals_is_an_error),
	    T(parser_sections_are_refused_in_main_config),
	    T(parsers_file_refuses_other_sections),
	    T(parsers_file_is_relative_to_base_dir),
	    T(plugins_file_allows_only_plugins),
	    T(main_config_of_only_plugins_upstream_node_loads),
	    T(empty_file_loads),
	    T(yaml_names_go_to_the_yaml_reader),
	    T(yaml_main_config_may_define_parsers),
	    T(tree_api_adds_and_finds_case_insensitively),
	    T(undefined_variables_are_reported_by_name),
	    T(loading_warns_about_unset_variables_at_file_line),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
