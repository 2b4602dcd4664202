/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward_client.c - the forward output's connection (see the header).
 * The handshake: the server's HELO carries a nonce and a user-auth salt;
 * the client answers PING [self_hostname, salt, sha512(salt | hostname |
 * nonce | key), username, sha512(auth | username | password)] and checks
 * the PONG's digest over the server's host name, so it also knows the
 * server holds the key.
 */
#include "forward_client.h"

#include "sl_log.h"

#include "../../inputs/forward/forward_auth.h"
#include "../../inputs/forward/forward_decode.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_REPLY (1024 * 1024)

void fwdo_conn_init(struct fwdo_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	msgpack_unpacked_init(&c->obj);
}

void fwdo_conn_close(struct fwdo_conn *c)
{
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	sl_buf_reset(&c->in);
}

void fwdo_conn_destroy(struct fwdo_conn *c)
{
	fwdo_conn_close(c);
	sl_buf_destroy(&c->in);
	msgpack_unpacked_destroy(&c->obj);
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int rc;

	do {
		rc = poll(&pfd, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc == 0)
		errno = ETIMEDOUT;
	return rc > 0 ? 0 : -1;
}

/* A non-blocking connect bounded by the timeout. */
static int connect_addr(const struct sockaddr *sa, socklen_t len, int family,
			int timeout_ms)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0;
	socklen_t elen = sizeof(err);

	if (fd < 0)
		return -1;
	if (connect(fd, sa, len) < 0) {
		if (errno != EINPROGRESS ||
		    wait_fd(fd, POLLOUT, timeout_ms) < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 ||
		    err != 0) {
			if (err)
				errno = err;
			err = errno;
			close(fd);
			errno = err;
			return -1;
		}
	}
	return fd;
}

static int open_socket(const struct fwdo_peer *p)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL, *ai;
	char service[16];
	int fd = -1, rc;

	if (p->unix_path) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
			 p->unix_path);
		fd = connect_addr((struct sockaddr *)&sun, sizeof(sun), AF_UNIX,
				  p->connect_timeout_ms);
		if (fd < 0)
			sl_log(SL_LOG_WARN, p->who, "connect unix:%s: %s",
			       p->unix_path, strerror(errno));
		return fd;
	}
	snprintf(service, sizeof(service), "%d", p->port);
	rc = getaddrinfo(p->host, service, &hints, &res);
	if (rc != 0) {
		sl_log(SL_LOG_WARN, p->who, "resolve %s: %s", p->host,
		       gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = connect_addr(ai->ai_addr, ai->ai_addrlen, ai->ai_family,
				  p->connect_timeout_ms);
	if (fd < 0)
		sl_log(SL_LOG_WARN, p->who, "connect %s:%d: %s", p->host,
		       p->port, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

/* SSL_connect/read/write on a non-blocking socket, waiting as asked. */
static int ssl_wait(struct fwdo_conn *c, int rc, int timeout_ms)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(c->fd, POLLIN, timeout_ms);
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(c->fd, POLLOUT, timeout_ms);
	case SSL_ERROR_ZERO_RETURN:
		errno = EPIPE; /* the peer closed the TLS session */
		return -1;
	default: {
		unsigned long e = ERR_peek_last_error();

		if (e)
			sl_log(SL_LOG_DEBUG, "forward", "TLS: %s",
			       ERR_reason_error_string(e));
		ERR_clear_error();
		if (errno == 0)
			errno = ECONNRESET;
		return -1;
	}
	}
}

static int start_tls(struct fwdo_conn *c, const struct fwdo_peer *p)
{
	int rc;

	c->ssl = SSL_new(p->tls);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
		return -1;
	if (p->sni && *p->sni) {
		SSL_set_tlsext_host_name(c->ssl, p->sni);
		/* checks the certificate names the host we meant */
		SSL_set1_host(c->ssl, p->sni);
	}
	while ((rc = SSL_connect(c->ssl)) != 1)
		if (ssl_wait(c, rc, p->connect_timeout_ms) < 0) {
			unsigned long e = ERR_get_error();

			sl_log(SL_LOG_WARN, p->who, "TLS handshake: %s",
			       e ? ERR_reason_error_string(e) : "failed");
			return -1;
		}
	return 0;
}

int fwdo_conn_write(struct fwdo_conn *c, const struct fwdo_peer *p,
		    const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n;

		if (c->ssl) {
			int rc =
			    SSL_write(c->ssl, data,
				      len > INT32_MAX ? INT32_MAX : (int)len);

			if (rc <= 0) {
				if (ssl_wait(c, rc, p->io_timeout_ms) < 0)
					goto fail;
				continue;
			}
			n = rc;
		} else {
			n = send(c->fd, data, len, MSG_NOSIGNAL);
			if (n < 0) {
				if ((errno == EAGAIN || errno == EINTR) &&
				    wait_fd(c->fd, POLLOUT, p->io_timeout_ms) ==
					0)
					continue;
				goto fail;
			}
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
fail:
	sl_log(SL_LOG_WARN, p->who, "send: %s", strerror(errno));
	fwdo_conn_close(c);
	return -SL_EIO;
}

static ssize_t read_some(struct fwdo_conn *c, const struct fwdo_peer *p,
			 char *buf, size_t len)
{
	for (;;) {
		ssize_t n;

		if (c->ssl) {
			int rc =
			    SSL_read(c->ssl, buf,
				     len > INT32_MAX ? INT32_MAX : (int)len);

			if (rc > 0)
				return rc;
			if (SSL_get_error(c->ssl, rc) == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (ssl_wait(c, rc, p->io_timeout_ms) < 0)
				return -1;
			continue;
		}
		n = recv(c->fd, buf, len, 0);
		if (n >= 0)
			return n;
		if ((errno == EAGAIN || errno == EINTR) &&
		    wait_fd(c->fd, POLLIN, p->io_timeout_ms) == 0)
			continue;
		return -1;
	}
}

int fwdo_conn_read(struct fwdo_conn *c, const struct fwdo_peer *p)
{
	struct fwd_framer fr;
	size_t n = 0, used = 0;

	fwd_framer_reset(&fr);
	for (;;) {
		enum fwd_frame_result r = fwd_frame(
		    &fr, (const uint8_t *)c->in.data, c->in.len, &n, NULL);
		ssize_t got;

		if (r == FWD_FRAME_DONE)
			break;
		if (r == FWD_FRAME_INVALID || c->in.len > MAX_REPLY) {
			sl_log(SL_LOG_WARN, p->who, "bad answer from server");
			goto fail;
		}
		if (sl_buf_reserve(&c->in, 4096) < 0)
			goto fail;
		got = read_some(c, p, c->in.data + c->in.len,
				c->in.cap - c->in.len);
		if (got <= 0) {
			sl_log(SL_LOG_WARN, p->who, "read: %s",
			       got == 0 ? "connection closed"
					: strerror(errno));
			goto fail;
		}
		c->in.len += (size_t)got;
	}
	if (msgpack_unpack_next(&c->obj, c->in.data, n, &used) !=
	    MSGPACK_UNPACK_SUCCESS) {
		sl_log(SL_LOG_WARN, p->who, "bad answer from server");
		goto fail;
	}
	/* keep what followed (it belongs to the next read) */
	memmove(c->in.data, c->in.data + n, c->in.len - n);
	c->in.len -= n;
	return 0;
fail:
	fwdo_conn_close(c);
	return -SL_EIO;
}

static bool str_of(const msgpack_object *o, const char **s, size_t *len)
{
	if (o->type == MSGPACK_OBJECT_STR) {
		*s = o->via.str.ptr;
		*len = o->via.str.size;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_BIN) {
		*s = o->via.bin.ptr;
		*len = o->via.bin.size;
		return true;
	}
	return false;
}

static bool is(const msgpack_object *o, const char *s)
{
	const char *p;
	size_t len;

	return str_of(o, &p, &len) && len == strlen(s) &&
	       memcmp(p, s, len) == 0;
}

static int pack_ping(struct sl_buf *out, const struct fwdo_peer *p,
		     const char *nonce, size_t nonce_len, const char *auth,
		     size_t auth_len, const char salt_hex[33])
{
	char key_digest[FWD_HEX_DIGEST + 1], user_digest[FWD_HEX_DIGEST + 1];
	const char *user = p->username ? p->username : "";
	const char *pass = p->password ? p->password : "";
	struct fwd_part kparts[] = {
	    {salt_hex, 32},
	    {p->self_hostname, strlen(p->self_hostname)},
	    {nonce, nonce_len},
	    {p->shared_key, strlen(p->shared_key)},
	};
	struct fwd_part uparts[] = {
	    {auth, auth_len},
	    {user, strlen(user)},
	    {pass, strlen(pass)},
	};
	const char *fields[6];
	msgpack_packer pk;

	if (fwd_sha512_hex(key_digest, kparts, SL_ARRAY_LEN(kparts)) < 0 ||
	    fwd_sha512_hex(user_digest, uparts, SL_ARRAY_LEN(uparts)) < 0)
		return -SL_ENOMEM;
	fields[0] = "PING";
	fields[1] = p->self_hostname;
	fields[2] = salt_hex;
	fields[3] = key_digest;
	fields[4] = user;
	/* no user: an empty digest, as Fluent Bit sends */
	fields[5] = *user ? user_digest : "";
	sl_buf_reset(out);
	if (sl_buf_reserve(out, 512 + strlen(user) + strlen(p->self_hostname)) <
	    0)
		return -SL_ENOMEM;
	msgpack_packer_init(&pk, out, fwd_buf_write);
	msgpack_pack_array(&pk, 6);
	for (int i = 0; i < 6; i++) {
		msgpack_pack_str(&pk, strlen(fields[i]));
		msgpack_pack_str_body(&pk, fields[i], strlen(fields[i]));
	}
	return 0;
}

/* The whole handshake after the HELO in c->obj. */
static int handshake(struct fwdo_conn *c, const struct fwdo_peer *p)
{
	const msgpack_object *o = &c->obj.data, *opt;
	const char *nonce = NULL, *auth = "", *s;
	size_t nonce_len = 0, auth_len = 0, len;
	unsigned char salt[16];
	char salt_hex[33], want[FWD_HEX_DIGEST + 1];
	struct sl_buf ping = {0};
	struct sl_buf nonce_copy = {0};
	int rc;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 2 ||
	    !is(&o->via.array.ptr[0], "HELO") ||
	    o->via.array.ptr[1].type != MSGPACK_OBJECT_MAP) {
		sl_log(SL_LOG_WARN, p->who, "handshake: no HELO from server");
		return -SL_EIO;
	}
	opt = &o->via.array.ptr[1];
	for (uint32_t i = 0; i < opt->via.map.size; i++) {
		const msgpack_object *k = &opt->via.map.ptr[i].key;
		const msgpack_object *v = &opt->via.map.ptr[i].val;

		if (is(k, "nonce") && str_of(v, &s, &len)) {
			nonce = s;
			nonce_len = len;
		} else if (is(k, "auth") && str_of(v, &s, &len)) {
			auth = s;
			auth_len = len;
		}
	}
	if (!nonce) {
		sl_log(SL_LOG_WARN, p->who, "handshake: HELO has no nonce");
		return -SL_EIO;
	}
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -SL_EIO;
	for (int i = 0; i < 16; i++)
		snprintf(salt_hex + 2 * i, 3, "%02x", salt[i]);
	/* c->obj is overwritten by the PONG: keep the nonce */
	if (sl_buf_append(&nonce_copy, nonce, nonce_len) < 0 ||
	    pack_ping(&ping, p, nonce, nonce_len, auth, auth_len, salt_hex) <
		0) {
		rc = -SL_ENOMEM;
		goto out;
	}
	if ((rc = fwdo_conn_write(c, p, ping.data, ping.len)) < 0 ||
	    (rc = fwdo_conn_read(c, p)) < 0)
		goto out;
	o = &c->obj.data;
	rc = -SL_EIO;
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 5 ||
	    !is(&o->via.array.ptr[0], "PONG") ||
	    o->via.array.ptr[1].type != MSGPACK_OBJECT_BOOLEAN) {
		sl_log(SL_LOG_WARN, p->who, "handshake: no PONG from server");
		goto out;
	}
	if (!o->via.array.ptr[1].via.boolean) {
		const char *why = "";
		size_t why_len = 0;

		str_of(&o->via.array.ptr[2], &why, &why_len);
		sl_log(SL_LOG_ERROR, p->who, "handshake refused: %.*s",
		       (int)why_len, why);
		goto out;
	}
	{
		const char *host = "", *digest = "";
		size_t host_len = 0, digest_len = 0;
		struct fwd_part parts[4];

		str_of(&o->via.array.ptr[3], &host, &host_len);
		str_of(&o->via.array.ptr[4], &digest, &digest_len);
		parts[0] = (struct fwd_part){salt_hex, 32};
		parts[1] = (struct fwd_part){host, host_len};
		parts[2] = (struct fwd_part){nonce_copy.data, nonce_copy.len};
		parts[3] =
		    (struct fwd_part){p->shared_key, strlen(p->shared_key)};
		if (fwd_sha512_hex(want, parts, 4) < 0)
			goto out;
		if (digest_len != FWD_HEX_DIGEST ||
		    memcmp(want, digest, FWD_HEX_DIGEST) != 0) {
			sl_log(SL_LOG_ERROR, p->who,
			       "handshake: the server does not know the "
			       "shared key");
			goto out;
		}
	}
	rc = 0;
out:
	sl_buf_destroy(&ping);
	sl_buf_destroy(&nonce_copy);
	return rc;
}

/* Is there a HELO waiting? The server speaks first only when it wants
 * the handshake, so a short wait tells (Fluent Bit waits the same way). */
static bool helo_pending(struct fwdo_conn *c, int timeout_ms)
{
	if (c->ssl && SSL_pending(c->ssl) > 0)
		return true;
	return wait_fd(c->fd, POLLIN, timeout_ms) == 0;
}

/*
 * A kept connection the server has closed (idle timeout, restart) would
 * take the next message into a dead socket without an error: the server
 * sends nothing unasked, so anything readable now is its EOF or reset.
 */
static bool stale(struct fwdo_conn *c)
{
	return wait_fd(c->fd, POLLIN, 0) == 0;
}

int fwdo_conn_open(struct fwdo_conn *c, const struct fwdo_peer *p)
{
	if (c->fd >= 0 && stale(c))
		fwdo_conn_close(c);
	if (c->fd >= 0)
		return 0;
	c->fd = open_socket(p);
	if (c->fd < 0)
		return -SL_EIO;
	if (p->tls && start_tls(c, p) < 0)
		goto fail;
	if (!p->shared_key)
		return 0;
	if (!helo_pending(c, p->io_timeout_ms)) {
		sl_log(SL_LOG_WARN, p->who,
		       "handshake: the server sent no HELO (has it a "
		       "Shared_Key?)");
		goto fail;
	}
	if (fwdo_conn_read(c, p) < 0 || handshake(c, p) < 0)
		goto fail;
	return 0;
fail:
	fwdo_conn_close(c);
	return -SL_EIO;
}

struct ssl_ctx_st *fwdo_tls_new(bool verify, const char *ca_file,
				const char *crt_file, const char *key_file,
				const char *who)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (ca_file
			? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1
			: SSL_CTX_set_default_verify_paths(ctx) != 1) {
			sl_log(SL_LOG_ERROR, who, "tls.ca_file %s: unreadable",
			       ca_file ? ca_file : "(default)");
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	if (crt_file &&
	    (SSL_CTX_use_certificate_chain_file(ctx, crt_file) != 1 ||
	     !key_file ||
	     SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) !=
		 1)) {
		sl_log(SL_LOG_ERROR, who,
		       "tls.crt_file/tls.key_file: unreadable");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

void fwdo_tls_free(struct ssl_ctx_st *ctx)
{
	SSL_CTX_free(ctx);
}
