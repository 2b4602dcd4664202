/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_kubernetes.c - the kubernetes filter without a network: the tag
 * split (Fluent Bit's KUBE_TAG_TO_REGEX cases), the API answer parser, the
 * "kubernetes" object's shape, the fluentbit.io/ annotations, Merge_Log
 * (JSON, a parser, Merge_Log_Key, Keep_Log, Merge_Log_Trim) and refused
 * options. Whole-filter cases put a pod into the cache by hand, so the API
 * thread is never needed (Kube_URL points at a closed port).
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

#include "../../filters/kubernetes/kube.h"
#include "sl_test.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* ---- tag ------------------------------------------------------------------
 */

static void tag_is(const char *rest, const char *pod, const char *ns,
		   const char *container)
{
	struct kube_tag_meta m;

	assert_int_equal(kube_tag_parse(rest, strlen(rest), &m), 0);
	assert_int_equal(m.pod_len, strlen(pod));
	assert_memory_equal(m.pod, pod, m.pod_len);
	assert_int_equal(m.ns_len, strlen(ns));
	assert_memory_equal(m.ns, ns, m.ns_len);
	assert_int_equal(m.container_len, strlen(container));
	assert_memory_equal(m.container, container, m.container_len);
	assert_int_equal(m.docker_id_len, 64);
	assert_memory_equal(m.docker_id, ID64, 64);
}

static void tag_not(const char *rest)
{
	struct kube_tag_meta m;

	assert_int_equal(kube_tag_parse(rest, strlen(rest), &m), -SL_ENOENT);
}

static void tag_kubelet_names(void **state)
{
	(void)state;
	tag_is("web-7d4f9c-x2k8p_shop_nginx-" ID64 ".log", "web-7d4f9c-x2k8p",
	       "shop", "nginx");
	/* a dotted pod name is a DNS subdomain */
	tag_is("a.b-c_ns_c-" ID64 ".log", "a.b-c", "ns", "c");
	/* the container takes the rest, underscores and dashes included */
	tag_is("p_ns_my_side-car-" ID64 ".log", "p", "ns", "my_side-car");
	/* leftmost match: an upper-case start is skipped, as PCRE would */
	tag_is("Xweb_ns_c-" ID64 ".log", "web", "ns", "c");
}

static void tag_other_names(void **state)
{
	(void)state;
	tag_not("");
	tag_not("not-a-kubelet-name.log");
	tag_not("p_ns_c-" ID64 ".txt");
	tag_not("p_ns_c-" ID64 "0.log"); /* 65 characters of id */
	tag_not("p_ns_c-0123456789ABCDEF0123456789abcdef0123456789abcdef"
		"0123456789abcdef.log"); /* id is [a-z0-9] */
	tag_not("p_ns-" ID64 ".log");	 /* no container */
	tag_not("p__c-" ID64 ".log");	 /* empty namespace */
	tag_not("-p-_ns_c-" ID64 ".log");
}

/* ---- API answers ----------------------------------------------------------
 */

static const char POD[] =
    "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"web-0\","
    "\"namespace\":\"shop\",\"uid\":\"u-1\",\"labels\":{\"app\":\"web\","
    "\"a.b/c\":\"x\\\"y\"},\"annotations\":{\"team\":\"t\","
    "\"fluentbit.io/parser\":\"json\",\"fluentbit.io/exclude_stderr-side\":"
    "\"true\"},\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"rs\"}],"
    "\"managedFields\":[{\"manager\":\"kubelet\"}]},\"spec\":{\"nodeName\":"
    "\"node-1\",\"containers\":[{\"name\":\"c\"}]},\"status\":{\"podIP\":"
    "\"10.0.0.1\",\"containerStatuses\":[{\"name\":\"c\",\"image\":"
    "\"nginx:1\",\"imageID\":\"docker-pullable://nginx@sha256:ff\","
    "\"containerID\":\"containerd://" ID64 "\"}],\"initContainerStatuses\":"
    "[{\"name\":\"init\",\"image\":\"busybox\",\"imageID\":\"sha256:ee\"}]}}";

static void pod_parse_fields(void **state)
{
	const char *err = NULL;
	struct kube_pod *p = kube_pod_parse(POD, strlen(POD), &err);

	(void)state;
	assert_non_null(p);
	assert_string_equal(p->ns, "shop");
	assert_string_equal(p->name, "web-0");
	assert_string_equal(p->uid, "u-1");
	assert_string_equal(p->labels,
			    "{\"app\":\"web\",\"a.b/c\":\"x\\\"y\"}");
	assert_string_equal(p->owner_refs,
			    "[{\"kind\":\"ReplicaSet\",\"name\":\"rs\"}]");
	assert_string_equal(p->node, "node-1");
	assert_string_equal(p->pod_ip, "10.0.0.1");
	assert_int_equal(p->n_containers, 2);
	assert_string_equal(p->containers[0].docker_id, ID64);
	assert_string_equal(p->containers[0].hash, "nginx@sha256:ff");
	assert_string_equal(p->containers[0].image, "nginx:1");
	assert_string_equal(p->containers[1].name, "init");
	assert_string_equal(p->containers[1].hash, "sha256:ee");
	assert_null(p->containers[1].docker_id);
	assert_int_equal(p->n_props, 2);
	assert_string_equal(p->props[0].key, "parser");
	kube_pod_destroy(p);
}

static void pod_parse_refuses_bad_answers(void **state)
{
	static const char *const bad[] = {
	    "",
	    "null",
	    "[]",
	    "{\"kind\":\"Status\",\"code\":404}",
	    "{\"metadata\":{\"name\":\"x\"}}", /* no namespace */
	    "{\"metadata\":{\"name\":1,\"namespace\":\"n\"}}",
	    "{\"metadata\":",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = NULL;

		assert_null(kube_pod_parse(bad[i], strlen(bad[i]), &err));
		assert_non_null(err);
	}
}

static void pod_list_and_namespace(void **state)
{
	static const char list[] =
	    "{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"a\","
	    "\"namespace\":\"n\"}},{\"bad\":1},{\"metadata\":{\"name\":\"b\","
	    "\"namespace\":\"n\",\"labels\":{}}}]}";
	static const char ns[] =
	    "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"n\",\"labels\":"
	    "{\"env\":\"prod\"}}}";
	struct kube_pod **v;
	struct kube_namespace *nsm;
	size_t n;
	const char *err = NULL;

	(void)state;
	assert_int_equal(
	    kube_pod_list_parse(list, strlen(list), &v, &n, NULL, &err), 0);
	assert_int_equal(n, 2); /* the item without metadata is skipped */
	assert_string_equal(v[1]->name, "b");
	assert_string_equal(v[1]->labels, "{}");
	for (size_t i = 0; i < n; i++)
		kube_pod_destroy(v[i]);
	free(v);
	nsm = kube_namespace_parse(ns, strlen(ns), &err);
	assert_non_null(nsm);
	assert_string_equal(nsm->labels, "{\"env\":\"prod\"}");
	assert_null(nsm->annotations);
	kube_namespace_destroy(nsm);
}

static void watch_events(void **state)
{
	static const char added[] =
	    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
	    "\"namespace\":\"n\",\"resourceVersion\":\"42\"}}}";
	static const char gone[] =
	    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
	    "\"code\":410}}";
	static const char deleted[] =
	    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":"
	    "\"a\",\"namespace\":\"n\",\"resourceVersion\":\"43\"}}}";
	const char *type;
	struct kube_pod *p;
	char *rv;
	int code;

	(void)state;
	assert_int_equal(
	    kube_watch_event_parse(added, strlen(added), &type, &p, &rv, &code),
	    0);
	assert_string_equal(type, "ADDED");
	assert_string_equal(p->name, "a");
	assert_string_equal(rv, "42");
	kube_pod_destroy(p);
	free(rv);
	assert_int_equal(
	    kube_watch_event_parse(gone, strlen(gone), &type, &p, &rv, &code),
	    0);
	assert_string_equal(type, "ERROR");
	assert_int_equal(code, 410);
	assert_null(p);
	assert_null(rv);
	/* a deleted pod is not handed on: its files may still be read */
	assert_int_equal(kube_watch_event_parse(deleted, strlen(deleted), &type,
						&p, &rv, &code),
			 0);
	assert_null(p);
	assert_string_equal(rv, "43");
	free(rv);
	assert_int_equal(kube_watch_event_parse("{\"type\":\"X\"}", 12, &type,
						&p, &rv, &code),
			 -SL_EPARSE);
}

static void hash_cut_like_fluent_bit(void **state)
{
	char *s;

	(void)state;
	s = kube_extract_hash("containerd://abc", 16);
	assert_string_equal(s, "abc");
	free(s);
	s = kube_extract_hash("sha256:ff", 9);
	assert_string_equal(s, "sha256:ff");
	free(s);
	assert_null(kube_extract_hash("nocolon", 7));
	assert_null(kube_extract_hash("x://", 4));
}

/* ---- annotations ----------------------------------------------------------
 */

static void cache_bounded_lru(void **state)
{
	struct kube_cache c;
	struct kube_entry *a, *b;

	(void)state;
	assert_int_equal(kube_cache_init(&c, 2), 0);
	a = kube_cache_add(&c, "ns/a", 4, KUBE_POD);
	b = kube_cache_add(&c, "ns/b", 4, KUBE_POD);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_equal(kube_cache_find(&c, "ns/a", 4), a); /* a used last */
	assert_non_null(kube_cache_add(&c, "ns/c", 4, KUBE_POD));
	assert_int_equal(c.n, 2);
	assert_null(kube_cache_find(&c, "ns/b", 4)); /* least recently used */
	assert_non_null(kube_cache_find(&c, "ns/a", 4));
	/* an entry waiting for its answer is not evicted */
	kube_cache_find(&c, "ns/c", 4)->asking = true;
	kube_cache_find(&c, "ns/a", 4);
	assert_non_null(kube_cache_add(&c, "ns/d", 4, KUBE_POD));
	assert_non_null(kube_cache_find(&c, "ns/c", 4));
	assert_null(kube_cache_find(&c, "ns/a", 4));
	/* a key is matched whole, not as a prefix */
	assert_null(kube_cache_find(&c, "ns/", 3));
	kube_cache_destroy(&c);
}

static struct kube_pod *pod_with(const char *const *kv)
{
	struct kube_pod *p = calloc(1, sizeof(*p));
	size_t n = 0;

	while (kv[2 * n])
		n++;
	p->props = calloc(n, sizeof(*p->props));
	for (size_t i = 0; i < n; i++) {
		p->props[i].key = strdup(kv[2 * i]);
		p->props[i].value = strdup(kv[2 * i + 1]);
	}
	p->n_props = n;
	return p;
}

static void props_streams_and_containers(void **state)
{
	static const char *const kv[] = {
	    "parser-web", "apache",	    "parser",
	    "json",	  "exclude_stderr", "on",
	    "exclude-db", "true",	    "parser_stdout-web",
	    "nginx",	  "bogus",	    "x",
	    NULL};
	struct kube_pod *p = pod_with(kv);
	struct kube_props pr;

	(void)state;
	/* a container's own key wins over the general one, the last one
	 * of its kind wins */
	kube_props_for(p, "web", 3, KUBE_STREAM_STDOUT, true, true, &pr);
	assert_string_equal(pr.parser, "nginx");
	assert_false(pr.exclude);
	kube_props_for(p, "web", 3, KUBE_STREAM_STDERR, true, true, &pr);
	assert_string_equal(pr.parser, "apache");
	assert_true(pr.exclude);
	kube_props_for(p, "api", 3, KUBE_STREAM_STDOUT, true, true, &pr);
	assert_string_equal(pr.parser, "json");
	assert_false(pr.exclude);
	kube_props_for(p, "db", 2, KUBE_STREAM_STDOUT, true, true, &pr);
	assert_true(pr.exclude);
	/* no stream: excluded only when both streams are */
	kube_props_for(p, "api", 3, KUBE_STREAM_NONE, true, true, &pr);
	assert_false(pr.exclude);
	assert_string_equal(pr.parser, "json");
	/* each needs its K8S-Logging.* option */
	kube_props_for(p, "db", 2, KUBE_STREAM_STDOUT, true, false, &pr);
	assert_false(pr.exclude);
	kube_props_for(p, "api", 3, KUBE_STREAM_STDOUT, false, true, &pr);
	assert_null(pr.parser);
	kube_pod_destroy(p);
}

/* ---- record shape and merge ---------------------------------------------- */

static void kubernetes_object_order(void **state)
{
	const char *err = NULL;
	struct kube_pod *p = kube_pod_parse(POD, strlen(POD), &err);
	struct kube_tag_meta t;
	struct kube_shape all = {true, true, true}, none = {0};
	struct sl_buf b = {0};
	const char rest[] = "web-0_shop_c-" ID64 ".log";

	(void)state;
	assert_int_equal(kube_tag_parse(rest, strlen(rest), &t), 0);
	assert_int_equal(kube_record_object(&b, &t, p, &all), 0);
	assert_int_equal(sl_buf_append(&b, "", 1), 0);
	assert_string_equal(
	    b.data,
	    "{\"pod_name\":\"web-0\",\"namespace_name\":\"shop\",\"pod_id\":"
	    "\"u-1\",\"labels\":{\"app\":\"web\",\"a.b/c\":\"x\\\"y\"},"
	    "\"annotations\":{\"team\":\"t\",\"fluentbit.io/parser\":\"json\","
	    "\"fluentbit.io/"
	    "exclude_stderr-side\":\"true\"},\"ownerReferences\":"
	    "[{\"kind\":\"ReplicaSet\",\"name\":\"rs\"}],\"host\":\"node-1\","
	    "\"pod_ip\":\"10.0.0.1\",\"container_name\":\"c\",\"docker_id\":"
	    "\"" ID64 "\",\"container_hash\":\"nginx@sha256:ff\","
	    "\"container_image\":\"nginx:1\"}");
	sl_buf_reset(&b);
	/* without the pod: what the tag says, nothing else */
	assert_int_equal(kube_record_object(&b, &t, NULL, &none), 0);
	assert_int_equal(sl_buf_append(&b, "", 1), 0);
	assert_string_equal(b.data,
			    "{\"pod_name\":\"web-0\",\"namespace_name\":"
			    "\"shop\",\"container_name\":\"c\","
			    "\"docker_id\":\"" ID64 "\"}");
	sl_buf_destroy(&b);
	kube_pod_destroy(p);
}

static void trim_like_fluent_bit(void **state)
{
	(void)state;
	assert_int_equal(kube_trim_len("ab\n\n", 4), 2);
	assert_int_equal(kube_trim_len("ab\\n", 4), 2);
	assert_int_equal(kube_trim_len("ab\\r\n", 5), 2);
	assert_int_equal(kube_trim_len("\n", 1), 1); /* first byte stays */
	assert_int_equal(kube_trim_len("ab\r", 3), 3);
}

static void merge_members_prints_back(void **state)
{
	struct sl_buf b = {0};
	struct kube_keys k = {0};
	const char obj[] =
	    "{\"a\":\"x\\n\",\"n\":1.50,\"o\":{\"p\":[true,null]}}";

	(void)state;
	assert_int_equal(kube_merge_members(&b, 0, obj, strlen(obj), true, &k),
			 3);
	assert_int_equal(sl_buf_append(&b, "", 1), 0);
	assert_string_equal(b.data,
			    "\"a\":\"x\",\"n\":1.50,\"o\":{\"p\":[true,null]}");
	assert_true(kube_keys_has(&k, "n", 1));
	assert_false(kube_keys_has(&k, "p", 1));
	kube_keys_release(&k);
	assert_int_equal(kube_merge_members(&b, 0, "[1]", 3, true, NULL),
			 -SL_EPARSE);
	assert_int_equal(kube_merge_members(&b, 0, "not json", 8, true, NULL),
			 -SL_EPARSE);
	sl_buf_destroy(&b);
}

/* ---- the whole filter -----------------------------------------------------
 */

#define TAG "kube.var.log.containers.web-0_shop_c-" ID64 ".log"

static struct sl_test_filter *filter_with(const char *const *extra,
					  const char *parsers)
{
	const char *kv[40] = {"Kube_URL", "http://127.0.0.1:9",
			      "Kube_Token_File", "/nonexistent"};
	size_t n = 4;
	char *diag = NULL;
	struct sl_test_filter *tf;

	for (size_t i = 0; extra && extra[i]; i++)
		kv[n++] = extra[i];
	kv[n] = NULL;
	tf = sl_test_filter_create(&sl_filter_kubernetes, kv, parsers, &diag);
	if (!tf)
		fail_msg("kubernetes config failed: %s", diag ? diag : "?");
	free(diag);
	return tf;
}

/* Puts POD into the cache as if the API had answered. */
static void cache_pod(struct sl_test_filter *tf)
{
	struct kube_ctx *ctx = tf->ctx;
	const char *err = NULL;
	struct kube_entry *e =
	    kube_cache_add(&ctx->pods, "shop/web-0", 10, KUBE_POD);

	assert_non_null(e);
	e->pod = kube_pod_parse(POD, strlen(POD), &err);
	assert_non_null(e->pod);
	e->state = KUBE_READY;
	e->fetched = kube_now();
}

static enum sl_filter_verdict run(struct sl_test_filter *tf, const char *tag,
				  const char *json)
{
	enum sl_filter_verdict v;
	const char *body;
	size_t len;

	free(tf->out);
	tf->out = NULL;
	assert_int_equal(
	    sl_record_reset_json(&tf->rec, 1000000000, json, strlen(json)), 0);
	v = tf->plugin->filter(tf->ctx, &tf->rec, tag, strlen(tag));
	if (v == SL_FILTER_KEEP) {
		body = sl_record_body(&tf->rec, &len);
		tf->out = strndup(body, len);
	}
	return v;
}

#define SHORT_K8S                                                              \
	"\"kubernetes\":{\"pod_name\":\"web-0\",\"namespace_name\":\"shop\","  \
	"\"container_name\":\"c\",\"docker_id\":\"" ID64 "\"}"

static void filter_untouched_for_other_tags(void **state)
{
	struct sl_test_filter *tf = filter_with(NULL, NULL);

	(void)state;
	assert_int_equal(run(tf, "app.log", "{\"log\":\"x\"}"), SL_FILTER_KEEP);
	assert_string_equal(tf->out, "{\"log\":\"x\"}");
	sl_test_filter_destroy(tf);
}

static void filter_pending_gets_the_tag_metadata(void **state)
{
	static const char *const kv[] = {"Merge_Log", "On", NULL};
	struct sl_test_filter *tf = filter_with(kv, NULL);

	(void)state;
	/* nothing cached: asked for, and the record goes on at once */
	assert_int_equal(run(tf, TAG, "{\"log\":\"{\\\"a\\\":1}\"}"),
			 SL_FILTER_KEEP);
	assert_string_equal(
	    tf->out, "{\"log\":\"{\\\"a\\\":1}\",\"a\":1," SHORT_K8S "}");
	sl_test_filter_destroy(tf);
}

static void filter_merge_log_variants(void **state)
{
	static const char *const key[] = {
	    "Merge_Log", "On", "Merge_Log_Key", "app", "Use_Tag_For_Meta",
	    "On",	 NULL};
	static const char *const nokeep[] = {
	    "Merge_Log",	"On", "Keep_Log", "Off",
	    "Use_Tag_For_Meta", "On", NULL};
	static const char *const notrim[] = {
	    "Merge_Log", "On", "Merge_Log_Trim", "Off", "Use_Tag_For_Meta",
	    "On",	 NULL};
	struct sl_test_filter *tf = filter_with(key, NULL);

	(void)state;
	assert_int_equal(
	    run(tf, TAG, "{\"log\":\"{\\\"m\\\":\\\"hi\\\\n\\\"}\",\"s\":1}"),
	    SL_FILTER_KEEP);
	assert_string_equal(tf->out,
			    "{\"log\":\"{\\\"m\\\":\\\"hi\\\\n\\\"}\","
			    "\"s\":1,\"app\":{\"m\":\"hi\"}," SHORT_K8S "}");
	/* not an object: nothing merged, log kept */
	assert_int_equal(run(tf, TAG, "{\"log\":\"[1,2]\"}"), SL_FILTER_KEEP);
	assert_string_equal(tf->out, "{\"log\":\"[1,2]\"," SHORT_K8S "}");
	sl_test_filter_destroy(tf);

	tf = filter_with(nokeep, NULL);
	/* the merged value wins over an original field of the same name, and
	 * an old kubernetes object is replaced */
	assert_int_equal(
	    run(tf, TAG,
		"{\"s\":0,\"log\":\"{\\\"s\\\":1}\",\"kubernetes\":"
		"{\"old\":1}}"),
	    SL_FILTER_KEEP);
	assert_string_equal(tf->out, "{\"s\":1," SHORT_K8S "}");
	/* log already an object (MERGE_MAP) */
	assert_int_equal(run(tf, TAG, "{\"log\":{\"x\":\"y\\n\"}}"),
			 SL_FILTER_KEEP);
	assert_string_equal(tf->out, "{\"x\":\"y\\n\"," SHORT_K8S "}");
	/* a failed merge keeps log even with Keep_Log Off */
	assert_int_equal(run(tf, TAG, "{\"log\":\"plain\"}"), SL_FILTER_KEEP);
	assert_string_equal(tf->out, "{\"log\":\"plain\"," SHORT_K8S "}");
	sl_test_filter_destroy(tf);

	/* a merged "log" replaces the original one, never a second key */
	tf = filter_with(notrim, NULL);
	assert_int_equal(run(tf, TAG, "{\"log\":\"{\\\"log\\\":\\\"in\\\"}\"}"),
			 SL_FILTER_KEEP);
	assert_string_equal(tf->out, "{\"log\":\"in\"," SHORT_K8S "}");
	sl_test_filter_destroy(tf);

	tf = filter_with(notrim, NULL);
	assert_int_equal(
	    run(tf, TAG, "{\"log\":\"{\\\"m\\\":\\\"a\\\\n\\\"}\"}"),
	    SL_FILTER_KEEP);
	assert_string_equal(tf->out, "{\"log\":\"{\\\"m\\\":\\\"a\\\\n\\\"}\","
				     "\"m\":\"a\\n\"," SHORT_K8S "}");
	sl_test_filter_destroy(tf);
}

static void filter_with_cached_pod(void **state)
{
	static const char *const kv[] = {"Labels", "Off", "Annotations", "Off",
					 NULL};
	struct sl_test_filter *tf = filter_with(kv, NULL);
	struct kube_ctx *ctx = tf->ctx;

	(void)state;
	cache_pod(tf);
	assert_int_equal(run(tf, TAG, "{\"log\":\"x\"}"), SL_FILTER_KEEP);
	assert_string_equal(
	    tf->out,
	    "{\"log\":\"x\",\"kubernetes\":{\"pod_name\":\"web-0\","
	    "\"namespace_name\":\"shop\",\"pod_id\":\"u-1\",\"host\":\"node-"
	    "1\","
	    "\"pod_ip\":\"10.0.0.1\",\"container_name\":\"c\",\"docker_id\":"
	    "\"" ID64 "\",\"container_hash\":\"nginx@sha256:ff\","
	    "\"container_image\":\"nginx:1\"}}");
	/* one lookup per record, no request: the pod was cached */
	assert_int_equal(ctx->pods.n, 1);
	assert_false(kube_cache_find(&ctx->pods, "shop/web-0", 10)->asking);
	sl_test_filter_destroy(tf);
}

static void filter_annotation_parser_and_exclude(void **state)
{
	static const char *const kv[] = {"Merge_Log",
					 "On",
					 "K8S-Logging.Parser",
					 "On",
					 "K8S-Logging.Exclude",
					 "On",
					 "Labels",
					 "Off",
					 "Annotations",
					 "Off",
					 NULL};
	char *parsers =
	    sl_test_write_temp("[PARSER]\n    Name json\n    Format json\n");
	struct sl_test_filter *tf = filter_with(kv, parsers);
	const char side[] =
	    "kube.var.log.containers.web-0_shop_side-" ID64 ".log";

	(void)state;
	cache_pod(tf);
	/* fluentbit.io/parser json: parsed by the named parser */
	assert_int_equal(run(tf, TAG,
			     "{\"log\":\"{\\\"k\\\":\\\"v\\\"}\","
			     "\"stream\":\"stdout\"}"),
			 SL_FILTER_KEEP);
	assert_non_null(strstr(tf->out, "\"stream\":\"stdout\",\"k\":\"v\","));
	/* fluentbit.io/exclude_stderr-side: only side's stderr is dropped */
	assert_int_equal(run(tf, side, "{\"log\":\"a\",\"stream\":\"stderr\"}"),
			 SL_FILTER_DROP);
	assert_int_equal(run(tf, side, "{\"log\":\"a\",\"stream\":\"stdout\"}"),
			 SL_FILTER_KEEP);
	assert_int_equal(run(tf, TAG, "{\"log\":\"a\",\"stream\":\"stderr\"}"),
			 SL_FILTER_KEEP);
	sl_test_filter_destroy(tf);
	unlink(parsers);
	free(parsers);
}

static void filter_dummy_meta(void **state)
{
	static const char *const kv[] = {"Dummy_Meta", "On", NULL};
	struct sl_test_filter *tf = filter_with(kv, NULL);

	(void)state;
	assert_int_equal(run(tf, "any", "{\"log\":\"x\"}"), SL_FILTER_KEEP);
	assert_non_null(strstr(tf->out, "\"kubernetes\":{\"dummy\":\""));
	sl_test_filter_destroy(tf);
}

static void refused(const char *opt, const char *value)
{
	const char *kv[] = {opt, value, NULL};
	char *diag = NULL;
	struct sl_test_filter *tf =
	    sl_test_filter_create(&sl_filter_kubernetes, kv, NULL, &diag);

	assert_null(tf);
	assert_non_null(diag);
	if (!strstr(diag, opt) || !strstr(diag, "test.conf:"))
		fail_msg("expected '%s' and the file in: %s", opt, diag);
	free(diag);
}

static void options_refused_by_name(void **state)
{
	(void)state;
	refused("use_journal", "on");
	refused("kube_token_command", "cat /token");
	refused("regex_parser", "custom");
	refused("kube_meta_preload_cache_dir", "/meta");
	refused("tls.vhost", "api");
	refused("dns_retries", "3");
	refused("aws_use_pod_association", "on");
	refused("set_platform", "eks");
	refused("merge_parser", "no-such-parser");
	refused("kube_url", "ftp://x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tag_kubelet_names),
	    cmocka_unit_test(tag_other_names),
	    cmocka_unit_test(pod_parse_fields),
	    cmocka_unit_test(pod_parse_refuses_bad_answers),
	    cmocka_unit_test(pod_list_and_namespace),
	    cmocka_unit_test(watch_events),
	    cmocka_unit_test(hash_cut_like_fluent_bit),
	    cmocka_unit_test(cache_bounded_lru),
	    cmocka_unit_test(props_streams_and_containers),
	    cmocka_unit_test(kubernetes_object_order),
	    cmocka_unit_test(trim_like_fluent_bit),
	    cmocka_unit_test(merge_members_prints_back),
	    cmocka_unit_test(filter_untouched_for_other_tags),
	    cmocka_unit_test(filter_pending_gets_the_tag_metadata),
	    cmocka_unit_test(filter_merge_log_variants),
	    cmocka_unit_test(filter_with_cached_pod),
	    cmocka_unit_test(filter_annotation_parser_and_exclude),
	    cmocka_unit_test(filter_dummy_meta),
	    cmocka_unit_test(options_refused_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
