/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loki.h - the Loki push payload encoder (loki_encode.c) and the reader of
 * Loki's 400 bodies, shared by the plugin (loki.c), its unit tests and the
 * fuzz target. The encoder is pure: chunk in, push body out (JSON, or
 * protobuf through loki_proto.c); it does not know about HTTP or retries.
 */
#ifndef SL_OUT_LOKI_H
#define SL_OUT_LOKI_H

#include "sl_chunk.h"
#include "sl_format.h"
#include "sl_record.h"

#include <stdbool.h>

enum loki_line_format {
	LOKI_LINE_JSON = 0,  /* the record as a JSON object */
	LOKI_LINE_KEY_VALUE, /* key=value key2=value2 */
};

enum loki_drop_single {
	LOKI_DROP_OFF = 0, /* always the whole record */
	LOKI_DROP_ON,	   /* one key left: its value (JSON text in json) */
	LOKI_DROP_RAW,	   /* one key left: its value, strings unquoted */
};

/* The body loki_encode writes (Format). */
enum loki_wire {
	LOKI_WIRE_JSON = 0, /* Loki's JSON push body */
	LOKI_WIRE_PROTOBUF, /* logproto.PushRequest, snappy-compressed */
};

/* One stream label: a fixed value or a value read from the record. */
struct loki_label {
	char *name;		 /* owned; a valid Loki label name */
	char *value;		 /* owned fixed value, or NULL */
	struct sl_accessor *acc; /* owned, or NULL */
	/* Fluent Bit's $TAG (LOKI_TAG_ALL) or $TAG[n] (n, a '.'-separated
	 * part of the chunk's tag); LOKI_TAG_NONE otherwise */
	long tag_part;
};
#define LOKI_TAG_NONE (-2)
#define LOKI_TAG_ALL  (-1)

/* What init builds from the options; read-only while flushing. */
struct loki_enc {
	struct loki_label *labels; /* owned */
	size_t n_labels;
	/* removed from the line: Remove_keys, Label_keys, $accessor labels */
	struct sl_accessor **remove; /* owned */
	size_t n_remove;
	enum loki_line_format line_format;
	enum loki_drop_single drop_single_key;
	bool auto_kubernetes_labels;	/* kubernetes.labels.* become labels */
	struct sl_accessor *k8s_labels; /* owned, when the above */
	/* Structured_metadata: the same shape as labels (names are kept as
	 * written for name=value, not sanitised, as Fluent Bit does) */
	struct loki_label *meta; /* owned */
	size_t n_meta;
	/* Structured_metadata_map_keys: objects whose members become
	 * metadata; expanded before `meta`, which wins on equal names */
	struct sl_accessor **meta_maps; /* owned */
	size_t n_meta_maps;
	enum loki_wire wire; /* Format */
};

/*
 * Configuration. `spec` is borrowed. Each returns 0, -SL_EINVAL with *err
 * set to a static message, or -SL_ENOMEM.
 *   add_label:     "name=value", "name=$acc['x']", or "$acc['x']" (named
 *                  by loki_accessor_name); "name=$TAG" or "name=$TAG[n]"
 *                  read the chunk's tag (or its n-th '.'-part) as Fluent
 *                  Bit's record accessor does
 *   add_label_key: "$acc['x']" or "key": a label named the same way
 *   add_remove_key: "$acc['x']" or "key"
 */
int loki_enc_add_label(struct loki_enc *e, const char *spec, const char **err);
int loki_enc_add_label_key(struct loki_enc *e, const char *spec,
			   const char **err);
int loki_enc_add_remove_key(struct loki_enc *e, const char *spec,
			    const char **err);
/* A label `name` (made a valid label name) read by accessor `spec`; the
 * field leaves the line. Same returns. */
int loki_enc_add_accessor_label(struct loki_enc *e, const char *name,
				const char *spec, const char **err);
/*
 * Label_map_path's content (loki_label_map.c): a JSON object whose string
 * leaves name labels read from their key path, e.g. {"kubernetes":
 * {"pod_name": "pod"}} adds pod=$kubernetes['pod_name']. `text` borrowed.
 * Returns 0, -SL_EINVAL with *err set (a static message; *where, owned by
 * the caller when set, names the key path) or -SL_ENOMEM.
 */
int loki_enc_add_label_map(struct loki_enc *e, const char *text, size_t len,
			   const char **err, char **where);
/*
 * Structured metadata, sent as the third element of each entry:
 *   add_metadata:     "name=value", "name=$acc['x']", or "$acc['x']" (named
 *                     as the accessor's path, kubernetes_pod for
 *                     $kubernetes['pod']); absent or empty values are
 *                     left out of that entry
 *   add_metadata_map: "$acc['x']": each member of that object
 * A field read by an accessor leaves the line, as label fields do.
 */
int loki_enc_add_metadata(struct loki_enc *e, const char *spec,
			  const char **err);
int loki_enc_add_metadata_map(struct loki_enc *e, const char *spec,
			      const char **err);
/* Whether entries carry structured metadata (either option set). */
bool loki_enc_has_metadata(const struct loki_enc *e);
/* "json|key_value"; "on|off|true|false|raw" (any case). 0 or -SL_EINVAL. */
int loki_line_format_parse(const char *s, enum loki_line_format *out);
int loki_drop_single_parse(const char *s, enum loki_drop_single *out);
/* Turns auto_kubernetes_labels on. 0 or -SL_ENOMEM. */
int loki_enc_set_auto_k8s(struct loki_enc *e);
void loki_enc_destroy(struct loki_enc *e);

/*
 * Turns an arbitrary string into a Loki label name ([a-zA-Z_][a-zA-Z0-9_]*):
 * other bytes become '_', a leading digit gets a '_' in front. Returns a
 * malloc'd string or NULL.
 */
char *loki_label_name(const char *s, size_t len);
/*
 * The name Fluent Bit gives a label read by accessor `spec` (valid): its
 * keys and indexes joined by '_' ($kubernetes['labels']['app'] is
 * kubernetes_labels_app), then as loki_label_name. malloc'd or NULL.
 */
char *loki_accessor_name(const char *spec);

/* One entry of a batch, in chunk order until sorted. */
struct loki_entry {
	int64_t ts_ns;
	uint32_t stream; /* index into streams */
	uint32_t index;	 /* record's position in the chunk */
	/* in lines, the entry after its time as the wire writes it: JSON
	 * "<line>"(,{metadata}), or protobuf EntryAdapter fields 2 and 3 */
	size_t line_off;
	size_t line_len;
	/* JSON, when the line is the record's bytes and nothing follows it:
	 * those bytes in the chunk (line_len of them), escaped only as the
	 * body is written, so the batch holds no copy (line_off unused) */
	const char *raw;
};

struct loki_stream {
	/* in keys, the label set as the wire writes it: the JSON "stream"
	 * object, or Loki's label string {name="value", ...}; either is one
	 * rendering per label set, so it also identifies the stream */
	size_t key_off, key_len;
	uint32_t hash;
	uint32_t entries;
	uint32_t next;	 /* while ordering: where its next entry goes */
	size_t wire_len; /* protobuf: the StreamAdapter's bytes */
};

/*
 * Per-worker scratch reused from chunk to chunk. After loki_encode the
 * `entries` say which chunk records the payload carries (for settling).
 */
struct loki_batch {
	struct loki_entry *entries;
	size_t n_entries, cap_entries;
	struct loki_entry *spare; /* the other half of the stream ordering */
	size_t cap_spare;
	struct loki_stream *streams;
	size_t n_streams, cap_streams;
	uint32_t *slots; /* hash table of stream index + 1; 0 = empty */
	size_t n_slots;
	struct sl_buf lines, keys, line, label;
	size_t raw_bytes;     /* the entries' raw lines, in bytes */
	struct sl_buf fix;    /* protobuf: a line or pair repaired (UTF-8) */
	struct sl_buf packed; /* protobuf: the request before snappy */
	struct sl_record rec;
	struct sl_text text;
	struct sl_fields fields;
	uint8_t *rm; /* per view node: removed / holds a removed node */
	size_t cap_rm;
	struct lk_pair *pairs;
	size_t cap_pairs;
	const char *tag; /* the chunk's, borrowed during loki_encode */
	size_t tag_len;
};

void loki_batch_init(struct loki_batch *b);
void loki_batch_destroy(struct loki_batch *b);

/* Returns true for a record to leave out (already settled). */
typedef bool (*loki_skip_fn)(void *ud, uint32_t index);

/*
 * Encodes the records of `c` not skipped into a push body appended to `out`,
 * as e->wire says:
 *   JSON: {"streams":[{"stream":{...},"values":[["<ns>","<line>"],...]},...]},
 *         each entry ["<ns>","<line>",{metadata}] when metadata is configured;
 *   protobuf: the same streams and entries as a snappy-compressed
 *         logproto.PushRequest (labels as {name="value", ...}; the line not
 *         escaped, invalid UTF-8 repaired as the JSON string has it).
 * Records grouped by label set (streams in order of first appearance),
 * entries of a stream sorted by time (stable). The record is parsed only
 * when an option reads it, and the label set rendered once per chunk when
 * no label comes from the record. A time before 1970 is sent as 0.
 * b->n_entries is the number of entries; 0 means nothing to send (out
 * unchanged). Returns 0, -SL_ETOOBIG (protobuf past snappy's 4 GiB block,
 * out unchanged) or -SL_ENOMEM (out may hold a partial body: reset it).
 */
int loki_encode(const struct loki_enc *e, struct loki_batch *b,
		const struct sl_chunk *c, loki_skip_fn skip, void *skip_ud,
		struct sl_buf *out);

/*
 * Reads a Loki 400 body for the number of entries it ignored: the sum of
 * every "total ignored: N out of M" in it. Returns the number of such
 * phrases found (0: none; then *ignored is 0 and the caller must assume
 * the worst). Never reads past `len`; any bytes are fine.
 */
int loki_error_ignored(const char *body, size_t len, uint64_t *ignored);

#endif
