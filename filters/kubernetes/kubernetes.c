/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubernetes.c - the kubernetes filter: Fluent Bit's filter_kubernetes on
 * sluice's record view. Per record: the tag names the pod; the cache gives
 * its metadata if the API thread has brought it; the record gets the
 * "kubernetes" object (with labels when known, always with what the tag
 * says), Merge_Log's fields and the annotations' parser or exclusion.
 * Nothing here waits on the network: a missing pod is asked for once and
 * records go on meanwhile, counted as records without metadata.
 */
#include "kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>

enum without_reason {
	WO_TAG = 0,	 /* the tag does not name a pod */
	WO_PENDING,	 /* asked, no answer yet */
	WO_NOT_FOUND,	 /* 404 */
	WO_UNAUTHORIZED, /* 401 / 403 */
	WO_API_ERROR,	 /* 5xx, another status, a bad or too big answer */
	WO_UNREACHABLE,	 /* no answer */
	WO_N,
};
static const char *const without_names[WO_N] = {
    "tag", "pending", "not_found", "unauthorized", "api_error", "unreachable",
};

/* ---- metrics --------------------------------------------------------------
 */

static void count_without(struct kube_ctx *ctx, enum without_reason r)
{
	const char *vals[2];

	if (!ctx->f_without)
		return;
	if (!ctx->s_without[r]) {
		vals[0] = sl_plugin_instance_name(ctx->ins);
		vals[1] = without_names[r];
		ctx->s_without[r] =
		    sl_plugin_metric_series(ctx->ins, ctx->f_without, vals);
	}
	if (ctx->s_without[r])
		sl_metric_add(ctx->s_without[r], 1);
}

static void count_request(struct kube_ctx *ctx, int code)
{
	char buf[16];
	const char *vals[2];
	struct sl_metric_series *s;

	if (!ctx->f_requests)
		return;
	if (code > 0)
		snprintf(buf, sizeof(buf), "%d", code);
	else
		snprintf(buf, sizeof(buf), "%s",
			 code == KUBE_CODE_NO_ANSWER ? "error"
			 : code == KUBE_CODE_TOO_BIG ? "too_big"
						     : "bad_answer");
	vals[0] = sl_plugin_instance_name(ctx->ins);
	vals[1] = buf;
	s = sl_plugin_metric_series(ctx->ins, ctx->f_requests, vals);
	if (s)
		sl_metric_add(s, 1);
}

static void count(struct sl_metric_series *s)
{
	if (s)
		sl_metric_add(s, 1);
}

static struct sl_metric_family *family(struct kube_ctx *ctx, const char *name,
				       const char *help, const char *label2)
{
	const char *labels[2] = {"name", label2}, *err = NULL;

	return sl_plugin_metric_family(ctx->ins, name, help, SL_METRIC_COUNTER,
				       labels, label2 ? 2 : 1, NULL, 0, 0, NULL,
				       &err);
}

/* ---- answers --------------------------------------------------------------
 */

/* Seconds until a failed entry is asked for again: 1, 2, 4 ... 60. */
static double backoff(unsigned failures)
{
	double s = 1;

	for (unsigned i = 1; i < failures && s < 60; i++)
		s *= 2;
	return s < 60 ? s : 60;
}

static const char *code_text(int code, char *buf, size_t len)
{
	if (code > 0)
		snprintf(buf, len, "HTTP %d", code);
	else
		snprintf(buf, len, "%s",
			 code == KUBE_CODE_NO_ANSWER ? "no answer"
			 : code == KUBE_CODE_TOO_BIG
			     ? "an answer over Buffer_Size"
			     : "an unreadable answer");
	return buf;
}

/*
 * Failures are logged at most once a minute (a down API would otherwise
 * log once per pod), with the number left out since.
 */
static void warn_failed(struct kube_ctx *ctx, const struct kube_entry *e,
			int code, double now)
{
	char buf[64];

	if (ctx->warned_at > 0 && now - ctx->warned_at < 60) {
		ctx->warn_suppressed++;
		return;
	}
	sl_log(SL_LOG_WARN, "kubernetes",
	       "%s %s: %s; its records keep the metadata of their file name "
	       "(%u more failures since the last warning)",
	       e->kind == KUBE_NS ? "namespace" : "pod", e->key,
	       code_text(code, buf, sizeof(buf)), ctx->warn_suppressed);
	ctx->warned_at = now;
	ctx->warn_suppressed = 0;
}

static void entry_failed(struct kube_ctx *ctx, struct kube_entry *e, int code,
			 double now)
{
	warn_failed(ctx, e, code, now);
	e->asking = false;
	e->last_code = code;
	e->failures++;
	e->retry_at = now + backoff(e->failures);
	if (e->state == KUBE_PENDING || !e->pod)
		e->state =
		    e->kind == KUBE_NS && e->nsm ? KUBE_READY : KUBE_FAILED;
	/* a READY entry whose refresh failed keeps serving what it has */
}

static void entry_pod(struct kube_ctx *ctx, struct kube_entry *e,
		      struct kube_pod *p, double now)
{
	ctx->pods.gen++; /* the memoised kubernetes object is stale */
	kube_pod_destroy(e->pod);
	e->pod = p;
	e->state = KUBE_READY;
	e->asking = false;
	e->failures = 0;
	e->last_code = 0;
	e->fetched = now;
}

static struct kube_msg *msg_new(enum kube_req_kind kind, const char *key,
				const char *ns, size_t ns_len, const char *pod,
				size_t pod_len)
{
	struct kube_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->kind = kind;
	m->key = strdup(key);
	m->ns = ns ? strndup(ns, ns_len) : NULL;
	m->pod = pod ? strndup(pod, pod_len) : NULL;
	if (!m->key || (ns && !m->ns) || (pod && !m->pod)) {
		kube_msg_destroy(m);
		return NULL;
	}
	return m;
}

static void ask_node(struct kube_ctx *ctx)
{
	struct kube_msg *m;

	if (ctx->node_asking)
		return;
	m = msg_new(KUBE_REQ_NODE, "", NULL, 0, NULL, 0);
	if (!m)
		return;
	ctx->node_asking = true;
	ctx->kubelet_asked = kube_now();
	kube_api_ask(&ctx->api, m);
}

/* Asks for the pod of entry e (key "ns/pod[/id]"). */
static void ask_pod(struct kube_ctx *ctx, struct kube_entry *e)
{
	const char *slash = strchr(e->key, '/'), *pod, *end;
	struct kube_msg *m;

	e->asking = true;
	if (ctx->use_kubelet || ctx->node_asking) {
		e->on_node = true;
		/* the node-wide answer resolves it (see node_answer) */
		if (ctx->use_kubelet)
			ask_node(ctx);
		return;
	}
	pod = slash + 1;
	end = strchr(pod, '/');
	m = msg_new(KUBE_REQ_POD, e->key, e->key, (size_t)(slash - e->key), pod,
		    end ? (size_t)(end - pod) : strlen(pod));
	if (!m) {
		e->asking = false;
		return;
	}
	kube_api_ask(&ctx->api, m);
}

static void ask_ns(struct kube_ctx *ctx, struct kube_entry *e)
{
	struct kube_msg *m =
	    msg_new(KUBE_REQ_NS, e->key, e->key, strlen(e->key), NULL, 0);

	if (!m)
		return;
	e->asking = true;
	kube_api_ask(&ctx->api, m);
}

static struct kube_pod *list_find(struct kube_msg *m, const char *key)
{
	const char *slash = strchr(key, '/'), *pod = slash + 1, *end;
	size_t ns_len = (size_t)(slash - key), pod_len;

	end = strchr(pod, '/');
	pod_len = end ? (size_t)(end - pod) : strlen(pod);
	for (size_t i = 0; i < m->n_list; i++) {
		struct kube_pod *p = m->list[i];

		if (p && strlen(p->ns) == ns_len &&
		    strncmp(p->ns, key, ns_len) == 0 &&
		    strlen(p->name) == pod_len &&
		    strncmp(p->name, pod, pod_len) == 0)
			return p;
	}
	return NULL;
}

/*
 * Every pod of the node: fills the entries waiting for it and adds the
 * others, so the first records of pods already running find their labels.
 */
static void node_answer(struct kube_ctx *ctx, struct kube_msg *m, double now)
{
	struct kube_cache *c = &ctx->pods;
	bool ok = m->code == 200;

	ctx->node_asking = false;
	for (size_t b = 0; b < c->n_buckets; b++)
		for (struct kube_entry *e = c->buckets[b]; e; e = e->next) {
			struct kube_pod *p;

			if (!e->on_node)
				continue;
			e->on_node = false;
			p = ok ? list_find(m, e->key) : NULL;
			if (p) {
				/* a copy for each key with cache_use_docker_id:
				 * parse again is not possible, so move it */
				for (size_t i = 0; i < m->n_list; i++)
					if (m->list[i] == p)
						m->list[i] = NULL;
				entry_pod(ctx, e, p, now);
			} else if (ok && !ctx->use_kubelet) {
				e->asking = false;
				ask_pod(ctx, e); /* not listed: ask alone */
			} else {
				entry_failed(ctx, e, ok ? 404 : m->code, now);
			}
		}
	if (!ok || ctx->cache_use_docker_id)
		return; /* such keys carry the id the list does not give */
	for (size_t i = 0; i < m->n_list; i++) {
		struct kube_pod *p = m->list[i];
		char key[600];
		int n;
		struct kube_entry *e;

		if (!p)
			continue;
		n = snprintf(key, sizeof(key), "%s/%s", p->ns, p->name);
		if (n <= 0 || (size_t)n >= sizeof(key))
			continue;
		e = kube_cache_find(c, key, (size_t)n);
		if (!e)
			e = kube_cache_add(c, key, (size_t)n, KUBE_POD);
		if (e) {
			m->list[i] = NULL;
			entry_pod(ctx, e, p, now);
		}
	}
}

/*
 * A pod of this node was added or changed: cached before its first log
 * line is read, in the usual case (the pod exists before its containers).
 */
static void watch_event(struct kube_ctx *ctx, struct kube_msg *m, double now)
{
	struct kube_pod *p = m->pod_meta;
	char key[600];
	int n;
	struct kube_entry *e;

	count(ctx->s_watch);
	if (ctx->cache_use_docker_id)
		return; /* such keys carry an id the event does not give */
	n = snprintf(key, sizeof(key), "%s/%s", p->ns, p->name);
	if (n <= 0 || (size_t)n >= sizeof(key))
		return;
	e = kube_cache_find(&ctx->pods, key, (size_t)n);
	if (!e)
		e = kube_cache_add(&ctx->pods, key, (size_t)n, KUBE_POD);
	if (!e)
		return;
	m->pod_meta = NULL;
	entry_pod(ctx, e, p, now); /* a GET in flight refreshes it again */
	e->on_node = false;
}

/* Applies the API thread's answers to the cache (engine thread). */
static void take_answers(struct kube_ctx *ctx)
{
	struct kube_msg *m = kube_api_take(&ctx->api), *next;
	double now;

	if (!m)
		return;
	now = kube_now();
	for (; m; m = next) {
		struct kube_entry *e;

		next = m->next;
		if (m->kind != KUBE_REQ_WATCH)
			count_request(ctx, m->code);
		if (m->kind == KUBE_REQ_NODE) {
			node_answer(ctx, m, now);
		} else if (m->kind == KUBE_REQ_WATCH) {
			watch_event(ctx, m, now);
		} else if (m->kind == KUBE_REQ_POD) {
			e = kube_cache_find(&ctx->pods, m->key, strlen(m->key));
			if (e && m->code == 200 && m->pod_meta) {
				entry_pod(ctx, e, m->pod_meta, now);
				m->pod_meta = NULL;
			} else if (e) {
				entry_failed(ctx, e, m->code, now);
			}
		} else {
			e = kube_cache_find(&ctx->namespaces, m->key,
					    strlen(m->key));
			if (e && m->code == 200 && m->ns_meta) {
				kube_namespace_destroy(e->nsm);
				e->nsm = m->ns_meta;
				m->ns_meta = NULL;
				e->state = KUBE_READY;
				e->asking = false;
				e->failures = 0;
				e->fetched = now;
			} else if (e) {
				entry_failed(ctx, e, m->code, now);
			}
		}
		kube_msg_destroy(m);
	}
}

static enum without_reason reason_of(const struct kube_entry *e)
{
	if (!e || e->state == KUBE_PENDING)
		return WO_PENDING;
	switch (e->last_code) {
	case 404:
		return WO_NOT_FOUND;
	case 401:
	case 403:
		return WO_UNAUTHORIZED;
	case KUBE_CODE_NO_ANSWER:
		return WO_UNREACHABLE;
	default:
		return e->asking ? WO_PENDING : WO_API_ERROR;
	}
}

/*
 * The entry for key, asked for when missing, stale (TTL) or failed and due
 * for a retry. Never waits.
 */
static struct kube_entry *lookup(struct kube_ctx *ctx, struct kube_cache *c,
				 const char *key, size_t len,
				 enum kube_kind kind, double ttl)
{
	struct kube_entry *e = kube_cache_find(c, key, len);
	double now;

	bool pod = kind == KUBE_POD;

	if (!e) {
		count(pod ? ctx->s_misses : NULL);
		e = kube_cache_add(c, key, len, kind);
		if (!e)
			return NULL;
		if (kind == KUBE_POD)
			ask_pod(ctx, e);
		else
			ask_ns(ctx, e);
		return e;
	}
	if (e->asking)
		return e;
	if (e->state == KUBE_READY && ttl <= 0 && !e->failures) {
		count(pod ? ctx->s_hits : NULL);
		return e;
	}
	now = kube_now();
	if ((e->state == KUBE_READY && ttl > 0 && now - e->fetched >= ttl &&
	     now >= e->retry_at) ||
	    (e->state != KUBE_READY && now >= e->retry_at) ||
	    (e->state == KUBE_READY && e->failures && now >= e->retry_at)) {
		if (kind == KUBE_POD)
			ask_pod(ctx, e);
		else
			ask_ns(ctx, e);
	}
	if (e->state == KUBE_READY)
		count(pod ? ctx->s_hits : NULL);
	return e;
}

/* ---- the record -----------------------------------------------------------
 */

static enum kube_stream stream_of(struct kube_ctx *ctx, struct sl_record *rec)
{
	const char *s;
	size_t n;

	if (sl_record_get_text(rec, ctx->acc_stream, &ctx->scratch2, &s, &n) <
	    0)
		return KUBE_STREAM_NONE;
	if (n == 6 && memcmp(s, "stdout", 6) == 0)
		return KUBE_STREAM_STDOUT;
	if (n == 6 && memcmp(s, "stderr", 6) == 0)
		return KUBE_STREAM_STDERR;
	return KUBE_STREAM_OTHER;
}

enum merge_status {
	MERGE_NONE = 0,
	MERGE_PARSED, /* a string parsed (JSON or a parser) */
	MERGE_MAP,    /* 'log' was an object already */
};

/*
 * Merge_Log: fills ctx->tmp with the members to merge and `keys` with their
 * names. May replace the record's body (a parser writes into the record:
 * the original is put back).
 */
static enum merge_status merge(struct kube_ctx *ctx, struct sl_record *rec,
			       const struct sl_parser *parser,
			       struct kube_keys *keys)
{
	struct sl_value v;
	const char *text, *body;
	size_t len, blen;
	char *orig;
	int rc;

	sl_buf_reset(&ctx->tmp);
	if (sl_record_get(rec, ctx->acc_log, &v) < 0)
		return MERGE_NONE;
	if (v.type == SL_VAL_OBJECT)
		return kube_merge_members(&ctx->tmp, 0, v.raw, v.raw_len, false,
					  keys) >= 0
			   ? MERGE_MAP
			   : MERGE_NONE;
	if (v.type != SL_VAL_STRING ||
	    sl_record_get_text(rec, ctx->acc_log, &ctx->scratch, &text, &len) <
		0)
		return MERGE_NONE;
	if (!parser) /* Fluent Bit's default: the JSON object in the string */
		return kube_merge_members(&ctx->tmp, 0, text, len,
					  ctx->merge_log_trim, keys) >= 0
			   ? MERGE_PARSED
			   : MERGE_NONE;
	/* a parser replaces the body: keep the original and the text */
	body = sl_record_body(rec, &blen);
	orig = malloc(blen + len + 1);
	if (!orig)
		return MERGE_NONE;
	memcpy(orig, body, blen);
	memcpy(orig + blen, text, len);
	rc = sl_parser_apply(parser, orig + blen, len, rec);
	if (rc == 0) {
		const char *parsed = sl_record_body(rec, &len);

		rc = kube_merge_members(&ctx->tmp, 0, parsed, len,
					ctx->merge_log_trim, keys);
		if (sl_record_set_body(rec, orig, blen) < 0)
			rc = -SL_ENOMEM;
	}
	free(orig);
	return rc >= 0 ? MERGE_PARSED : MERGE_NONE;
}

static int append_field(struct sl_buf *b, const char *key, size_t klen,
			const char *raw, size_t rlen)
{
	int rc = 0;

	if (b->len > 1)
		rc |= sl_buf_append(b, ",", 1);
	rc |= sl_json_append_string(b, key, klen);
	rc |= sl_buf_append(b, ":", 1);
	rc |= sl_buf_append(b, raw, rlen);
	return rc ? -SL_ENOMEM : 0;
}

static bool key_is(const char *k, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(k, want, len) == 0;
}

/* Writes the new body: fields, merged fields, kubernetes objects. */
static int assemble(struct kube_ctx *ctx, struct sl_record *rec,
		    enum merge_status ms, const struct kube_keys *keys,
		    const struct sl_buf *kube, const struct sl_buf *kns)
{
	struct sl_buf *b = &ctx->out;
	struct sl_value v;
	const char *k;
	size_t pos = 0, klen;
	int rc = 0;

	sl_buf_reset(b);
	rc |= sl_buf_append(b, "{", 1);
	while (rc == 0 && sl_record_next_field(rec, &pos, &ctx->scratch2, &k,
					       &klen, &v) == 1) {
		if ((kube->len && key_is(k, klen, "kubernetes")) ||
		    (kns->len && key_is(k, klen, "kubernetes_namespace")))
			continue; /* replaced by ours */
		if (ms != MERGE_NONE && key_is(k, klen, "log") &&
		    !ctx->keep_log)
			continue;
		if (ms != MERGE_NONE && !ctx->merge_log_key &&
		    kube_keys_has(keys, k, klen))
			continue; /* the merged value wins, "log" too */
		rc |= append_field(b, k, klen, v.raw, v.raw_len);
	}
	if (ms != MERGE_NONE && ctx->tmp.len) {
		if (ctx->merge_log_key) {
			rc |= append_field(b, ctx->merge_log_key,
					   strlen(ctx->merge_log_key), "{", 1);
			rc |= sl_buf_append(b, ctx->tmp.data, ctx->tmp.len);
			rc |= sl_buf_append(b, "}", 1);
		} else {
			if (b->len > 1)
				rc |= sl_buf_append(b, ",", 1);
			rc |= sl_buf_append(b, ctx->tmp.data, ctx->tmp.len);
		}
	}
	if (kube->len)
		rc |= append_field(b, "kubernetes", 10, kube->data, kube->len);
	if (kns->len)
		rc |= append_field(b, "kubernetes_namespace", 20, kns->data,
				   kns->len);
	rc |= sl_buf_append(b, "}", 1);
	if (rc)
		return -SL_ENOMEM;
	return sl_record_set_body(rec, b->data, b->len);
}

static int dummy_object(struct sl_buf *b)
{
	char stime[32];
	struct tm tm;
	time_t t = time(NULL);
	size_t n;
	int rc;

	localtime_r(&t, &tm);
	if (!asctime_r(&tm, stime))
		return -SL_EINVAL;
	n = strlen(stime);
	if (n && stime[n - 1] == '\n')
		n--;
	rc = sl_buf_append(b, "{\"dummy\":", 9);
	rc |= sl_json_append_string(b, stime, n);
	rc |= sl_buf_append(b, "}", 1);
	return rc ? -SL_ENOMEM : 0;
}

/*
 * The tag's metadata, split again only when the tag differs from the last
 * record's (a chunk is one tag; the memo keeps offsets, not pointers).
 * The kubernetes object built for it is kept with it (see kube_filter).
 */
static int tag_meta(struct kube_ctx *ctx, const char *tag, size_t tag_len,
		    size_t plen, struct kube_tag_meta *t)
{
	struct kube_memo *mm = &ctx->memo;

	if (mm->tag_ok && mm->tag.len == tag_len &&
	    memcmp(mm->tag.data, tag, tag_len) == 0) {
		*t = mm->t; /* lengths; the spans are made from the offsets */
		t->pod = tag + mm->off[0];
		t->ns = tag + mm->off[1];
		t->container = tag + mm->off[2];
		t->docker_id = tag + mm->off[3];
		return 0;
	}
	mm->tag_ok = false;
	mm->kube_ok = false;
	if (kube_tag_parse(tag + plen, tag_len - plen, t) < 0)
		return -SL_ENOENT;
	sl_buf_reset(&mm->tag);
	if (sl_buf_append(&mm->tag, tag, tag_len) == 0) {
		mm->t = *t;
		mm->off[0] = (size_t)(t->pod - tag);
		mm->off[1] = (size_t)(t->ns - tag);
		mm->off[2] = (size_t)(t->container - tag);
		mm->off[3] = (size_t)(t->docker_id - tag);
		mm->tag_ok = true;
	}
	return 0;
}

static enum sl_filter_verdict kube_filter(void *data, struct sl_record *rec,
					  const char *tag, size_t tag_len)
{
	struct kube_ctx *ctx = data;
	struct kube_tag_meta t;
	struct kube_entry *pe = NULL, *ne = NULL;
	struct kube_props props = {0};
	struct kube_keys keys = {0};
	const struct sl_parser *parser = NULL;
	enum merge_status ms = MERGE_NONE;
	size_t plen = strlen(ctx->tag_prefix);
	char key[768];
	int n;

	if (ctx->api_on)
		take_answers(ctx);
	sl_buf_reset(&ctx->kube);
	sl_buf_reset(&ctx->kns);
	if (ctx->dummy_meta) {
		if (dummy_object(&ctx->kube) == 0)
			assemble(ctx, rec, MERGE_NONE, &keys, &ctx->kube,
				 &ctx->kns);
		return SL_FILTER_KEEP;
	}
	/* like Fluent Bit, the prefix is skipped by its length */
	if (plen + 1 >= tag_len || tag_meta(ctx, tag, tag_len, plen, &t) < 0) {
		count_without(ctx, WO_TAG);
		return SL_FILTER_KEEP; /* not a container log: untouched */
	}
	if (ctx->namespace_labels || ctx->namespace_annotations) {
		if (ctx->api_on && t.ns_len < 256)
			ne = lookup(ctx, &ctx->namespaces, t.ns, t.ns_len,
				    KUBE_NS, ctx->ns_cache_ttl);
		kube_record_ns_object(
		    &ctx->kns, t.ns, t.ns_len, ne ? ne->nsm : NULL,
		    ctx->namespace_labels, ctx->namespace_annotations);
	}
	if (!ctx->namespace_metadata_only) {
		if (ctx->api_on) {
			n = ctx->cache_use_docker_id
				? snprintf(key, sizeof(key), "%.*s/%.*s/%.*s",
					   (int)t.ns_len, t.ns, (int)t.pod_len,
					   t.pod, (int)t.docker_id_len,
					   t.docker_id)
				: snprintf(key, sizeof(key), "%.*s/%.*s",
					   (int)t.ns_len, t.ns, (int)t.pod_len,
					   t.pod);
			if (n > 0 && (size_t)n < sizeof(key))
				pe = lookup(ctx, &ctx->pods, key, (size_t)n,
					    KUBE_POD, ctx->meta_cache_ttl);
			if (!pe || !pe->pod)
				count_without(ctx, reason_of(pe));
		}
		/* the same file and metadata as the last record: same object */
		if (!ctx->memo.kube_ok || ctx->memo.gen != ctx->pods.gen ||
		    ctx->memo.pod != (pe ? pe->pod : NULL)) {
			sl_buf_reset(&ctx->memo.kube);
			ctx->memo.kube_ok =
			    kube_record_object(&ctx->memo.kube, &t,
					       pe ? pe->pod : NULL,
					       &ctx->shape) == 0;
			ctx->memo.gen = ctx->pods.gen;
			ctx->memo.pod = pe ? pe->pod : NULL;
		}
		if (ctx->memo.kube_ok)
			sl_buf_append(&ctx->kube, ctx->memo.kube.data,
				      ctx->memo.kube.len);
	}
	if (pe && pe->pod &&
	    (ctx->k8s_logging_parser || ctx->k8s_logging_exclude)) {
		kube_props_for(pe->pod, t.container, t.container_len,
			       stream_of(ctx, rec), ctx->k8s_logging_parser,
			       ctx->k8s_logging_exclude, &props);
		if (props.exclude)
			return SL_FILTER_DROP; /* counted by the engine */
		if (props.parser) {
			parser = sl_plugin_parser_find(ctx->ins, props.parser);
			if (!parser)
				sl_log(SL_LOG_DEBUG, "kubernetes",
				       "annotation parser '%s' not found "
				       "(ns='%s' pod_name='%s')",
				       props.parser, pe->pod->ns,
				       pe->pod->name);
		}
	}
	if (ctx->merge_log)
		ms = merge(ctx, rec, parser ? parser : ctx->merge_parser_p,
			   &keys);
	if (assemble(ctx, rec, ms, &keys, &ctx->kube, &ctx->kns) < 0)
		sl_log(SL_LOG_WARN, "kubernetes",
		       "out of memory: record left without metadata");
	kube_keys_release(&keys);
	return SL_FILTER_KEEP;
}

/* ---- init / destroy -------------------------------------------------------
 */

static char *strip_slash(const char *url)
{
	char *s = strdup(url);
	size_t n = s ? strlen(s) : 0;

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

static int kube_init(void *data, struct sl_plugin_instance *ins)
{
	struct kube_ctx *ctx = data;
	struct kube_api_cfg cfg = {0};
	const char *err = NULL, *node;
	int bad;

	ctx->ins = ins;
	bad = kube_conf_refuse(ctx, ins);
	if (ctx->merge_parser) {
		ctx->merge_parser_p =
		    sl_plugin_parser_find(ins, ctx->merge_parser);
		if (!ctx->merge_parser_p) {
			sl_plugin_error(ins, 0, "merge_parser: no parser '%s'",
					ctx->merge_parser);
			bad++;
		}
	}
	if (ctx->merge_log_key && !*ctx->merge_log_key) {
		sl_plugin_error(ins, 0, "merge_log_key must not be empty");
		bad++;
	}
	if (strncmp(ctx->kube_url, "https://", 8) != 0 &&
	    strncmp(ctx->kube_url, "http://", 7) != 0) {
		sl_plugin_error(ins, 0,
				"kube_url: '%s' is not an http:// or https:// "
				"URL",
				ctx->kube_url);
		bad++;
	}
	if (bad)
		return -SL_ECONFIG;
	ctx->shape.labels = ctx->labels;
	ctx->shape.annotations = ctx->annotations;
	ctx->shape.owner_references = ctx->owner_references;
	ctx->acc_log = sl_accessor_create("log", &err);
	ctx->acc_stream = sl_accessor_create("stream", &err);
	if (!ctx->acc_log || !ctx->acc_stream ||
	    kube_cache_init(&ctx->pods, (size_t)ctx->cache_size) < 0 ||
	    kube_cache_init(&ctx->namespaces, (size_t)ctx->cache_size) < 0)
		return -SL_ENOMEM;

	ctx->f_requests = family(ctx, "sluice_kubernetes_requests_total",
				 "Kubernetes API requests by answer", "code");
	ctx->f_without = family(
	    ctx, "sluice_kubernetes_records_without_metadata_total",
	    "Records that got only the tag's metadata, by reason", "reason");
	{
		struct sl_metric_family *h =
		    family(ctx, "sluice_kubernetes_cache_hits_total",
			   "Records whose pod metadata was cached", NULL);
		struct sl_metric_family *m =
		    family(ctx, "sluice_kubernetes_cache_misses_total",
			   "Records whose pod was not in the cache", NULL);
		const char *vals[1] = {sl_plugin_instance_name(ins)};

		struct sl_metric_family *w = family(
		    ctx, "sluice_kubernetes_watch_events_total",
		    "Pods of this node added or changed, from the watch", NULL);

		ctx->s_watch = w ? sl_plugin_metric_series(ins, w, vals) : NULL;
		ctx->s_hits = h ? sl_plugin_metric_series(ins, h, vals) : NULL;
		ctx->s_misses =
		    m ? sl_plugin_metric_series(ins, m, vals) : NULL;
	}

	ctx->api_on = !ctx->dummy_meta && !ctx->use_tag_for_meta;
	if (!ctx->api_on)
		return 0;
	/* not an error: a config is checked (--dry-run) off the cluster too */
	if (ctx->ca_file && *ctx->ca_file && !(ctx->ca_path && *ctx->ca_path) &&
	    access(ctx->ca_file, R_OK) != 0)
		sl_log(SL_LOG_WARN, "kubernetes",
		       "Kube_CA_File %s: %s: the API's certificate cannot be "
		       "verified until it is there",
		       ctx->ca_file, strerror(errno));
	ctx->api_url = strip_slash(ctx->kube_url);
	if (!ctx->api_url)
		return -SL_ENOMEM;
	if (ctx->use_kubelet) {
		size_t n = strlen(ctx->kubelet_host) + 32;

		ctx->kubelet_url = malloc(n);
		if (!ctx->kubelet_url)
			return -SL_ENOMEM;
		snprintf(ctx->kubelet_url, n, "https://%s:%lld",
			 ctx->kubelet_host, (long long)ctx->kubelet_port);
	}
	/* the DaemonSet passes the node's name (downward API): with it, the
	 * node's pods are listed at start and watched from then on */
	node = getenv("NODE_NAME");
	if (node && *node) {
		ctx->node_name = strdup(node);
		if (!ctx->node_name)
			return -SL_ENOMEM;
	}
	cfg.url = ctx->api_url;
	cfg.kubelet_url = ctx->kubelet_url;
	cfg.node_name = ctx->node_name;
	cfg.ca_file = ctx->ca_file;
	cfg.ca_path = ctx->ca_path;
	cfg.token_file = ctx->token_file;
	cfg.tls_verify = ctx->tls_verify;
	cfg.tls_verify_hostname = ctx->tls_verify_hostname;
	cfg.tls_debug = ctx->tls_debug > 0;
	cfg.token_ttl = ctx->token_ttl;
	cfg.buffer_size = ctx->buffer_size;
	if (kube_api_start(&ctx->api, &cfg) < 0)
		return -SL_EIO;
	if (ctx->namespace_metadata_only)
		return 0;
	if (ctx->use_kubelet) {
		ask_node(ctx); /* the kubelet has no watch: /pods at start */
	} else if (ctx->node_name) {
		/* the watcher lists the node's pods, then watches them */
		ctx->node_asking = true;
		if (kube_api_start_watch(&ctx->api) < 0)
			return -SL_EIO;
	}
	return 0;
}

static void kube_destroy(void *data)
{
	struct kube_ctx *ctx = data;

	kube_api_stop(&ctx->api);
	kube_cache_destroy(&ctx->pods);
	kube_cache_destroy(&ctx->namespaces);
	sl_accessor_destroy(ctx->acc_log);
	sl_accessor_destroy(ctx->acc_stream);
	sl_buf_destroy(&ctx->out);
	sl_buf_destroy(&ctx->kube);
	sl_buf_destroy(&ctx->kns);
	sl_buf_destroy(&ctx->tmp);
	sl_buf_destroy(&ctx->memo.tag);
	sl_buf_destroy(&ctx->memo.kube);
	free(ctx->scratch.buf);
	free(ctx->scratch2.buf);
	free(ctx->api_url);
	free(ctx->kubelet_url);
	free(ctx->node_name);
}

const struct sl_filter_plugin sl_filter_kubernetes = {
    .name = "kubernetes",
    .description = "Kubernetes metadata from the API server or the kubelet",
    .config_map = kube_config_map,
    .ctx_size = sizeof(struct kube_ctx),
    .init = kube_init,
    .destroy = kube_destroy,
    .filter = kube_filter,
};
