/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splunk.h - the splunk output's pure parts, shared by the plugin
 * (splunk.c), its unit tests and the fuzz target:
 *   splunk_encode.c    records as HEC events (the envelope, or the record
 *                      itself with Splunk_Send_Raw), one JSON object each,
 *                      concatenated as HEC takes a batch;
 *   splunk_response.c  HEC's answer ({"text","code","invalid-event-number"})
 *                      and what it means for the records of the request.
 * Neither knows about sockets or retries.
 */
#ifndef SL_OUT_SPLUNK_H
#define SL_OUT_SPLUNK_H

#include "sl_chunk.h"
#include "sl_record.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * An envelope value, Fluent Bit's record accessor template: text, with
 * "$key['sub']" (the field's text; nothing when absent), "$TAG" and
 * "$TAG[n]" (the n-th '.'-part of the tag) anywhere in it. A "$key" ends
 * at '.', ' ', ',' or '"' outside single quotes, as Fluent Bit's does.
 */
#define SPLUNK_SEG_TEXT (-3)
#define SPLUNK_SEG_KEY	(-2)
#define SPLUNK_SEG_TAG	(-1) /* >= 0: that part of the tag */
struct splunk_seg {
	long kind;
	char *text; /* owned, SPLUNK_SEG_TEXT */
	size_t len;
	struct sl_accessor *acc; /* owned, SPLUNK_SEG_KEY */
};
struct splunk_value {
	struct splunk_seg *segs; /* owned; none: the value is not set */
	size_t n;
};

/* One Event_Field: "name $accessor" (name as written, value as found). */
struct splunk_field {
	char *name; /* owned */
	struct sl_accessor *acc;
};

/* What init builds from the options; read-only while flushing. */
struct splunk_enc {
	bool send_raw;
	bool auto_extract_timestamp;	  /* no "time" in the envelope */
	struct sl_accessor *event_key;	  /* owned, or NULL */
	struct splunk_value host, source; /* unset: no segments */
	/* sourcetype / index: the key's value when found, else the fixed one */
	struct splunk_value sourcetype_key, index_key;
	char *sourcetype, *index;    /* borrowed from the config, or NULL */
	struct splunk_field *fields; /* owned */
	size_t n_fields;
};

/*
 * Compiles the template `spec` into `v` (empty before). Returns 0,
 * -SL_EINVAL with *err set (a static message), or -SL_ENOMEM.
 */
int splunk_value_set(struct splunk_value *v, const char *spec,
		     const char **err);
/* An Event_Field "NAME $accessor" (the accessor must start with '$'). */
int splunk_enc_add_field(struct splunk_enc *e, const char *spec,
			 const char **err);
/* Event_Key: must start with '$'. */
int splunk_enc_set_event_key(struct splunk_enc *e, const char *spec,
			     const char **err);
void splunk_enc_destroy(struct splunk_enc *e);

/* Per-worker scratch, reused from chunk to chunk. */
struct splunk_batch {
	uint32_t *idx; /* chunk index of each event in the body */
	size_t *off;   /* where each event starts in the body */
	size_t n, cap;
	struct sl_record rec;
	struct sl_text text;
	struct sl_buf tmp; /* a template's text */
	const char *tag;   /* the chunk's, during splunk_encode */
	size_t tag_len;
};

void splunk_batch_init(struct splunk_batch *b);
void splunk_batch_destroy(struct splunk_batch *b);

/* Returns true for a record to leave out (settled, or not in this request). */
typedef bool (*splunk_skip_fn)(void *ud, uint32_t index);

/*
 * Appends one HEC event per record of `c` not skipped to `out`:
 *   {"time":S.NNNNNNNNN,"host":..,"source":..,"sourcetype":..,"index":..,
 *    "fields":{..},"event":<record, or Event_Key's value as a string>}
 * (members only when set or found, Fluent Bit's order), or with send_raw
 * the record itself (or Event_Key's value) and "\n". b->n is the number of
 * events, b->idx their chunk indexes. Returns 0 or -SL_ENOMEM (out reset
 * to its length before the call).
 */
int splunk_encode(const struct splunk_enc *e, struct splunk_batch *b,
		  const struct sl_chunk *c, splunk_skip_fn skip, void *skip_ud,
		  struct sl_buf *out);

/* HEC's answer body, as far as it could be read. */
struct splunk_answer {
	bool parsed;	     /* a JSON object */
	long code;	     /* "code"; -1 when absent */
	long long bad_event; /* "invalid-event-number"; -1 when absent */
	const char *text;    /* "text", raw inside its quotes; borrowed */
	size_t text_len;
};

/*
 * Reads an HEC answer. Never reads past `len`; any bytes are fine (an
 * unreadable body gives parsed false, code and bad_event -1).
 */
void splunk_answer_parse(const char *body, size_t len, struct splunk_answer *a);

enum splunk_verdict {
	SPLUNK_DELIVERED = 0, /* every event of the request */
	SPLUNK_RETRY,	      /* all of them, later (Retry-After honoured) */
	SPLUNK_AUTH,	      /* token refused: retried (credentials rotate) */
	SPLUNK_DROP_ONE,      /* event `bad_event` rejected; re-send others */
	SPLUNK_SPLIT,	      /* some event is bad, HEC did not say which */
	SPLUNK_TOO_LARGE,     /* 413: halve the request */
	SPLUNK_REJECT_ALL,    /* the request can never be taken as it is */
};

/*
 * What an answer means for a request of `n` events: the HTTP class
 * decides (sl_output_http_class), and for a 400 HEC's code says whether
 * one event is at fault (6 invalid data format, 7 incorrect index, 12/13
 * event field required/blank, 15 indexed fields) or the request (others).
 */
enum splunk_verdict splunk_verdict(long status, const struct splunk_answer *a,
				   size_t n);

/* HEC's meaning of a status code (its documented text), or NULL. */
const char *splunk_code_text(long code);

#endif
