/* SPDX-License-Identifier: Apache-2.0 */
/*
 * storage_bench.c - throughput of filesystem chunks (sl_storage.c) on
 * bench-like records: append+persist every 64 records (one input read
 * batch), seal (LZ4), and the start-up scan that loads them back, which
 * must return every byte (CRC compared). Not a test: run it by hand.
 *
 * usage: bench_storage [MB] [--sync-full]    (default 8 MB, sync normal)
 * Files go to a fresh directory under $TMPDIR (or /tmp), removed after.
 */
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "sl_chunk.h"
#include "sl_storage.h"

/* A failed check is a broken storage module, not a slow one: stop. */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			exit(1);                                               \
		}                                                              \
	} while (0)

struct fixture {
	char dir[256];
	struct sl_storage *st;
};

static char *path_of(const struct fixture *fx, const char *name)
{
	static char p[1024];

	snprintf(p, sizeof(p), "%s/%s", fx->dir, name);
	return p;
}

static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

struct bench_scan {
	uint64_t bytes, records;
	uint32_t hash;
};

static int bench_cb(void *arg, struct sl_storage_recovered *rc)
{
	struct bench_scan *b = arg;

	b->bytes += rc->records.len;
	b->records += rc->n_records;
	b->hash = (uint32_t)crc32(b->hash, (const Bytef *)rc->records.data,
				  (uInt)rc->records.len);
	return sl_storage_chunk_remove(rc->handle);
}

static double mbps(uint64_t bytes, int64_t ns)
{
	return ns > 0 ? (double)bytes / 1e6 / ((double)ns / 1e9) : 0;
}

static int run(struct fixture *fx, uint64_t target, bool full)
{
	uint64_t on_disk = 0;
	static const char *levels[] = {"info", "warn", "error", "debug"};
	static const char *ns[] = {"default", "payments", "kube-system"};
	struct sl_chunk **chunks = NULL;
	size_t n_chunks = 0;
	uint64_t total = 0, recs = 0, seq = 0x9e3779b97f4a7c15ull;
	uint32_t hash = 0;
	int64_t t0, t_append = 0, t_seal = 0, t_scan;
	struct bench_scan bs = {0};
	char body[1024];

	if (full) {
		struct sl_storage_opts o = {.path = fx->dir, .sync_full = true};

		sl_storage_close(fx->st);
		fx->st = NULL;
		CHECK(sl_storage_open(&o, &fx->st) == 0);
	}

	/* records first, so that only storage is timed */
	while (total < target) {
		struct sl_chunk *c = sl_chunk_create(NULL, "kube.app", 8);
		struct sl_chunk **nc =
		    realloc(chunks, (n_chunks + 1) * sizeof(*nc));

		CHECK(c != NULL);
		CHECK(nc != NULL);
		chunks = nc;
		chunks[n_chunks++] = c;
		while (c->data.len < SL_CHUNK_SEAL_BYTES) {
			int len;

			seq = seq * 6364136223846793005ull +
			      1442695040888963407ull;
			len = snprintf(
			    body, sizeof(body),
			    "{\"time\":\"2026-11-22T06:%02u:%02u.%03uZ\","
			    "\"level\":\"%s\",\"msg\":\"request %llu served "
			    "in %u ms\",\"status\":%u,\"bytes\":%u,"
			    "\"kubernetes\":{\"namespace_name\":\"%s\","
			    "\"pod_name\":\"web-%05x-%04x\",\"container_name\":"
			    "\"web\",\"host\":\"node-%u.cluster.local\","
			    "\"labels\":{\"app\":\"web\",\"tier\":\"frontend\"}"
			    "},"
			    "\"trace_id\":\"%016llx%08x\"}",
			    (unsigned)(seq >> 58), (unsigned)(seq >> 40) % 60,
			    (unsigned)(seq >> 20) % 1000, levels[seq >> 62],
			    (unsigned long long)(seq >> 24),
			    (unsigned)(seq >> 8) % 900,
			    200 + (unsigned)(seq >> 33) % 4 * 100,
			    (unsigned)(seq >> 13) % 100000, ns[(seq >> 5) % 3],
			    (unsigned)(seq >> 36) & 0xfffff,
			    (unsigned)(seq >> 17) & 0xffff,
			    (unsigned)(seq >> 45) % 40, (unsigned long long)seq,
			    (unsigned)(seq >> 29));
			CHECK((sl_chunk_append(c, (int64_t)seq, body,
					       (size_t)len)) == (0));
			recs++;
		}
		total += c->data.len;
		hash = (uint32_t)crc32(hash, (const Bytef *)c->data.data,
				       (uInt)c->data.len);
	}

	for (size_t i = 0; i < n_chunks; i++) {
		struct sl_chunk *c = chunks[i];
		struct sl_storage_chunk *f;
		struct sl_chunk_iter it;
		const char *b, *batch = c->data.data;
		size_t len, off = 0;
		int64_t ts;
		uint32_t in_batch = 0;

		t0 = sl_mono_ns();
		CHECK((sl_storage_chunk_create(fx->st, "tail.0", c->tag,
					       c->tag_len, i + 1, &f)) == (0));
		/* an input persisting every 64 records (one read batch) */
		sl_chunk_iter_init(&it, c);
		while (sl_chunk_next(&it, &ts, &b, &len)) {
			size_t end = (size_t)(b + len - c->data.data);

			if (++in_batch < 64 && end < c->data.len)
				continue;
			CHECK((sl_storage_chunk_append(f, batch, end - off)) ==
			      (0));
			CHECK((sl_storage_chunk_persist(f)) == (0));
			batch = c->data.data + end;
			off = end;
			in_batch = 0;
		}
		t_append += sl_mono_ns() - t0;
		t0 = sl_mono_ns();
		CHECK((sl_storage_chunk_seal(f, &c->data, c->records)) == (0));
		t_seal += sl_mono_ns() - t0;
		{
			struct stat sb;

			CHECK((stat(path_of(fx, sl_storage_chunk_name(f)),
				    &sb)) == (0));
			on_disk += (uint64_t)sb.st_size;
		}
		sl_storage_chunk_close(f);
	}
	t0 = sl_mono_ns();
	CHECK((sl_storage_scan(fx->st, bench_cb, &bs, NULL)) == (0));
	t_scan = sl_mono_ns() - t0;
	CHECK((bs.bytes) == (total));
	CHECK((bs.records) == (recs));
	CHECK((bs.hash) == (hash));
	printf("storage (sync %s): %.1f MB in %zu chunks, %llu records:"
	       " append+persist %.0f MB/s, seal (LZ4) %.0f MB/s, scan "
	       "%.0f MB/s; sealed %.1f MB (%.2fx)\n",
	       full ? "full" : "normal", (double)total / 1e6, n_chunks,
	       (unsigned long long)recs, mbps(total, t_append),
	       mbps(total, t_seal), mbps(total, t_scan), (double)on_disk / 1e6,
	       (double)total / (double)on_disk);
	for (size_t i = 0; i < n_chunks; i++)
		sl_chunk_destroy(chunks[i]);
	free(chunks);
	return 0;
}

int main(int argc, char **argv)
{
	struct fixture fx = {0};
	struct sl_storage_opts o = {0};
	const char *tmp = getenv("TMPDIR");
	uint64_t mb = 8;
	bool full = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sync-full") == 0) {
			full = true;
		} else if (atoi(argv[i]) > 0) {
			mb = (uint64_t)atoi(argv[i]);
		} else {
			fprintf(stderr, "usage: %s [MB] [--sync-full]\n",
				argv[0]);
			return 2;
		}
	}
	snprintf(fx.dir, sizeof(fx.dir), "%s/sl_storage_bench_XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	CHECK(mkdtemp(fx.dir) != NULL);
	o.path = fx.dir;
	CHECK(sl_storage_open(&o, &fx.st) == 0);
	rc = run(&fx, mb << 20, full);
	sl_storage_close(fx.st);
	nftw(fx.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
