/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_log_to_metrics.c - the log_to_metrics filter against a real metrics
 * registry: naming, family sharing and its refusals, the series cap and its
 * dropped counter, labels (Add_label, Label_field, nested accessors,
 * Kubernetes_mode, missing fields), Fluent Bit's rule order and Logical_Op,
 * gauge and histogram values, Discard_logs, and configuration errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_metrics.h"
#include "sl_test.h"

extern const struct sl_filter_plugin sl_filter_log_to_metrics;

/*
 * sl_test's instance has no registry: this wrapper gives the filter the
 * test's registry before the real init runs.
 */
static struct sl_metrics *test_reg;

static int init_with_registry(void *ctx, struct sl_plugin_instance *ins)
{
	ins->metrics = test_reg;
	return sl_filter_log_to_metrics.init(ctx, ins);
}

static struct sl_filter_plugin l2m_plugin;

static int setup(void **state)
{
	(void)state;
	test_reg = calloc(1, sizeof(*test_reg));
	if (!test_reg)
		return -1;
	sl_metrics_init(test_reg);
	l2m_plugin = sl_filter_log_to_metrics;
	l2m_plugin.init = init_with_registry;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sl_metrics_destroy(test_reg);
	free(test_reg);
	test_reg = NULL;
	return 0;
}

static struct sl_test_filter *l2m(const char *const *kv)
{
	char *diag = NULL;
	struct sl_test_filter *tf =
	    sl_test_filter_create(&l2m_plugin, kv, NULL, &diag);

	if (!tf)
		fail_msg("log_to_metrics config failed: %s", diag ? diag : "?");
	free(diag);
	return tf;
}

/* Configuration that must fail; returns the diagnostics (caller frees). */
static char *l2m_error(const char *const *kv)
{
	char *diag = NULL;
	struct sl_test_filter *tf =
	    sl_test_filter_create(&l2m_plugin, kv, NULL, &diag);

	assert_null(tf);
	assert_non_null(diag);
	return diag;
}

/* The series of `name` with these label values, or NULL. */
static struct sl_metric_series *series(const char *name,
				       const char *const *values)
{
	struct sl_metric_family *f = sl_metrics_find(test_reg, name);

	assert_non_null(f);
	for (struct sl_metric_series *s = f->series; s; s = s->next) {
		size_t i;

		for (i = 0; i < f->n_labels; i++)
			if (strcmp(s->label_values[i], values[i]) != 0)
				break;
		if (i == f->n_labels)
			return s;
	}
	return NULL;
}

static double value_of(const char *name, const char *const *values)
{
	struct sl_metric_series *s = series(name, values);

	if (!s)
		fail_msg("no series of %s", name);
	return sl_metric_value(s);
}

/* Runs `json`; a kept record must come out unchanged. */
static void run(struct sl_test_filter *tf, const char *json)
{
	assert_int_equal(sl_test_filter_run(tf, json), SL_FILTER_KEEP);
	assert_string_equal(tf->out, json);
}

#define BASE(name)                                                             \
	"Tag", "metrics", "Metric_description", "help text", "Metric_name", name

static void default_name_and_counter(void **state)
{
	static const char *const kv[] = {
	    "Tag", "m", "Metric_description", "d", "Metric_name", "hits", NULL};
	struct sl_test_filter *tf = l2m(kv);
	struct sl_metric_family *f;

	(void)state;
	f = sl_metrics_find(test_reg, "log_metric_counter_hits");
	assert_non_null(f);
	assert_int_equal(f->type, SL_METRIC_COUNTER);
	assert_string_equal(f->help, "d");
	assert_string_equal(f->scope, "m");
	assert_int_equal(f->max_series, 1000);
	run(tf, "{\"a\":1}");
	assert_int_equal(sl_test_filter_run(tf, "a line record"),
			 SL_FILTER_KEEP);
	assert_string_equal(tf->out, "{\"log\":\"a line record\"}");
	run(tf, "{}");
	assert_true(value_of("log_metric_counter_hits", NULL) == 3);
	sl_test_filter_destroy(tf);
}

static void namespace_subsystem_name(void **state)
{
	static const char *const kv[] = {BASE("failures_total"),
					 "Metric_namespace",
					 "security",
					 "Metric_subsystem",
					 "auth",
					 NULL};
	struct sl_test_filter *tf = l2m(kv);

	(void)state;
	assert_non_null(
	    sl_metrics_find(test_reg, "security_auth_failures_total"));
	sl_test_filter_destroy(tf);
}

/* The subsystem defaults to the mode as written, as in Fluent Bit. */
static void subsystem_defaults_to_mode(void **state)
{
	static const char *const kv[] = {BASE("temp"),	"Metric_mode", "gauge",
					 "Value_field", "t",	       NULL};
	struct sl_test_filter *tf = l2m(kv);

	(void)state;
	assert_non_null(sl_metrics_find(test_reg, "log_metric_gauge_temp"));
	sl_test_filter_destroy(tf);
}

/* Two instances, two rules, one family: both add into the same series. */
static void family_shared_by_instances(void **state)
{
	static const char *const a[] = {BASE("failures_total"),
					"Metric_namespace",
					"security",
					"Metric_subsystem",
					"auth",
					"Add_label",
					"service $service",
					"Regex",
					"event ^auth_failed$",
					NULL};
	static const char *const b[] = {BASE("failures_total"),
					"Metric_namespace",
					"security",
					"Metric_subsystem",
					"auth",
					"Add_label",
					"service $service",
					"Regex",
					"event ^login_failed$",
					NULL};
	static const char *const svc[] = {"api"};
	struct sl_test_filter *ta = l2m(a), *tb = l2m(b);
	struct sl_metric_family *f;
	size_t n = 0;

	(void)state;
	for (f = test_reg->families; f; f = f->next)
		n += strcmp(f->name, "security_auth_failures_total") == 0;
	assert_int_equal(n, 1);
	run(ta, "{\"event\":\"auth_failed\",\"service\":\"api\"}");
	run(tb, "{\"event\":\"auth_failed\",\"service\":\"api\"}");
	run(ta, "{\"event\":\"login_failed\",\"service\":\"api\"}");
	run(tb, "{\"event\":\"login_failed\",\"service\":\"api\"}");
	assert_true(value_of("security_auth_failures_total", svc) == 2);
	f = sl_metrics_find(test_reg, "security_auth_failures_total");
	assert_int_equal(f->n_series, 1);
	sl_test_filter_destroy(ta);
	sl_test_filter_destroy(tb);
}

static void family_mismatch_refused(void **state)
{
	static const char *const a[] = {BASE("x_total"), "Label_field", "svc",
					NULL};
	static const char *const other_labels[] = {
	    BASE("x_total"), "Label_field", "service", NULL};
	static const char *const other_type[] = {
	    BASE("x_total"), "Metric_mode", "gauge", "Metric_subsystem",
	    "counter",	     "Value_field", "v",     "Label_field",
	    "svc",	     NULL};
	static const char *const other_tag[] = {
	    "Tag",	   "elsewhere",	  "Metric_description",
	    "d",	   "Metric_name", "x_total",
	    "Label_field", "svc",	  NULL};
	struct sl_test_filter *ta = l2m(a);
	char *d;

	(void)state;
	d = l2m_error(other_labels);
	assert_non_null(strstr(d, "log_metric_counter_x_total"));
	assert_non_null(strstr(d, "label names"));
	/* the error carries the section's file:line */
	assert_non_null(strstr(d, "test.conf:1"));
	free(d);
	d = l2m_error(other_type);
	assert_non_null(strstr(d, "another type"));
	free(d);
	d = l2m_error(other_tag);
	assert_non_null(strstr(d, "another Tag"));
	free(d);
	sl_test_filter_destroy(ta);
}

static void series_cap_counts_dropped(void **state)
{
	static const char *const kv[] = {BASE("c_total"), "Label_field", "id",
					 "Max_Series",	  "3",		 NULL};
	struct sl_test_filter *tf = l2m(kv);
	static const char *const v0[] = {"0"}, *const v4[] = {"4"};
	char rec[64];

	(void)state;
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 6; i++) {
			snprintf(rec, sizeof(rec), "{\"id\":\"%d\"}", i);
			run(tf, rec);
		}
	assert_int_equal(
	    sl_metrics_find(test_reg, "log_metric_counter_c_total")->n_series,
	    3);
	assert_true(value_of("log_metric_counter_c_total", v0) == 2);
	assert_null(series("log_metric_counter_c_total", v4));
	/* 3 refused label sets, twice */
	assert_true(value_of("sluice_metrics_series_dropped_total", NULL) == 6);
	sl_test_filter_destroy(tf);
}

/* Add_label reads nested accessors; Label_field names the label by key. */
static void labels_from_nested_accessors(void **state)
{
	static const char *const kv[] = {BASE("http_total"),
					 "Add_label",
					 "method $req['method']",
					 "Label_field",
					 "$res['statusCode']",
					 "Label_field",
					 "host",
					 NULL};
	static const char *const want[] = {"GET", "200", "a\"b"};
	struct sl_test_filter *tf = l2m(kv);
	struct sl_metric_family *f;

	(void)state;
	f = sl_metrics_find(test_reg, "log_metric_counter_http_total");
	assert_int_equal(f->n_labels, 3);
	assert_string_equal(f->label_names[0], "method");
	assert_string_equal(f->label_names[1], "statusCode");
	assert_string_equal(f->label_names[2], "host");
	run(tf, "{\"req\":{\"method\":\"GET\"},\"res\":{\"statusCode\":200},"
		"\"host\":\"a\\\"b\"}");
	assert_true(value_of("log_metric_counter_http_total", want) == 1);
	sl_test_filter_destroy(tf);
}

/* Label order is the order of the lines, Add_label and Label_field mixed. */
static void label_order_follows_lines(void **state)
{
	static const char *const kv[] = {
	    BASE("o_total"), "Label_field", "b", "Add_label",
	    "a $x",	     "Label_field", "c", NULL};
	struct sl_test_filter *tf = l2m(kv);
	struct sl_metric_family *f;

	(void)state;
	f = sl_metrics_find(test_reg, "log_metric_counter_o_total");
	assert_string_equal(f->label_names[0], "b");
	assert_string_equal(f->label_names[1], "a");
	assert_string_equal(f->label_names[2], "c");
	sl_test_filter_destroy(tf);
}

/*
 * As in Fluent Bit, a missing label field (or a bool/null/object) gives an
 * empty value and the record still counts; a float renders as "%f".
 */
static void missing_and_typed_label_values(void **state)
{
	static const char *const kv[] = {BASE("m_total"), "Label_field", "v",
					 NULL};
	static const char *const empty[] = {""}, *const flt[] = {"1.500000"},
				 *const num[] = {"42"};
	struct sl_test_filter *tf = l2m(kv);

	(void)state;
	run(tf, "{\"other\":1}");
	run(tf, "{\"v\":true}");
	run(tf, "{\"v\":null}");
	run(tf, "{\"v\":{\"x\":1}}");
	run(tf, "{\"v\":1.5}");
	run(tf, "{\"v\":42}");
	assert_true(value_of("log_metric_counter_m_total", empty) == 4);
	assert_true(value_of("log_metric_counter_m_total", flt) == 1);
	assert_true(value_of("log_metric_counter_m_total", num) == 1);
	sl_test_filter_destroy(tf);
}

static void kubernetes_mode_labels(void **state)
{
	static const char *const kv[] = {BASE("k_total"),
					 "Kubernetes_mode",
					 "On",
					 "Label_field",
					 "app",
					 NULL};
	static const char *const want[] = {"ns1", "pod1", "c1",
					   "d1",  "p1",	  "web"};
	struct sl_test_filter *tf = l2m(kv);
	struct sl_metric_family *f;

	(void)state;
	f = sl_metrics_find(test_reg, "log_metric_counter_k_total");
	assert_int_equal(f->n_labels, 6);
	assert_string_equal(f->label_names[0], "namespace_name");
	assert_string_equal(f->label_names[4], "pod_id");
	assert_string_equal(f->label_names[5], "app");
	run(tf, "{\"kubernetes\":{\"namespace_name\":\"ns1\",\"pod_name\":"
		"\"pod1\",\"container_name\":\"c1\",\"docker_id\":\"d1\","
		"\"pod_id\":\"p1\"},\"app\":\"web\"}");
	assert_true(value_of("log_metric_counter_k_total", want) == 1);
	sl_test_filter_destroy(tf);
}

/* Legacy: the first Regex decides, later Regex rules are not consulted. */
static void first_regex_decides(void **state)
{
	static const char *const kv[] = {BASE("r_total"), "Regex", "a ^x$",
					 "Regex",	  "b ^y$", NULL};
	struct sl_test_filter *tf = l2m(kv);

	(void)state;
	run(tf, "{\"a\":\"x\",\"b\":\"no\"}"); /* counts: a decides */
	run(tf, "{\"a\":\"no\",\"b\":\"y\"}"); /* does not */
	run(tf, "{\"b\":\"y\"}");	       /* missing a: does not */
	run(tf, "{\"a\":1}");		       /* numbers never match */
	assert_true(value_of("log_metric_counter_r_total", NULL) == 1);
	sl_test_filter_destroy(tf);
}

static void exclude_before_regex(void **state)
{
	static const char *const kv[] = {BASE("e_total"), "Exclude",
					 "level ^debug$", "Regex",
					 "msg fail",	  NULL};
	struct sl_test_filter *tf = l2m(kv);

	(void)state;
	run(tf, "{\"level\":\"debug\",\"msg\":\"fail\"}"); /* excluded */
	run(tf, "{\"level\":\"info\",\"msg\":\"fail\"}");  /* counts */
	run(tf, "{\"level\":\"info\",\"msg\":\"ok\"}");	   /* no */
	assert_true(value_of("log_metric_counter_e_total", NULL) == 1);
	sl_test_filter_destroy(tf);
}

/* A Regex that matches keeps the record before a later Exclude runs. */
static void regex_before_exclude(void **state)
{
	static const char *const kv[] = {BASE("f_total"), "Regex",
					 "msg fail",	  "Exclude",
					 "level ^debug$", NULL};
	struct sl_test_filter *tf = l2m(kv);

	(void)state;
	run(tf, "{\"level\":\"debug\",\"msg\":\"fail\"}");
	assert_true(value_of("log_metric_counter_f_total", NULL) == 1);
	sl_test_filter_destroy(tf);
}

static void logical_op_and_or(void **state)
{
	static const char *const and_kv[] = {
	    BASE("and_total"),
	    "Logical_Op",
	    "AND",
	    "Regex",
	    "audit_event ^AUTH_GATEWAY_VALIDATION$",
	    "Regex",
	    "status ^failure$",
	    "Exclude",
	    "user ^test",
	    NULL};
	static const char *const or_kv[] = {BASE("or_total"),
					    "Logical_Op",
					    "or",
					    "Regex",
					    "event ^auth_failed$",
					    "Regex",
					    "event ^login_failed$",
					    NULL};
	struct sl_test_filter *ta = l2m(and_kv), *to = l2m(or_kv);
	static const char *const ev[] = {
	    "{\"audit_event\":\"AUTH_GATEWAY_VALIDATION\",\"status\":"
	    "\"failure\"}",
	    "{\"audit_event\":\"AUTH_GATEWAY_VALIDATION\",\"status\":"
	    "\"success\"}",
	    "{\"audit_event\":\"AUTH_GATEWAY_VALIDATION\",\"status\":"
	    "\"failure\",\"user\":\"test1\"}",
	    "{\"status\":\"failure\"}",
	    "{\"event\":\"auth_failed\"}",
	    "{\"event\":\"login_failed\"}",
	    "{\"event\":\"auth_failure\"}",
	};

	(void)state;
	for (size_t i = 0; i < SL_ARRAY_LEN(ev); i++) {
		run(ta, ev[i]);
		run(to, ev[i]);
	}
	assert_true(value_of("log_metric_counter_and_total", NULL) == 1);
	assert_true(value_of("log_metric_counter_or_total", NULL) == 2);
	sl_test_filter_destroy(ta);
	sl_test_filter_destroy(to);
}

static void regex_options_and_escapes(void **state)
{
	static const char *const kv[] = {BASE("i_total"), "Regex",
					 "$m['x'] /^héllo \"q\"$/i", NULL};
	struct sl_test_filter *tf = l2m(kv);

	(void)state;
	run(tf, "{\"m\":{\"x\":\"HÉLLO \\\"q\\\"\"}}");
	run(tf, "{\"m\":{\"x\":\"hello\"}}");
	assert_true(value_of("log_metric_counter_i_total", NULL) == 1);
	sl_test_filter_destroy(tf);
}

static void gauge_sets_value(void **state)
{
	static const char *const kv[] = {BASE("temp"),	"Metric_mode", "gauge",
					 "Value_field", "$m['t']",     NULL};
	struct sl_test_filter *tf = l2m(kv);

	(void)state;
	run(tf, "{\"m\":{\"t\":21.5}}");
	assert_true(value_of("log_metric_gauge_temp", NULL) == 21.5);
	run(tf, "{\"m\":{\"t\":\"-3.25\"}}"); /* a numeric string */
	assert_true(value_of("log_metric_gauge_temp", NULL) == -3.25);
	run(tf, "{\"m\":{}}");		     /* missing: unchanged */
	run(tf, "{\"m\":{\"t\":\"warm\"}}"); /* not a number: unchanged */
	run(tf, "{\"m\":{\"t\":true}}");
	assert_true(value_of("log_metric_gauge_temp", NULL) == -3.25);
	sl_test_filter_destroy(tf);
}

static void histogram_observes(void **state)
{
	static const char *const kv[] = {BASE("latency_ms"),
					 "Metric_mode",
					 "histogram",
					 "Value_field",
					 "responseTime",
					 "Bucket",
					 "100",
					 "Bucket",
					 "10",
					 "Bucket",
					 "50 250",
					 "Label_field",
					 "route",
					 NULL};
	static const char *const r[] = {"/a"};
	struct sl_test_filter *tf = l2m(kv);
	struct sl_metric_family *f;
	struct sl_metric_series *s;
	double sum;

	(void)state;
	f = sl_metrics_find(test_reg, "log_metric_histogram_latency_ms");
	assert_int_equal(f->type, SL_METRIC_HISTOGRAM);
	assert_int_equal(f->n_buckets, 4);
	assert_true(f->buckets[0] == 10 && f->buckets[1] == 50 &&
		    f->buckets[2] == 100 && f->buckets[3] == 250);
	run(tf, "{\"route\":\"/a\",\"responseTime\":5}");
	run(tf, "{\"route\":\"/a\",\"responseTime\":10}"); /* le is inclusive */
	run(tf, "{\"route\":\"/a\",\"responseTime\":99.5}");
	run(tf, "{\"route\":\"/a\",\"responseTime\":1000}");
	run(tf, "{\"route\":\"/a\"}"); /* missing: not observed */
	s = series("log_metric_histogram_latency_ms", r);
	assert_non_null(s);
	assert_int_equal(s->bucket_counts[0], 2);
	assert_int_equal(s->bucket_counts[1], 0);
	assert_int_equal(s->bucket_counts[2], 1);
	assert_int_equal(s->bucket_counts[3], 0);
	assert_int_equal(s->bucket_counts[4], 1); /* +Inf */
	assert_int_equal(s->count_bits, 4);
	memcpy(&sum, &s->sum_bits, sizeof(sum));
	assert_true(sum == 5 + 10 + 99.5 + 1000);
	sl_test_filter_destroy(tf);
}

static void histogram_default_buckets(void **state)
{
	static const char *const kv[] = {
	    BASE("d_seconds"), "Metric_mode", "histogram",
	    "Value_field",     "v",	      NULL};
	struct sl_test_filter *tf = l2m(kv);
	struct sl_metric_family *f;

	(void)state;
	f = sl_metrics_find(test_reg, "log_metric_histogram_d_seconds");
	assert_int_equal(f->n_buckets, 11);
	assert_true(f->buckets[0] == 0.005 && f->buckets[10] == 10.0);
	sl_test_filter_destroy(tf);
}

static void discard_logs_drops_all(void **state)
{
	static const char *const kv[] = {
	    BASE("dl_total"), "Discard_logs", "On", "Regex", "a ^x$", NULL};
	struct sl_test_filter *tf = l2m(kv);

	(void)state;
	assert_int_equal(sl_test_filter_run(tf, "{\"a\":\"x\"}"),
			 SL_FILTER_DROP);
	assert_int_equal(sl_test_filter_run(tf, "{\"a\":\"y\"}"),
			 SL_FILTER_DROP);
	assert_true(value_of("log_metric_counter_dl_total", NULL) == 1);
	sl_test_filter_destroy(tf);
}

static void config_errors(void **state)
{
	static const char *const no_tag[] = {"Metric_description", "d", NULL};
	static const char *const no_desc[] = {"Tag", "t", NULL};
	static const char *const no_value[] = {BASE("g"), "Metric_mode",
					       "gauge", NULL};
	static const char *const bad_mode[] = {BASE("g"), "Metric_mode",
					       "summary", NULL};
	static const char *const bad_name[] = {BASE("bad-name"), NULL};
	static const char *const bad_label[] = {BASE("g"), "Add_label",
						"1abc $x", NULL};
	static const char *const dup_label[] = {
	    BASE("g"), "Label_field", "a", "Add_label", "a $b", NULL};
	static const char *const bad_regex[] = {BASE("g"), "Regex", "a (",
						NULL};
	static const char *const bad_op[] = {BASE("g"), "Logical_Op", "XOR",
					     NULL};
	static const char *const bad_bucket[] = {
	    BASE("g"), "Metric_mode", "histogram", "Value_field",
	    "v",       "Bucket",      "abc",	   NULL};
	static const char *const dup_bucket[] = {
	    BASE("g"), "Metric_mode", "histogram", "Value_field", "v",
	    "Bucket",  "1",	      "Bucket",	   "1.0",	  NULL};
	static const char *const index_label[] = {BASE("g"), "Label_field",
						  "$a[0]", NULL};
	static const struct {
		const char *const *kv;
		const char *want;
	} cases[] = {
	    {no_tag, "tag"},	       {no_desc, "metric_description"},
	    {no_value, "Value_field"}, {bad_mode, "summary"},
	    {bad_name, "bad-name"},    {bad_label, "1abc"},
	    {dup_label, "twice"},      {bad_regex, "bad regex"},
	    {bad_op, "XOR"},	       {bad_bucket, "abc"},
	    {dup_bucket, "twice"},     {index_label, "array index"},
	};

	(void)state;
	for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
		char *d = l2m_error(cases[i].kv);

		if (!strcasestr(d, cases[i].want))
			fail_msg("case %zu: '%s' not in: %s", i, cases[i].want,
				 d);
		free(d);
	}
}

/* Flush_Interval_Sec and the emitter options are accepted. */
static void fluent_bit_options_accepted(void **state)
{
	static const char *const kv[] = {BASE("fb_total"),
					 "Flush_Interval_Sec",
					 "5",
					 "Flush_Interval_Nsec",
					 "0",
					 "Emitter_Name",
					 "x",
					 NULL};
	struct sl_test_filter *tf = l2m(kv);

	(void)state;
	run(tf, "{}");
	assert_true(value_of("log_metric_counter_fb_total", NULL) == 1);
	sl_test_filter_destroy(tf);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(default_name_and_counter),
	    T(namespace_subsystem_name),
	    T(subsystem_defaults_to_mode),
	    T(family_shared_by_instances),
	    T(family_mismatch_refused),
	    T(series_cap_counts_dropped),
	    T(labels_from_nested_accessors),
	    T(label_order_follows_lines),
	    T(missing_and_typed_label_values),
	    T(kubernetes_mode_labels),
	    T(first_regex_decides),
	    T(exclude_before_regex),
	    T(regex_before_exclude),
	    T(logical_op_and_or),
	    T(regex_options_and_escapes),
	    T(gauge_sets_value),
	    T(histogram_observes),
	    T(histogram_default_buckets),
	    T(discard_logs_drops_all),
	    T(config_errors),
	    T(fluent_bit_options_accepted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
