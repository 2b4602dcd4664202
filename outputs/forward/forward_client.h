/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward_client.h - one blocking connection of the forward output to a
 * Forward server, owned by one worker thread: connect (TCP or unix
 * socket, TLS optional), the client side of the shared-key handshake,
 * writes, and reading one msgpack object (HELO, PONG, an ack) with a
 * deadline. Blocking is fine here: a worker thread runs one flush at a
 * time and the engine thread never waits on it.
 */
#ifndef FORWARD_CLIENT_H
#define FORWARD_CLIENT_H

#include "sl_common.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>

struct ssl_ctx_st;
struct ssl_st;

struct fwdo_peer {
	const char *host; /* borrowed from the output's options */
	int port;
	const char *unix_path;	/* instead of host:port when set */
	struct ssl_ctx_st *tls; /* borrowed; NULL: plain */
	const char *sni;
	const char *shared_key; /* NULL: no handshake */
	const char *self_hostname;
	const char *username, *password;
	int connect_timeout_ms, io_timeout_ms;
	const char *who; /* for logs */
};

struct fwdo_conn {
	int fd; /* -1: not connected */
	struct ssl_st *ssl;
	struct sl_buf in;
	msgpack_unpacked obj;
};

void fwdo_conn_init(struct fwdo_conn *c);
void fwdo_conn_close(struct fwdo_conn *c);
void fwdo_conn_destroy(struct fwdo_conn *c);

/* Connects and runs the handshake if the peer wants it (the server speaks
 * first: a HELO when it has a shared key). 0, or -SL_EIO after logging. */
int fwdo_conn_open(struct fwdo_conn *c, const struct fwdo_peer *p);
/* Writes everything. 0 or -SL_EIO (the connection is then closed). */
int fwdo_conn_write(struct fwdo_conn *c, const struct fwdo_peer *p,
		    const char *data, size_t len);
/* Reads one msgpack object into c->obj. 0, or -SL_EIO (closed, timed out,
 * not msgpack: the connection is then closed). */
int fwdo_conn_read(struct fwdo_conn *c, const struct fwdo_peer *p);

/* A client TLS context (verify, CA file, client certificate). NULL after
 * logging. */
struct ssl_ctx_st *fwdo_tls_new(bool verify, const char *ca_file,
				const char *crt_file, const char *key_file,
				const char *who);
void fwdo_tls_free(struct ssl_ctx_st *ctx);

#endif
