/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_api.c - the kubernetes filter's own thread: takes requests from the
 * engine thread, asks the API server (or the kubelet) over HTTPS with
 * libcurl and a bearer token, parses the answer and hands it back. The
 * engine thread never waits for it: it queues a request and goes on with
 * the metadata the tag gives. The token file is read again when it changes
 * (bound service-account tokens rotate), after Kube_Token_TTL, and after a
 * 401. KUBE_API_THREADS requests at a time, so one slow pod does not hold
 * the others back; the cache makes them rare.
 */
#include "kube.h"
#include "sl_curl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void kube_msg_destroy(struct kube_msg *m)
{
	if (!m)
		return;
	free(m->key);
	free(m->ns);
	free(m->pod);
	free(m->rv);
	kube_pod_destroy(m->pod_meta);
	kube_namespace_destroy(m->ns_meta);
	for (size_t i = 0; i < m->n_list; i++)
		kube_pod_destroy(m->list[i]);
	free(m->list);
	free(m);
}

/* ---- token ----------------------------------------------------------------
 */

/* Re-reads the token file when it changed, aged past the TTL, or `force`. */
static void token_refresh(const struct kube_api_cfg *cfg, struct kube_token *t,
			  bool force)
{
	struct stat st;
	FILE *f;
	char buf[16384];
	size_t n;
	double now = kube_now();
	long long mtime_ns;

	if (!cfg->token_file || !*cfg->token_file)
		return;
	if (stat(cfg->token_file, &st) != 0) {
		if (t->read_at == 0 || force)
			sl_log(SL_LOG_WARN, "kubernetes",
			       "Kube_Token_File %s: %s: asking without a token",
			       cfg->token_file, strerror(errno));
		t->read_at = now;
		return;
	}
	mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL +
		   (long long)st.st_mtim.tv_nsec;
	if (!force && t->v && mtime_ns == t->mtime_ns &&
	    (unsigned long)st.st_ino == t->ino &&
	    (long long)st.st_size == t->size &&
	    (cfg->token_ttl <= 0 || now - t->read_at < cfg->token_ttl))
		return;
	f = fopen(cfg->token_file, "r");
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	/* the token goes into a header: it ends at the first control byte */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
			n = i;
			break;
		}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
			 buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	free(t->v);
	t->v = strdup(buf);
	t->read_at = now;
	t->mtime_ns = mtime_ns;
	t->ino = (unsigned long)st.st_ino;
	t->size = (long long)st.st_size;
}

/* ---- one GET --------------------------------------------------------------
 */

struct answer {
	struct sl_buf body;
	int64_t limit; /* the body's, or a line's with on_line */
	bool too_big;
	/* watch streams: called for each complete line, body keeps the rest */
	void (*on_line)(void *user, const char *line, size_t len);
	void *user;
};

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
	struct answer *ans = user;
	size_t len = size * n;
	char *nl;

	if (ans->limit > 0 && ans->body.len + len > (size_t)ans->limit) {
		ans->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (sl_buf_append(&ans->body, p, len) < 0)
		return 0;
	while (ans->on_line && ans->body.len &&
	       (nl = memchr(ans->body.data, '\n', ans->body.len))) {
		size_t line = (size_t)(nl - ans->body.data);

		ans->on_line(ans->user, ans->body.data, line);
		memmove(ans->body.data, nl + 1, ans->body.len - line - 1);
		ans->body.len -= line + 1;
	}
	return len;
}

static int on_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		       curl_off_t un)
{
	struct kube_api *a = user;

	(void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load(&a->stop) ? 1 : 0; /* shutdown aborts a request */
}

/*
 * tls.debug: libcurl's own text (connection and TLS handshake), never the
 * headers it sends, which hold the token.
 */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size,
		    void *user)
{
	(void)h, (void)user;
	while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r'))
		size--;
	if (type == CURLINFO_TEXT && size > 0)
		sl_log(SL_LOG_INFO, "kubernetes", "tls.debug: %.*s", (int)size,
		       data);
	return 0;
}

/*
 * GETs url. Returns the HTTP status (0 when there was no answer) and the
 * body in ans (caller destroys ans->body).
 */
static int get_once(struct kube_api *a, CURL *h, const struct kube_token *t,
		    const char *url, struct answer *ans, long timeout)
{
	struct curl_slist *hdrs = NULL;
	char auth[16500];
	long code = 0;
	CURLcode rc;

	sl_buf_reset(&ans->body);
	ans->too_big = false;
	sl_curl.easy_reset(h);
	sl_curl.easy_setopt(h, CURLOPT_URL, url);
	sl_curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	sl_curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	sl_curl.easy_setopt(h, CURLOPT_TIMEOUT, timeout);
	sl_curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	sl_curl.easy_setopt(h, CURLOPT_WRITEDATA, ans);
	sl_curl.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	sl_curl.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	sl_curl.easy_setopt(h, CURLOPT_XFERINFODATA, a);
	sl_curl.easy_setopt(h, CURLOPT_SSL_VERIFYPEER,
			    a->cfg.tls_verify ? 1L : 0L);
	sl_curl.easy_setopt(
	    h, CURLOPT_SSL_VERIFYHOST,
	    a->cfg.tls_verify && a->cfg.tls_verify_hostname ? 2L : 0L);
	/* the default Kube_CA_File need not exist when a Kube_CA_Path is
	 * given; without one a missing file fails, visibly */
	if (a->cfg.ca_file && *a->cfg.ca_file &&
	    (!a->cfg.ca_path || !*a->cfg.ca_path ||
	     access(a->cfg.ca_file, R_OK) == 0))
		sl_curl.easy_setopt(h, CURLOPT_CAINFO, a->cfg.ca_file);
	if (a->cfg.ca_path && *a->cfg.ca_path)
		sl_curl.easy_setopt(h, CURLOPT_CAPATH, a->cfg.ca_path);
	if (a->cfg.tls_debug) {
		sl_curl.easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
		sl_curl.easy_setopt(h, CURLOPT_VERBOSE, 1L);
	}
	hdrs = sl_curl.slist_append(hdrs, "Accept: application/json");
	if (t->v && *t->v) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", t->v);
		hdrs = sl_curl.slist_append(hdrs, auth);
	}
	sl_curl.easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	rc = sl_curl.easy_perform(h);
	if (rc == CURLE_OK)
		sl_curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	else if (!atomic_load(&a->stop))
		sl_log(SL_LOG_DEBUG, "kubernetes", "GET %s: %s%s", url,
		       sl_curl.easy_strerror(rc),
		       ans->too_big ? " (answer over Buffer_Size)" : "");
	sl_curl.slist_free_all(hdrs);
	return rc == CURLE_OK ? (int)code : 0;
}

/* GET with the token; after a 401 the token is read again and, when it
 * changed, the request is made once more. */
static int get(struct kube_api *a, CURL *h, struct kube_token *t,
	       const char *url, struct answer *ans, long timeout)
{
	int code;

	token_refresh(&a->cfg, t, false);
	code = get_once(a, h, t, url, ans, timeout);
	if (code == 401) {
		char *old = t->v ? strdup(t->v) : NULL;

		token_refresh(&a->cfg, t, true);
		if (t->v && (!old || strcmp(old, t->v) != 0))
			code = get_once(a, h, t, url, ans, timeout);
		free(old);
	}
	return code;
}

/* ---- the thread -----------------------------------------------------------
 */

static char *make_url(CURL *h, const char *base, const char *a1, const char *v1,
		      const char *a2, const char *v2)
{
	char *e1 = v1 ? sl_curl.easy_escape(h, v1, 0) : NULL;
	char *e2 = v2 ? sl_curl.easy_escape(h, v2, 0) : NULL;
	size_t n = strlen(base) + strlen(a1) + (e1 ? strlen(e1) : 0) +
		   (a2 ? strlen(a2) : 0) + (e2 ? strlen(e2) : 0) + 1;
	char *url = malloc(n);

	if (url)
		snprintf(url, n, "%s%s%s%s%s", base, a1, e1 ? e1 : "",
			 a2 ? a2 : "", e2 ? e2 : "");
	sl_curl.free(e1);
	sl_curl.free(e2);
	return url;
}

static void serve(struct kube_api *a, CURL *h, struct kube_token *t,
		  struct kube_msg *m)
{
	/* Buffer_Size bounds one pod's answer, as in Fluent Bit; a node's
	 * list holds every pod of it, so it gets the hard cap instead */
	struct answer ans = {.limit = m->kind == KUBE_REQ_NODE
					  ? (int64_t)KUBE_MAX_LIST
					  : a->cfg.buffer_size};
	const char *err = "?";
	char *url = NULL;

	switch (m->kind) {
	case KUBE_REQ_POD:
		url = make_url(h, a->cfg.url, "/api/v1/namespaces/", m->ns,
			       "/pods/", m->pod);
		break;
	case KUBE_REQ_NS:
		url = make_url(h, a->cfg.url, "/api/v1/namespaces/", m->ns,
			       NULL, NULL);
		break;
	case KUBE_REQ_NODE:
		if (a->cfg.kubelet_url)
			url = make_url(h, a->cfg.kubelet_url, "/pods", NULL,
				       NULL, NULL);
		else
			url = make_url(
			    h, a->cfg.url,
			    "/api/v1/pods?fieldSelector=spec.nodeName%3D",
			    a->cfg.node_name, NULL, NULL);
		break;
	case KUBE_REQ_WATCH: /* answered by the watcher alone */
		break;
	}
	if (!url)
		return;
	m->code = get(a, h, t, url, &ans, 15L);
	if (m->code == 0 && ans.too_big) {
		m->code = KUBE_CODE_TOO_BIG;
		sl_log(SL_LOG_WARN, "kubernetes",
		       "GET %s: the answer is over Buffer_Size %lld", url,
		       (long long)a->cfg.buffer_size);
	}
	if (m->code == 200) {
		if (m->kind == KUBE_REQ_POD)
			m->pod_meta =
			    kube_pod_parse(ans.body.data, ans.body.len, &err);
		else if (m->kind == KUBE_REQ_NS)
			m->ns_meta = kube_namespace_parse(ans.body.data,
							  ans.body.len, &err);
		else if (kube_pod_list_parse(ans.body.data, ans.body.len,
					     &m->list, &m->n_list, &m->rv,
					     &err) < 0)
			m->code = KUBE_CODE_BAD_ANSWER;
		if ((m->kind == KUBE_REQ_POD && !m->pod_meta) ||
		    (m->kind == KUBE_REQ_NS && !m->ns_meta))
			m->code = KUBE_CODE_BAD_ANSWER;
		if (m->code == KUBE_CODE_BAD_ANSWER)
			sl_log(SL_LOG_WARN, "kubernetes", "GET %s: answer: %s",
			       url, err);
	} else if (m->code != 0) {
		sl_log(SL_LOG_DEBUG, "kubernetes", "GET %s: HTTP %d", url,
		       m->code);
	}
	free(url);
	sl_buf_destroy(&ans.body);
}

static void push_done(struct kube_api *a, struct kube_msg *m)
{
	pthread_mutex_lock(&a->mu);
	m->next = a->done;
	a->done = m;
	atomic_store(&a->have_done, true);
	pthread_mutex_unlock(&a->mu);
}

static void *run(void *arg)
{
	struct kube_api *a = arg;
	struct kube_token tok = {0}; /* each thread reads the file itself */
	CURL *h = sl_curl.easy_init();

	for (;;) {
		struct kube_msg *m;

		pthread_mutex_lock(&a->mu);
		while (!a->todo && !atomic_load(&a->stop))
			pthread_cond_wait(&a->cond, &a->mu);
		if (atomic_load(&a->stop)) {
			pthread_mutex_unlock(&a->mu);
			break;
		}
		m = a->todo;
		a->todo = m->next;
		if (!a->todo)
			a->todo_tail = &a->todo;
		pthread_mutex_unlock(&a->mu);

		m->next = NULL;
		if (h)
			serve(a, h, &tok, m);
		push_done(a, m);
	}
	free(tok.v);
	if (h)
		sl_curl.easy_cleanup(h);
	return NULL;
}

int kube_api_start(struct kube_api *a, const struct kube_api_cfg *cfg)
{
	int rc;

	a->cfg = *cfg;
	a->todo = NULL;
	a->todo_tail = &a->todo;
	a->done = NULL;
	atomic_init(&a->stop, false);
	atomic_init(&a->have_done, false);
	if (sl_curl_open("kubernetes") < 0)
		return -SL_EIO;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cond, NULL);
	pthread_cond_init(&a->wcond, NULL);
	a->n_threads = 0;
	for (int i = 0; i < KUBE_API_THREADS; i++) {
		rc = pthread_create(&a->threads[i], NULL, run, a);
		if (rc != 0) {
			sl_log(SL_LOG_ERROR, "kubernetes", "pthread_create: %s",
			       strerror(rc));
			break;
		}
		a->n_threads++;
	}
	a->started = true; /* stop joins the threads that did start */
	if (a->n_threads == 0) {
		kube_api_stop(a);
		return -SL_EIO;
	}
	return 0;
}

/* ---- the node watcher ---------------------------------------------------- */

struct watch_state {
	struct kube_api *a;
	char *rv;  /* owned: where the next watch starts */
	bool gone; /* an ERROR event said 410: list again */
};

static void on_event(void *user, const char *line, size_t len)
{
	struct watch_state *w = user;
	const char *type;
	struct kube_pod *p;
	char *rv;
	int code;
	struct kube_msg *m;

	if (len == 0 ||
	    kube_watch_event_parse(line, len, &type, &p, &rv, &code) < 0)
		return;
	if (strcmp(type, "ERROR") == 0 && code == 410)
		w->gone = true;
	if (rv && strcmp(type, "ERROR") != 0) {
		free(w->rv);
		w->rv = rv;
		rv = NULL;
	}
	free(rv);
	if (!p)
		return; /* DELETED: kept until evicted, its files may lag */
	m = calloc(1, sizeof(*m));
	if (!m) {
		kube_pod_destroy(p);
		return;
	}
	m->kind = KUBE_REQ_WATCH;
	m->code = 200;
	m->pod_meta = p;
	push_done(w->a, m);
}

/* Waits `s` seconds or until stop. */
static void nap(struct kube_api *a, double s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)s;
	pthread_mutex_lock(&a->mu);
	if (!atomic_load(&a->stop))
		pthread_cond_timedwait(&a->wcond, &a->mu, &ts);
	pthread_mutex_unlock(&a->mu);
}

static void *watch_run(void *arg)
{
	struct kube_api *a = arg;
	struct watch_state w = {.a = a};
	CURL *h = sl_curl.easy_init();
	double pause = 1;

	while (h && !atomic_load(&a->stop)) {
		/* a line is one pod, but a stuck line would stop the watch */
		struct answer ans = {
		    .limit = KUBE_MAX_LIST, .on_line = on_event, .user = &w};
		char *url, *enc;
		int code;

		if (!w.rv) { /* list: the state, and where to watch from */
			struct kube_msg *m = calloc(1, sizeof(*m));

			if (!m)
				break;
			m->kind = KUBE_REQ_NODE;
			m->key = strdup("");
			serve(a, h, &a->wtok, m);
			if (m->code == 200 && m->rv)
				w.rv = strdup(m->rv);
			push_done(a, m);
			if (!w.rv) {
				nap(a, pause);
				pause = pause < 60 ? pause * 2 : 60;
				continue;
			}
		}
		enc = sl_curl.easy_escape(h, a->cfg.node_name, 0);
		url = enc ? malloc(strlen(a->cfg.url) + strlen(enc) +
				   strlen(w.rv) + 128)
			  : NULL;
		if (url)
			sprintf(url,
				"%s/api/v1/pods?watch=1&fieldSelector="
				"spec.nodeName%%3D%s&resourceVersion=%s&"
				"timeoutSeconds=290",
				a->cfg.url, enc, w.rv);
		sl_curl.free(enc);
		if (!url)
			break;
		w.gone = false;
		code = get(a, h, &a->wtok, url, &ans, 330L);
		free(url);
		sl_buf_destroy(&ans.body);
		if (code == 410 || w.gone) {
			free(w.rv); /* too old: list again */
			w.rv = NULL;
		} else if (code != 200 && !atomic_load(&a->stop)) {
			sl_log(SL_LOG_DEBUG, "kubernetes",
			       "pod watch ended with %d", code);
			nap(a, pause);
			pause = pause < 60 ? pause * 2 : 60;
			continue;
		}
		pause = 1;
	}
	free(w.rv);
	if (h)
		sl_curl.easy_cleanup(h);
	return NULL;
}

int kube_api_start_watch(struct kube_api *a)
{
	int rc;

	if (!a->started || !a->cfg.node_name)
		return -SL_EINVAL;
	rc = pthread_create(&a->watcher, NULL, watch_run, a);
	if (rc != 0) {
		sl_log(SL_LOG_ERROR, "kubernetes", "pthread_create: %s",
		       strerror(rc));
		return -SL_EIO;
	}
	a->watching = true;
	return 0;
}

void kube_api_stop(struct kube_api *a)
{
	struct kube_msg *m, *next;

	if (!a->started)
		return;
	pthread_mutex_lock(&a->mu);
	atomic_store(&a->stop, true);
	pthread_cond_broadcast(&a->cond);
	pthread_cond_broadcast(&a->wcond);
	pthread_mutex_unlock(&a->mu);
	for (int i = 0; i < a->n_threads; i++)
		pthread_join(a->threads[i], NULL);
	a->n_threads = 0;
	if (a->watching)
		pthread_join(a->watcher, NULL);
	a->watching = false;
	for (m = a->todo; m; m = next) {
		next = m->next;
		kube_msg_destroy(m);
	}
	for (m = a->done; m; m = next) {
		next = m->next;
		kube_msg_destroy(m);
	}
	a->todo = a->done = NULL;
	free(a->wtok.v);
	a->wtok.v = NULL;
	pthread_cond_destroy(&a->cond);
	pthread_cond_destroy(&a->wcond);
	pthread_mutex_destroy(&a->mu);
	a->started = false;
}

void kube_api_ask(struct kube_api *a, struct kube_msg *m)
{
	m->next = NULL;
	pthread_mutex_lock(&a->mu);
	*a->todo_tail = m;
	a->todo_tail = &m->next;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->mu);
}

struct kube_msg *kube_api_take(struct kube_api *a)
{
	struct kube_msg *lifo, *fifo = NULL;

	if (!atomic_load_explicit(&a->have_done, memory_order_acquire))
		return NULL;
	pthread_mutex_lock(&a->mu);
	lifo = a->done;
	a->done = NULL;
	atomic_store(&a->have_done, false);
	pthread_mutex_unlock(&a->mu);
	while (lifo) { /* reverse: oldest first */
		struct kube_msg *m = lifo;

		lifo = m->next;
		m->next = fifo;
		fifo = m;
	}
	return fifo;
}
