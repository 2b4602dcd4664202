/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward_conn.c - one Forward client connection of the forward input:
 * bytes are gathered per connection, framed one message at a time (never
 * more than Buffer_Max_Size held), the handshake runs first when a shared
 * key is set, and each message's entries are emitted as records under its
 * tag. A message with a `chunk` option is acknowledged only after
 * sl_input_persist(): with filesystem storage its records are on disk.
 *
 * Any refusal closes the connection without an ack, so the sender keeps
 * the data and sends it again; every one is counted.
 */
#include "forward.h"

#include "sl_log.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HANDSHAKE_TIMEOUT_S 30
#define TAG_MAX		    1024

enum conn_state { CS_WAIT_PING, CS_READY, CS_CLOSING };

struct fwd_conn {
	struct fwd_ctx *ctx;
	struct bufferevent *bev;
	struct sl_buf buf; /* bytes read, not handled yet, from `start` */
	size_t start;
	struct fwd_framer fr;
	enum conn_state state;
	uint8_t nonce[FWD_NONCE_SIZE], salt[FWD_SALT_SIZE];
	struct fwd_conn *next, *prev;
};

void fwd_conn_free(struct fwd_conn *c)
{
	struct fwd_ctx *ctx;

	if (!c)
		return;
	ctx = c->ctx;
	if (c->prev)
		c->prev->next = c->next;
	else
		ctx->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctx->n_conns--;
	if (c->bev)
		bufferevent_free(c->bev);
	sl_buf_destroy(&c->buf);
	free(c);
}

/*
 * Stops reading; the connection goes once its answers are written (by
 * on_write, or reap() when nothing is queued). Never frees `c` itself, so
 * callers deep in a message may go on touching it.
 */
static void close_after_write(struct fwd_conn *c)
{
	c->state = CS_CLOSING;
	bufferevent_disable(c->bev, EV_READ);
}

/* Frees a closing connection with nothing left to write. */
static void reap(struct fwd_conn *c)
{
	if (c->state == CS_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		fwd_conn_free(c);
}

static void refuse(struct fwd_conn *c, enum fwd_rej why)
{
	fwd_reject(c->ctx, why, 1);
	close_after_write(c);
}

static int send_buf(struct fwd_conn *c, const struct sl_buf *b)
{
	return bufferevent_write(c->bev, b->data, b->len) == 0 ? 0 : -SL_ENOMEM;
}

/*
 * The tag, as Fluent Bit chooses it: Tag_Prefix + the sender's tag; else
 * the input's Tag when one is set; else the sender's tag. Control bytes become
 * '_'.
 */
static int make_tag(struct fwd_ctx *ctx, const struct fwd_message *m)
{
	size_t n = m->tag_len > TAG_MAX ? TAG_MAX : m->tag_len, own_len;
	const char *own = sl_input_tag(ctx->in, &own_len);

	sl_buf_reset(&ctx->tag);
	if (!ctx->tag_prefix && own && !sl_input_tag_is_default(ctx->in))
		return sl_buf_append(&ctx->tag, own, own_len);
	if (ctx->tag_prefix && sl_buf_append(&ctx->tag, ctx->tag_prefix,
					     strlen(ctx->tag_prefix)) < 0)
		return -SL_ENOMEM;
	if (sl_buf_reserve(&ctx->tag, n) < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)m->tag[i];

		ctx->tag.data[ctx->tag.len++] =
		    (ch < 0x20 || ch == 0x7f) ? '_' : (char)ch;
	}
	if (ctx->tag.len == 0)
		return sl_buf_append(&ctx->tag, "_", 1);
	return 0;
}

static int emit_entry(void *arg, int64_t ts_ns, const msgpack_object *record)
{
	struct fwd_ctx *ctx = arg;
	int rc;

	sl_buf_reset(&ctx->json);
	rc = fwd_json_append(&ctx->json, record);
	/* the JSON is valid by construction (escaped, UTF-8 repaired, no
	 * NaN): set as the body without a second parse; filters that need
	 * a view build it */
	if (rc == 0)
		rc = sl_record_reset_json(&ctx->rec, ts_ns, "{}", 2);
	if (rc == 0)
		rc = sl_record_set_body(&ctx->rec, ctx->json.data,
					ctx->json.len);
	if (rc == -SL_ENOMEM)
		return rc;
	if (rc < 0) {
		fwd_reject(ctx, FWD_REJ_MALFORMED, 1); /* nesting */
		return 0;
	}
	return sl_input_emit(ctx->in, ctx->tag.data, ctx->tag.len, &ctx->rec);
}

static void send_ack(struct fwd_conn *c, const struct fwd_message *m)
{
	struct sl_buf *out = &c->ctx->out;
	msgpack_packer pk;

	sl_buf_reset(out);
	if (sl_buf_reserve(out, 16 + m->chunk_len) < 0) {
		refuse(c, FWD_REJ_BUSY);
		return;
	}
	msgpack_packer_init(&pk, out, fwd_buf_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str(&pk, 3);
	msgpack_pack_str_body(&pk, "ack", 3);
	msgpack_pack_str(&pk, m->chunk_len);
	msgpack_pack_str_body(&pk, m->chunk, m->chunk_len);
	if (send_buf(c, out) < 0)
		refuse(c, FWD_REJ_BUSY);
}

static void handle_records(struct fwd_conn *c, const msgpack_object *root)
{
	struct fwd_ctx *ctx = c->ctx;
	struct fwd_message m;
	struct fwd_entry_stats st = {0};
	int rc;

	if (fwd_message_parse(root, &m) < 0) {
		refuse(c, FWD_REJ_MALFORMED);
		return;
	}
	if (m.signal != 0) {
		/* metrics and traces are not records: counted, acked, so a
		 * Fluent Bit sender does not send them forever */
		fwd_reject(ctx, FWD_REJ_UNSUPPORTED, 1);
		if (m.chunk)
			send_ack(c, &m);
		return;
	}
	if (make_tag(ctx, &m) < 0) {
		refuse(c, FWD_REJ_BUSY);
		return;
	}
	rc = fwd_entries(&m, &ctx->gz, (size_t)ctx->buffer_max_size, emit_entry,
			 ctx, &st);
	if (st.malformed)
		fwd_reject(ctx, FWD_REJ_MALFORMED, st.malformed);
	if (rc == -SL_ETOOBIG) {
		refuse(c, FWD_REJ_TOO_LARGE);
		return;
	}
	if (rc == -SL_EPARSE) {
		refuse(c, FWD_REJ_MALFORMED);
		return;
	}
	if (rc < 0) {
		/* not buffered (memory or storage full): no ack, the sender
		 * sends it again; what was emitted may arrive twice */
		refuse(c, FWD_REJ_BUSY);
		return;
	}
	if (!m.chunk)
		return;
	if (sl_input_persist(ctx->in) < 0) {
		refuse(c, FWD_REJ_BUSY);
		return;
	}
	send_ack(c, &m);
}

static void handle_ping(struct fwd_conn *c, const msgpack_object *root)
{
	struct fwd_ctx *ctx = c->ctx;
	const char *salt = NULL;
	size_t salt_len = 0;
	enum fwd_ping_result r;
	const char *reason = "";

	r = fwd_ping_check(&ctx->auth, root, c->nonce, c->salt, &salt,
			   &salt_len);
	if (r == FWD_PING_MALFORMED) {
		refuse(c, FWD_REJ_HANDSHAKE);
		return;
	}
	if (r == FWD_PING_BAD_KEY)
		reason = "shared_key mismatch";
	else if (r == FWD_PING_BAD_USER)
		reason = "username/password mismatch";
	sl_buf_reset(&ctx->out);
	if (fwd_pong_pack(&ctx->out, &ctx->auth, r == FWD_PING_OK, reason, salt,
			  salt_len, c->nonce) < 0 ||
	    send_buf(c, &ctx->out) < 0) {
		refuse(c, FWD_REJ_BUSY);
		return;
	}
	if (r != FWD_PING_OK) {
		sl_log(SL_LOG_WARN,
		       sl_plugin_instance_name(sl_input_instance(ctx->in)),
		       "handshake refused: %s", reason);
		refuse(c, r == FWD_PING_BAD_KEY ? FWD_REJ_SHARED_KEY
						: FWD_REJ_USER);
		return;
	}
	c->state = CS_READY;
	bufferevent_set_timeouts(c->bev, NULL, NULL);
}

/* One framed message of n bytes at p. */
static void handle(struct fwd_conn *c, const char *p, size_t n)
{
	struct fwd_ctx *ctx = c->ctx;
	size_t used = 0;

	if (msgpack_unpack_next(&ctx->unpacked, p, n, &used) !=
		MSGPACK_UNPACK_SUCCESS ||
	    used != n) {
		refuse(c, FWD_REJ_MALFORMED);
		return;
	}
	if (c->state == CS_WAIT_PING)
		handle_ping(c, &ctx->unpacked.data);
	else
		handle_records(c, &ctx->unpacked.data);
}

/* Handles every complete message buffered, until paused or closed. */
static void handle_all(struct fwd_conn *c)
{
	struct fwd_ctx *ctx = c->ctx;
	size_t max = (size_t)ctx->buffer_max_size;

	while (c->state != CS_CLOSING && c->start < c->buf.len) {
		size_t avail = c->buf.len - c->start, n = 0;
		uint64_t owed = 0;
		enum fwd_frame_result fr;

		if (sl_input_paused(ctx->in)) {
			bufferevent_disable(c->bev, EV_READ);
			break; /* resume handles the rest */
		}
		fr = fwd_frame(&c->fr, (const uint8_t *)c->buf.data + c->start,
			       avail, &n, &owed);
		if (fr == FWD_FRAME_INVALID) {
			refuse(c, FWD_REJ_MALFORMED);
			break;
		}
		if (fr == FWD_FRAME_MORE) {
			if ((uint64_t)avail + owed > max) {
				sl_log(SL_LOG_WARN,
				       sl_plugin_instance_name(
					   sl_input_instance(ctx->in)),
				       "a message over Buffer_Max_Size (%zu "
				       "bytes): connection closed",
				       max);
				refuse(c, FWD_REJ_TOO_LARGE);
				break;
			}
			break;
		}
		fwd_framer_reset(&c->fr);
		c->start += n;
		handle(c, c->buf.data + c->start - n, n);
	}
	if (c->start > 0) {
		memmove(c->buf.data, c->buf.data + c->start,
			c->buf.len - c->start);
		c->buf.len -= c->start;
		c->start = 0;
	}
}

/* handle_all, then `c` is gone if it was refused and has nothing queued. */
static void process(struct fwd_conn *c)
{
	handle_all(c);
	reap(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct fwd_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in);

	if (c->state == CS_CLOSING) {
		evbuffer_drain(in, n);
		return;
	}
	if (sl_buf_reserve(&c->buf, n) < 0) {
		refuse(c, FWD_REJ_BUSY);
		reap(c);
		return;
	}
	evbuffer_remove(in, c->buf.data + c->buf.len, n);
	c->buf.len += n;
	sl_input_add_bytes(c->ctx->in, n);
	process(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct fwd_conn *c = arg;

	if (c->state == CS_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		fwd_conn_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct fwd_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	/* a message cut by the peer: never acked, so never lost */
	if (c->state != CS_CLOSING && c->buf.len > c->start)
		fwd_reject(c->ctx, FWD_REJ_TRUNCATED, 1);
	else if (c->state == CS_WAIT_PING && (what & BEV_EVENT_TIMEOUT))
		fwd_reject(c->ctx, FWD_REJ_HANDSHAKE, 1);
	fwd_conn_free(c);
}

static struct bufferevent *new_bev(struct fwd_ctx *ctx, evutil_socket_t fd)
{
	struct event_base *base = sl_input_base(ctx->in);
	struct bufferevent *bev;
	SSL *ssl;

	if (!ctx->ssl)
		return bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	ssl = SSL_new(ctx->ssl);
	if (!ssl)
		return NULL;
	bev = bufferevent_openssl_socket_new(
	    base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static int send_helo(struct fwd_conn *c)
{
	struct timeval tv = {.tv_sec = HANDSHAKE_TIMEOUT_S};

	if (RAND_bytes(c->nonce, sizeof(c->nonce)) != 1 ||
	    RAND_bytes(c->salt, sizeof(c->salt)) != 1)
		return -SL_EIO;
	sl_buf_reset(&c->ctx->out);
	if (fwd_helo_pack(&c->ctx->out, c->nonce, c->salt) < 0 ||
	    send_buf(c, &c->ctx->out) < 0)
		return -SL_ENOMEM;
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	return 0;
}

void fwd_conn_accept(struct fwd_ctx *ctx, evutil_socket_t fd)
{
	struct fwd_conn *c;

	if (ctx->n_conns >= FWD_MAX_CONNS) {
		fwd_reject(ctx, FWD_REJ_CONNECTIONS, 1);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->bev = new_bev(ctx, fd))) {
		free(c);
		close(fd);
		return;
	}
	c->ctx = ctx;
	c->next = ctx->conns;
	if (ctx->conns)
		ctx->conns->prev = c;
	ctx->conns = c;
	ctx->n_conns++;
	fwd_framer_reset(&c->fr);
	c->state = ctx->auth.shared_key ? CS_WAIT_PING : CS_READY;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	if (c->state == CS_WAIT_PING && send_helo(c) < 0) {
		fwd_conn_free(c);
		return;
	}
	bufferevent_enable(
	    c->bev, sl_input_paused(ctx->in) ? EV_WRITE : EV_READ | EV_WRITE);
}

void fwd_conns_pause(struct fwd_ctx *ctx)
{
	for (struct fwd_conn *c = ctx->conns; c; c = c->next)
		if (c->state != CS_CLOSING)
			bufferevent_disable(c->bev, EV_READ);
}

void fwd_conns_resume(struct fwd_ctx *ctx)
{
	struct fwd_conn *c = ctx->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->state == CS_CLOSING)
			continue;
		bufferevent_enable(c->bev, EV_READ);
		process(c); /* may free c, never another connection */
		if (sl_input_paused(ctx->in))
			return;
	}
}
