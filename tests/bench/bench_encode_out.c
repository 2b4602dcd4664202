/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_encode_out.c - bench_encode's measure for the kafka and http
 * outputs' message building, without a broker, a server or threads: a
 * file of JSON lines is cut into 2 MB chunks and every chunk is encoded
 * `passes` times. Not a test.
 *
 * usage: bench_encode_out MODE FILE [PASSES]
 *   kafka           Format json, Timestamp_Format double: each record's
 *                   message value (what rd_kafka_produceva is given)
 *   kafka-id        the same with the sluice-id header (idempotence on)
 *   kafka-iso       Timestamp_Format iso8601_ns
 *   http-json       out_http_payload, Format json, json_date_format double
 *   http-lines      Format json_lines
 *   http-lines-iso  Format json_lines, json_date_format iso8601
 * Instructions per record, as for bench_encode:
 *   valgrind --tool=callgrind --toggle-collect=encode_chunk \
 *     build-bench/tests/bench/bench_encode_out kafka data/enc20k.log 1
 *
 * The kafka message builder is static in kafka_produce.c, which has no
 * header for it: this program includes that file, so it measures the
 * plugin's own code (the archive's copy is then never linked in).
 */
#include "../../outputs/http/http.h"
#include "../../outputs/kafka/kafka_produce.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum mode { M_KAFKA, M_KAFKA_ID, M_KAFKA_ISO, M_HTTP };

struct bench {
	enum mode mode;
	struct kafka_ctx kctx;
	rd_kafka_topic_t *rkt[1];
	struct kafka_worker *w;
	struct sl_json_opts json;
	uint32_t *idx;
	size_t idx_cap;
	struct sl_buf out;
	uint64_t out_bytes, out_sum;
};

/* A failed step is a broken encoder or bad input, not a slow one: stop. */
static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "bench_encode_out: %s\n", what);
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

/* The measured function (callgrind --toggle-collect=encode_chunk). Kafka
 * messages are concatenated into b->out (id, then value) for the digest. */
__attribute__((noinline)) static void encode_chunk(struct bench *b,
						   const struct sl_chunk *c)
{
	struct sl_chunk_iter it;
	struct message msg;
	uint64_t identity;
	const char *body;
	size_t len;
	int64_t ts;

	sl_buf_reset(&b->out);
	if (b->mode == M_HTTP) {
		check(out_http_payload(&b->json, c, NULL, NULL, &b->out,
				       &b->idx, &b->idx_cap) > 0,
		      "out_http_payload failed");
		return;
	}
	sl_chunk_iter_init(&it, c);
	while (sl_chunk_next_id(&it, &ts, &identity, &body, &len)) {
		check(build(&b->kctx, b->w, c, ts, identity, body, len, &msg) ==
			  0,
		      "build failed");
		if (msg.id)
			check(sl_buf_append(&b->out, msg.id,
					    SL_RECORD_ID_HEX) == 0,
			      "out of memory");
		check(sl_buf_append(&b->out, msg.value, msg.value_len) == 0,
		      "out of memory");
	}
}

static void setup(struct bench *b, const char *mode)
{
	enum sl_json_format f = SL_JSON_ARRAY;
	const char *date_format = NULL, *what = NULL;

	if (!strncmp(mode, "kafka", 5)) {
		b->mode = !strcmp(mode, "kafka-id")    ? M_KAFKA_ID
			  : !strcmp(mode, "kafka-iso") ? M_KAFKA_ISO
						       : M_KAFKA;
		check(!strcmp(mode, "kafka") || b->mode != M_KAFKA,
		      "unknown mode");
		b->kctx.fmt = KAFKA_FMT_JSON;
		b->kctx.ts_fmt = b->mode == M_KAFKA_ISO ? KAFKA_TS_ISO8601_NS
							: KAFKA_TS_DOUBLE;
		b->kctx.id_header = b->mode == M_KAFKA_ID;
		b->kctx.rkt = b->rkt;
		check(sl_buf_append(&b->kctx.ts_member,
				    "\"@timestamp\":", 13) == 0,
		      "out of memory");
		b->w = sl_out_kafka_worker_create();
		check(b->w != NULL, "out of memory");
		return;
	}
	b->mode = M_HTTP;
	if (!strcmp(mode, "http-lines") || !strcmp(mode, "http-lines-iso"))
		f = SL_JSON_LINES;
	else
		check(!strcmp(mode, "http-json"), "unknown mode");
	if (!strcmp(mode, "http-lines-iso"))
		date_format = "iso8601";
	check(sl_json_opts_init(&b->json, f, NULL, date_format, &what) == 0,
	      "bad json options");
}

/* The file's lines as chunks of at most SL_CHUNK_SEAL_BYTES. */
static struct sl_chunk **load(const char *path, size_t *n, size_t *records,
			      size_t *bytes)
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
		/* 20 us apart: records share seconds as a busy input's do */
		ts += 20000;
		check(sl_chunk_append(c, ts, line, (size_t)len) == 0,
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
		fprintf(stderr,
			"usage: bench_encode_out kafka|kafka-id|kafka-iso|"
			"http-json|http-lines|http-lines-iso FILE [PASSES]\n");
		return 2;
	}
	setup(&b, argv[1]);
	passes = argc > 3 ? strtol(argv[3], NULL, 10) : 1;
	check(passes > 0, "PASSES must be a positive number");
	chunks = load(argv[2], &n, &records, &bytes);
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
	sl_out_kafka_worker_destroy(b.w);
	sl_buf_destroy(&b.kctx.ts_member);
	free(b.idx);
	sl_buf_destroy(&b.out);
	return 0;
}
