/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_encode.c - the cost of the real output encoders on bench records,
 * without HTTP, compression or threads: a file of JSON lines is cut into
 * chunks as the engine seals them (2 MB), and every chunk is encoded
 * `passes` times by loki_encode or es_bulk_append, configured as
 * tests/bench/measure_outputs.py configures the plugins. Not a test.
 *
 * usage: bench_encode loki|loki-labels|loki-shuffled|loki-proto|
 *                     loki-proto-labels|es FILE [PASSES]
 *   loki           Labels job=bench (the measured pipeline)
 *   loki-labels    also label $kubernetes['container_name'] (a label per
 *                  record: parse, group, remove the key from the line)
 *   loki-shuffled  job=bench, records out of time order (the sort)
 *   loki-proto, loki-proto-labels
 *                  loki and loki-labels with Format protobuf (the
 *                  snappy-compressed protobuf body, snappy included)
 *   es             Index bench, Suppress_Type_Name On, Generate_ID On
 * Count instructions per record with callgrind, collecting only the
 * encoding (immune to the load of other processes):
 *   valgrind --tool=callgrind --toggle-collect=encode_chunk \
 *     build-bench/tests/bench/bench_encode loki data/enc20k.log 1
 * and divide the Ir total by the records printed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../outputs/es/es.h"
#include "../../outputs/loki/loki.h"

enum mode {
	M_LOKI,
	M_LOKI_LABELS,
	M_LOKI_SHUFFLED,
	M_LOKI_PROTO,
	M_LOKI_PROTO_LABELS,
	M_ES
};

static const char *const mode_names[] = {
    [M_LOKI] = "loki",
    [M_LOKI_LABELS] = "loki-labels",
    [M_LOKI_SHUFFLED] = "loki-shuffled",
    [M_LOKI_PROTO] = "loki-proto",
    [M_LOKI_PROTO_LABELS] = "loki-proto-labels",
    [M_ES] = "es",
};

struct bench {
	enum mode mode;
	struct loki_enc enc;
	struct loki_batch batch;
	struct es_bulk_opts es;
	struct es_bulk_scratch scratch;
	struct sl_buf out;
	uint64_t out_bytes, out_sum;
};

/* A failed step is a broken encoder or bad input, not a slow one: stop. */
static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "bench_encode: %s\n", what);
		exit(1);
	}
}

/* Cheap digest of every payload, so that runs can be compared. */
static uint64_t fnv64(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* The measured function (callgrind --toggle-collect=encode_chunk). */
__attribute__((noinline)) static void encode_chunk(struct bench *b,
						   const struct sl_chunk *c)
{
	struct sl_chunk_iter it;
	uint64_t identity;
	const char *body;
	size_t len;
	int64_t ts;

	sl_buf_reset(&b->out);
	if (b->mode != M_ES) {
		check(loki_encode(&b->enc, &b->batch, c, NULL, NULL, &b->out) ==
			  0,
		      "loki_encode failed");
		return;
	}
	sl_chunk_iter_init(&it, c);
	while (sl_chunk_next_id(&it, &ts, &identity, &body, &len)) {
		struct es_bulk_rec r = {.ts_ns = ts,
					.identity = identity,
					.body = body,
					.len = len};

		check(es_bulk_append(&b->out, &b->es, &r, c->tag, c->tag_len,
				     ts, &b->scratch, NULL) == 0,
		      "es_bulk_append failed");
	}
}

static void setup(struct bench *b)
{
	const char *err = NULL;

	loki_batch_init(&b->batch);
	b->es = (struct es_bulk_opts){
	    .op = ES_OP_CREATE,
	    .index = "bench",
	    .logstash_prefix = "logstash",
	    .logstash_separator = "-",
	    .logstash_dateformat = "%Y.%m.%d",
	    .time_key = "@timestamp",
	    .time_key_format = "%Y-%m-%dT%H:%M:%S",
	    .generate_id = true,
	};
	if (b->mode == M_ES)
		return;
	check(loki_enc_add_label(&b->enc, "job=bench", &err) == 0, err);
	if (b->mode == M_LOKI_PROTO || b->mode == M_LOKI_PROTO_LABELS)
		b->enc.wire = LOKI_WIRE_PROTOBUF;
	if (b->mode == M_LOKI_LABELS || b->mode == M_LOKI_PROTO_LABELS)
		check(loki_enc_add_label(&b->enc,
					 "container=$kubernetes['container_"
					 "name']",
					 &err) == 0,
		      err);
}

/* The file's lines as chunks of at most SL_CHUNK_SEAL_BYTES. */
static struct sl_chunk **load(const char *path, enum mode mode, size_t *n,
			      size_t *records, size_t *bytes)
{
	FILE *f = fopen(path, "r");
	struct sl_chunk **v = NULL, *c = NULL;
	char *line = NULL;
	size_t cap = 0, nv = 0;
	int64_t ts = 1700000000000000000;
	ssize_t len;

	check(f != NULL, "cannot open the data file");
	*records = *bytes = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		int64_t t = ++ts;

		if (line[len - 1] == '\n')
			len--;
		if (len == 0)
			continue;
		if (!c ||
		    sl_chunk_size(c) + (size_t)len > SL_CHUNK_SEAL_BYTES) {
			c = sl_chunk_create(NULL, "bench", 5);
			v = realloc(v, (nv + 1) * sizeof(*v));
			check(c && v, "out of memory");
			v[nv++] = c;
		}
		/* every 8th record 1 ms early: out of order, a few streams'
		 * worth of sorting per chunk */
		if (mode == M_LOKI_SHUFFLED && ts % 8 == 0)
			t -= 1000000;
		check(sl_chunk_append(c, t, line, (size_t)len) == 0,
		      "out of memory");
		(*records)++;
		*bytes += (size_t)len;
	}
	free(line);
	fclose(f);
	*n = nv;
	return v;
}

int main(int argc, char **argv)
{
	struct bench b = {0};
	struct sl_chunk **chunks;
	size_t n, records, bytes;
	struct timespec t0, t1;
	long passes;
	double cpu;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_encode "
				"loki|loki-labels|loki-shuffled|loki-proto|"
				"loki-proto-labels|es FILE [PASSES]\n");
		return 2;
	}
	b.mode = M_ES + 1;
	for (int m = 0; m <= M_ES; m++)
		if (!strcmp(argv[1], mode_names[m]))
			b.mode = (enum mode)m;
	check(b.mode <= M_ES, "mode is loki, loki-labels, loki-shuffled, "
			      "loki-proto, loki-proto-labels or es");
	passes = argc > 3 ? strtol(argv[3], NULL, 10) : 1;
	check(passes > 0, "PASSES must be a positive number");
	setup(&b);
	chunks = load(argv[2], b.mode, &n, &records, &bytes);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	b.out_sum = 14695981039346656037ull;
	for (long p = 0; p < passes; p++)
		for (size_t i = 0; i < n; i++) {
			encode_chunk(&b, chunks[i]);
			b.out_bytes += b.out.len;
			if (p == 0)
				b.out_sum =
				    fnv64(b.out_sum, b.out.data, b.out.len);
		}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	cpu = (double)(t1.tv_sec - t0.tv_sec) +
	      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%s: %zu chunks, %zu records, %.1f MB in, x%ld passes, "
	       "%.1f MB out, digest %016llx, %.3f CPU-s, %.1f MB/CPU-s\n",
	       argv[1], n, records, (double)bytes / 1e6, passes,
	       (double)b.out_bytes / 1e6, (unsigned long long)b.out_sum, cpu,
	       cpu > 0 ? (double)bytes * (double)passes / 1e6 / cpu : 0.0);
	for (size_t i = 0; i < n; i++)
		sl_chunk_destroy(chunks[i]);
	free(chunks);
	loki_enc_destroy(&b.enc);
	loki_batch_destroy(&b.batch);
	es_bulk_scratch_destroy(&b.scratch);
	sl_buf_destroy(&b.out);
	return 0;
}
