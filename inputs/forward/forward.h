/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward.h - the forward input's shared state: the plugin (forward.c:
 * options, listener, lifecycle) and its connections (forward_conn.c:
 * bytes in, handshake, records out, acks).
 */
#ifndef IN_FORWARD_H
#define IN_FORWARD_H

#include "forward_auth.h"
#include "forward_decode.h"
#include "sl_input.h"
#include "sl_metrics.h"
#include "sl_record.h"

#include <event2/event.h>
#include <event2/listener.h>

#define FWD_MAX_CONNS 1024

/* Why a message, an entry or a connection was refused
 * (sluice_forward_rejected_total{name,reason}). */
enum fwd_rej {
	FWD_REJ_MALFORMED,   /* not msgpack, not a Forward message or entry */
	FWD_REJ_TRUNCATED,   /* connection closed inside a message */
	FWD_REJ_TOO_LARGE,   /* a message over Buffer_Max_Size */
	FWD_REJ_HANDSHAKE,   /* no PING where one was due, a bad PING */
	FWD_REJ_SHARED_KEY,  /* wrong shared key */
	FWD_REJ_USER,	     /* unknown user or wrong password */
	FWD_REJ_UNSUPPORTED, /* metrics or traces (fluent_signal) */
	FWD_REJ_BUSY,	     /* not buffered (memory or storage), not acked */
	FWD_REJ_CONNECTIONS, /* over the connection limit */
	FWD_REJ_N,
};

struct fwd_conn;

struct fwd_ctx {
	/* config map */
	char *listen;
	int64_t port;
	char *tag_prefix;
	char *shared_key;
	char *self_hostname;
	struct sl_cfg_multi users;
	char *unix_path;
	char *unix_perm;
	int64_t buffer_chunk_size;
	int64_t buffer_max_size;
	bool empty_shared_key;
	bool tls;
	char *tls_crt_file;
	char *tls_key_file;

	/* from init */
	struct sl_input *in; /* borrowed */
	struct fwd_auth auth;
	struct fwd_user *user_list; /* owned; strings owned too */
	unsigned perm;		    /* unix socket mode, 0: leave it */
	bool ready;

	/* runtime, engine thread */
	struct evconnlistener *lev;
	struct event *resume_accept;
	struct ssl_ctx_st *ssl;
	struct fwd_conn *conns;
	size_t n_conns;
	msgpack_unpacked unpacked; /* the message being handled */
	struct sl_record rec;
	struct sl_buf json, tag, gz, out;
	struct sl_metric_series *m_rejected[FWD_REJ_N];
};

void fwd_reject(struct fwd_ctx *ctx, enum fwd_rej why, uint64_t n);

/* forward_conn.c */
void fwd_conn_accept(struct fwd_ctx *ctx, evutil_socket_t fd);
void fwd_conn_free(struct fwd_conn *c);
/* Reads are stopped on every connection (pause) or started again, and
 * what they had buffered handled (resume). */
void fwd_conns_pause(struct fwd_ctx *ctx);
void fwd_conns_resume(struct fwd_ctx *ctx);

#endif
