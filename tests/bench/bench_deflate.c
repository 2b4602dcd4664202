/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_deflate.c - gzip request bodies with zlib and with libdeflate, on
 * the bodies sluice's HTTP outputs send: ES bulk and Loki push bodies
 * built here from gen.py's JSON lines, one body per 2 MB of records (a
 * sealed chunk is one request). Prints input MB/s and ratio per library
 * and level (1, 6, 9), and libdeflate with a compressor allocated per
 * body ("fresh") against one kept ("deflate", what the client does).
 * MB/s is input bytes per wall second, MB/CPU-s per user+system second.
 *
 * The bodies are an approximation by string code (action line with a
 * 32-hex id and @timestamp; Loki's one stream of [ns, line] pairs), not
 * es_bulk.c or loki_encode.c output. Not a test: nothing is asserted but
 * that every body inflates back to itself.
 *
 * usage: bench_deflate FILE [--iters N] [--case LIB:LEVEL] [--kind KIND]
 *   KIND: es or loki (bodies built from FILE's JSON lines; default both),
 *   or raw: FILE's own bytes in 2 MB pieces (Forward entries, say).
 *   LIB: zlib, deflate (reused compressor) or fresh. Instruction counts,
 *   which other load on the machine cannot change:
 *   valgrind --tool=callgrind --toggle-collect=run_case \
 *     bench_deflate FILE --iters 1 --case deflate:6 --kind es
 */
#include <inttypes.h>
#include <libdeflate.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

#define BODY_RECORDS_BYTES (2u * 1024u * 1024u)

struct buf {
	char *data;
	size_t len, cap;
};

struct body_set {
	struct buf *b;
	size_t n, cap;
	size_t bytes;
};

enum lib { LIB_ZLIB, LIB_DEFLATE, LIB_FRESH };
static const char *const lib_names[] = {"zlib", "deflate", "fresh"};

static void die(const char *what)
{
	fprintf(stderr, "bench_deflate: %s\n", what);
	exit(1);
}

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = realloc(b->data, cap);
		if (!b->data)
			die("out of memory");
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* A JSON string's body: what Loki's line looks like inside "values". */
static void put_escaped(struct buf *b, const char *s, size_t n)
{
	size_t i, from = 0;
	char esc[8];

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c != '"' && c != '\\' && c >= 0x20)
			continue;
		put(b, s + from, i - from);
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		puts_(b, esc);
		from = i + 1;
	}
	put(b, s + from, n - from);
}

/* splitmix64: ids as random as SHA-256 hex, deterministic. */
static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void es_record(struct buf *b, const char *line, size_t n, uint64_t *seed,
		      int64_t ts_ns)
{
	char tmp[160];
	time_t secs = (time_t)(ts_ns / 1000000000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(tmp, sizeof(tmp),
		 "{\"create\":{\"_index\":\"bench\",\"_id\":\"%016" PRIx64
		 "%016" PRIx64 "\"}}\n{\"@timestamp\":\"%04d-%02d-%02dT%02d:"
		 "%02d:%02d.%09dZ\"%s",
		 mix(seed), mix(seed), tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ts_ns % 1000000000), n > 2 ? "," : "");
	puts_(b, tmp);
	/* the record without its '{' */
	put(b, line + 1, n - 1);
	put(b, "\n", 1);
}

static void loki_record(struct buf *b, const char *line, size_t n,
			int64_t ts_ns, bool first)
{
	char tmp[48];

	snprintf(tmp, sizeof(tmp), "%s[\"%" PRId64 "\",\"", first ? "" : ",",
		 ts_ns);
	puts_(b, tmp);
	put_escaped(b, line, n);
	put(b, "\"]", 2);
}

static struct buf *next_body(struct body_set *s)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->b = realloc(s->b, s->cap * sizeof(*s->b));
		if (!s->b)
			die("out of memory");
	}
	memset(&s->b[s->n], 0, sizeof(s->b[s->n]));
	return &s->b[s->n++];
}

/* Bodies of `kind` from the JSON lines of data[0..len). */
static void build(struct body_set *s, const char *data, size_t len, bool es)
{
	const char *p = data, *end = data + len;
	uint64_t seed = 42;
	int64_t ts = 1764691200000000000ll; /* 2025-12-02, 1 ms apart */
	struct buf *b = NULL;
	size_t records_bytes = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		if (n < 2 || p[0] != '{') {
			p += n + 1;
			continue;
		}
		if (!b) {
			b = next_body(s);
			if (!es)
				puts_(b, "{\"streams\":[{\"stream\":{\"job\":"
					 "\"bench\"},\"values\":[");
		}
		if (es)
			es_record(b, p, n, &seed, ts);
		else
			loki_record(b, p, n, ts, records_bytes == 0);
		ts += 1000000;
		records_bytes += n;
		p += n + 1;
		if (records_bytes >= BODY_RECORDS_BYTES || p >= end) {
			if (!es)
				puts_(b, "]}]}");
			s->bytes += b->len;
			b = NULL;
			records_bytes = 0;
		}
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* user + system CPU seconds of this process: less moved by other load on
 * the machine than wall time, and it counts the page faults of "fresh". */
static double cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static size_t zlib_gzip(const struct buf *in, unsigned char *out, size_t cap,
			int level)
{
	z_stream z;
	size_t n;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip wrapper, as sluice's zlib code had it */
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		die("deflateInit2");
	z.next_in = (unsigned char *)in->data;
	z.avail_in = (uInt)in->len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		die("deflate");
	n = z.total_out;
	deflateEnd(&z);
	return n;
}

/* One body; `kept` is the reused compressor (NULL: allocate one). */
static size_t compress_one(const struct buf *in, enum lib lib, int level,
			   struct libdeflate_compressor *kept,
			   unsigned char *out, size_t cap)
{
	struct libdeflate_compressor *c = kept;
	size_t n;

	if (lib == LIB_ZLIB)
		return zlib_gzip(in, out, cap, level);
	if (!c && !(c = libdeflate_alloc_compressor(level)))
		die("libdeflate_alloc_compressor");
	n = libdeflate_gzip_compress(c, in->data, in->len, out, cap);
	if (n == 0)
		die("libdeflate_gzip_compress");
	if (c != kept)
		libdeflate_free_compressor(c);
	return n;
}

/* What is measured; named for callgrind's --toggle-collect. */
__attribute__((noinline)) size_t run_case(const struct body_set *s,
					  enum lib lib, int level, int iters,
					  unsigned char *out, size_t cap);
__attribute__((noinline)) size_t run_case(const struct body_set *s,
					  enum lib lib, int level, int iters,
					  unsigned char *out, size_t cap)
{
	struct libdeflate_compressor *kept = NULL;
	size_t total = 0, i;
	int it;

	if (lib == LIB_DEFLATE && !(kept = libdeflate_alloc_compressor(level)))
		die("libdeflate_alloc_compressor");
	for (it = 0; it < iters; it++)
		for (i = 0; i < s->n; i++)
			total +=
			    compress_one(&s->b[i], lib, level, kept, out, cap);
	libdeflate_free_compressor(kept);
	return total / (size_t)iters;
}

/* Every body, compressed by `lib`, inflates back to itself (zlib). Outside
 * run_case, so callgrind does not count it. */
static void check(const struct body_set *s, enum lib lib, int level,
		  unsigned char *out, size_t cap)
{
	char *back;
	size_t i;

	for (i = 0; i < s->n; i++) {
		uLongf blen = s->b[i].len + 1;
		z_stream z;
		size_t n = compress_one(&s->b[i], lib, level, NULL, out, cap);

		back = malloc(blen);
		memset(&z, 0, sizeof(z));
		if (!back || inflateInit2(&z, 15 + 16) != Z_OK)
			die("inflateInit2");
		z.next_in = out;
		z.avail_in = (uInt)n;
		z.next_out = (unsigned char *)back;
		z.avail_out = (uInt)blen;
		if (inflate(&z, Z_FINISH) != Z_STREAM_END ||
		    z.total_out != s->b[i].len ||
		    memcmp(back, s->b[i].data, s->b[i].len) != 0)
			die("a body did not inflate back to itself");
		inflateEnd(&z);
		free(back);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void measure(const char *kind, const struct body_set *s, enum lib lib,
		    int level, int iters, int runs, unsigned char *out,
		    size_t cap)
{
	double t[16], c[16], t0, c0;
	size_t gz = 0;
	int r;

	check(s, lib, level, out, cap);
	for (r = 0; r < runs; r++) {
		t0 = now();
		c0 = cpu();
		gz = run_case(s, lib, level, iters, out, cap);
		t[r] = (now() - t0) / iters;
		c[r] = (cpu() - c0) / iters;
	}
	qsort(t, (size_t)runs, sizeof(t[0]), cmp_double);
	qsort(c, (size_t)runs, sizeof(c[0]), cmp_double);
	printf("%-5s %-8s %5d %10.1f %10.1f %8.3f %10zu\n", kind,
	       lib_names[lib], level, (double)s->bytes / 1e6 / t[runs / 2],
	       (double)s->bytes / 1e6 / c[runs / 2],
	       (double)s->bytes / (double)gz, gz);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const int levels[] = {1, 6, 9};
	static const char *const kinds[] = {"es", "loki", "raw"};
	struct body_set sets[3] = {{0}};
	const char *file = NULL, *only_kind = NULL;
	int iters = 3, runs = 5, only_level = -1, a;
	int only_lib = -1;
	unsigned char *out;
	size_t cap = 0, i, len;
	char *data;
	FILE *f;

	/* sluice's main.c setting: big buffers come from mmap and go back
	 * when freed, so a compressor allocated per body faults its pages in
	 * every time, as it would in sluice. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--iters") == 0 && a + 1 < argc) {
			iters = atoi(argv[++a]);
		} else if (strcmp(argv[a], "--kind") == 0 && a + 1 < argc) {
			only_kind = argv[++a];
		} else if (strcmp(argv[a], "--case") == 0 && a + 1 < argc) {
			const char *c = argv[++a], *colon = strchr(c, ':');
			int l;

			if (!colon)
				die("--case LIB:LEVEL");
			for (l = 0; l < 3; l++)
				if (strlen(lib_names[l]) ==
					(size_t)(colon - c) &&
				    memcmp(lib_names[l], c,
					   (size_t)(colon - c)) == 0)
					only_lib = l;
			only_level = atoi(colon + 1);
			if (only_lib < 0 || only_level < 0 || only_level > 9)
				die("--case zlib|deflate|fresh:0-9");
			runs = 1;
		} else if (!file) {
			file = argv[a];
		} else {
			die("usage: bench_deflate FILE [--iters N] "
			    "[--case LIB:LEVEL] [--kind es|loki|raw]");
		}
	}
	if (!file || iters < 1)
		die("usage: bench_deflate FILE [--iters N] [--case LIB:LEVEL] "
		    "[--kind es|loki|raw]");
	f = fopen(file, "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0)
		die("cannot read FILE");
	len = (size_t)ftell(f);
	rewind(f);
	data = malloc(len + 1);
	if (!data || fread(data, 1, len, f) != len)
		die("cannot read FILE");
	fclose(f);
	if (only_kind && strcmp(only_kind, "raw") == 0) {
		/* any other body, e.g. Forward entries: 2 MB pieces of FILE */
		for (i = 0; i < len; i += BODY_RECORDS_BYTES) {
			size_t n = len - i < BODY_RECORDS_BYTES
				       ? len - i
				       : BODY_RECORDS_BYTES;

			put(next_body(&sets[2]), data + i, n);
			sets[2].bytes += n;
		}
	} else {
		build(&sets[0], data, len, true);
		build(&sets[1], data, len, false);
	}
	free(data);
	for (int k = 0; k < 3; k++) {
		for (i = 0; i < sets[k].n; i++) {
			size_t n = sets[k].b[i].len;
			size_t zb = compressBound(n) + 64;
			size_t db = libdeflate_gzip_compress_bound(NULL, n);

			if ((zb > db ? zb : db) > cap)
				cap = zb > db ? zb : db;
		}
		if (sets[k].n)
			printf("%zu %s bodies (%.1f MB); ", sets[k].n, kinds[k],
			       (double)sets[k].bytes / 1e6);
	}
	out = malloc(cap);
	if (!out)
		die("out of memory");
	printf("median of %d runs of %d passes\n", runs, iters);
	printf("%-5s %-8s %5s %10s %10s %8s %10s\n", "body", "lib", "level",
	       "MB/s", "MB/CPU-s", "ratio", "gz bytes");
	for (int k = 0; k < 3; k++) {
		const struct body_set *s = &sets[k];
		const char *kind = kinds[k];

		if (!s->n || (only_kind && strcmp(only_kind, kind) != 0))
			continue;
		for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]);
		     l++) {
			int lvl = only_level >= 0 ? only_level : levels[l];

			for (int lib = 0; lib < 3; lib++)
				if (only_lib < 0 || only_lib == lib)
					measure(kind, s, (enum lib)lib, lvl,
						iters, runs, out, cap);
			if (only_level >= 0)
				break;
		}
	}
	for (int k = 0; k < 3; k++) {
		for (i = 0; i < sets[k].n; i++)
			free(sets[k].b[i].data);
		free(sets[k].b);
	}
	free(out);
	return 0;
}
