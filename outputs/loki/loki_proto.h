/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loki_proto.h - Loki's native push body (Format protobuf): a JSON push
 * body, as loki_encode() writes it, turned into logproto.PushRequest
 * (loki_push.proto) packed by protobuf-c and block-compressed by snappy.
 *
 * It reads the JSON body rather than the encoder's batch so that both
 * formats carry the same streams, entries and metadata by construction,
 * and the JSON encoder's internals stay its own. It knows nothing of HTTP.
 */
#ifndef SL_OUT_LOKI_PROTO_H
#define SL_OUT_LOKI_PROTO_H

#include "loki_push.pb-c.h"
#include "sl_common.h"

#include <stddef.h>
#include <stdint.h>

struct loki_pstream;
struct loki_pentry;
struct loki_ppair;

/* Per-worker scratch reused from request to request (all owned). */
struct loki_proto {
	struct sl_buf text;   /* unescaped lines, names, values; labels */
	struct sl_buf tmp;    /* one label name or value being rendered */
	struct sl_buf packed; /* the protobuf before snappy */
	struct loki_pstream *streams;
	size_t n_streams, cap_streams;
	struct loki_pentry *entries;
	size_t n_entries, cap_entries;
	struct loki_ppair *pairs;
	size_t n_pairs, cap_pairs;
	/* the protobuf-c messages, rebuilt from the above for each request:
	 * their byte fields point into `text` */
	Sluice__Loki__StreamAdapter *m_streams, **m_stream_ptrs;
	Sluice__Loki__EntryAdapter *m_entries, **m_entry_ptrs;
	Sluice__Loki__Timestamp *m_stamps;
	Sluice__Loki__LabelPairAdapter *m_pairs, **m_pair_ptrs;
	size_t cap_m_streams, cap_m_entries, cap_m_stamps, cap_m_pairs;
};

void loki_proto_init(struct loki_proto *p);
/* Frees everything; back to the state of loki_proto_init. Idempotent. */
void loki_proto_destroy(struct loki_proto *p);

/*
 * Appends to `out` the snappy-compressed PushRequest carrying the JSON push
 * body `json` (borrowed, `len` bytes):
 *   {"streams":[{"stream":{"name":"value",...},
 *                "values":[["<ns>","<line>"(,{"name":"value",...})],...]},...]}
 * Streams and entries keep their order; the labels become Loki's label
 * string {name="value", ...}; the metadata object, the entry's
 * structured_metadata pairs. Returns 0; -SL_EPARSE when `json` is not of
 * that shape (out unchanged); -SL_ETOOBIG past snappy's 4 GiB block;
 * -SL_ENOMEM (out may hold a partial body: reset it).
 */
int loki_proto_encode(struct loki_proto *p, const char *json, size_t len,
		      struct sl_buf *out);

#endif
