/* SPDX-License-Identifier: Apache-2.0 */
/*
 * syslog_net.c - the syslog input's sockets on the engine's event loop:
 * a datagram socket (udp, unix_udp) read with recvmsg, or a listener
 * (tcp, unix_tcp) whose connections are bufferevents, plain or TLS, each
 * with its own RFC 6587 framer.
 *
 * Back-pressure: while the input is paused nothing is read; stream
 * senders then see TCP's window close, datagrams wait in (or overflow)
 * the socket buffer, and every datagram the kernel drops is counted (from
 * SO_RXQ_OVFL on each datagram and /proc/net/udp every second), never
 * hidden.
 */
#include "syslog.h"

#include "sl_httpd.h"
#include "sl_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* datagrams read per readiness callback, so a flood cannot starve the
 * rest of the loop (the kernel keeps the others queued) */
#define DGRAMS_PER_TURN 64
#define DGRAM_MAX	(4u << 20)
#define PEER_MAX	128

struct syslog_conn {
	struct syslog_ctx *ctx; /* borrowed */
	struct bufferevent *bev;
	struct syslog_framer fr;
	char peer[PEER_MAX];
	struct syslog_conn *prev, *next;
};

static const char *who(const struct syslog_ctx *ctx)
{
	return sl_plugin_instance_name(sl_input_instance(ctx->in));
}

/* "udp://1.2.3.4:514" or "tcp://::1:514" (TLS too), as Fluent Bit writes
 * them; unix sockets name the listening path. */
static void format_peer(const struct syslog_ctx *ctx, const char *scheme,
			const struct sockaddr *sa, socklen_t len, char *out,
			size_t cap)
{
	char host[INET6_ADDRSTRLEN], serv[8];

	if (ctx->mode == SYSLOG_UNIX_UDP || ctx->mode == SYSLOG_UNIX_TCP) {
		snprintf(out, cap, "unix://%s", ctx->path);
		return;
	}
	if (!sa || getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
			       NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(out, cap, "%s://unknown", scheme);
		return;
	}
	snprintf(out, cap, "%s://%s:%s", scheme, host, serv);
}

/* ---- stream connections ---------------------------------------------- */

static void conn_free(struct syslog_conn *c)
{
	struct syslog_ctx *ctx = c->ctx;

	if (c->prev)
		c->prev->next = c->next;
	else
		ctx->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctx->n_conns--;
	syslog_count(ctx, SYSLOG_M_OVERSIZE, c->fr.oversize);
	syslog_count(ctx, SYSLOG_M_TRUNCATED, c->fr.truncated);
	syslog_framer_destroy(&c->fr);
	if (c->bev)
		bufferevent_free(c->bev);
	free(c);
}

static int on_message(void *arg, const char *msg, size_t len)
{
	struct syslog_conn *c = arg;

	return syslog_emit(c->ctx, msg, len, c->peer);
}

/* Frames what the connection holds, until it is empty or the input is
 * paused (the rest stays in the bufferevent for resume); `all` frames
 * everything (the sender closed: there is no later). Returns false when
 * the connection was freed. */
static bool conn_drain(struct syslog_conn *c, bool all)
{
	struct syslog_ctx *ctx = c->ctx;
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while ((all || !ctx->paused) && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		long used;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		used = syslog_framer_feed(&c->fr, v.iov_base, v.iov_len,
					  on_message, c);
		if (used < 0) {
			sl_log(SL_LOG_ERROR, who(ctx),
			       "out of memory: closing %s", c->peer);
			conn_free(c);
			return false;
		}
		evbuffer_drain(in, (size_t)used);
	}
	/* counted as they happen, not only at close */
	syslog_count(ctx, SYSLOG_M_OVERSIZE, c->fr.oversize);
	c->fr.oversize = 0;
	if (ctx->paused)
		bufferevent_disable(c->bev, EV_READ);
	return true;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_drain(arg, false);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct syslog_conn *c = arg;

	(void)bev;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	/* what a closing sender wrote last is still in the buffer */
	if (!conn_drain(c, true))
		return;
	if (syslog_framer_finish(&c->fr, on_message, c) < 0)
		sl_log(SL_LOG_ERROR, who(c->ctx),
		       "out of memory: last message of %s dropped", c->peer);
	conn_free(c);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct syslog_ctx *ctx = arg;
	struct event_base *base = evconnlistener_get_base(lev);
	struct syslog_conn *c;

	if (ctx->n_conns >= (size_t)ctx->max_conns) {
		syslog_count(ctx, SYSLOG_M_CONN_REFUSED, 1);
		evutil_closesocket(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->ctx = ctx;
	syslog_framer_init(&c->fr, (size_t)ctx->max_size,
			   (size_t)ctx->chunk_size);
	format_peer(ctx, "tcp", sa, (socklen_t)salen, c->peer, sizeof(c->peer));
	if (ctx->ssl) {
		SSL *ssl = SSL_new(ctx->ssl);

		c->bev = ssl ? bufferevent_openssl_socket_new(
				   base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
				   BEV_OPT_CLOSE_ON_FREE)
			     : NULL;
		if (!c->bev && ssl)
			SSL_free(ssl);
		if (c->bev)
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	} else {
		c->bev =
		    bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!c->bev) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->next = ctx->conns;
	if (c->next)
		c->next->prev = c;
	ctx->conns = c;
	ctx->n_conns++;
	/* reads stop once a chunk is waiting: memory per connection stays
	 * one chunk plus the framer's message */
	bufferevent_setwatermark(c->bev, EV_READ, 0, (size_t)ctx->chunk_size);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, ctx->paused ? 0 : EV_READ);
}

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct syslog_ctx *ctx = arg;

	(void)lev;
	sl_log(SL_LOG_WARN, who(ctx), "accept failed: %s", strerror(errno));
}

/* ---- datagrams -------------------------------------------------------- */

/* Counts the growth of the socket's drop counter (sk_drops, which both
 * SO_RXQ_OVFL and /proc/net/udp show). Unsigned: a wrapped counter still
 * gives the growth; a smaller value is an older reading, not a wrap. */
static void drops_seen(struct syslog_ctx *ctx, uint32_t drops)
{
	uint32_t grew = drops - ctx->udp_drops;

	if (grew == 0 || grew > UINT32_MAX / 2)
		return;
	syslog_count(ctx, SYSLOG_M_UDP_DROPPED, grew);
	ctx->udp_drops = drops;
}

/* /proc/net/udp{,6} "drops" of our socket (found by its inode): drops
 * after the last datagram read ride on no datagram, so SO_RXQ_OVFL alone
 * would show them only when the next one comes. */
static void on_drops_timer(evutil_socket_t fd, short what, void *arg)
{
	static const char *const files[] = {"/proc/net/udp", "/proc/net/udp6"};
	struct syslog_ctx *ctx = arg;
	char line[512];

	(void)fd;
	(void)what;
	for (size_t i = 0; i < SL_ARRAY_LEN(files); i++) {
		FILE *f = fopen(files[i], "r");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long inode = 0, drops = 0;

			/* sl local rem st tx:rx tr:when retr uid timeout
			 * inode ref pointer drops */
			if (sscanf(line,
				   " %*s %*s %*s %*s %*s %*s %*s %*s %*s "
				   "%lu %*s %*s %lu",
				   &inode, &drops) == 2 &&
			    inode == ctx->udp_inode) {
				drops_seen(ctx, (uint32_t)drops);
				fclose(f);
				return;
			}
		}
		fclose(f);
	}
}

/* SO_RXQ_OVFL: the socket's drop counter when this datagram was queued. */
static void note_drops(struct syslog_ctx *ctx, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm;
	     cm = CMSG_NXTHDR(mh, cm)) {
		uint32_t drops;

		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SO_RXQ_OVFL ||
		    cm->cmsg_len < CMSG_LEN(sizeof(drops)))
			continue;
		memcpy(&drops, CMSG_DATA(cm), sizeof(drops));
		drops_seen(ctx, drops);
	}
}

static void on_dgram(evutil_socket_t fd, short what, void *arg)
{
	struct syslog_ctx *ctx = arg;

	(void)what;
	for (int k = 0; k < DGRAMS_PER_TURN && !ctx->paused; k++) {
		struct sockaddr_storage ss;
		union {
			char buf[CMSG_SPACE(sizeof(uint32_t))];
			struct cmsghdr align;
		} cbuf;
		struct iovec iov = {.iov_base = ctx->dgram,
				    .iov_len = ctx->dgram_cap};
		struct msghdr mh = {.msg_name = &ss,
				    .msg_namelen = sizeof(ss),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cbuf.buf,
				    .msg_controllen = sizeof(cbuf.buf)};
		char peer[PEER_MAX];
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
		size_t len;

		if (n < 0)
			return; /* EAGAIN: all read; others: try next turn */
		note_drops(ctx, &mh);
		len = (size_t)n;
		if ((mh.msg_flags & MSG_TRUNC) || len > (size_t)ctx->max_size) {
			syslog_count(ctx, SYSLOG_M_OVERSIZE, 1);
			continue;
		}
		/* one message per datagram (RFC 5426); senders often end it
		 * with LF or NUL anyway */
		while (len && (ctx->dgram[len - 1] == '\n' ||
			       ctx->dgram[len - 1] == '\r' ||
			       ctx->dgram[len - 1] == '\0'))
			len--;
		if (!len)
			continue;
		peer[0] = '\0';
		if (ctx->source_address_key)
			format_peer(ctx, "udp", (struct sockaddr *)&ss,
				    mh.msg_namelen, peer, sizeof(peer));
		if (syslog_emit(ctx, ctx->dgram, len, peer) != 0)
			break;
	}
}

/* ---- sockets ---------------------------------------------------------- */

static int open_inet(struct syslog_ctx *ctx, int type)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = type,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
			*res = NULL;
	char port[16];
	int fd = -1, on = 1, rc;

	snprintf(port, sizeof(port), "%d", (int)ctx->port);
	rc = getaddrinfo(ctx->listen, port, &hints, &res);
	if (rc != 0) {
		sl_log(SL_LOG_ERROR, who(ctx), "cannot resolve Listen %s: %s",
		       ctx->listen, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    res->ai_protocol);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		sl_log(SL_LOG_ERROR, who(ctx), "cannot listen on %s:%d: %s",
		       ctx->listen, (int)ctx->port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int open_unix(struct syslog_ctx *ctx, int type)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (strlen(ctx->path) >= sizeof(sa.sun_path)) {
		sl_log(SL_LOG_ERROR, who(ctx), "Path too long: %s", ctx->path);
		return -1;
	}
	memcpy(sa.sun_path, ctx->path, strlen(ctx->path) + 1);
	/* a socket file left by an earlier run; never remove anything else */
	if (lstat(ctx->path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(ctx->path);
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(ctx->path, ctx->unix_perm) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		sl_log(SL_LOG_ERROR, who(ctx), "cannot listen on %s: %s",
		       ctx->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ctx->unlink_path = true;
	return fd;
}

static void set_rcvbuf(struct syslog_ctx *ctx, int fd)
{
	int v = (int)ctx->rcvbuf;

	if (v && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) < 0)
		sl_log(SL_LOG_WARN, who(ctx),
		       "Receive_Buffer_Size %d not set: %s", v,
		       strerror(errno));
}

static int start_dgram(struct syslog_ctx *ctx)
{
	struct event_base *base = sl_input_base(ctx->in);
	int on = 1;

	ctx->fd = ctx->mode == SYSLOG_UDP ? open_inet(ctx, SOCK_DGRAM)
					  : open_unix(ctx, SOCK_DGRAM);
	if (ctx->fd < 0)
		return -SL_EIO;
	set_rcvbuf(ctx, ctx->fd);
	if (setsockopt(ctx->fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)) < 0)
		sl_log(SL_LOG_WARN, who(ctx),
		       "SO_RXQ_OVFL unavailable: kernel drops not counted: %s",
		       strerror(errno));
	/* +1: a datagram longer than Buffer_Max_Size is seen as such. No
	 * datagram is larger than 4 MiB (UDP: 64 KiB; unix: the sender's
	 * SO_SNDBUF), so a huge Buffer_Max_Size allocates no more. */
	ctx->dgram_cap = (size_t)ctx->max_size + 1;
	if (ctx->dgram_cap > DGRAM_MAX)
		ctx->dgram_cap = DGRAM_MAX;
	ctx->dgram = malloc(ctx->dgram_cap);
	ctx->ev = ctx->dgram ? event_new(base, ctx->fd, EV_READ | EV_PERSIST,
					 on_dgram, ctx)
			     : NULL;
	if (!ctx->ev || (!ctx->paused && event_add(ctx->ev, NULL) < 0))
		return -SL_ENOMEM;
	if (ctx->mode == SYSLOG_UDP) {
		static const struct timeval every = {.tv_sec = 1};
		struct stat st;

		if (fstat(ctx->fd, &st) == 0)
			ctx->udp_inode = (unsigned long)st.st_ino;
		ctx->drops_timer =
		    event_new(base, -1, EV_PERSIST, on_drops_timer, ctx);
		if (!ctx->drops_timer ||
		    event_add(ctx->drops_timer, &every) < 0)
			return -SL_ENOMEM;
	}
	return 0;
}

static int start_stream(struct syslog_ctx *ctx)
{
	struct event_base *base = sl_input_base(ctx->in);
	const char *err = NULL;
	int fd;

	if (ctx->tls && !ctx->ssl) {
		ctx->ssl = sl_httpd_tls_new(ctx->tls_crt_file,
					    ctx->tls_key_file, &err);
		if (!ctx->ssl) {
			sl_log(SL_LOG_ERROR, who(ctx), "tls: %s", err);
			return -SL_EIO;
		}
	}
	fd = ctx->mode == SYSLOG_TCP ? open_inet(ctx, SOCK_STREAM)
				     : open_unix(ctx, SOCK_STREAM);
	if (fd < 0)
		return -SL_EIO;
	set_rcvbuf(ctx, fd);
	ctx->lev = evconnlistener_new(base, on_accept, ctx,
				      LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!ctx->lev) {
		close(fd);
		return -SL_ENOMEM;
	}
	evconnlistener_set_error_cb(ctx->lev, on_accept_error);
	return 0;
}

int syslog_net_start(struct syslog_ctx *ctx)
{
	bool dgram = ctx->mode == SYSLOG_UDP || ctx->mode == SYSLOG_UNIX_UDP;
	int rc = dgram ? start_dgram(ctx) : start_stream(ctx);

	if (rc == 0) {
		if (ctx->mode == SYSLOG_UDP || ctx->mode == SYSLOG_TCP)
			sl_log(SL_LOG_INFO, who(ctx),
			       "listening on %s:%d (%s%s)", ctx->listen,
			       (int)ctx->port, ctx->mode_str,
			       ctx->ssl ? ", tls" : "");
		else
			sl_log(SL_LOG_INFO, who(ctx), "listening on %s (%s)",
			       ctx->path, ctx->mode_str);
	}
	return rc;
}

void syslog_net_pause(struct syslog_ctx *ctx)
{
	if (ctx->ev)
		event_del(ctx->ev);
	for (struct syslog_conn *c = ctx->conns; c; c = c->next)
		bufferevent_disable(c->bev, EV_READ);
}

void syslog_net_resume(struct syslog_ctx *ctx)
{
	struct syslog_conn *c = ctx->conns, *next;

	if (ctx->ev)
		event_add(ctx->ev, NULL);
	/* what was read before the pause is framed first; conn_drain may
	 * pause the input again */
	for (; c && !ctx->paused; c = next) {
		next = c->next;
		bufferevent_enable(c->bev, EV_READ);
		conn_drain(c, false);
	}
}

void syslog_net_stop(struct syslog_ctx *ctx)
{
	if (ctx->lev) {
		evconnlistener_free(ctx->lev);
		ctx->lev = NULL;
	}
	while (ctx->conns)
		conn_free(ctx->conns);
	if (ctx->ev) {
		event_free(ctx->ev);
		ctx->ev = NULL;
	}
	if (ctx->drops_timer) {
		event_free(ctx->drops_timer);
		ctx->drops_timer = NULL;
	}
	if (ctx->fd >= 0) {
		close(ctx->fd);
		ctx->fd = -1;
	}
	free(ctx->dgram);
	ctx->dgram = NULL;
	if (ctx->unlink_path) {
		unlink(ctx->path);
		ctx->unlink_path = false;
	}
	sl_httpd_tls_free(ctx->ssl);
	ctx->ssl = NULL;
}
