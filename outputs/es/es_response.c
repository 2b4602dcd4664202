/* SPDX-License-Identifier: Apache-2.0 */
/*
 * es_response.c - the Elasticsearch _bulk response reader: a streaming
 * yajl pass, fed piece by piece as the body arrives, that keeps the
 * "errors" flag and, for every item in order, its status, _index and error
 * type/reason (strings cut to a bound), plus a whole-request {"error":...}.
 * Nothing else is kept and no DOM is built, so memory is bounded by the
 * request's item count and the text budget whatever the body's size: no
 * item is ever lost to a cut. What a status means is es_item_verdict()'s.
 */
#include "es.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

enum key {
	K_OTHER = 0,
	K_ERRORS, /* root "errors" */
	K_ITEMS,  /* root "items" */
	K_ERROR,  /* "error" (root or item) */
	K_STATUS, /* item "status" */
	K_INDEX,  /* item "_index" */
	K_TYPE,	  /* error "type" */
	K_REASON, /* error "reason" */
};

/* Parse state. Depth counts open containers: the root's keys come at 1. */
struct rd {
	struct es_response *r;
	int depth;
	enum key k1, k2, k4, k5; /* last key at each depth that matters */
	bool saw_root;
	bool in_items;	   /* depth >= 2 inside root "items" */
	bool item_is_map;  /* the current item is an object */
	bool in_top_error; /* depth >= 2 inside root "error" */
	bool in_op;	   /* depth >= 4 inside items[i].<op> */
	bool in_err;	   /* depth >= 5 inside items[i].<op>.error */
	uint32_t cur;	   /* index of the item being read */
	int err;	   /* -SL_ENOMEM from a callback */
};

static enum key key_of(const unsigned char *k, size_t n)
{
	static const struct {
		const char *s;
		enum key k;
	} keys[] = {
	    {"errors", K_ERRORS}, {"items", K_ITEMS},  {"error", K_ERROR},
	    {"status", K_STATUS}, {"_index", K_INDEX}, {"type", K_TYPE},
	    {"reason", K_REASON},
	};

	for (size_t i = 0; i < SL_ARRAY_LEN(keys); i++)
		if (strlen(keys[i].s) == n && memcmp(keys[i].s, k, n) == 0)
			return keys[i].k;
	return K_OTHER;
}

/* Keeps a string, cut to ES_RESP_STR_MAX, while the budget lasts. */
static int keep(struct rd *st, const unsigned char *s, size_t n, uint32_t *off,
		uint32_t *len)
{
	struct sl_buf *t = &st->r->text;

	if (n > ES_RESP_STR_MAX)
		n = ES_RESP_STR_MAX;
	if (t->len + n > st->r->text_max)
		n = t->len < st->r->text_max ? st->r->text_max - t->len : 0;
	if (n == 0)
		return 1;
	if (sl_buf_append(t, s, n) < 0) {
		st->err = -SL_ENOMEM;
		return 0;
	}
	*off = (uint32_t)(t->len - n);
	*len = (uint32_t)n;
	return 1;
}

static struct es_resp_item *cur_item(struct rd *st)
{
	return st->cur < st->r->expected ? &st->r->items[st->cur] : NULL;
}

static void item_begin(struct rd *st)
{
	st->cur = st->r->n_items;
	if (cur_item(st))
		memset(cur_item(st), 0, sizeof(struct es_resp_item));
}

static void item_end(struct rd *st)
{
	if (st->r->n_items < UINT32_MAX)
		st->r->n_items++;
}

/* Whether item strings are worth keeping: not once errors:false is known. */
static bool want_text(const struct rd *st)
{
	return !(st->r->has_errors && !st->r->errors);
}

static int open_container(struct rd *st, bool is_map)
{
	switch (st->depth) {
	case 0:
		if (!is_map)
			return 0; /* not a bulk response */
		st->saw_root = true;
		break;
	case 1:
		st->in_items = st->k1 == K_ITEMS && !is_map;
		st->in_top_error = st->k1 == K_ERROR && is_map;
		break;
	case 2:
		if (st->in_items)
			item_begin(st);
		st->item_is_map = is_map;
		break;
	case 3:
		st->in_op = st->in_items && st->item_is_map && is_map;
		break;
	case 4:
		st->in_err = st->in_op && st->k4 == K_ERROR && is_map;
		break;
	default:
		break;
	}
	if (st->depth == 1)
		st->k2 = K_OTHER;
	st->depth++;
	return 1;
}

static int close_container(struct rd *st)
{
	st->depth--;
	switch (st->depth) {
	case 1:
		st->in_items = st->in_top_error = false;
		break;
	case 2:
		if (st->in_items)
			item_end(st);
		break;
	case 3:
		st->in_op = false;
		break;
	case 4:
		st->in_err = false;
		break;
	default:
		break;
	}
	return 1;
}

/* A scalar value; `s`/`n` for strings, `iv`/`is_int` for integers. */
static int scalar(struct rd *st, const unsigned char *s, size_t n, long long iv,
		  bool is_int, int boolean)
{
	struct es_resp_item *it;
	struct es_response *r = st->r;

	switch (st->depth) {
	case 0:
		return 0; /* a bare scalar is not a bulk response */
	case 1:
		if (st->k1 == K_ERRORS && boolean >= 0) {
			r->has_errors = true;
			r->errors = boolean != 0;
		}
		return 1;
	case 2:
		if (st->in_items) { /* not an object: an item without status */
			item_begin(st);
			item_end(st);
		} else if (st->in_top_error && s && st->k2 == K_TYPE) {
			return keep(st, s, n, &r->err_type_off,
				    &r->err_type_len);
		} else if (st->in_top_error && s && st->k2 == K_REASON) {
			return keep(st, s, n, &r->err_reason_off,
				    &r->err_reason_len);
		}
		return 1;
	case 4:
		it = st->in_op ? cur_item(st) : NULL;
		if (!it)
			return 1;
		if (st->k4 == K_STATUS && is_int)
			it->status = iv > 0 && iv < 1000 ? (int)iv : 0;
		else if (st->k4 == K_INDEX && s && want_text(st))
			return keep(st, s, n, &it->index_off, &it->index_len);
		else if (st->k4 == K_ERROR && s && want_text(st))
			return keep(st, s, n, &it->reason_off, &it->reason_len);
		return 1;
	case 5:
		it = st->in_err ? cur_item(st) : NULL;
		if (!it || !s || !want_text(st))
			return 1;
		if (st->k5 == K_TYPE)
			return keep(st, s, n, &it->type_off, &it->type_len);
		if (st->k5 == K_REASON)
			return keep(st, s, n, &it->reason_off, &it->reason_len);
		return 1;
	default:
		return 1;
	}
}

static int on_null(void *ctx)
{
	return scalar(ctx, NULL, 0, 0, false, -1);
}

static int on_bool(void *ctx, int b)
{
	return scalar(ctx, NULL, 0, 0, false, b != 0);
}

static int on_integer(void *ctx, long long v)
{
	return scalar(ctx, NULL, 0, v, true, -1);
}

static int on_double(void *ctx, double d)
{
	(void)d;
	return scalar(ctx, NULL, 0, 0, false, -1);
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
	return scalar(ctx, s, n, 0, false, -1);
}

static int on_key(void *ctx, const unsigned char *k, size_t n)
{
	struct rd *st = ctx;

	switch (st->depth) {
	case 1:
		st->k1 = key_of(k, n);
		break;
	case 2:
		st->k2 = key_of(k, n);
		break;
	case 4:
		st->k4 = key_of(k, n);
		break;
	case 5:
		st->k5 = key_of(k, n);
		break;
	default:
		break;
	}
	return 1;
}

static int on_start_map(void *ctx)
{
	return open_container(ctx, true);
}

static int on_start_array(void *ctx)
{
	return open_container(ctx, false);
}

static int on_end(void *ctx)
{
	return close_container(ctx);
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_integer = on_integer,
    .yajl_double = on_double,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

struct es_resp_parser {
	struct rd st;
	yajl_handle h;
};

/* Forgets every result: what a failed read leaves (nothing trusted). */
static void reset(struct es_response *r)
{
	r->has_errors = r->errors = false;
	r->n_items = 0;
	r->err_type_off = r->err_type_len = 0;
	r->err_reason_off = r->err_reason_len = 0;
	sl_buf_reset(&r->text);
	for (uint32_t i = 0; i < r->expected; i++)
		memset(&r->items[i], 0, sizeof(r->items[i]));
}

static void parser_free(struct es_response *r)
{
	if (r->p && r->p->h) {
		yajl_free(r->p->h);
		r->p->h = NULL;
	}
}

/* A failure: results reset, the parser gone, every later call says so. */
static int fail(struct es_response *r, int err)
{
	parser_free(r);
	reset(r);
	r->status = err;
	return err;
}

int es_response_begin(struct es_response *r, uint32_t expected, size_t text_max)
{
	parser_free(r);
	r->status = 0;
	r->fed = 0;
	r->text_max = text_max ? text_max : ES_RESP_TEXT_MAX;
	if (r->text_max > UINT32_MAX)
		r->text_max = UINT32_MAX; /* offsets are 32-bit */
	if (expected > r->cap) {
		struct es_resp_item *p =
		    realloc(r->items, (size_t)expected * sizeof(*p));

		if (!p) {
			r->expected = 0;
			return fail(r, -SL_ENOMEM);
		}
		r->items = p;
		r->cap = expected;
	}
	r->expected = expected;
	reset(r);
	if (!r->p) {
		r->p = calloc(1, sizeof(*r->p));
		if (!r->p)
			return fail(r, -SL_ENOMEM);
	}
	memset(&r->p->st, 0, sizeof(r->p->st));
	r->p->st.r = r;
	r->p->h = yajl_alloc(&callbacks, NULL, &r->p->st);
	if (!r->p->h)
		return fail(r, -SL_ENOMEM);
	return 0;
}

/* The most body bytes a response to `expected` items may take. */
static uint64_t body_max(const struct es_response *r)
{
	return (uint64_t)r->expected * ES_RESP_ITEM_BYTES_MAX +
	       ES_RESP_BASE_BYTES;
}

int es_response_feed(struct es_response *r, const char *data, size_t len)
{
	yajl_status s;

	if (r->status)
		return r->status;
	if (!r->p || !r->p->h)
		return fail(r, -SL_EPARSE); /* feed without begin */
	if (len == 0)
		return 0;
	r->fed += len;
	if (r->fed > body_max(r))
		return fail(r, -SL_EPARSE);
	s = yajl_parse(r->p->h, (const unsigned char *)data, len);
	if (r->p->st.err)
		return fail(r, r->p->st.err);
	if (s != yajl_status_ok)
		return fail(r, -SL_EPARSE);
	return 0;
}

int es_response_end(struct es_response *r)
{
	yajl_status s;

	if (r->status)
		return r->status;
	if (!r->p || !r->p->h)
		return fail(r, -SL_EPARSE);
	s = yajl_complete_parse(r->p->h);
	if (r->p->st.err)
		return fail(r, r->p->st.err);
	if (s != yajl_status_ok || !r->p->st.saw_root)
		return fail(r, -SL_EPARSE);
	parser_free(r);
	return 0;
}

int es_response_read(struct es_response *r, const char *body, size_t len,
		     uint32_t expected)
{
	int rc = es_response_begin(r, expected, 0);

	if (rc == 0)
		rc = es_response_feed(r, body ? body : "", len);
	if (rc == 0)
		rc = es_response_end(r);
	return rc;
}

void es_response_destroy(struct es_response *r)
{
	if (!r)
		return;
	parser_free(r);
	free(r->p);
	r->p = NULL;
	free(r->items);
	r->items = NULL;
	r->cap = r->expected = r->n_items = 0;
	sl_buf_destroy(&r->text);
}

const char *es_response_str(const struct es_response *r, uint32_t off)
{
	return r->text.data && off < r->text.len ? r->text.data + off : "";
}

enum es_verdict es_item_verdict(int status, enum es_op op, bool has_id)
{
	if (status >= 200 && status < 300)
		return ES_DELIVERED;
	/*
	 * create with our own _id: the document is already there, from an
	 * earlier attempt whose response was lost; without one it is not
	 * ours (and cannot happen with generated ids). With index/update a
	 * 409 is a concurrent change, worth another try.
	 */
	if (status == 409 && op == ES_OP_CREATE)
		return has_id ? ES_DELIVERED : ES_REJECTED;
	if (status == 409)
		return ES_RETRY;
	if (status == 429 || status == 408 || status >= 500)
		return ES_RETRY;
	if (status >= 400 && status < 500)
		return ES_REJECTED;
	return ES_RETRY; /* missing, 1xx, 3xx: never a reason to drop */
}

enum es_verdict es_response_verdict(const struct es_response *r, uint32_t i,
				    enum es_op op, bool has_id)
{
	if (r->status)
		return ES_RETRY; /* a failed read trusts nothing */
	/* errors:false speaks for every item present */
	if (r->has_errors && !r->errors && r->n_items == r->expected)
		return ES_DELIVERED;
	if (i >= r->expected || i >= r->n_items)
		return ES_RETRY;
	return es_item_verdict(r->items[i].status, op, has_id);
}
