/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scale_writer.c - the line writer of the many-files benchmark (scale.py):
 * appends JSON lines to NFILES files at RATE lines/s each for SECONDS.
 * Each line carries its write time (CLOCK_REALTIME, ns), its file index and
 * its sequence number, so a receiver can compute delivery latency and find
 * lost or doubled lines. Python cannot format a million lines a second on a
 * core it shares with the collector; this does, with one write(2) per file
 * per tick. Not a load generator for anything else: no rotation, no bursts.
 *
 * usage: bench_scale_writer DIR NFILES RATE SECONDS [PAD]
 *   writes DIR/fNNNNN.log (created when missing, appended to), prints one
 *   JSON object with what it wrote on stdout at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* 5 ms ticks: small enough that a line waits little in the writer. */
#define TICK_NS 5000000LL
/* One tick's lines of one file must fit (B at 10k lines/s: 50 lines). */
#define BUF_CAP (4u << 20)

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

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

/*
 * Lines file `i` owes at `t_ns` since the start. The phase i/n spreads the
 * files' writes over the period, so that 5,000 files at 10 lines/s do not
 * all write in the same tick.
 */
static int64_t due(int64_t t_ns, double rate, int i, int n)
{
	return (int64_t)(rate * (double)t_ns / 1e9 + (double)i / n);
}

int main(int argc, char **argv)
{
	const char *dir;
	int n, pad, *fds;
	double rate, secs;
	int64_t *done, start, end, total = 0, max_lag = 0, writes = 0;
	char *buf, *padding;
	struct rusage ru;

	if (argc < 5) {
		fprintf(stderr, "usage: %s DIR NFILES RATE SECONDS [PAD]\n",
			argv[0]);
		return 2;
	}
	dir = argv[1];
	n = atoi(argv[2]);
	rate = atof(argv[3]);
	secs = atof(argv[4]);
	pad = argc > 5 ? atoi(argv[5]) : 40;
	if (n <= 0 || rate <= 0 || secs <= 0 || pad < 0 || pad > 4096) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	fds = calloc((size_t)n, sizeof(*fds));
	done = calloc((size_t)n, sizeof(*done));
	buf = malloc(BUF_CAP);
	padding = malloc((size_t)pad + 1);
	if (!fds || !done || !buf || !padding) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	memset(padding, 'x', (size_t)pad);
	padding[pad] = '\0';
	for (int i = 0; i < n; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/f%05d.log", dir, i);
		fds[i] =
		    open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fds[i] < 0) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	start = now_ns(CLOCK_MONOTONIC);
	end = start + (int64_t)(secs * 1e9);
	for (int64_t tick = start;; tick += TICK_NS) {
		int64_t t = now_ns(CLOCK_MONOTONIC);
		int64_t at = t < end ? t : end;
		struct timespec ts;

		/* The writer may fall behind (shared CPU): it then writes
		 * what is due late, and says how late it got. */
		if (t - tick > max_lag)
			max_lag = t - tick;
		for (int i = 0; i < n; i++) {
			int64_t want = due(at - start, rate, i, n);
			size_t len = 0;
			int64_t wt;

			if (want <= done[i])
				continue;
			wt = now_ns(CLOCK_REALTIME);
			for (; done[i] < want && len + 256 + pad < BUF_CAP;
			     done[i]++)
				len += (size_t)snprintf(
				    buf + len, BUF_CAP - len,
				    "{\"wt\":%" PRId64
				    ",\"fi\":%d,\"sq\":%" PRId64
				    ",\"msg\":\"%s\"}\n",
				    wt, i, done[i], padding);
			if (write_all(fds[i], buf, len) < 0) {
				fprintf(stderr, "write: %s\n", strerror(errno));
				return 1;
			}
			writes++;
		}
		if (at >= end)
			break;
		if (tick + TICK_NS > now_ns(CLOCK_MONOTONIC)) {
			ts.tv_sec = (time_t)((tick + TICK_NS) / 1000000000LL);
			ts.tv_nsec = (long)((tick + TICK_NS) % 1000000000LL);
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
					NULL);
		}
	}
	for (int i = 0; i < n; i++) {
		total += done[i];
		close(fds[i]);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf(
	    "{\"files\":%d,\"lines\":%" PRId64 ",\"writes\":%" PRId64
	    ",\"seconds\":%.3f,\"max_lag_ms\":%.1f,\"cpu_s\":%.3f}\n",
	    n, total, writes, (double)(now_ns(CLOCK_MONOTONIC) - start) / 1e9,
	    (double)max_lag / 1e6,
	    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	free(fds);
	free(done);
	free(buf);
	free(padding);
	return 0;
}
