/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loki_proto.h - the protobuf writer of the Loki encoder (Format protobuf):
 * Loki's label string, the entry fields and the logproto.PushRequest
 * (loki_push.proto) written straight onto the wire from the batch that
 * loki_encode() grouped and ordered, then snappy block-compressed. Private
 * to loki_encode.c: the JSON writer and this one share one grouping, so
 * both formats carry the same streams and entries by construction.
 * It knows nothing of HTTP, and nothing of records.
 */
#ifndef SL_OUT_LOKI_PROTO_H
#define SL_OUT_LOKI_PROTO_H

#include "loki.h"

#include <stddef.h>

/*
 * Opens libsnappy, once per process; loki's Format protobuf calls it at
 * configuration. Returns 0, or -SL_ENOENT with the reason in err (when err
 * is not NULL).
 */
int loki_proto_open(char *err, size_t errlen);
/*
 * Appends `name="value"` to `out`: the name as it is (a Loki label name
 * already), the value in the double-quoted syntax Loki parses its label
 * string with (PromQL's, unquoted as a Go string): backslash, quote and
 * the control bytes escaped. 0 or -SL_ENOMEM.
 */
int loki_proto_label(struct sl_buf *out, const char *name, size_t nlen,
		     const char *val, size_t vlen);
/*
 * Appends the entry's line (EntryAdapter field 2) to `out`: the bytes with
 * each invalid UTF-8 sequence as one U+FFFD (as the JSON writer's string
 * escaping repairs them), not escaped. `fix` is scratch for that repair.
 * An empty line is no field (proto3's default). 0 or -SL_ENOMEM.
 */
int loki_proto_line(struct sl_buf *out, const char *s, size_t len,
		    struct sl_buf *fix);
/* Appends one structured_metadata pair (EntryAdapter field 3), name and
 * value repaired as lines are (`fix` the same scratch). 0 or -SL_ENOMEM. */
int loki_proto_pair(struct sl_buf *out, const char *name, size_t nlen,
		    const char *val, size_t vlen, struct sl_buf *fix);
/*
 * Appends to `out` the snappy-compressed PushRequest of the ordered batch
 * `b` (streams as b->keys holds their label strings, entries as b->lines
 * holds their fields, the time from each entry), packing it first into
 * b->packed. Returns 0; -SL_ETOOBIG past snappy's 4 GiB block (out
 * unchanged); -SL_ENOENT without libsnappy (loki_proto_open); -SL_ENOMEM
 * (out may hold a partial body: reset it).
 */
int loki_proto_write(struct loki_batch *b, struct sl_buf *out);

#endif
