/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward.c - Fluent Bit's in_forward: Fluent's Forward protocol v1 over
 * TCP (plain or TLS) or a unix socket, for Fluent Bit and Fluentd agents
 * and sluice's own forward output. Options, defaults and the handshake
 * (Shared_Key, Self_Hostname, security.users) are Fluent Bit's; records
 * keep their tag (after Tag_Prefix) and their time to the nanosecond.
 * Connections are forward_conn.c, bytes to records forward_decode.c.
 * Fluent Bit's listener `workers` are accepted: connections are served on
 * the engine thread, as every sluice input is.
 */
#include "forward.h"

#include "sl_cfgmap.h"
#include "sl_httpd.h"
#include "sl_instance.h"
#include "sl_log.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ACCEPT_PAUSE_MS 500

static const char *const rej_names[FWD_REJ_N] = {
    [FWD_REJ_MALFORMED] = "malformed",	   [FWD_REJ_TRUNCATED] = "truncated",
    [FWD_REJ_TOO_LARGE] = "too_large",	   [FWD_REJ_HANDSHAKE] = "handshake",
    [FWD_REJ_SHARED_KEY] = "shared_key",   [FWD_REJ_USER] = "user",
    [FWD_REJ_UNSUPPORTED] = "unsupported", [FWD_REJ_BUSY] = "busy",
    [FWD_REJ_CONNECTIONS] = "connections",
};

#define OFF(f) offsetof(struct fwd_ctx, f)
static const struct sl_cfg_option fwd_config[] = {
    {.name = "Listen",
     .type = SL_CFG_STR,
     .def = "0.0.0.0",
     .offset = OFF(listen),
     .desc = "address to listen on"},
    {.name = "Port",
     .type = SL_CFG_INT,
     .def = "24224",
     .min = 0,
     .max = 65535,
     .offset = OFF(port),
     .desc = "TCP port (0: any free port)"},
    {.name = "Tag_Prefix",
     .type = SL_CFG_STR,
     .offset = OFF(tag_prefix),
     .desc = "prefix added to every incoming tag"},
    {.name = "Shared_Key",
     .type = SL_CFG_STR,
     .offset = OFF(shared_key),
     .desc = "require the secure forward handshake with this key"},
    {.name = "Empty_Shared_Key",
     .type = SL_CFG_BOOL,
     .def = "false",
     .offset = OFF(empty_shared_key),
     .desc = "require the handshake with an empty shared key"},
    {.name = "Self_Hostname",
     .type = SL_CFG_STR,
     .def = "localhost",
     .offset = OFF(self_hostname),
     .desc = "host name sent in the handshake"},
    {.name = "security.users",
     .type = SL_CFG_STR,
     .flags = SL_CFG_MULTI,
     .offset = OFF(users),
     .desc = "USER PASSWORD: a user the handshake accepts (needs "
	     "Shared_Key)"},
    {.name = "Unix_Path",
     .type = SL_CFG_STR,
     .offset = OFF(unix_path),
     .desc = "listen on this unix socket instead of TCP"},
    {.name = "Unix_Perm",
     .type = SL_CFG_STR,
     .offset = OFF(unix_perm),
     .desc = "octal permissions of the unix socket (e.g. 0660)"},
    {.name = "Buffer_Chunk_Size",
     .type = SL_CFG_SIZE,
     .def = "1024000",
     .min = 1,
     .max = 1e9,
     .offset = OFF(buffer_chunk_size),
     .desc = "accepted; buffers grow as messages need, up to "
	     "Buffer_Max_Size"},
    {.name = "Buffer_Max_Size",
     .type = SL_CFG_SIZE,
     .def = "6144000",
     .min = 1,
     .max = 1e9,
     .offset = OFF(buffer_max_size),
     .desc = "largest message (and inflated gzip payload) per "
	     "connection; over it the connection is closed"},
    {.name = "workers",
     .type = SL_CFG_INT,
     .flags = SL_CFG_IGNORED,
     .desc = "accepted; connections are served on the engine thread"},
    {.name = "threaded",
     .type = SL_CFG_BOOL,
     .flags = SL_CFG_IGNORED,
     .desc = "accepted; inputs run on the engine thread"},
    {.name = "net.",
     .type = SL_CFG_STR,
     .flags = SL_CFG_IGNORED | SL_CFG_PREFIX,
     .desc = "accepted; sluice's own limits apply"},
    SL_HTTPD_TLS_CFG(struct fwd_ctx),
    SL_CFG_END,
};

void fwd_reject(struct fwd_ctx *ctx, enum fwd_rej why, uint64_t n)
{
	if (ctx->m_rejected[why])
		sl_metric_add(ctx->m_rejected[why], (double)n);
}

static void register_metrics(struct fwd_ctx *ctx,
			     struct sl_plugin_instance *ins)
{
	static const char *const labels[] = {"name", "reason"};
	struct sl_metrics *reg = sl_instance_metrics(ins);
	const char *name = sl_plugin_instance_name(ins), *err;
	struct sl_metric_family *f;

	if (!reg)
		return; /* unit tests: no registry */
	f = sl_metrics_family(reg, "sluice_forward_rejected_total",
			      "forward input messages, entries and "
			      "connections refused, by reason",
			      SL_METRIC_COUNTER, labels, 2, NULL, 0, &err);
	if (!f)
		return;
	f->max_series = 0;
	for (int i = 0; i < FWD_REJ_N; i++) {
		const char *values[] = {name, rej_names[i]};

		ctx->m_rejected[i] = sl_metric_series_get(reg, f, values);
	}
}

/* security.users "USER PASSWORD" lines into the handshake's user list. */
static int parse_users(struct fwd_ctx *ctx, struct sl_plugin_instance *ins)
{
	size_t n = ctx->users.n;

	if (n == 0)
		return 0;
	ctx->user_list = calloc(n, sizeof(*ctx->user_list));
	if (!ctx->user_list)
		return -SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct sl_cfg_item *it = &ctx->users.items[i];
		char *user = NULL, *pass = NULL;
		int rc = sl_cfg_split_pair(it->value, &user, &pass);

		if (rc == -SL_ENOMEM)
			return rc;
		if (rc < 0 || !user || !pass) {
			free(user);
			free(pass);
			sl_plugin_error(ins, it->line,
					"security.users needs USER PASSWORD: "
					"'%s'",
					it->value);
			return -SL_ECONFIG;
		}
		ctx->user_list[i] = (struct fwd_user){user, pass};
		ctx->auth.n_users = i + 1;
	}
	ctx->auth.users = ctx->user_list;
	return 0;
}

static int fwd_init(void *data, struct sl_input *in)
{
	struct fwd_ctx *ctx = data;
	struct sl_plugin_instance *ins = sl_input_instance(in);
	int rc;

	ctx->in = in;
	sl_record_init(&ctx->rec);
	msgpack_unpacked_init(&ctx->unpacked);
	ctx->ready = true;
	/* an empty Shared_Key is no key (an unset ${VAR:-}), as in Fluent
	 * Bit: Empty_Shared_Key asks for the handshake with "" */
	if (ctx->shared_key && *ctx->shared_key)
		ctx->auth.shared_key = ctx->shared_key;
	else if (ctx->empty_shared_key)
		ctx->auth.shared_key = "";
	ctx->auth.self_hostname = ctx->self_hostname;
	if ((rc = parse_users(ctx, ins)) < 0)
		return rc;
	if (ctx->auth.n_users && !ctx->auth.shared_key) {
		sl_plugin_error(ins, 0,
				"security.users needs Shared_Key (or "
				"Empty_Shared_Key on): users are checked in "
				"the handshake");
		return -SL_ECONFIG;
	}
	if (ctx->unix_perm) {
		char *end;
		unsigned long v = strtoul(ctx->unix_perm, &end, 8);

		if (*end || end == ctx->unix_perm || v > 07777) {
			sl_plugin_error(ins, 0,
					"Unix_Perm must be octal like 0644, "
					"not '%s'",
					ctx->unix_perm);
			return -SL_ECONFIG;
		}
		ctx->perm = (unsigned)v;
	}
	if (ctx->unix_path && strlen(ctx->unix_path) >=
				  sizeof(((struct sockaddr_un *)0)->sun_path)) {
		sl_plugin_error(ins, 0, "Unix_Path is too long: '%s'",
				ctx->unix_path);
		return -SL_ECONFIG;
	}
	if (ctx->tls && (!ctx->tls_crt_file || !ctx->tls_key_file)) {
		sl_plugin_error(ins, 0,
				"tls On needs tls.crt_file and tls.key_file");
		return -SL_ECONFIG;
	}
	register_metrics(ctx, ins);
	return 0;
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	(void)lev;
	(void)sa;
	(void)salen;
	fwd_conn_accept(arg, fd);
}

static void on_resume_accept(evutil_socket_t fd, short what, void *arg)
{
	struct fwd_ctx *ctx = arg;

	(void)fd;
	(void)what;
	if (ctx->lev)
		evconnlistener_enable(ctx->lev);
}

/* EMFILE and the like stay true while the client waits: rest instead of
 * spinning (the clients wait in the backlog). */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct fwd_ctx *ctx = arg;
	struct timeval tv = {.tv_usec = ACCEPT_PAUSE_MS * 1000};

	sl_log(SL_LOG_WARN, sl_plugin_instance_name(sl_input_instance(ctx->in)),
	       "accept: %s: not accepting for %d ms",
	       strerror(EVUTIL_SOCKET_ERROR()), ACCEPT_PAUSE_MS);
	evconnlistener_disable(lev);
	evtimer_add(ctx->resume_accept, &tv);
}

static int listen_unix(struct fwd_ctx *ctx, const char *who)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", ctx->unix_path);
	/* a socket left by a crashed run would make bind fail */
	(void)unlink(ctx->unix_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    (ctx->perm && chmod(ctx->unix_path, ctx->perm) < 0) ||
	    listen(fd, 128) < 0) {
		sl_log(SL_LOG_ERROR, who, "cannot listen on %s: %s",
		       ctx->unix_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	sl_log(SL_LOG_INFO, who, "listening on unix:%s", ctx->unix_path);
	return fd;
}

static int listen_tcp(struct fwd_ctx *ctx, const char *who)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char service[16];
	int fd = -1, on = 1, rc;
	const char *host = ctx->listen && *ctx->listen ? ctx->listen : NULL;

	snprintf(service, sizeof(service), "%d", (int)ctx->port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		sl_log(SL_LOG_ERROR, who, "cannot listen on %s:%d: %s",
		       host ? host : "*", (int)ctx->port, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family,
		    res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    res->ai_protocol);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, 128) < 0) {
		sl_log(SL_LOG_ERROR, who, "cannot listen on %s:%d: %s",
		       host ? host : "*", (int)ctx->port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	} else {
		sl_log(SL_LOG_INFO, who, "listening on %s:%d%s",
		       host ? host : "*", (int)ctx->port,
		       ctx->tls ? " (TLS)" : "");
	}
	freeaddrinfo(res);
	return fd;
}

static int fwd_start(void *data, struct sl_input *in)
{
	struct fwd_ctx *ctx = data;
	const char *who = sl_plugin_instance_name(sl_input_instance(in));
	struct event_base *base = sl_input_base(in);
	int fd;

	if (ctx->tls && !ctx->ssl) {
		const char *err = NULL;

		ctx->ssl = sl_httpd_tls_new(ctx->tls_crt_file,
					    ctx->tls_key_file, &err);
		if (!ctx->ssl) {
			sl_log(SL_LOG_ERROR, who, "tls: %s", err);
			return -SL_EIO;
		}
	}
	ctx->resume_accept = evtimer_new(base, on_resume_accept, ctx);
	if (!ctx->resume_accept)
		return -SL_ENOMEM;
	fd = ctx->unix_path ? listen_unix(ctx, who) : listen_tcp(ctx, who);
	if (fd < 0)
		return -SL_EIO;
	ctx->lev = evconnlistener_new(base, on_accept, ctx,
				      LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!ctx->lev) {
		close(fd);
		return -SL_ENOMEM;
	}
	evconnlistener_set_error_cb(ctx->lev, on_accept_error);
	return 0;
}

static void fwd_pause(void *data)
{
	fwd_conns_pause(data);
}

static void fwd_resume(void *data)
{
	fwd_conns_resume(data);
}

static void fwd_stop(void *data)
{
	struct fwd_ctx *ctx = data;

	if (ctx->lev) {
		evconnlistener_free(ctx->lev);
		ctx->lev = NULL;
		if (ctx->unix_path)
			(void)unlink(ctx->unix_path);
	}
	if (ctx->resume_accept) {
		event_free(ctx->resume_accept);
		ctx->resume_accept = NULL;
	}
	while (ctx->conns)
		fwd_conn_free(ctx->conns);
}

static void fwd_destroy(void *data)
{
	struct fwd_ctx *ctx = data;

	fwd_stop(ctx);
	if (!ctx->ready)
		return;
	for (size_t i = 0; i < ctx->auth.n_users; i++) {
		free((char *)(uintptr_t)ctx->user_list[i].name);
		free((char *)(uintptr_t)ctx->user_list[i].password);
	}
	free(ctx->user_list);
	ctx->user_list = NULL;
	sl_httpd_tls_free(ctx->ssl);
	ctx->ssl = NULL;
	msgpack_unpacked_destroy(&ctx->unpacked);
	sl_record_destroy(&ctx->rec);
	sl_buf_destroy(&ctx->json);
	sl_buf_destroy(&ctx->tag);
	sl_buf_destroy(&ctx->gz);
	sl_buf_destroy(&ctx->out);
	ctx->ready = false;
}

const struct sl_input_plugin sl_input_forward = {
    .name = "forward",
    .description = "Fluent's Forward protocol (Fluent Bit's in_forward)",
    .config_map = fwd_config,
    .ctx_size = sizeof(struct fwd_ctx),
    .init = fwd_init,
    .start = fwd_start,
    .pause = fwd_pause,
    .resume = fwd_resume,
    .stop = fwd_stop,
    .destroy = fwd_destroy,
};
