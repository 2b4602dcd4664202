/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_record.c - the record: time, flags and a JSON object body kept as text,
 * either borrowed from the input or in one of two own buffers (an edit reads
 * one and writes the other). Line records stay lazy until their body is
 * needed. Field lookups through accessors live in sl_accessor.c.
 *
 * Repeated keys: lookups take the last occurrence (sl_view_find_key); edits
 * act on every occurrence (set replaces them all, remove removes them all).
 */
#include "sl_record.h"

/* SHA256_Init and friends: deprecated in OpenSSL 3, see below */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

static const char EMPTY_BODY[] = "{}";

void sl_record_init(struct sl_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->body = EMPTY_BODY;
	rec->len = 2;
}

void sl_record_destroy(struct sl_record *rec)
{
	if (!rec)
		return;
	sl_buf_destroy(&rec->own[0]);
	sl_buf_destroy(&rec->own[1]);
	sl_buf_destroy(&rec->tmp);
	sl_view_destroy(&rec->view);
	sl_record_init(rec);
}

static void set_empty(struct sl_record *rec)
{
	rec->body = EMPTY_BODY;
	rec->len = 2;
	rec->lazy = false;
	rec->view_ok = false;
}

void sl_record_reset_line(struct sl_record *rec, int64_t ts_ns, const char *key,
			  size_t key_len, const char *line, size_t line_len)
{
	rec->ts_ns = ts_ns;
	rec->flags = 0;
	rec->origin = 0;
	rec->lazy = true;
	rec->view_ok = false;
	rec->line = line;
	rec->line_len = line_len;
	rec->line_key = key;
	rec->line_key_len = key_len;
	rec->body = NULL;
	rec->len = 0;
}

static bool inside(const struct sl_buf *b, const char *p)
{
	return b->data && p >= b->data && p < b->data + b->cap;
}

/* The buffer an edit writes: the one the body is not in. */
static struct sl_buf *spare(struct sl_record *rec)
{
	return &rec->own[rec->cur ^ 1];
}

static void commit_spare(struct sl_record *rec)
{
	rec->cur ^= 1;
	rec->body = rec->own[rec->cur].data;
	rec->len = rec->own[rec->cur].len;
	rec->lazy = false;
}

/*
 * Builds the body {"<key>":"<line>"} of a lazy record, and its view by hand:
 * the layout is known, so no parse is needed.
 */
static int build_lazy(struct sl_record *rec)
{
	struct sl_buf *o = spare(rec);
	struct sl_view_node *nd;
	size_t qkey;

	sl_buf_reset(o);
	if (sl_buf_append(o, "{", 1) < 0 ||
	    sl_json_append_string(o, rec->line_key, rec->line_key_len) < 0)
		return -SL_ENOMEM;
	qkey = o->len - 1; /* quoted key, at offset 1 */
	if (sl_buf_append(o, ":", 1) < 0 ||
	    sl_json_append_string(o, rec->line, rec->line_len) < 0 ||
	    sl_buf_append(o, "}", 1) < 0)
		return -SL_ENOMEM;
	if (o->len > UINT32_MAX)
		return -SL_ETOOBIG;
	if (rec->view.cap < 2) {
		nd = realloc(rec->view.nodes, 64 * sizeof(*nd));
		if (!nd)
			return -SL_ENOMEM;
		rec->view.nodes = nd;
		rec->view.cap = 64;
	}
	if (!sl_utf8_valid(rec->line, rec->line_len))
		rec->flags |= SL_REC_REPAIRED;
	nd = rec->view.nodes;
	nd[0] = (struct sl_view_node){
	    .val_len = (uint32_t)o->len,
	    .parent = UINT32_MAX,
	    .end = 2,
	    .type = SL_VAL_OBJECT,
	};
	nd[1] = (struct sl_view_node){
	    .key_off = 2,
	    .key_len = (uint32_t)qkey - 2,
	    .member_off = 1,
	    .val_off = (uint32_t)qkey + 2,
	    .val_len = (uint32_t)(o->len - qkey - 3),
	    .parent = 0,
	    .end = 2,
	    .type = SL_VAL_STRING,
	    .key_escaped = memchr(o->data + 2, '\\', qkey - 2) != NULL,
	    .key_hash = sl_json_key_hash(rec->line_key, rec->line_key_len),
	};
	rec->view.n = 2;
	sl_view_reset_index(&rec->view);
	commit_spare(rec);
	rec->view_ok = true;
	return 0;
}

int sl_record_view(struct sl_record *rec, const struct sl_view **view)
{
	int rc;

	if (rec->lazy && (rc = build_lazy(rec)) < 0)
		return rc;
	if (!rec->view_ok) {
		rc = sl_view_build(&rec->view, rec->body, rec->len);
		if (rc < 0)
			return rc;
		rec->view_ok = true;
	}
	*view = &rec->view;
	return 0;
}

int sl_record_reset_json(struct sl_record *rec, int64_t ts_ns, const char *json,
			 size_t len)
{
	struct sl_buf *o = spare(rec);
	const char *body;
	size_t blen;
	long rep;
	int rc;

	rec->ts_ns = ts_ns;
	rec->flags = 0;
	rec->origin = 0;
	rec->lazy = false;
	rc = sl_json_prepare_object(json, len, o, &rec->view, &body, &blen,
				    &rep);
	if (rc < 0) {
		set_empty(rec);
		return rc;
	}
	if (body == json) {
		rec->body = json; /* borrowed until emitted */
		rec->len = len;
	} else {
		commit_spare(rec);
		rec->flags |= SL_REC_REPAIRED;
	}
	rec->view_ok = true;
	return 0;
}

/*
 * Copies `p` to tmp when it lies in the spare buffer, which the caller is
 * about to overwrite. Such a pointer is stale by the borrowing rules, but a
 * copy is cheap insurance.
 */
static int shield(struct sl_record *rec, const char **p, size_t len)
{
	if (!inside(spare(rec), *p))
		return 0;
	sl_buf_reset(&rec->tmp);
	if (sl_buf_append(&rec->tmp, *p, len) < 0)
		return -SL_ENOMEM;
	*p = rec->tmp.data;
	return 0;
}

int sl_record_replace_json(struct sl_record *rec, const char *json, size_t len)
{
	struct sl_buf *o;
	const char *body;
	size_t blen;
	long rep;
	int rc;

	if (shield(rec, &json, len) < 0)
		return -SL_ENOMEM;
	o = spare(rec);
	rc = sl_json_prepare_object(json, len, o, &rec->view, &body, &blen,
				    &rep);
	if (rc < 0) {
		rec->view_ok = false; /* the view was reused: rebuild later */
		return rc;
	}
	if (body == json) {
		sl_buf_reset(o);
		if (sl_buf_append(o, json, len) < 0) {
			rec->view_ok = false;
			return -SL_ENOMEM;
		}
	}
	commit_spare(rec);
	if (rep)
		rec->flags |= SL_REC_REPAIRED;
	rec->view_ok = true;
	return 0;
}

int64_t sl_record_time(const struct sl_record *rec)
{
	return rec->ts_ns;
}

void sl_record_set_time(struct sl_record *rec, int64_t ts_ns)
{
	/* only parsers and filters set a time after the reset, from what the
	 * record says: stable across a re-read */
	rec->ts_ns = ts_ns;
	rec->flags |= SL_REC_TIME_FROM_LOG;
}

void sl_record_set_origin(struct sl_record *rec, uint64_t origin)
{
	rec->origin = origin;
}

uint64_t sl_identity_mix(uint64_t a, uint64_t b)
{
	uint64_t z = a ^ ((b << 29) | (b >> 35)) ^ 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1;
}

/*
 * SHA-256 for record ids through OpenSSL's low-level SHA256_* calls, not
 * EVP: the first EVP fetch loads and initialises the default provider,
 * about 3.4 MB of resident pages (libcrypto's tables and heap) in a
 * process that needs one digest; SHA256_Init runs the same assembly (SHA-NI
 * where the CPU has it) with a context on the stack. OpenSSL 3 marks these
 * calls deprecated, not removed (core/README.md, "Record identity").
 */
int sl_record_id_hex(int64_t ts_ns, uint64_t identity, const char *body,
		     size_t len, char out[SL_RECORD_ID_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH], who[9];
	uint64_t u = identity ? identity : (uint64_t)ts_ns;
	size_t who_len = 0;
	SHA256_CTX sha;

	/* the 'I' keeps an identity from ever hashing like a time; a time
	 * alone hashes as before identities existed, so ids already stored
	 * for such records stay the same */
	if (identity)
		who[who_len++] = 'I';
	/* little endian whatever the host, so ids agree across machines */
	for (int i = 0; i < 8; i++)
		who[who_len++] = (unsigned char)(u >> (8 * i));
	if (!SHA256_Init(&sha) || !SHA256_Update(&sha, who, who_len) ||
	    !SHA256_Update(&sha, body, len) || !SHA256_Final(md, &sha))
		return -SL_ENOMEM;
	for (int i = 0; i < SL_RECORD_ID_HEX / 2; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[SL_RECORD_ID_HEX] = '\0';
	return 0;
}

uint64_t sl_record_identity(const struct sl_record *rec)
{
	if (!rec->origin)
		return 0;
	if (rec->flags & SL_REC_TIME_FROM_LOG)
		return sl_identity_mix(rec->origin, (uint64_t)rec->ts_ns);
	return rec->origin;
}

void sl_record_flag_parse_error(struct sl_record *rec)
{
	rec->flags |= SL_REC_PARSE_ERROR;
}

const char *sl_record_body(struct sl_record *rec, size_t *len)
{
	if (rec->lazy && build_lazy(rec) < 0) {
		*len = 0;
		return NULL;
	}
	*len = rec->len;
	return rec->body;
}

int sl_record_set_body(struct sl_record *rec, const char *json, size_t len)
{
	struct sl_buf *o;

	if (shield(rec, &json, len) < 0)
		return -SL_ENOMEM;
	o = spare(rec);
	sl_buf_reset(o);
	if (sl_buf_append(o, json, len) < 0)
		return -SL_ENOMEM;
	commit_spare(rec);
	rec->view_ok = false;
	return 0;
}

/* Unescapes `s` into the caller's text scratch. */
static int text_unescape(struct sl_text *scratch, const char *s, size_t len,
			 const char **out)
{
	struct sl_buf b = {.data = scratch->buf, .len = 0, .cap = scratch->cap};
	int rc = sl_json_unescape_append(&b, s, len);

	scratch->buf = b.data;
	scratch->cap = b.cap;
	if (rc < 0)
		return rc;
	*out = b.data;
	return (int)b.len;
}

int sl_record_next_field(struct sl_record *rec, size_t *pos,
			 struct sl_text *scratch, const char **key,
			 size_t *key_len, struct sl_value *value)
{
	const struct sl_view *v;
	const struct sl_view_node *nd;
	size_t i = *pos ? *pos : 1;
	int rc = sl_record_view(rec, &v);

	if (rc < 0)
		return rc;
	if (i >= v->nodes[0].end)
		return 0;
	nd = &v->nodes[i];
	if (nd->key_escaped) {
		rc = text_unescape(scratch, rec->body + nd->key_off,
				   nd->key_len, key);
		if (rc < 0)
			return rc;
		*key_len = (size_t)rc;
	} else {
		*key = rec->body + nd->key_off;
		*key_len = nd->key_len;
	}
	value->type = (enum sl_value_type)nd->type;
	value->raw = rec->body + nd->val_off;
	value->raw_len = nd->val_len;
	*pos = nd->end;
	return 1;
}

/* ---- edits --------------------------------------------------------------- */

/* Does top-level node `nd` have the plain key `key`? Uses rec->tmp. */
static bool node_has_key(struct sl_record *rec, const struct sl_view_node *nd,
			 const char *key, size_t key_len)
{
	const char *raw = rec->body + nd->key_off;

	if (!nd->key_escaped)
		return nd->key_len == key_len && memcmp(raw, key, key_len) == 0;
	sl_buf_reset(&rec->tmp);
	if (sl_json_unescape_append(&rec->tmp, raw, nd->key_len) < 0)
		return false;
	return rec->tmp.len == key_len &&
	       memcmp(rec->tmp.data, key, key_len) == 0;
}

/*
 * How many top-level members are named `key`. Scanning every child is what
 * makes edits act on all occurrences of a repeated key.
 */
static int count_key(struct sl_record *rec, const char *key, size_t key_len)
{
	const struct sl_view *v = &rec->view;
	int n = 0;

	for (uint32_t i = 1; i < v->nodes[0].end; i = v->nodes[i].end)
		if (node_has_key(rec, &v->nodes[i], key, key_len))
			n++;
	return n;
}

enum span { SPAN_VALUE, SPAN_KEY };

/*
 * Writes the body with the value (SPAN_VALUE) or quoted key (SPAN_KEY) of
 * every member named `key` replaced by rep, into the spare buffer.
 */
static int splice_all(struct sl_record *rec, const char *key, size_t key_len,
		      enum span what, const char *rep, size_t rep_len)
{
	const struct sl_view_node *nodes = rec->view.nodes;
	struct sl_buf *o = spare(rec);
	size_t pos = 0;

	sl_buf_reset(o);
	if (sl_buf_reserve(o, rec->len + rep_len) < 0)
		return -SL_ENOMEM;
	for (uint32_t i = 1; i < nodes[0].end; i = nodes[i].end) {
		const struct sl_view_node *nd = &nodes[i];
		size_t from, to;

		if (!node_has_key(rec, nd, key, key_len))
			continue;
		if (what == SPAN_VALUE) {
			from = nd->val_off;
			to = (size_t)nd->val_off + nd->val_len;
		} else {
			from = nd->member_off;
			to = (size_t)nd->key_off + nd->key_len + 1;
		}
		if (sl_buf_append(o, rec->body + pos, from - pos) < 0 ||
		    sl_buf_append(o, rep, rep_len) < 0)
			return -SL_ENOMEM;
		pos = to;
	}
	if (sl_buf_append(o, rec->body + pos, rec->len - pos) < 0)
		return -SL_ENOMEM;
	return 0;
}

/* Appends the member qkey:value after the last one (or inside {}). */
static int append_member(struct sl_record *rec, const char *qkey,
			 size_t qkey_len, const char *val, size_t val_len)
{
	const struct sl_view_node *nodes = rec->view.nodes;
	struct sl_buf *o = spare(rec);
	bool empty = nodes[0].end == 1;
	size_t at;

	if (empty) {
		at = (size_t)nodes[0].val_off + 1;
	} else {
		uint32_t last = 1;

		while (nodes[last].end < nodes[0].end)
			last = nodes[last].end;
		at = (size_t)nodes[last].val_off + nodes[last].val_len;
	}
	sl_buf_reset(o);
	if (sl_buf_reserve(o, rec->len + qkey_len + val_len + 2) < 0 ||
	    sl_buf_append(o, rec->body, at) < 0 ||
	    (!empty && sl_buf_append(o, ",", 1) < 0) ||
	    sl_buf_append(o, qkey, qkey_len) < 0 ||
	    sl_buf_append(o, ":", 1) < 0 ||
	    sl_buf_append(o, val, val_len) < 0 ||
	    sl_buf_append(o, rec->body + at, rec->len - at) < 0)
		return -SL_ENOMEM;
	return 0;
}

/*
 * Common part of set and set_string: `val` is JSON text, never in rec->tmp
 * (key comparisons use tmp). Replaces every member named `key`, or appends.
 */
static int set_value(struct sl_record *rec, const char *key, size_t key_len,
		     const char *val, size_t val_len)
{
	const struct sl_view *v;
	int rc;

	if ((rc = sl_record_view(rec, &v)) < 0)
		return rc;
	if (count_key(rec, key, key_len) > 0) {
		rc = splice_all(rec, key, key_len, SPAN_VALUE, val, val_len);
	} else {
		struct sl_buf q = {0};

		/* the quoted key needs its own buffer: tmp may hold val */
		rc = sl_json_append_string(&q, key, key_len);
		if (rc == 0)
			rc = append_member(rec, q.data, q.len, val, val_len);
		sl_buf_destroy(&q);
	}
	if (rc < 0)
		return rc;
	commit_spare(rec);
	rec->view_ok = false;
	return 0;
}

int sl_record_set(struct sl_record *rec, const char *key, size_t key_len,
		  const char *json_value, size_t value_len)
{
	if (shield(rec, &json_value, value_len) < 0)
		return -SL_ENOMEM;
	if (json_value == rec->tmp.data) {
		/* tmp is reused for key comparisons: keep the value apart */
		struct sl_buf copy = {0};
		int rc = sl_buf_append(&copy, json_value, value_len);

		if (rc == 0)
			rc = set_value(rec, key, key_len, copy.data, copy.len);
		sl_buf_destroy(&copy);
		return rc;
	}
	return set_value(rec, key, key_len, json_value, value_len);
}

int sl_record_set_string(struct sl_record *rec, const char *key, size_t key_len,
			 const char *str, size_t str_len)
{
	struct sl_buf *q = &rec->tmp;
	struct sl_buf val;
	int rc;

	/* escape into tmp, then move it out so key comparisons can use tmp */
	sl_buf_reset(q);
	if (sl_json_append_string(q, str, str_len) < 0)
		return -SL_ENOMEM;
	val = *q;
	memset(q, 0, sizeof(*q));
	rc = set_value(rec, key, key_len, val.data, val.len);
	if (!rec->tmp.data) {
		rec->tmp = val; /* give the buffer back */
	} else {
		sl_buf_destroy(&val);
	}
	return rc;
}

int sl_record_remove(struct sl_record *rec, const char *key, size_t key_len)
{
	const struct sl_view *v;
	const struct sl_view_node *nodes;
	struct sl_buf *o;
	uint32_t i, prev_end = 0;
	bool kept = false;
	size_t last_end;
	int rc;

	if ((rc = sl_record_view(rec, &v)) < 0)
		return rc;
	if (count_key(rec, key, key_len) == 0)
		return -SL_ENOENT;
	nodes = v->nodes;
	o = spare(rec);
	sl_buf_reset(o);
	if (sl_buf_reserve(o, rec->len) < 0 ||
	    sl_buf_append(o, rec->body, nodes[1].member_off) < 0)
		return -SL_ENOMEM;
	/*
	 * Kept members are copied with the separator that preceded them in
	 * the text (", " from the previous member's end), except the first
	 * kept one, which takes the place of the first member.
	 */
	last_end = 0;
	for (i = 1; i < nodes[0].end; i = nodes[i].end) {
		const struct sl_view_node *nd = &nodes[i];
		size_t end = (size_t)nd->val_off + nd->val_len;

		if (!node_has_key(rec, nd, key, key_len)) {
			size_t from = kept ? prev_end : nd->member_off;

			if (sl_buf_append(o, rec->body + from, end - from) < 0)
				return -SL_ENOMEM;
			kept = true;
		}
		prev_end = (uint32_t)end;
		last_end = end;
	}
	if (sl_buf_append(o, rec->body + last_end, rec->len - last_end) < 0)
		return -SL_ENOMEM;
	commit_spare(rec);
	rec->view_ok = false;
	return 0;
}

int sl_record_rename(struct sl_record *rec, const char *key, size_t key_len,
		     const char *new_key, size_t new_len)
{
	const struct sl_view *v;
	struct sl_buf q = {0};
	int rc;

	if ((rc = sl_record_view(rec, &v)) < 0)
		return rc;
	if (count_key(rec, key, key_len) == 0)
		return -SL_ENOENT;
	/*
	 * Only the key text changes. A member already named new_key stays:
	 * lookups then see the renamed one only if it comes last; filters that
	 * must replace (modify's Hard_rename) remove new_key first.
	 */
	rc = sl_json_append_string(&q, new_key, new_len);
	if (rc == 0)
		rc = splice_all(rec, key, key_len, SPAN_KEY, q.data, q.len);
	sl_buf_destroy(&q);
	if (rc < 0)
		return rc;
	commit_spare(rec);
	rec->view_ok = false;
	return 0;
}
