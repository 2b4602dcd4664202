/* SPDX-License-Identifier: Apache-2.0 */
/*
 * es.h - the pieces of the es output that work without a network: the bulk
 * NDJSON encoder (es_bulk.c) and the bulk response reader (es_response.c),
 * shared by the plugin (es.c), its unit tests and its fuzz target.
 * Neither piece sends anything or touches a flush: es.c decides what a
 * verdict means for a chunk.
 */
#ifndef SL_OUT_ES_H
#define SL_OUT_ES_H

#include "sl_common.h"
#include "sl_json.h"

#include <stdbool.h>

/* ---- bulk request ------------------------------------------------------ */

enum es_op {
	ES_OP_CREATE = 0, /* {"create":...} + the document */
	ES_OP_INDEX,	  /* {"index":...} + the document */
	ES_OP_UPDATE,	  /* {"update":...} + {"doc":...} */
	ES_OP_UPSERT, /* {"update":...} + {"doc":...,"doc_as_upsert":true} */
};
/* "create|index|update|upsert" (any case). 0 or -SL_EINVAL. */
int es_op_parse(const char *s, enum es_op *out);
/* The action name in the bulk request and response ("create", ...). */
const char *es_op_action(enum es_op op);

/* How every record becomes an action line and a source line. Borrowed. */
struct es_bulk_opts {
	enum es_op op;
	const char *index; /* Index (used without Logstash_Format) */
	const char *type;  /* NULL or "": no "_type" */
	bool logstash_format;
	const char *logstash_prefix;
	const char *logstash_separator;
	const char *logstash_dateformat; /* strftime, UTC */
	bool current_time_index; /* index date from now, not the record */
	const char *time_key;	 /* NULL: no time member spliced */
	const char
	    *time_key_format; /* strftime, UTC, then .mmm or .nnnnnnnnn Z */
	bool time_key_nanos;
	const char *tag_key; /* NULL: the tag is not added */
	bool generate_id;
	bool replace_dots; /* '.' in keys becomes '_' (ES 2.x) */
};

/* One record and what accessors found in it (all borrowed). */
struct es_bulk_rec {
	int64_t ts_ns;
	uint64_t identity; /* from the chunk; 0: the time identifies it */
	const char *body;  /* a JSON object text */
	size_t len;
	const char *prefix; /* Logstash_Prefix_Key value, or NULL */
	size_t prefix_len;
	const char *id; /* Id_Key value, or NULL */
	size_t id_len;
};

/*
 * One strftime result kept for the records that follow in the same second
 * (gmtime_r + strftime cost more than the rest of a record's encoding).
 * Keyed by the second and the format's text, so a scratch can serve any
 * options.
 */
struct es_time_text {
	bool ok;	   /* text holds fmt formatted at sec */
	int64_t sec;	   /* UTC seconds since the epoch */
	struct sl_buf fmt; /* copy of the format */
	size_t len;
	char text[256];
};

/* Per-worker scratch for the encoder; zero-initialise, free with destroy. */
struct es_bulk_scratch {
	struct sl_buf body;	     /* body with dots replaced */
	struct sl_buf name;	     /* index name before escaping */
	struct sl_view view;	     /* index of the body, for Replace_Dots */
	struct es_time_text ts_text; /* Time_Key_Format */
	struct es_time_text ix_date; /* Logstash_DateFormat */
};
void es_bulk_scratch_destroy(struct es_bulk_scratch *s);

/* Where one record's lines landed in the payload (for Trace_Error). */
struct es_bulk_item {
	size_t off, len; /* the source line, without its '\n' */
	bool has_id;	 /* an _id was sent (Id_Key or Generate_ID) */
};

/*
 * Appends the action line and the source line of `r` to `out`, each ended
 * by '\n'. `tag` is borrowed; `now_ns` is used by Current_Time_Index.
 * Returns 0, -SL_EPARSE when Replace_Dots meets a body that is not an
 * object, or -SL_ENOMEM (then `out` may hold a partial record: truncate it
 * to its previous length).
 */
int es_bulk_append(struct sl_buf *out, const struct es_bulk_opts *o,
		   const struct es_bulk_rec *r, const char *tag, size_t tag_len,
		   int64_t now_ns, struct es_bulk_scratch *s,
		   struct es_bulk_item *item);

/* The Generate_ID value: sl_record_id_hex (sl_record.h) of the record. */
#define ES_ID_LEN 32
int es_id_generate(int64_t ts_ns, uint64_t identity, const char *body,
		   size_t len, char out[ES_ID_LEN + 1]);

/* ---- bulk response ---------------------------------------------------- */

/*
 * Bounds: strings kept per item, and in all (the default of `text_max`).
 * Longer ones are cut. A response longer than ES_RESP_ITEM_BYTES_MAX per
 * item sent plus ES_RESP_BASE_BYTES is refused as unreadable: that bounds
 * what yajl may buffer for one token, whatever the server sends.
 */
#define ES_RESP_STR_MAX	       512
#define ES_RESP_TEXT_MAX       (256u * 1024u)
#define ES_RESP_ITEM_BYTES_MAX (16u * 1024u)
#define ES_RESP_BASE_BYTES     (1024u * 1024u)

/* One item of the response, in request order. Offsets into `text`. */
struct es_resp_item {
	int status;			 /* 0: missing or not an integer */
	uint32_t index_off, index_len;	 /* "_index" */
	uint32_t type_off, type_len;	 /* "error"."type" */
	uint32_t reason_off, reason_len; /* "error"."reason" */
};

struct es_resp_parser; /* the streaming state, private to es_response.c */

struct es_response {
	/* results of the last read */
	bool has_errors;   /* an "errors" boolean was found */
	bool errors;	   /* its value */
	uint32_t expected; /* items in the request */
	uint32_t n_items;  /* complete items read (may exceed expected) */
	struct es_resp_item *items; /* `expected` entries; owned */
	/* a whole-request error: {"error":{"type","reason"},"status":N} */
	uint32_t err_type_off, err_type_len, err_reason_off, err_reason_len;
	struct sl_buf text; /* every kept string; owned */
	uint32_t cap;
	size_t text_max;
	uint64_t fed; /* body bytes fed so far */
	int status;   /* 0 while good, else the error every call returns */
	struct es_resp_parser *p; /* owned */
};

/*
 * Streaming read of a bulk response body for a request of `expected`
 * items, in pieces of any size split anywhere: begin, feed each piece as
 * it arrives, end. Every item is read whatever the body's size; memory is
 * `expected` items, at most `text_max` bytes of strings (0: the default)
 * and what yajl holds of one token. The struct's storage is reused.
 * begin: 0 or -SL_ENOMEM. feed: 0, or once the bytes cannot be a bulk
 * response -SL_EPARSE (then later feeds do nothing), or -SL_ENOMEM.
 * end: 0, or -SL_EPARSE / -SL_ENOMEM, and then nothing read is trusted
 * (the results are reset: every item a retry).
 */
int es_response_begin(struct es_response *r, uint32_t expected,
		      size_t text_max);
int es_response_feed(struct es_response *r, const char *data, size_t len);
int es_response_end(struct es_response *r);
/* begin + one feed + end over a whole body. */
int es_response_read(struct es_response *r, const char *body, size_t len,
		     uint32_t expected);
void es_response_destroy(struct es_response *r);
/* A kept string (not NUL-terminated), "" when absent. */
const char *es_response_str(const struct es_response *r, uint32_t off);

enum es_verdict {
	ES_DELIVERED = 0, /* 2xx, or 409 on create with an _id: already there */
	ES_RETRY,	  /* 429, 5xx, 408, 409 on index/update, missing */
	ES_REJECTED,	  /* other 4xx (409 on create without _id): dropped */
};
enum es_verdict es_item_verdict(int status, enum es_op op, bool has_id);

/*
 * The verdict of item `i` (< r->expected) of a response read with 0:
 * errors:false and every item present means all delivered; otherwise the
 * item's own status, and an item that never came back is ES_RETRY.
 */
enum es_verdict es_response_verdict(const struct es_response *r, uint32_t i,
				    enum es_op op, bool has_id);

#endif
