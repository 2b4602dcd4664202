/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_loki_encode.c - the Loki push payload without HTTP: stream grouping,
 * per-stream time order, label escaping and names, fixed and accessor
 * labels (named by their accessor path), Label_keys (nested), Remove_keys
 * (nested), structured metadata (pairs and map keys), key_value lines,
 * Drop_Single_Key, settled records skipped; and the 400 body reader.
 * Exact bytes are compared: the payload is what Loki parses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../outputs/loki/loki.h"

struct fx {
	struct loki_enc enc;
	struct loki_batch batch;
	struct sl_chunk *chunk;
	struct sl_buf out;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	loki_batch_init(&f->batch);
	f->chunk = sl_chunk_create(NULL, "t", 1);
	assert_non_null(f->chunk);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	loki_enc_destroy(&f->enc);
	loki_batch_destroy(&f->batch);
	sl_chunk_destroy(f->chunk);
	sl_buf_destroy(&f->out);
	free(f);
	return 0;
}

static void label(struct fx *f, const char *spec)
{
	const char *err = NULL;

	assert_int_equal(loki_enc_add_label(&f->enc, spec, &err), 0);
}

static void rec(struct fx *f, int64_t ts, const char *json)
{
	assert_int_equal(sl_chunk_append(f->chunk, ts, json, strlen(json)), 0);
}

/* Encodes the chunk and returns the payload as a C string. */
static const char *encode(struct fx *f, loki_skip_fn skip, void *ud)
{
	sl_buf_reset(&f->out);
	assert_int_equal(
	    loki_encode(&f->enc, &f->batch, f->chunk, skip, ud, &f->out), 0);
	assert_int_equal(sl_buf_append(&f->out, "", 1), 0);
	return f->out.data;
}

static void test_one_stream(void **state)
{
	struct fx *f = *state;

	label(f, "job=sluice");
	rec(f, 1700000000000000001, "{\"msg\":\"a\"}");
	rec(f, 1700000000000000002, "{\"msg\":\"b\\\"q\"}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"job\":\"sluice\"},\"values\":["
	    "[\"1700000000000000001\",\"{\\\"msg\\\":\\\"a\\\"}\"],"
	    "[\"1700000000000000002\",\"{\\\"msg\\\":\\\"b\\\\\\\"q\\\"}\"]"
	    "]}]}");
	assert_int_equal(f->batch.n_entries, 2);
}

static void test_grouping_and_time_order(void **state)
{
	struct fx *f = *state;

	label(f, "job=sluice");
	label(f, "$stream");
	rec(f, 30, "{\"stream\":\"out\",\"n\":1}");
	rec(f, 10, "{\"stream\":\"err\",\"n\":2}");
	rec(f, 20, "{\"stream\":\"out\",\"n\":3}");
	rec(f, 10, "{\"stream\":\"out\",\"n\":4}");
	rec(f, 20,
	    "{\"stream\":\"out\",\"n\":5}"); /* same ts as n=3: kept after */
	rec(f, 5, "{\"n\":6}");		     /* no stream field */
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":["
	    "{\"stream\":{\"job\":\"sluice\",\"stream\":\"out\"},\"values\":["
	    "[\"10\",\"{\\\"n\\\":4}\"],[\"20\",\"{\\\"n\\\":3}\"],"
	    "[\"20\",\"{\\\"n\\\":5}\"],[\"30\",\"{\\\"n\\\":1}\"]]},"
	    "{\"stream\":{\"job\":\"sluice\",\"stream\":\"err\"},\"values\":["
	    "[\"10\",\"{\\\"n\\\":2}\"]]},"
	    "{\"stream\":{\"job\":\"sluice\"},\"values\":["
	    "[\"5\",\"{\\\"n\\\":6}\"]]}]}");
	assert_int_equal(f->batch.n_streams, 3);
}

static void test_label_escaping_and_names(void **state)
{
	struct fx *f = *state;

	label(f, "job=a\"b\\c");
	label(f, "k8s.app-name=$app");
	label(f, "1st=x");
	rec(f, 1, "{\"app\":\"quo\\\"te\\nnl \\u00e9\"}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"_1st\":\"x\",\"job\":\"a\\\"b\\\\c\","
	    "\"k8s_app_name\":\"quo\\\"te_nl \xc3\xa9\"},\"values\":["
	    "[\"1\",\"{}\"]]}]}");
}

/* Record data reaching a label value keeps to Loki's rules: valid UTF-8,
 * no control bytes (a CR/LF tag-like value), within 2048 bytes. */
static void test_label_value_sanitised(void **state)
{
	struct fx *f = *state;
	char body[3000], *out;
	const char *v;
	size_t n;

	label(f, "v=$v");
	n = (size_t)snprintf(body, sizeof(body), "{\"v\":\"");
	memset(body + n, 'L', 2500);
	n += 2500;
	snprintf(body + n, sizeof(body) - n, "\"}");
	rec(f, 1, body);
	out = strdup(encode(f, NULL, NULL));
	assert_non_null(out);
	v = strstr(out, "\"v\":\"");
	assert_non_null(v);
	v += 5;
	assert_int_equal(strchr(v, '"') - v, 2048);
	free(out);
}

static void test_label_value_not_string(void **state)
{
	struct fx *f = *state;

	label(f, "code=$status");
	label(f, "code2=$obj");
	rec(f, 1, "{\"status\":200,\"obj\":{\"a\":true},\"m\":1}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"code\":\"200\",\"code2\":"
	    "\"{\\\"a\\\":true}\"},\"values\":[[\"1\",\"{\\\"m\\\":1}\"]]}]}");
}

static void test_label_keys_nested(void **state)
{
	struct fx *f = *state;
	const char *err;

	label(f, "job=j");
	assert_int_equal(
	    loki_enc_add_label_key(&f->enc, "$kubernetes['pod']['name']", &err),
	    0);
	assert_int_equal(loki_enc_add_label_key(&f->enc, "level", &err), 0);
	rec(f, 1,
	    "{\"level\":\"info\",\"kubernetes\":{\"ns\":\"d\","
	    "\"pod\":{\"name\":\"p-1\",\"uid\":7}},\"m\":\"x\"}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"job\":\"j\","
	    "\"kubernetes_pod_name\":\"p-1\",\"level\":\"info\"},\"values\":[["
	    "\"1\",\"{\\\"kubernetes\\\":"
	    "{\\\"ns\\\":\\\"d\\\",\\\"pod\\\":{\\\"uid\\\":7}},"
	    "\\\"m\\\":\\\"x\\\"}\"]]}]}");
}

/* As Fluent Bit: an accessor label is named by its whole path. */
static void test_label_named_by_accessor_path(void **state)
{
	struct fx *f = *state;
	const char *err = NULL;

	assert_int_equal(loki_enc_add_label(&f->enc, "novalue=", &err),
			 -SL_EINVAL);
	assert_non_null(err);
	assert_int_equal(loki_enc_add_label(&f->enc, "plain", &err),
			 -SL_EINVAL);
	assert_int_equal(loki_enc_add_label(&f->enc, "$a['b", &err),
			 -SL_EINVAL);
	label(f, "$a[0]");
	label(f, "first=$a[1]");
	label(f, "$k8s[\"pod-x\"]['app.io/n']");
	rec(f, 1, "{\"a\":[\"x\",\"y\"],\"k8s\":{\"pod-x\":{\"app.io/n\":3}}}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"a_0\":\"x\",\"first\":\"y\","
	    "\"k8s_pod_x_app_io_n\":\"3\"},\"values\":[[\"1\","
	    "\"{\\\"a\\\":[],\\\"k8s\\\":{\\\"pod-x\\\":{}}}\"]]}]}");
}

/* As Fluent Bit: a record that gets no label at all is job=fluent-bit. */
static void test_no_label_is_job_fluent_bit(void **state)
{
	struct fx *f = *state;

	label(f, "$app");
	rec(f, 1, "{\"app\":\"a\"}");
	rec(f, 2, "{\"m\":1}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"app\":\"a\"},\"values\":[[\"1\","
	    "\"{}\"]]},{\"stream\":{\"job\":\"fluent-bit\"},\"values\":[[\"2\","
	    "\"{\\\"m\\\":1}\"]]}]}");
}

/* Label_map_path's JSON: each string leaf names a label read from its
 * path; the fields leave the line; other leaves are errors. */
static void test_label_map(void **state)
{
	struct fx *f = *state;
	const char *err = NULL;
	char *where = NULL;
	static const char map[] =
	    "{\"kubernetes\":{\"pod_name\":\"pod\",\"labels\":"
	    "{\"app.io\":\"app\"}},\"stream\":\"stream\"}";

	assert_int_equal(
	    loki_enc_add_label_map(&f->enc, map, strlen(map), &err, &where), 0);
	assert_null(where);
	rec(f, 1,
	    "{\"kubernetes\":{\"pod_name\":\"p\",\"labels\":{\"app.io\":"
	    "\"web\"},\"ns\":\"n\"},\"stream\":\"stdout\",\"m\":1}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"app\":\"web\",\"pod\":\"p\","
	    "\"stream\":\"stdout\"},\"values\":[[\"1\",\"{\\\"kubernetes\\\":"
	    "{\\\"labels\\\":{},\\\"ns\\\":\\\"n\\\"},\\\"m\\\":1}\"]]}]}");
	assert_int_equal(loki_enc_add_label_map(&f->enc, "{\"a\":{\"b\":1}}",
						13, &err, &where),
			 -SL_EINVAL);
	assert_non_null(err);
	assert_string_equal(where, "$a['b']");
	free(where);
	assert_int_equal(
	    loki_enc_add_label_map(&f->enc, "[1]", 3, &err, &where),
	    -SL_EINVAL);
	assert_null(where);
}

static void meta(struct fx *f, const char *spec)
{
	const char *err = NULL;

	assert_int_equal(loki_enc_add_metadata(&f->enc, spec, &err), 0);
}

/* Fluent Bit's $TAG and $TAG[n] read the chunk's tag, in labels and in
 * metadata; alone (no name) they are refused. */
static void test_tag_labels(void **state)
{
	struct fx *f = *state;
	const char *err = NULL;

	sl_chunk_destroy(f->chunk);
	f->chunk = sl_chunk_create(NULL, "kube.var.log", 12);
	assert_non_null(f->chunk);
	label(f, "tag=$TAG");
	label(f, "second=$TAG[1]");
	label(f, "none=$TAG[7]");
	meta(f, "first=$TAG[0]");
	assert_int_equal(loki_enc_add_label(&f->enc, "$TAG", &err), -SL_EINVAL);
	assert_int_equal(loki_enc_add_metadata(&f->enc, "$TAG[1]", &err),
			 -SL_EINVAL);
	rec(f, 1, "{\"TAG\":\"not this\"}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"second\":\"var\",\"tag\":"
	    "\"kube.var.log\"},\"values\":[[\"1\",\"{\\\"TAG\\\":"
	    "\\\"not this\\\"}\",{\"first\":\"kube\"}]]}]}");
}

/*
 * Structured_metadata: fixed and accessor values; an accessor that finds
 * nothing or an empty string adds nothing to that entry; a non-string is
 * its text; accessor fields leave the line; every entry has the third
 * element, {} when empty.
 */
static void test_structured_metadata(void **state)
{
	struct fx *f = *state;

	label(f, "job=j");
	meta(f, "env = prod");
	meta(f, "trace=$trace_id");
	meta(f, "$kubernetes['pod']");
	meta(f, "code=$status");
	rec(f, 1,
	    "{\"trace_id\":\"t\\\"1\",\"kubernetes\":{\"pod\":\"p\","
	    "\"ns\":\"n\"},\"status\":200,\"m\":\"a\"}");
	rec(f, 2, "{\"trace_id\":\"\",\"m\":\"b\"}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"job\":\"j\"},\"values\":["
	    "[\"1\",\"{\\\"kubernetes\\\":{\\\"ns\\\":\\\"n\\\"},"
	    "\\\"m\\\":\\\"a\\\"}\",{\"env\":\"prod\",\"trace\":\"t\\\"1\","
	    "\"kubernetes_pod\":\"p\",\"code\":\"200\"}],"
	    "[\"2\",\"{\\\"m\\\":\\\"b\\\"}\",{\"env\":\"prod\"}]]}]}");
}

/*
 * Structured_metadata_map_keys: each member of the map (names sanitised,
 * non-strings as JSON); not a map or absent: nothing; an explicit
 * Structured_metadata of the same name wins.
 */
static void test_structured_metadata_map_keys(void **state)
{
	struct fx *f = *state;
	const char *err = NULL;

	label(f, "job=j");
	assert_int_equal(
	    loki_enc_add_metadata_map(&f->enc, "$kubernetes['labels']", &err),
	    0);
	assert_int_equal(loki_enc_add_metadata_map(&f->enc, "$meta", &err), 0);
	meta(f, "app=override");
	rec(f, 1,
	    "{\"kubernetes\":{\"labels\":{\"app\":\"a\",\"tier.x\":\"web\","
	    "\"n\":{\"k\":[1,true]}}},\"meta\":\"str\",\"m\":1}");
	rec(f, 2, "{\"m\":2}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"job\":\"j\"},\"values\":["
	    "[\"1\",\"{\\\"kubernetes\\\":{},\\\"m\\\":1}\",{\"tier_x\":"
	    "\"web\",\"n\":\"{\\\"k\\\":[1,true]}\",\"app\":\"override\"}],"
	    "[\"2\",\"{\\\"m\\\":2}\",{\"app\":\"override\"}]]}]}");
	assert_int_equal(loki_enc_add_metadata_map(&f->enc, "plain", &err),
			 -SL_EINVAL);
	assert_int_equal(loki_enc_add_metadata(&f->enc, "novalue", &err),
			 -SL_EINVAL);
	assert_int_equal(loki_enc_add_metadata(&f->enc, "k=", &err),
			 -SL_EINVAL);
}

static void test_remove_keys(void **state)
{
	struct fx *f = *state;
	const char *err;

	label(f, "job=j");
	assert_int_equal(loki_enc_add_remove_key(&f->enc, "secret", &err), 0);
	assert_int_equal(loki_enc_add_remove_key(&f->enc, "$a['b']", &err), 0);
	assert_int_equal(loki_enc_add_remove_key(&f->enc, "$arr[1]", &err), 0);
	assert_int_equal(loki_enc_add_remove_key(&f->enc, "absent", &err), 0);
	rec(f, 1,
	    "{\"secret\":\"s\",\"a\":{\"b\":1,\"c\":2},\"arr\":[1,2,3],"
	    "\"z\":null}");
	rec(f, 2, "{\"a\":{\"b\":1}}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"job\":\"j\"},\"values\":["
	    "[\"1\",\"{\\\"a\\\":{\\\"c\\\":2},\\\"arr\\\":[1,3],"
	    "\\\"z\\\":null}\"],"
	    "[\"2\",\"{\\\"a\\\":{}}\"]]}]}");
}

/* Removal around white space: members are joined by exactly one ',',
 * white space inside a member is kept (runs of members copied at once must
 * give the same bytes as member by member). */
static void test_remove_keys_white_space(void **state)
{
	struct fx *f = *state;
	const char *err;

	label(f, "job=j");
	assert_int_equal(loki_enc_add_remove_key(&f->enc, "a", &err), 0);
	assert_int_equal(loki_enc_add_remove_key(&f->enc, "$d[0]", &err), 0);
	assert_int_equal(loki_enc_add_remove_key(&f->enc, "$e['x']", &err), 0);
	rec(f, 1,
	    "{\"a\": 1 , \"b\":2,\"c\":3 , \"f\":0,\"d\" : [1, 2,3], "
	    "\"e\":{\"x\":1, \"y\":2,\"z\":3}}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"job\":\"j\"},\"values\":["
	    "[\"1\",\"{\\\"b\\\":2,\\\"c\\\":3,\\\"f\\\":0,\\\"d\\\" : [2,3],"
	    "\\\"e\\\":{\\\"y\\\":2,\\\"z\\\":3}}\"]]}]}");
}

static void test_key_value(void **state)
{
	struct fx *f = *state;

	label(f, "job=j");
	f->enc.line_format = LOKI_LINE_KEY_VALUE;
	rec(f, 1,
	    "{\"level\":\"info\",\"msg\":\"hello \\\"you\\\"\","
	    "\"n\":3,\"ok\":true,\"o\":{\"x\":1}}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"job\":\"j\"},\"values\":["
	    "[\"1\",\"level=info msg=hello \\\"you\\\" n=3 ok=true "
	    "o={\\\"x\\\":1}\"]]}]}");
}

static void test_drop_single_key(void **state)
{
	struct fx *f = *state;
	const char *err;

	label(f, "job=j");
	assert_int_equal(loki_enc_add_label_key(&f->enc, "stream", &err), 0);
	f->enc.drop_single_key = LOKI_DROP_ON;
	rec(f, 1, "{\"stream\":\"o\",\"log\":\"line \\\"1\\\"\"}");
	rec(f, 2, "{\"stream\":\"o\",\"log\":\"a\",\"b\":1}");
	/* on + json: the value as JSON (a quoted string) */
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"job\":\"j\",\"stream\":\"o\"},"
	    "\"values\":[[\"1\",\"\\\"line \\\\\\\"1\\\\\\\"\\\"\"],"
	    "[\"2\",\"{\\\"log\\\":\\\"a\\\",\\\"b\\\":1}\"]]}]}");
	/* raw: the string itself */
	f->enc.drop_single_key = LOKI_DROP_RAW;
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"job\":\"j\",\"stream\":\"o\"},"
	    "\"values\":[[\"1\",\"line \\\"1\\\"\"],"
	    "[\"2\",\"{\\\"log\\\":\\\"a\\\",\\\"b\\\":1}\"]]}]}");
}

static void test_auto_kubernetes_labels(void **state)
{
	struct fx *f = *state;

	label(f, "job=j");
	assert_int_equal(loki_enc_set_auto_k8s(&f->enc), 0);
	rec(f, 1,
	    "{\"kubernetes\":{\"labels\":{\"app\":\"web\","
	    "\"app.kubernetes.io/part-of\":\"shop\"}},\"m\":1}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"app\":\"web\","
	    "\"app_kubernetes_io_part_of\":\"shop\",\"job\":\"j\"},"
	    "\"values\":[[\"1\",\"{\\\"kubernetes\\\":{\\\"labels\\\":"
	    "{\\\"app\\\":\\\"web\\\",\\\"app.kubernetes.io/part-of\\\":"
	    "\\\"shop\\\"}},\\\"m\\\":1}\"]]}]}");
}

static bool skip_odd(void *ud, uint32_t index)
{
	(void)ud;
	return index % 2 == 1;
}

static void test_skip_settled(void **state)
{
	struct fx *f = *state;
	int i;

	label(f, "job=j");
	for (i = 0; i < 4; i++)
		rec(f, 100 - i, "{}");
	assert_string_equal(
	    encode(f, skip_odd, NULL),
	    "{\"streams\":[{\"stream\":{\"job\":\"j\"},\"values\":["
	    "[\"98\",\"{}\"],[\"100\",\"{}\"]]}]}");
	assert_int_equal(f->batch.n_entries, 2);
	assert_int_equal(f->batch.entries[0].index, 2);
	assert_int_equal(f->batch.entries[1].index, 0);
}

static bool skip_all(void *ud, uint32_t index)
{
	(void)ud;
	(void)index;
	return true;
}

static void test_nothing_to_send(void **state)
{
	struct fx *f = *state;

	label(f, "job=j");
	rec(f, 1, "{}");
	sl_buf_reset(&f->out);
	assert_int_equal(
	    loki_encode(&f->enc, &f->batch, f->chunk, skip_all, NULL, &f->out),
	    0);
	assert_int_equal(f->batch.n_entries, 0);
	assert_int_equal(f->out.len, 0);
}

static void test_many_streams(void **state)
{
	struct fx *f = *state;
	char body[64];
	int i;

	label(f, "$k");
	for (i = 0; i < 2000; i++) {
		snprintf(body, sizeof(body), "{\"k\":\"s%d\",\"i\":%d}",
			 i % 300, i);
		rec(f, 5000 - i, body);
	}
	encode(f, NULL, NULL);
	assert_int_equal(f->batch.n_streams, 300);
	assert_int_equal(f->batch.n_entries, 2000);
	for (i = 1; i < 2000; i++) {
		const struct loki_entry *a = &f->batch.entries[i - 1];
		const struct loki_entry *b = &f->batch.entries[i];

		assert_true(a->stream < b->stream ||
			    (a->stream == b->stream && a->ts_ns <= b->ts_ns));
	}
}

/* Fixed labels: one stream rendered once, its entries still sorted. */
static void test_fixed_labels_out_of_order(void **state)
{
	struct fx *f = *state;

	label(f, "job=j");
	label(f, "tag=$TAG");
	rec(f, 30, "{\"n\":1}");
	rec(f, 10, "{\"n\":2}");
	rec(f, 20, "{\"n\":3}");
	rec(f, 10, "{\"n\":4}"); /* same ts as n=2: kept after it */
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"job\":\"j\",\"tag\":\"t\"},"
	    "\"values\":["
	    "[\"10\",\"{\\\"n\\\":2}\"],[\"10\",\"{\\\"n\\\":4}\"],"
	    "[\"20\",\"{\\\"n\\\":3}\"],[\"30\",\"{\\\"n\\\":1}\"]]}]}");
	assert_int_equal(f->batch.n_streams, 1);
	assert_int_equal(f->batch.entries[0].index, 1);
	assert_int_equal(f->batch.entries[1].index, 3);
	assert_int_equal(f->batch.entries[3].index, 0);
	/* the next chunk starts over (the stream is per chunk) */
	sl_chunk_destroy(f->chunk);
	f->chunk = sl_chunk_create(NULL, "u", 1);
	assert_non_null(f->chunk);
	rec(f, 5, "{}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":[{\"stream\":{\"job\":\"j\",\"tag\":\"u\"},"
	    "\"values\":[[\"5\",\"{}\"]]}]}");
}

/* Labels from the record, interleaved: grouped by first appearance, each
 * stream in time order, whether it needed sorting or not. */
static void test_record_labels_interleaved(void **state)
{
	struct fx *f = *state;

	label(f, "$k");
	rec(f, 1, "{\"k\":\"a\",\"n\":1}");
	rec(f, 2, "{\"k\":\"b\",\"n\":2}");
	rec(f, 3, "{\"k\":\"a\",\"n\":3}");
	rec(f, 9, "{\"k\":\"c\",\"n\":4}");
	rec(f, 4, "{\"k\":\"b\",\"n\":5}");
	rec(f, 5, "{\"k\":\"c\",\"n\":6}"); /* c goes back in time */
	rec(f, 6, "{\"k\":\"a\",\"n\":7}");
	assert_string_equal(
	    encode(f, NULL, NULL),
	    "{\"streams\":["
	    "{\"stream\":{\"k\":\"a\"},\"values\":["
	    "[\"1\",\"{\\\"n\\\":1}\"],[\"3\",\"{\\\"n\\\":3}\"],"
	    "[\"6\",\"{\\\"n\\\":7}\"]]},"
	    "{\"stream\":{\"k\":\"b\"},\"values\":["
	    "[\"2\",\"{\\\"n\\\":2}\"],[\"4\",\"{\\\"n\\\":5}\"]]},"
	    "{\"stream\":{\"k\":\"c\"},\"values\":["
	    "[\"5\",\"{\\\"n\\\":6}\"],[\"9\",\"{\\\"n\\\":4}\"]]}]}");
	assert_int_equal(f->batch.n_streams, 3);
	assert_int_equal(f->batch.n_entries, 7);
	/* every record once, for settling */
	{
		unsigned seen = 0;

		for (size_t i = 0; i < f->batch.n_entries; i++)
			seen |= 1u << f->batch.entries[i].index;
		assert_int_equal(seen, 0x7f);
	}
}

/*
 * A record nothing reads is not parsed; its line must be the one the
 * parse gives: invalid UTF-8 repaired the same way, controls escaped, a
 * body that is not an object sent as it is. Remove_keys of an absent key
 * forces the parse without changing the line.
 */
static void test_unparsed_line_equals_parsed_line(void **state)
{
	static const char *const bodies[] = {
	    ("{\"m\":\"caf\xC3\xA9 \xC0\xAF x\xED\xA0\x80 \\\"q\\\\\","
	     "\"t\":\"\x01\x7f\"}"),
	    "{\"a\":[1,{\"b\":\"\xF0\x9F\x98\x80\"}],\"c\":null}",
	    "not json \xFF\n",
	    "[1,2]",
	    "{}",
	};
	struct fx *f = *state;
	struct loki_enc forced = {0};
	const char *err;
	char *fast;

	label(f, "job=j");
	assert_int_equal(loki_enc_add_metadata(&f->enc, "env=prod", &err), 0);
	assert_int_equal(loki_enc_add_label(&forced, "job=j", &err), 0);
	assert_int_equal(loki_enc_add_metadata(&forced, "env=prod", &err), 0);
	assert_int_equal(loki_enc_add_remove_key(&forced, "absent", &err), 0);
	for (size_t i = 0; i < SL_ARRAY_LEN(bodies); i++)
		rec(f, (int64_t)i, bodies[i]);
	fast = strdup(encode(f, NULL, NULL));
	assert_non_null(fast);
	sl_buf_reset(&f->out);
	assert_int_equal(
	    loki_encode(&forced, &f->batch, f->chunk, NULL, NULL, &f->out), 0);
	assert_int_equal(sl_buf_append(&f->out, "", 1), 0);
	assert_string_equal(fast, f->out.data);
	/* and what that line is */
	assert_non_null(strstr(
	    fast,
	    "[\"0\",\"{\\\"m\\\":\\\"caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD "
	    "x\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \\\\\\\"q\\\\\\\\\\\","
	    "\\\"t\\\":\\\"\\u0001\x7f\\\"}\",{\"env\":\"prod\"}]"));
	assert_non_null(strstr(fast,
			       "[\"2\",\"not json \xEF\xBF\xBD\\n\",{\"env\":"
			       "\"prod\"}]"));
	free(fast);
	loki_enc_destroy(&forced);
}

/* ---- the 400 body ---------------------------------------------------------
 */

static void test_error_ignored(void **state)
{
	static const char one[] =
	    "entry with timestamp 2021-07-17 06:34:49.020024184 +0000 UTC "
	    "ignored, reason: 'entry out of order' for stream: "
	    "{job=\"fluent-bit\"},\n"
	    "total ignored: 5 out of 12";
	static const char two[] =
	    "x total ignored: 2 out of 3\ny total ignored: 4 out of 4\n";
	uint64_t n;

	(void)state;
	assert_int_equal(loki_error_ignored(one, sizeof(one) - 1, &n), 1);
	assert_int_equal(n, 5);
	assert_int_equal(loki_error_ignored(two, sizeof(two) - 1, &n), 2);
	assert_int_equal(n, 6);
	/* no count, or a broken phrase: not found */
	assert_int_equal(loki_error_ignored("too old", 7, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(loki_error_ignored("total ignored: 5", 16, &n), 0);
	assert_int_equal(
	    loki_error_ignored("total ignored: x out of 2", 25, &n), 0);
	/* the length bounds the read: cut before M, then inside M */
	assert_int_equal(
	    loki_error_ignored("total ignored: 5 out of 90", 24, &n), 0);
	assert_int_equal(
	    loki_error_ignored("total ignored: 7 out of 90", 25, &n), 1);
	assert_int_equal(n, 7);
	/* N is capped by M; huge numbers saturate */
	assert_int_equal(
	    loki_error_ignored("total ignored: 9 out of 3", 25, &n), 1);
	assert_int_equal(n, 3);
	assert_int_equal(
	    loki_error_ignored("total ignored: 99999999999999999999999 out of "
			       "99999999999999999999999",
			       69, &n),
	    1);
	assert_true(n == UINT64_MAX);
	/* found by fuzz_loki_error: spaces are optional */
	assert_int_equal(loki_error_ignored("total ignored:9 out of 1", 24, &n),
			 1);
	assert_int_equal(n, 1);
	assert_int_equal(loki_error_ignored("total ignored:0out of0", 22, &n),
			 1);
	assert_int_equal(n, 0);
	assert_int_equal(loki_error_ignored(NULL, 0, &n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	    T(test_one_stream),
	    T(test_grouping_and_time_order),
	    T(test_label_escaping_and_names),
	    T(test_label_value_sanitised),
	    T(test_label_value_not_string),
	    T(test_label_keys_nested),
	    T(test_label_named_by_accessor_path),
	    T(test_no_label_is_job_fluent_bit),
	    T(test_label_map),
	    T(test_tag_labels),
	    T(test_structured_metadata),
	    T(test_structured_metadata_map_keys),
	    T(test_remove_keys),
	    T(test_remove_keys_white_space),
	    T(test_key_value),
	    T(test_drop_single_key),
	    T(test_auto_kubernetes_labels),
	    T(test_skip_settled),
	    T(test_nothing_to_send),
	    T(test_many_streams),
	    T(test_fixed_labels_out_of_order),
	    T(test_record_labels_interleaved),
	    T(test_unparsed_line_equals_parsed_line),
	    cmocka_unit_test(test_error_ignored),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
