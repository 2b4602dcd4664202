/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_metrics_text.c - the Prometheus text rendering: escaping of label
 * values and help, histograms (cumulative buckets, +Inf, _sum, _count),
 * constant labels, number formatting, scope filtering, names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_json.h"
#include "sl_metrics_text.h"

struct fixture {
	struct sl_metrics reg;
	struct sl_buf out;
};

static struct sl_metric_family *family(struct fixture *f, const char *name,
				       const char *help,
				       enum sl_metric_type type,
				       const char *const *labels, size_t n,
				       const char *scope)
{
	const char *err = NULL;
	static const double buckets[] = {0.1, 1, 10};
	struct sl_metric_family *fam =
	    sl_metrics_family(&f->reg, name, help, type, labels, n,
			      type == SL_METRIC_HISTOGRAM ? buckets : NULL,
			      type == SL_METRIC_HISTOGRAM ? 3 : 0, &err);

	assert_non_null(fam);
	if (scope) {
		fam->scope = strdup(scope);
		assert_non_null(fam->scope);
	}
	return fam;
}

static struct sl_metric_series *series(struct fixture *f,
				       struct sl_metric_family *fam,
				       const char *const *values)
{
	struct sl_metric_series *s = sl_metric_series_get(&f->reg, fam, values);

	assert_non_null(s);
	return s;
}

/* Renders and returns the NUL-terminated text (owned by the fixture). */
static const char *render(struct fixture *f,
			  const struct sl_metrics_text_opts *o)
{
	sl_buf_reset(&f->out);
	assert_int_equal(sl_metrics_text_render(&f->reg, o, &f->out), 0);
	assert_int_equal(sl_buf_append(&f->out, "", 1), 0);
	f->out.len--;
	assert_true(sl_utf8_valid(f->out.data, f->out.len));
	return f->out.data;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	sl_metrics_init(&f->reg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sl_metrics_destroy(&f->reg);
	sl_buf_destroy(&f->out);
	free(f);
	return 0;
}

static void label_values_are_escaped(void **state)
{
	struct fixture *f = *state;
	const char *labels[] = {"path"};
	const char *v[] = {"C:\\dir \"quoted\"\nnext"};

	sl_metric_add(series(f,
			     family(f, "odd_total", "h", SL_METRIC_COUNTER,
				    labels, 1, NULL),
			     v),
		      2);
	assert_string_equal(
	    render(f, NULL),
	    "# HELP odd_total h\n"
	    "# TYPE odd_total counter\n"
	    "odd_total{path=\"C:\\\\dir \\\"quoted\\\"\\nnext\"} "
	    "2\n");
}

static void help_escapes_backslash_and_newline_only(void **state)
{
	struct fixture *f = *state;

	series(f,
	       family(f, "g", "a \"quoted\" back\\slash\nsecond line",
		      SL_METRIC_GAUGE, NULL, 0, NULL),
	       NULL);
	assert_string_equal(
	    render(f, NULL),
	    "# HELP g a \"quoted\" back\\\\slash\\nsecond line\n"
	    "# TYPE g gauge\n"
	    "g 0\n");
}

static void invalid_utf8_becomes_replacement_characters(void **state)
{
	struct fixture *f = *state;
	const char *labels[] = {"v"};
	const char *v[] = {"a\xff"
			   "b\xc0\xaf"
			   "c"};

	series(f,
	       family(f, "u_total", "bad \xed\xa0\x80 help", SL_METRIC_COUNTER,
		      labels, 1, NULL),
	       v);
	assert_string_equal(render(f, NULL),
			    "# HELP u_total bad \xef\xbf\xbd\xef\xbf\xbd"
			    "\xef\xbf\xbd help\n"
			    "# TYPE u_total counter\n"
			    "u_total{v=\"a\xef\xbf\xbd"
			    "b\xef\xbf\xbd"
			    "\xef\xbf\xbd"
			    "c\"} 0\n");
}

static void histogram_buckets_are_cumulative(void **state)
{
	struct fixture *f = *state;
	const char *labels[] = {"method"};
	const char *get[] = {"GET"};
	struct sl_metric_family *h =
	    family(f, "latency_seconds", "Latency", SL_METRIC_HISTOGRAM, labels,
		   1, NULL);
	struct sl_metric_series *s = series(f, h, get);
	const double obs[] = {0.05, 0.5, 0.5, 1, 5, 50};

	for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		sl_metric_observe(h, s, obs[i]);
	assert_string_equal(
	    render(f, NULL),
	    "# HELP latency_seconds Latency\n"
	    "# TYPE latency_seconds histogram\n"
	    "latency_seconds_bucket{method=\"GET\",le=\"0.1\"} 1\n"
	    "latency_seconds_bucket{method=\"GET\",le=\"1\"} 4\n"
	    "latency_seconds_bucket{method=\"GET\",le=\"10\"} 5\n"
	    "latency_seconds_bucket{method=\"GET\",le=\"+Inf\"} 6\n"
	    "latency_seconds_sum{method=\"GET\"} 57.05\n"
	    "latency_seconds_count{method=\"GET\"} 6\n");
}

static void histogram_without_labels_has_only_le(void **state)
{
	struct fixture *f = *state;
	struct sl_metric_family *h =
	    family(f, "size_bytes", "Size", SL_METRIC_HISTOGRAM, NULL, 0, NULL);

	series(f, h, NULL);
	assert_string_equal(render(f, NULL),
			    "# HELP size_bytes Size\n"
			    "# TYPE size_bytes histogram\n"
			    "size_bytes_bucket{le=\"0.1\"} 0\n"
			    "size_bytes_bucket{le=\"1\"} 0\n"
			    "size_bytes_bucket{le=\"10\"} 0\n"
			    "size_bytes_bucket{le=\"+Inf\"} 0\n"
			    "size_bytes_sum 0\n"
			    "size_bytes_count 0\n");
}

static void constant_labels_merge_and_family_labels_win(void **state)
{
	struct fixture *f = *state;
	const char *labels[] = {"service"};
	const char *v[] = {"api"};
	const struct sl_metrics_label add[] = {
	    {"env", "prod \"eu\""},
	    {"service", "ignored"},
	    {"le", "ignored on histograms only"},
	};
	const struct sl_metrics_text_opts o = {.labels = add, .n_labels = 3};
	struct sl_metric_family *h;

	sl_metric_add(series(f,
			     family(f, "a_total", "A", SL_METRIC_COUNTER,
				    labels, 1, NULL),
			     v),
		      3);
	series(f, family(f, "b", "B", SL_METRIC_GAUGE, NULL, 0, NULL), NULL);
	h = family(f, "c", "C", SL_METRIC_HISTOGRAM, NULL, 0, NULL);
	series(f, h, NULL);
	assert_string_equal(
	    render(f, &o),
	    "# HELP a_total A\n# TYPE a_total counter\n"
	    "a_total{service=\"api\",env=\"prod \\\"eu\\\"\","
	    "le=\"ignored on histograms only\"} 3\n"
	    "# HELP b B\n# TYPE b gauge\n"
	    "b{env=\"prod \\\"eu\\\"\",service=\"ignored\","
	    "le=\"ignored on histograms only\"} 0\n"
	    "# HELP c C\n# TYPE c histogram\n"
	    "c_bucket{env=\"prod \\\"eu\\\"\",service=\"ignored\","
	    "le=\"0.1\"} 0\n"
	    "c_bucket{env=\"prod \\\"eu\\\"\",service=\"ignored\","
	    "le=\"1\"} 0\n"
	    "c_bucket{env=\"prod \\\"eu\\\"\",service=\"ignored\","
	    "le=\"10\"} 0\n"
	    "c_bucket{env=\"prod \\\"eu\\\"\",service=\"ignored\","
	    "le=\"+Inf\"} 0\n"
	    "c_sum{env=\"prod \\\"eu\\\"\",service=\"ignored\"} 0\n"
	    "c_count{env=\"prod \\\"eu\\\"\",service=\"ignored\"} 0\n");
}

static void numbers_format_as_prometheus_reads_them(void **state)
{
	char b[SL_METRICS_NUM_MAX];
	const struct {
		double v;
		const char *want;
	} cases[] = {
	    {15, "15"},
	    {-3, "-3"},
	    {0, "0"},
	    {-0.0, "0"},
	    {0.5, "0.5"},
	    {0.1, "0.1"},
	    {57.05, "57.05"},
	    {1e15, "1000000000000000"},
	    {9007199254740993.0, "9007199254740992"},
	    {1e20, "1e+20"},
	    {1.5e-7, "1.5e-07"},
	    {NAN, "NaN"},
	    {INFINITY, "+Inf"},
	    {-INFINITY, "-Inf"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = sl_metrics_format_number(b, cases[i].v);

		assert_string_equal(b, cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
	}
	/* non-integers round-trip exactly */
	const double hard[] = {1.0 / 3, 0.1 + 0.2, 123456.789e-300, 1e300 / 7};
	for (size_t i = 0; i < sizeof(hard) / sizeof(hard[0]); i++) {
		sl_metrics_format_number(b, hard[i]);
		assert_true(strtod(b, NULL) == hard[i]);
		assert_null(strchr(b, ' '));
	}
}

static bool scope_is(const struct sl_metric_family *fam, void *arg)
{
	return fam->scope && strcmp(fam->scope, arg) == 0;
}

static void scope_filter_chooses_families(void **state)
{
	struct fixture *f = *state;
	const struct sl_metrics_text_opts internal = {
	    .filter = sl_metrics_filter_internal};
	const struct sl_metrics_text_opts app = {.filter = scope_is,
						 .filter_arg = "app"};

	series(
	    f,
	    family(f, "sluice_x_total", "X", SL_METRIC_COUNTER, NULL, 0, NULL),
	    NULL);
	series(f,
	       family(f, "app_total", "App", SL_METRIC_COUNTER, NULL, 0, "app"),
	       NULL);
	series(
	    f,
	    family(f, "other_total", "O", SL_METRIC_COUNTER, NULL, 0, "other"),
	    NULL);
	assert_string_equal(render(f, &internal),
			    "# HELP sluice_x_total X\n"
			    "# TYPE sluice_x_total counter\n"
			    "sluice_x_total 0\n");
	assert_string_equal(render(f, &app), "# HELP app_total App\n"
					     "# TYPE app_total counter\n"
					     "app_total 0\n");
	/* no filter: everything, in creation order */
	const char *all = render(f, NULL);
	assert_non_null(strstr(all, "sluice_x_total 0\napp_total") ||
			strstr(all, "sluice_x_total 0\n# HELP app_total"));
	assert_non_null(strstr(all, "other_total 0\n"));
}

static void families_without_series_are_not_printed(void **state)
{
	struct fixture *f = *state;

	family(f, "empty_total", "E", SL_METRIC_COUNTER, NULL, 0, NULL);
	assert_string_equal(render(f, NULL), "");
	series(f,
	       family(f, "full_total", "F", SL_METRIC_COUNTER, NULL, 0, NULL),
	       NULL);
	assert_null(strstr(render(f, NULL), "empty_total"));
}

static void invalid_names_are_skipped(void **state)
{
	struct fixture *f = *state;
	const char *bad_label[] = {"bad-label"};
	const char *le[] = {"le"};
	const char *v[] = {"x"};

	series(f, family(f, "bad.name", "B", SL_METRIC_COUNTER, NULL, 0, NULL),
	       NULL);
	series(f,
	       family(f, "ok_but_label", "B", SL_METRIC_COUNTER, bad_label, 1,
		      NULL),
	       v);
	series(f, family(f, "hist_le", "H", SL_METRIC_HISTOGRAM, le, 1, NULL),
	       v);
	series(f, family(f, "good", "G", SL_METRIC_GAUGE, NULL, 0, NULL), NULL);
	assert_string_equal(render(f, NULL),
			    "# HELP good G\n# TYPE good gauge\ngood 0\n");
}

static void timestamps_only_when_asked(void **state)
{
	struct fixture *f = *state;
	const struct sl_metrics_text_opts o = {.timestamp_ms = 1700000000123};

	sl_metric_set(
	    series(f, family(f, "t", "T", SL_METRIC_GAUGE, NULL, 0, NULL),
		   NULL),
	    1.25);
	assert_string_equal(render(f, NULL), "# HELP t T\n# TYPE t gauge\n"
					     "t 1.25\n");
	assert_string_equal(render(f, &o), "# HELP t T\n# TYPE t gauge\n"
					   "t 1.25 1700000000123\n");
}

static void names_are_validated(void **state)
{
	(void)state;
	assert_true(sl_metrics_valid_name("http_requests_total"));
	assert_true(sl_metrics_valid_name("ns:sub_name"));
	assert_true(sl_metrics_valid_name("_x9"));
	assert_false(sl_metrics_valid_name(""));
	assert_false(sl_metrics_valid_name(NULL));
	assert_false(sl_metrics_valid_name("9lives"));
	assert_false(sl_metrics_valid_name("a-b"));
	assert_false(sl_metrics_valid_name("a.b"));
	assert_false(sl_metrics_valid_name("caf\xc3\xa9"));

	assert_true(sl_metrics_valid_label_name("method"));
	assert_true(sl_metrics_valid_label_name("_private"));
	assert_false(sl_metrics_valid_label_name("__name__"));
	assert_false(sl_metrics_valid_label_name("a:b"));
	assert_false(sl_metrics_valid_label_name("0x"));
	assert_false(sl_metrics_valid_label_name(""));
	assert_false(sl_metrics_valid_label_name("req.method"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(label_values_are_escaped),
	    T(help_escapes_backslash_and_newline_only),
	    T(invalid_utf8_becomes_replacement_characters),
	    T(histogram_buckets_are_cumulative),
	    T(histogram_without_labels_has_only_le),
	    T(constant_labels_merge_and_family_labels_win),
	    cmocka_unit_test(numbers_format_as_prometheus_reads_them),
	    T(scope_filter_chooses_families),
	    T(families_without_series_are_not_printed),
	    T(invalid_names_are_skipped),
	    T(timestamps_only_when_asked),
	    cmocka_unit_test(names_are_validated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
