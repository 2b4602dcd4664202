/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scale_sink.c - the receiver of the many-files benchmark (scale.py): an
 * HTTP/1.1 server taking the JSON lines of an `http` output (Format
 * json_lines), one thread per connection. For each line it reads the
 * writer's "wt" (write time, ns), "fi" (file) and "sq" (sequence) fields,
 * takes latency = arrival - wt, and keeps a per-file bitmap of sequences,
 * so lost and doubled lines are counted, not guessed. A Python server
 * cannot parse a million lines a second next to the collector; this can.
 * GET /stats answers the counters and latency percentiles as JSON.
 * Not a general HTTP server: no TLS, no gzip, bodies up to 256 MB.
 *
 * usage: bench_scale_sink PORT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX (64u * 1024u)
#define BODY_MAX (256u << 20)
/* Latency histogram: 10 us buckets below 1 s, 1 ms buckets up to 1000 s
 * (the p99 of a collector that falls behind can be minutes). */
#define FINE_N	  100000
#define COARSE_N  1000000
#define MAX_FILES 100000

struct seqmap {
	uint64_t *bits;
	size_t words;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t fine[FINE_N], coarse[COARSE_N];
static uint64_t n_lines, n_unique, n_dups, n_bad, n_requests, n_bytes,
    n_negative;
static int64_t lat_max_ns = INT64_MIN, last_arrival_ns;
static struct seqmap files[MAX_FILES];

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The integer after `key` in [p, end), or -1 when absent. */
static int64_t field(const char *p, const char *end, const char *key,
		     size_t klen)
{
	const char *k = memmem(p, (size_t)(end - p), key, klen);
	int64_t v = 0;

	if (!k)
		return -1;
	for (k += klen; k < end && *k >= '0' && *k <= '9'; k++)
		v = v * 10 + (*k - '0');
	return v;
}

/* Marks sequence `sq` of file `fi`: true when it was new. Under lock. */
static bool mark(int64_t fi, int64_t sq)
{
	struct seqmap *m = &files[fi];
	size_t w = (size_t)sq / 64;

	if (w >= m->words) {
		size_t nw = m->words ? m->words : 64;
		uint64_t *b;

		while (nw <= w)
			nw *= 2;
		b = realloc(m->bits, nw * sizeof(*b));
		if (!b) {
			fprintf(stderr, "sink: out of memory\n");
			exit(1);
		}
		memset(b + m->words, 0, (nw - m->words) * sizeof(*b));
		m->bits = b;
		m->words = nw;
	}
	if (m->bits[w] & (1ull << (sq % 64)))
		return false;
	m->bits[w] |= 1ull << (sq % 64);
	return true;
}

static void record_latency(int64_t ns)
{
	if (ns > lat_max_ns)
		lat_max_ns = ns;
	if (ns < 0) {
		n_negative++; /* clock step: counted, binned at 0 */
		ns = 0;
	}
	if (ns < 1000000000LL)
		fine[ns / 10000]++;
	else if (ns / 1000000 < COARSE_N)
		coarse[ns / 1000000]++;
	else
		coarse[COARSE_N - 1]++;
}

/* Every line of one body, taken at `arrival`. */
static void take_body(const char *body, size_t len, int64_t arrival)
{
	const char *p = body, *end = body + len;

	pthread_mutex_lock(&lock);
	n_requests++;
	n_bytes += len;
	last_arrival_ns = arrival;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		int64_t wt, fi, sq;

		if (le > p) {
			wt = field(p, le, "\"wt\":", 5);
			fi = field(p, le, "\"fi\":", 5);
			sq = field(p, le, "\"sq\":", 5);
			n_lines++;
			if (wt < 0 || fi < 0 || fi >= MAX_FILES || sq < 0) {
				n_bad++;
			} else {
				if (mark(fi, sq))
					n_unique++;
				else
					n_dups++;
				record_latency(arrival - wt);
			}
		}
		p = le + 1;
	}
	pthread_mutex_unlock(&lock);
}

/* The latency (ns) below which a fraction q of the lines arrived. */
static int64_t percentile(double q, uint64_t total)
{
	uint64_t want = (uint64_t)(q * (double)total), seen = 0;

	if (total == 0)
		return 0;
	for (int i = 0; i < FINE_N; i++) {
		seen += fine[i];
		if (seen > want)
			return (int64_t)(i + 1) * 10000;
	}
	for (int i = 0; i < COARSE_N; i++) {
		seen += coarse[i];
		if (seen > want)
			return (int64_t)(i + 1) * 1000000;
	}
	return lat_max_ns;
}

static int stats(char *out, size_t cap)
{
	uint64_t timed;
	int n;

	pthread_mutex_lock(&lock);
	timed = n_unique + n_dups;
	n = snprintf(out, cap,
		     "{\"lines\":%" PRIu64 ",\"unique\":%" PRIu64
		     ",\"dups\":%" PRIu64 ",\"bad\":%" PRIu64
		     ",\"requests\":%" PRIu64 ",\"bytes\":%" PRIu64
		     ",\"negative\":%" PRIu64 ",\"p50_ms\":%.3f,\"p99_ms\":%.3f"
		     ",\"max_ms\":%.3f,\"last_arrival_ns\":%" PRId64 "}",
		     n_lines, n_unique, n_dups, n_bad, n_requests, n_bytes,
		     n_negative, (double)percentile(0.50, timed) / 1e6,
		     (double)percentile(0.99, timed) / 1e6,
		     timed ? (double)lat_max_ns / 1e6 : 0.0, last_arrival_ns);
	pthread_mutex_unlock(&lock);
	return n;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Per connection: a growing buffer holding what was read past the head. */
struct conn {
	int fd;
	char *buf;
	size_t len, cap;
};

/* Reads more into c->buf; 0 on EOF or error. */
static ssize_t fill(struct conn *c, size_t want)
{
	ssize_t r;

	if (c->len + want > c->cap) {
		size_t nc = c->cap ? c->cap : 65536;
		char *b;

		while (nc < c->len + want)
			nc *= 2;
		b = realloc(c->buf, nc);
		if (!b)
			return 0;
		c->buf = b;
		c->cap = nc;
	}
	do
		r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		c->len += (size_t)r;
	return r > 0 ? r : 0;
}

static const char *header(const char *head, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p; p = strstr(p, "\r\n")) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
	}
	return NULL;
}

/* Makes bytes [0, n) of the buffer at least `n` long; false on EOF. */
static bool need(struct conn *c, size_t n)
{
	while (c->len < n)
		if (!fill(c, n - c->len > 65536 ? n - c->len : 65536))
			return false;
	return true;
}

static void consume(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* De-chunks a Transfer-Encoding: chunked body into *body; false on error. */
static bool read_chunked(struct conn *c, char **body, size_t *blen)
{
	size_t cap = 0, len = 0;
	char *b = NULL;

	for (;;) {
		char *crlf;
		size_t sz;

		while (!(crlf = memmem(c->buf, c->len, "\r\n", 2)))
			if (c->len > HEAD_MAX || !fill(c, 65536))
				goto err;
		sz = strtoul(c->buf, NULL, 16);
		consume(c, (size_t)(crlf - c->buf) + 2);
		if (sz == 0) {
			/* trailers end with an empty line */
			while (!(crlf = memmem(c->buf, c->len, "\r\n", 2)))
				if (!fill(c, 65536))
					goto err;
			consume(c, (size_t)(crlf - c->buf) + 2);
			break;
		}
		if (len + sz > BODY_MAX || !need(c, sz + 2))
			goto err;
		if (len + sz > cap) {
			char *nb;

			cap = (len + sz) * 2;
			nb = realloc(b, cap);
			if (!nb)
				goto err;
			b = nb;
		}
		memcpy(b + len, c->buf, sz);
		len += sz;
		consume(c, sz + 2);
	}
	*body = b;
	*blen = len;
	return true;
err:
	free(b);
	return false;
}

static void *serve(void *arg)
{
	struct conn c = {.fd = (int)(intptr_t)arg};
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

	for (;;) {
		char *eoh, *head, *body = NULL;
		const char *v;
		size_t hlen, blen = 0;
		bool chunked, take_ok = true;
		int64_t arrival;

		while (!(eoh = memmem(c.buf, c.len, "\r\n\r\n", 4)))
			if (c.len > HEAD_MAX || !fill(&c, 65536))
				goto out;
		hlen = (size_t)(eoh - c.buf) + 4;
		head = strndup(c.buf, hlen);
		if (!head)
			goto out;
		consume(&c, hlen);
		if (strncmp(head, "GET /stats", 10) == 0) {
			char js[1024], resp[1200];
			int n = stats(js, sizeof(js));
			int m = snprintf(resp, sizeof(resp),
					 "HTTP/1.1 200 OK\r\nContent-Type: "
					 "application/json\r\nContent-Length: "
					 "%d\r\n\r\n%s",
					 n, js);

			free(head);
			if (send_all(c.fd, resp, (size_t)m) < 0)
				goto out;
			continue;
		}
		v = header(head, "Expect");
		if (v && strncasecmp(v, "100-continue", 12) == 0) {
			static const char cont[] =
			    "HTTP/1.1 100 Continue\r\n\r\n";

			if (send_all(c.fd, cont, sizeof(cont) - 1) < 0) {
				free(head);
				goto out;
			}
		}
		v = header(head, "Transfer-Encoding");
		chunked = v && strncasecmp(v, "chunked", 7) == 0;
		if (chunked) {
			take_ok = read_chunked(&c, &body, &blen);
		} else {
			v = header(head, "Content-Length");
			blen = v ? strtoul(v, NULL, 10) : 0;
			if (blen > BODY_MAX || !need(&c, blen))
				take_ok = false;
		}
		free(head);
		if (!take_ok)
			goto out;
		arrival = realtime_ns();
		if (chunked) {
			take_body(body, blen, arrival);
			free(body);
		} else {
			take_body(c.buf, blen, arrival);
			consume(&c, blen);
		}
		if (send_all(c.fd, ok, sizeof(ok) - 1) < 0)
			goto out;
	}
out:
	close(c.fd);
	free(c.buf);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int one = 1, lfd;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 64) < 0) {
		perror("sink: listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pthread_t t;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("sink: accept");
			return 1;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd) !=
		    0) {
			close(fd);
			continue;
		}
		pthread_detach(t);
	}
}
