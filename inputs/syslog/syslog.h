/* SPDX-License-Identifier: Apache-2.0 */
/*
 * syslog.h - the syslog input's context, shared by its two halves:
 * syslog.c (options, messages to records, metrics) and syslog_net.c (the
 * sockets of the four modes on the engine's event loop). Private to the
 * plugin.
 */
#ifndef SYSLOG_INPUT_H
#define SYSLOG_INPUT_H

#include "sl_input.h"
#include "sl_metrics.h"
#include "sl_parser.h"
#include "syslog_frame.h"
#include "syslog_parse.h"

#include <stdbool.h>
#include <stdint.h>

enum syslog_mode {
	SYSLOG_UDP,
	SYSLOG_TCP,
	SYSLOG_UNIX_UDP,
	SYSLOG_UNIX_TCP,
};

/* What gets counted, beside the engine's own input metrics. */
enum syslog_counter {
	SYSLOG_M_OVERSIZE,     /* messages over Buffer_Max_Size, skipped */
	SYSLOG_M_TRUNCATED,    /* octet frames cut by the end of a stream */
	SYSLOG_M_UDP_DROPPED,  /* datagrams the kernel dropped (rcvbuf) */
	SYSLOG_M_CONN_REFUSED, /* connections over Max_Connections */
	SYSLOG_M_N,
};

struct syslog_conn;

struct syslog_ctx {
	/* config map */
	char *mode_str;
	char *listen;
	int64_t port;
	char *path;
	char *unix_perm_str;
	char *parser_name;
	int64_t chunk_size;
	int64_t max_size;
	int64_t rcvbuf;
	char *source_address_key;
	char *raw_message_key;
	char *sd_key;
	char *format_str;
	int64_t max_conns;
	bool tls;
	char *tls_crt_file;
	char *tls_key_file;

	/* runtime */
	struct sl_input *in; /* borrowed */
	enum syslog_mode mode;
	unsigned unix_perm;
	const struct sl_parser *parser; /* borrowed from the instance */
	struct syslog_parse_opts popts;
	struct sl_record rec;
	struct sl_buf body;
	bool ready;
	bool paused;
	char *dgram; /* owned: one datagram */
	size_t dgram_cap;
	uint32_t udp_drops;	   /* the socket's drop counter, last seen */
	unsigned long udp_inode;   /* to find the socket in /proc/net/udp */
	struct event *drops_timer; /* reads /proc/net/udp each second */
	int fd;			   /* the datagram socket, -1 when none */
	struct event *ev;	   /* datagram readiness */
	struct evconnlistener *lev;
	struct ssl_ctx_st *ssl;
	struct syslog_conn *conns; /* owned: open stream connections */
	size_t n_conns;
	bool unlink_path; /* we created the socket file */
	struct sl_metric_series *m[SYSLOG_M_N];
};

/* syslog.c: turns one framed message into a record and emits it. `peer`
 * is the sender ("tcp://1.2.3.4:5678"), NUL-terminated. Returns 1 when the
 * input is now paused (stop reading), 0, or -SL_ENOMEM. */
int syslog_emit(struct syslog_ctx *ctx, const char *msg, size_t len,
		const char *peer);
void syslog_count(struct syslog_ctx *ctx, enum syslog_counter c, uint64_t n);

/* syslog_net.c */
int syslog_net_start(struct syslog_ctx *ctx);
void syslog_net_pause(struct syslog_ctx *ctx);
void syslog_net_resume(struct syslog_ctx *ctx);
void syslog_net_stop(struct syslog_ctx *ctx);

#endif
