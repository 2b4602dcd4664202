/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube.h - the kubernetes filter's shared types: what the tag gives, what
 * the API gives (a pod, a namespace), the metadata cache and the API
 * threads' queues. The engine thread owns the cache; each API thread (and
 * the node watcher) owns its curl handle and token; they meet only in the
 * two queues of struct kube_api, under its mutex.
 */
#ifndef SL_FILTER_KUBE_H
#define SL_FILTER_KUBE_H

#include "sluice_plugin.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- what the tag says (kube_tag.c) -------------------------------------- */
struct kube_tag_meta {
	/* spans into the tag, borrowed from it */
	const char *pod, *ns, *container, *docker_id;
	size_t pod_len, ns_len, container_len, docker_id_len;
};
/*
 * Splits `rest` (the tag after Kube_Tag_Prefix) as Fluent Bit's
 * KUBE_TAG_TO_REGEX does: POD_NAMESPACE_CONTAINER-DOCKERID.log, where POD is
 * a DNS subdomain, found at the leftmost position that fits. Returns 0 and
 * fills *m, or -SL_ENOENT when the name does not fit.
 */
int kube_tag_parse(const char *rest, size_t len, struct kube_tag_meta *m);

/* ---- what the API says (kube_pod.c) -------------------------------------- */
struct kube_container {
	char *name, *docker_id, *hash, *image; /* owned; NULL when absent */
};

struct kube_annotation {
	char *key, *value; /* owned; key without "fluentbit.io/" */
};

/* A pod's metadata, JSON fields kept as JSON text ready to splice. */
struct kube_pod {
	char *ns, *name;	   /* owned */
	char *uid, *node, *pod_ip; /* owned plain strings, NULL when absent */
	char *labels, *annotations, *owner_refs; /* owned JSON, NULL: absent */
	struct kube_container *containers;	 /* owned */
	size_t n_containers;
	struct kube_annotation *props; /* fluentbit.io/ annotations, owned */
	size_t n_props;
};

struct kube_namespace {
	char *name;		    /* owned */
	char *labels, *annotations; /* owned JSON, NULL: absent */
};

/*
 * Parse the API's JSON answers. `json` need not be NUL-terminated. Return
 * the object (caller destroys) or NULL with a static reason in *err.
 */
struct kube_pod *kube_pod_parse(const char *json, size_t len, const char **err);
struct kube_namespace *kube_namespace_parse(const char *json, size_t len,
					    const char **err);
/*
 * A PodList ({"items": [pod, ...]}, the API's list and the kubelet's
 * /pods): *out receives an owned array of *n owned pods.
 */
int kube_pod_list_parse(const char *json, size_t len, struct kube_pod ***out,
			size_t *n, char **rv, const char **err);
/*
 * One line of a watch stream ({"type": T, "object": O}). Returns 0 and sets
 * *type ("ADDED", ... static), *pod (owned, for ADDED and MODIFIED), *rv
 * (owned, the object's resourceVersion) and *code (an ERROR event's code,
 * e.g. 410), or -SL_EPARSE.
 */
int kube_watch_event_parse(const char *json, size_t len, const char **type,
			   struct kube_pod **pod, char **rv, int *code);
void kube_pod_destroy(struct kube_pod *p);
void kube_namespace_destroy(struct kube_namespace *n);
/*
 * Fluent Bit's rule for containerID and imageID: after the first ':', a run
 * of '/' is skipped ("containerd://ID" gives "ID"); without such a run the
 * whole value is kept ("sha256:..."). Returns a malloc'd copy or NULL.
 */
char *kube_extract_hash(const char *v, size_t len);

/* ---- the metadata cache (kube_cache.c), engine thread only ----------------
 */
enum kube_state {
	KUBE_PENDING = 0, /* asked, no answer yet */
	KUBE_READY,	  /* metadata present (possibly being refreshed) */
	KUBE_FAILED,	  /* the last answer was an error; retry_at says when */
};

enum kube_kind {
	KUBE_POD = 0,
	KUBE_NS,
};

struct kube_entry {
	struct kube_entry *next; /* hash chain */
	char *key;		 /* owned: "ns/pod" or "ns" */
	enum kube_kind kind;
	enum kube_state state;
	bool asking;		    /* a request is in the API thread's queue */
	bool on_node;		    /* waiting for the node-wide list */
	int last_code;		    /* HTTP code of the last failure, 0: none */
	unsigned failures;	    /* consecutive, for the retry back-off */
	double fetched, retry_at;   /* monotonic seconds */
	uint64_t used;		    /* lookup clock, for eviction */
	struct kube_pod *pod;	    /* owned, KUBE_POD */
	struct kube_namespace *nsm; /* owned, KUBE_NS */
};

struct kube_cache {
	struct kube_entry **buckets; /* owned */
	size_t n_buckets, n, max;
	uint64_t clock;
	uint64_t gen; /* bumped when an entry's metadata changes or goes */
};

int kube_cache_init(struct kube_cache *c, size_t max);
void kube_cache_destroy(struct kube_cache *c);
/* The entry for key, or NULL. Marks it used. */
struct kube_entry *kube_cache_find(struct kube_cache *c, const char *key,
				   size_t len);
/*
 * A new PENDING entry for key (absent before), evicting the least recently
 * used one when the cache is full. NULL on ENOMEM.
 */
struct kube_entry *kube_cache_add(struct kube_cache *c, const char *key,
				  size_t len, enum kube_kind kind);

/* ---- the API thread (kube_api.c) ------------------------------------------
 */
enum kube_req_kind {
	KUBE_REQ_POD = 0, /* GET /api/v1/namespaces/NS/pods/POD */
	KUBE_REQ_NS,	  /* GET /api/v1/namespaces/NS */
	KUBE_REQ_NODE,	  /* every pod of this node: kubelet /pods or a list */
	KUBE_REQ_WATCH,	  /* an ADDED or MODIFIED pod from the node's watch */
};

/* The largest node-wide pod list read (Buffer_Size is for one pod). */
#define KUBE_MAX_LIST (256 * 1024 * 1024)

/* kube_msg.code besides HTTP statuses */
#define KUBE_CODE_NO_ANSWER  0	  /* network error, timeout */
#define KUBE_CODE_BAD_ANSWER (-1) /* 200 but not the JSON expected */
#define KUBE_CODE_TOO_BIG    (-2) /* over Buffer_Size */

struct kube_msg {
	struct kube_msg *next;
	enum kube_req_kind kind;
	char *key;	/* owned: the cache key asked for ("" for NODE) */
	char *ns, *pod; /* owned */
	/* answer, filled by the thread */
	int code;		   /* HTTP status, 0: no answer (network) */
	struct kube_pod *pod_meta; /* owned */
	struct kube_namespace *ns_meta; /* owned */
	struct kube_pod **list;		/* owned, NODE */
	size_t n_list;
	char *rv; /* owned: the list's resourceVersion */
};
void kube_msg_destroy(struct kube_msg *m);

struct kube_api_cfg {
	/* borrowed from the filter's context, valid while the thread runs */
	const char *url;	 /* API server base, no trailing slash */
	const char *kubelet_url; /* https://HOST:PORT, NULL: not used */
	const char *node_name;	 /* for the node-wide list, NULL: none */
	const char *ca_file, *ca_path, *token_file;
	bool tls_verify, tls_verify_hostname, tls_debug;
	double token_ttl;
	int64_t buffer_size; /* answer size bound, 0: unbounded */
};

/*
 * Requests at once: two, so a slow answer does not hold every other pod
 * back, and few, since every node of a cluster asks the same API server.
 */
#define KUBE_API_THREADS 2

/* A bearer token read from Kube_Token_File; each thread has its own. */
struct kube_token {
	char *v; /* owned, NULL: none */
	double read_at;
	long long mtime_ns, size;
	unsigned long ino;
};

struct kube_api {
	struct kube_api_cfg cfg;
	pthread_t threads[KUBE_API_THREADS], watcher;
	int n_threads;
	bool started, watching;
	pthread_mutex_t mu;
	pthread_cond_t cond, wcond;
	struct kube_msg *todo, **todo_tail; /* engine -> thread */
	struct kube_msg *done;		    /* threads -> engine, LIFO */
	atomic_bool stop, have_done;
	struct kube_token wtok; /* the watcher's */
};

/* Starts the thread. 0 or a negative -SL_E* (logged). */
int kube_api_start(struct kube_api *a, const struct kube_api_cfg *cfg);
/*
 * Starts the node watcher (cfg.node_name set): it lists the node's pods
 * (a KUBE_REQ_NODE answer), then watches them from the list's
 * resourceVersion, each change a KUBE_REQ_WATCH answer; it lists again
 * after a 410. 0 or -SL_EIO.
 */
int kube_api_start_watch(struct kube_api *a);
/* Stops and joins the threads (the requests under way are aborted). */
void kube_api_stop(struct kube_api *a);
/* Queues a request; takes m. */
void kube_api_ask(struct kube_api *a, struct kube_msg *m);
/* Takes every answer (oldest first), or NULL. Cheap when there are none. */
struct kube_msg *kube_api_take(struct kube_api *a);

struct kube_shape {
	bool labels, annotations, owner_references;
};

/* The last record's tag, split, and the kubernetes object made for it. */
struct kube_memo {
	struct sl_buf tag;	/* owned copy */
	struct kube_tag_meta t; /* its lengths (spans point at the copy) */
	size_t off[4];		/* pod, ns, container, id offsets */
	bool tag_ok, kube_ok;
	struct sl_buf kube; /* owned */
	uint64_t gen;	    /* pods.gen it was made at */
	const struct kube_pod *pod;
};

/* ---- the filter's context --------------------------------------------------
 */
struct kube_ctx {
	/* config map */
	int64_t buffer_size;
	int64_t tls_debug;
	bool tls_verify, tls_verify_hostname;
	char *tls_vhost;
	bool merge_log, merge_log_trim, keep_log;
	char *merge_parser, *merge_log_key;
	char *kube_url, *preload_dir, *ca_file, *ca_path, *tag_prefix;
	char *namespace_file, *token_file, *token_command;
	bool labels, annotations, owner_references;
	bool namespace_labels, namespace_annotations, namespace_metadata_only;
	bool k8s_logging_parser, k8s_logging_exclude, use_journal;
	char *regex_parser;
	bool dummy_meta;
	char *dns_retries_s, *dns_wait_time_s;
	bool cache_use_docker_id, use_tag_for_meta, use_kubelet;
	char *kubelet_host;
	int64_t kubelet_port;
	double token_ttl, meta_cache_ttl, ns_cache_ttl;
	bool aws_use_pod_association, use_pod_association;
	char *aws_str[12]; /* refused AWS options and set_platform */
	int64_t cache_size;

	/* built by init */
	struct sl_plugin_instance *ins;
	const struct sl_parser *merge_parser_p;
	char *api_url, *kubelet_url, *node_name; /* owned */
	struct kube_cache pods, namespaces;
	struct kube_api api;
	bool api_on;
	double kubelet_asked; /* when the last node-wide fetch was queued */
	bool node_asking;
	struct kube_shape shape;
	struct kube_memo memo;
	double warned_at; /* last failure warning */
	unsigned warn_suppressed;
	struct sl_buf out, kube, kns, tmp; /* per-record scratch, owned */
	struct sl_text scratch, scratch2;
	struct sl_accessor *acc_log, *acc_stream; /* owned */
	/* metrics (NULL in unit tests) */
	struct sl_metric_family *f_requests, *f_without;
	struct sl_metric_series *s_hits, *s_misses, *s_watch;
	struct sl_metric_series *s_without[8]; /* by reason, made on use */
};

/* ---- record shaping (kube_record.c) ---------------------------------------
 */
/* What the annotations ask of a record (Fluent Bit's kube props). */
struct kube_props {
	const char *parser; /* borrowed from the pod, NULL: none */
	bool exclude;
};
enum kube_stream {
	KUBE_STREAM_NONE = 0,
	KUBE_STREAM_STDOUT,
	KUBE_STREAM_STDERR,
	KUBE_STREAM_OTHER,
};
/*
 * The props for one container and stream from a pod's fluentbit.io/
 * annotations, each allowed only with its option on (`allow_parser`,
 * `allow_exclude`); a specific -CONTAINER key wins over a general one.
 */
void kube_props_for(const struct kube_pod *pod, const char *container,
		    size_t container_len, enum kube_stream stream,
		    bool allow_parser, bool allow_exclude,
		    struct kube_props *out);

/*
 * Appends the "kubernetes" object (Fluent Bit's field order) for the tag's
 * metadata `t` and, when not NULL, the pod `pod` to b. 0 or -SL_ENOMEM.
 */
int kube_record_object(struct sl_buf *b, const struct kube_tag_meta *t,
		       const struct kube_pod *pod,
		       const struct kube_shape *shape);
/* Appends the "kubernetes_namespace" object. 0 or -SL_ENOMEM. */
int kube_record_ns_object(struct sl_buf *b, const char *ns, size_t ns_len,
			  const struct kube_namespace *nsm, bool labels,
			  bool annotations);

/* ---- merge log (kube_merge.c) ---------------------------------------------
 */
/*
 * Fluent Bit's value trim for Merge_Log_Trim: the length of s without its
 * trailing newlines and literal "\n" / "\r" escapes (the first byte stays).
 */
size_t kube_trim_len(const char *s, size_t len);
/* Keys of merged members (owned strings). */
struct kube_keys {
	char **v;
	size_t n;
};
void kube_keys_release(struct kube_keys *k);
bool kube_keys_has(const struct kube_keys *k, const char *key, size_t len);
/*
 * Appends the members of the JSON object text `obj` (without braces) to b,
 * string values trimmed when `trim`, each preceded by a comma when b->len >
 * `start`; their keys are added to `keys` when not NULL. Returns the number
 * of members, or -SL_EPARSE when obj is not an object, -SL_ENOMEM.
 */
int kube_merge_members(struct sl_buf *b, size_t start, const char *obj,
		       size_t len, bool trim, struct kube_keys *keys);

/* kube_conf.c: the config map; reports each refused option given. */
extern const struct sl_cfg_option kube_config_map[];
int kube_conf_refuse(struct kube_ctx *ctx, struct sl_plugin_instance *ins);

/* The filter table (kubernetes.c). */
extern const struct sl_filter_plugin sl_filter_kubernetes;

/* Monotonic seconds. */
double kube_now(void);

#endif
