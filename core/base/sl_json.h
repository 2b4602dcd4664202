/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_json.h - JSON text utilities under the record model: string escaping
 * and unescaping, and the record view (one yajl callback pass that indexes
 * every field of an object by byte span). UTF-8 validation and repair are
 * in sl_utf8.h (included here).
 *
 * The view never copies values: nodes point into the text they index. It
 * does not build a DOM and does not re-serialise anything.
 */
#ifndef SL_JSON_H
#define SL_JSON_H

#include "sl_common.h"
#include "sl_utf8.h"

#include <stdbool.h>
#include <string.h>

/* Objects and arrays nested deeper than this do not parse (SPEC §4, §7). */
#define SL_JSON_MAX_DEPTH 64

/*
 * Unescapes the inside of a JSON string (without its quotes) into `out`
 * (appended). \u escapes become UTF-8; a lone or broken surrogate becomes
 * U+FFFD. Returns 0, -SL_EPARSE on a bad escape, or -SL_ENOMEM.
 */
int sl_json_unescape_append(struct sl_buf *out, const char *s, size_t len);

/* One indexed value. Offsets are into the indexed text. */
struct sl_view_node {
	uint32_t key_off;    /* first byte inside the key's quotes */
	uint32_t key_len;    /* raw (escaped) key length; 0 for array items */
	uint32_t member_off; /* the key's opening quote, or val_off for items */
	uint32_t val_off;    /* first byte of the value */
	uint32_t val_len; /* bytes of the value, quotes and brackets included */
	uint32_t parent;  /* index of the container node; root has none */
	uint32_t end;	  /* index one past this node's subtree */
	uint32_t index;	  /* position inside the parent container */
	uint32_t key_hash;   /* sl_json_key_hash of the unescaped key; 0 for
			      * array items: compared before the key bytes */
	uint8_t type;	     /* enum sl_value_type */
	uint8_t key_escaped; /* the raw key holds a backslash */
};

/*
 * The index of one JSON object text. Node 0 is the root object; children of
 * node p are p+1, then each child's `end`, while < nodes[p].end.
 */
#define SL_VIEW_ROOT_SLOTS 64

struct sl_view {
	struct sl_view_node *nodes; /* owned */
	uint32_t n, cap;
	/*
	 * A hash index of the root object's keys (node index + 1 per slot),
	 * built on the second root lookup of a record: filters that look up
	 * many keys (correlate tries up to eleven) then cost one probe each
	 * instead of a scan. A cache: sl_view_reset_index() whenever the
	 * nodes change. root_bits: 0 not built, 0xff not usable (too many or
	 * escaped keys), else log2 of the slots in use.
	 */
	uint32_t root_lookups;
	uint8_t root_bits;
	uint16_t root_slots[SL_VIEW_ROOT_SLOTS];
};

static inline void sl_view_reset_index(struct sl_view *v)
{
	v->root_lookups = 0;
	v->root_bits = 0;
}

/*
 * Indexes `text`, which must be one JSON object with optional surrounding
 * white space. Returns 0; -SL_EPARSE when it is not JSON or not an object;
 * -SL_ETOOBIG when nesting exceeds SL_JSON_MAX_DEPTH or text exceeds 4 GiB;
 * -SL_ENOMEM. Strings are not UTF-8 checked here (see sl_utf8_valid).
 * The view's storage is reused across calls.
 */
int sl_view_build(struct sl_view *v, const char *text, size_t len);
void sl_view_destroy(struct sl_view *v);

/*
 * Finds the child of container `parent` whose (unescaped) key is `key`.
 * Returns the node index, or UINT32_MAX. When keys repeat, the last wins
 * (as a JSON-to-map conversion would do).
 */
uint32_t sl_view_find_key(const struct sl_view *v, const char *text,
			  uint32_t parent, const char *key, size_t key_len);
/*
 * The hash stored in view nodes for a plain (unescaped) key. It reads the
 * length and at most 8 bytes (the first and last four), so it costs the
 * same for every key: it runs once per key of every record parsed, and a
 * collision only costs one byte comparison more.
 */
static inline uint32_t sl_json_key_hash(const char *key, size_t len)
{
	uint32_t head = 0, tail = 0;

	if (len >= 4) {
		memcpy(&head, key, 4);
		memcpy(&tail, key + len - 4, 4);
	} else {
		for (size_t i = 0; i < len; i++)
			head = (head << 8) | (unsigned char)key[i];
	}
	return (head * 2654435761u) ^ (tail * 2246822519u) ^
	       ((uint32_t)len * 3266489917u);
}

/* Finds item `idx` of array node `parent`, or UINT32_MAX. */
uint32_t sl_view_find_index(const struct sl_view *v, uint32_t parent,
			    uint32_t idx);

/*
 * Turns an arbitrary byte string that should be a record into a record body:
 * validates it as a JSON object, repairs invalid UTF-8 (only possible inside
 * strings) into `scratch`, and builds the view of the final text.
 * On success *body and *body_len point either to `text` or into `scratch`, and
 * *repaired is the number of U+FFFD substitutions. Errors as sl_view_build.
 */
int sl_json_prepare_object(const char *text, size_t len, struct sl_buf *scratch,
			   struct sl_view *view, const char **body,
			   size_t *body_len, long *repaired);

#endif
