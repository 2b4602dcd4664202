/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_storage.c - chunk files: round trips through both forms, every crash
 * shape the start-up scan must handle, and the path lock. Hand-made files
 * are built here from the format in sl_storage.h, not with the module's
 * writer. Throughput is measured by tests/bench/storage_bench.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "sl_chunk.h"
#include "sl_storage.h"

struct fixture {
	char dir[256];
	struct sl_storage *st;
};

static struct sl_storage *open_at(const char *dir, bool checksum)
{
	struct sl_storage_opts o = {.path = dir, .checksum = checksum};
	struct sl_storage *st = NULL;

	assert_int_equal(sl_storage_open(&o, &st), 0);
	assert_non_null(st);
	return st;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "%s/sl_storage_XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fx->dir))
		return -1;
	/* a path that does not exist yet: open must create it */
	strncat(fx->dir, "/a/b", sizeof(fx->dir) - strlen(fx->dir) - 1);
	fx->st = open_at(fx->dir, false);
	*state = fx;
	return 0;
}

static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char *top = strstr(fx->dir, "/a/b");

	sl_storage_close(fx->st);
	*top = '\0';
	nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static void add_record(struct sl_buf *b, int64_t ts, const char *body)
{
	uint32_t len = (uint32_t)strlen(body);
	uint64_t identity = 0; /* sl_chunk.h record encoding */

	assert_int_equal(sl_buf_append(b, &ts, sizeof(ts)), 0);
	assert_int_equal(sl_buf_append(b, &identity, sizeof(identity)), 0);
	assert_int_equal(sl_buf_append(b, &len, sizeof(len)), 0);
	assert_int_equal(sl_buf_append(b, body, len), 0);
}

static char *path_of(const struct fixture *fx, const char *name)
{
	static char p[1024];

	snprintf(p, sizeof(p), "%s/%s", fx->dir, name);
	return p;
}

static bool exists(const struct fixture *fx, const char *name)
{
	struct stat sb;

	return stat(path_of(fx, name), &sb) == 0;
}

static int count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name), s = strlen(suffix);

		if (e->d_name[0] != '.' && l >= s &&
		    strcmp(e->d_name + l - s, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static int quarantined(const struct fixture *fx)
{
	char q[300];

	snprintf(q, sizeof(q), "%s/quarantine", fx->dir);
	return count_files(q, "");
}

static void write_file(const struct fixture *fx, const char *name,
		       const void *data, size_t len)
{
	FILE *f = fopen(path_of(fx, name), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static size_t read_whole(const struct fixture *fx, const char *name,
			 unsigned char *buf, size_t cap)
{
	FILE *f = fopen(path_of(fx, name), "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* What the scan handed out, copied; handles closed or removed at once. */
struct got {
	int calls;
	uint64_t ids[16];
	char streams[16][300];
	char tag[64];
	size_t tag_len;
	struct sl_buf records; /* of the last call */
	uint32_t n_records;
	bool sealed, cut;
	bool remove;	/* remove every recovered chunk */
	bool steal;	/* take the records buffer */
	int stop_after; /* return -SL_EIO after this many calls */
	struct sl_storage_chunk *keep; /* the last handle, when !remove */
};

static int on_chunk(void *arg, struct sl_storage_recovered *rc)
{
	struct got *g = arg;

	if (g->calls < 16) {
		g->ids[g->calls] = rc->id;
		snprintf(g->streams[g->calls], sizeof(g->streams[0]), "%s",
			 rc->stream);
	}
	g->calls++;
	snprintf(g->tag, sizeof(g->tag), "%s", rc->tag);
	g->tag_len = rc->tag_len;
	sl_buf_destroy(&g->records);
	if (g->steal) {
		g->records = rc->records;
		memset(&rc->records, 0, sizeof(rc->records));
	} else {
		assert_int_equal(sl_buf_append(&g->records, rc->records.data,
					       rc->records.len),
				 0);
	}
	g->n_records = rc->n_records;
	g->sealed = rc->sealed;
	g->cut = rc->cut;
	if (g->remove) {
		assert_int_equal(sl_storage_chunk_remove(rc->handle), 0);
	} else {
		sl_storage_chunk_close(g->keep);
		g->keep = rc->handle;
	}
	return g->stop_after && g->calls >= g->stop_after ? -SL_EIO : 0;
}

static void got_destroy(struct got *g)
{
	sl_buf_destroy(&g->records);
	sl_storage_chunk_close(g->keep);
	g->keep = NULL;
}

/* A chunk with two blocks (2 + 1 records) persisted, handle closed. */
static void two_blocks(struct fixture *fx, uint64_t id, struct sl_buf *all,
		       size_t *first_block_end)
{
	struct sl_storage_chunk *f;
	struct sl_buf b = {0};
	struct stat sb;

	assert_int_equal(sl_storage_chunk_create(fx->st, "in", "t", 1, id, &f),
			 0);
	add_record(&b, 1, "{\"a\":1}");
	add_record(&b, 2, "{\"b\":2}");
	assert_int_equal(sl_storage_chunk_append(f, b.data, b.len), 0);
	assert_int_equal(sl_storage_chunk_persist(f), 0);
	assert_int_equal(stat(path_of(fx, sl_storage_chunk_name(f)), &sb), 0);
	*first_block_end = (size_t)sb.st_size;
	sl_buf_reset(&b);
	add_record(&b, 3, "{\"c\":\"third\"}");
	assert_int_equal(sl_storage_chunk_append(f, b.data, b.len), 0);
	assert_int_equal(sl_storage_chunk_persist(f), 0);
	sl_storage_chunk_close(f);
	sl_buf_reset(all);
	add_record(all, 1, "{\"a\":1}");
	add_record(all, 2, "{\"b\":2}");
	add_record(all, 3, "{\"c\":\"third\"}");
	sl_buf_destroy(&b);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t crc_of(const void *p, size_t n)
{
	return (uint32_t)crc32(0, p, (uInt)n);
}

/* An open-form file by hand: header for (stream, tag, id), then one block
 * of `payload` claiming `count` records, CRCs all correct. */
static size_t craft_open(unsigned char *out, const char *stream, uint64_t id,
			 const void *payload, uint32_t plen, uint32_t count)
{
	size_t slen = strlen(stream), off = 20;

	memcpy(out, "SLCH", 4);
	out[4] = 2; /* format version */
	out[5] = 1;
	out[6] = out[7] = 0;
	for (int i = 0; i < 8; i++)
		out[8 + i] = (unsigned char)(id >> (8 * i));
	out[16] = 1; /* tag "t" */
	out[17] = 0;
	out[18] = (unsigned char)slen;
	out[19] = 0;
	out[off++] = 't';
	memcpy(out + off, stream, slen);
	off += slen;
	put32(out + off, crc_of(out, off));
	off += 4;
	memcpy(out + off, "SLBK", 4);
	put32(out + off + 4, plen);
	put32(out + off + 8, count);
	put32(out + off + 12, crc_of(payload, plen));
	put32(out + off + 16, crc_of(out + off, 16));
	memcpy(out + off + 20, payload, plen);
	return off + 20 + plen;
}

/* ---- tests ------------------------------------------------------------ */

static void round_trip_open_then_sealed(void **state)
{
	struct fixture *fx = *state;
	struct sl_storage_chunk *f;
	struct sl_storage_scan_stats stats;
	struct sl_buf b = {0}, all = {0};
	struct got g = {0};
	char name[128];

	assert_int_equal(
	    sl_storage_chunk_create(fx->st, "tail.0", "app.log", 7, 7, &f), 0);
	assert_string_equal(sl_storage_chunk_name(f),
			    "tail.0-0000000000000007.open");
	add_record(&b, 11, "{\"msg\":\"one\"}");
	add_record(&b, 22, "{}");
	assert_int_equal(sl_storage_chunk_append(f, b.data, b.len), 0);
	assert_int_equal(sl_storage_chunk_persist(f), 0);
	assert_int_equal(sl_storage_chunk_persist(f), 0); /* nothing pending */
	assert_int_equal(sl_storage_chunk_bytes(f), b.len);
	sl_buf_append(&all, b.data, b.len);
	sl_buf_reset(&b);
	add_record(&b, 33, "{\"k\":\"with\\u0000nul\"}");
	assert_int_equal(sl_storage_chunk_append(f, b.data, b.len), 0);
	assert_int_equal(sl_storage_chunk_persist(f), 0);
	sl_buf_append(&all, b.data, b.len);
	/* records appended but never persisted are not promised */
	assert_int_equal(sl_storage_chunk_append(f, b.data, b.len), 0);
	sl_storage_chunk_close(f);

	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats), 0);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.ids[0], 7);
	assert_string_equal(g.streams[0], "tail.0");
	assert_string_equal(g.tag, "app.log");
	assert_int_equal(g.tag_len, 7);
	assert_int_equal(g.n_records, 3);
	assert_false(g.sealed);
	assert_false(g.cut);
	assert_int_equal(g.records.len, all.len);
	assert_memory_equal(g.records.data, all.data, all.len);
	assert_int_equal(stats.recovered, 1);
	assert_int_equal(stats.records, 3);
	assert_int_equal(stats.max_id, 7);

	/* the recovered handle takes no appends but can be sealed */
	assert_int_equal(sl_storage_chunk_append(g.keep, b.data, b.len),
			 -SL_EINVAL);
	assert_int_equal(sl_storage_chunk_seal(g.keep, &all, 2), -SL_EINVAL);
	assert_int_equal(sl_storage_chunk_seal(g.keep, &all, 3), 0);
	assert_int_equal(sl_storage_chunk_seal(g.keep, &all, 3), 0);
	snprintf(name, sizeof(name), "%s", sl_storage_chunk_name(g.keep));
	assert_string_equal(name, "tail.0-0000000000000007.sealed");
	assert_false(exists(fx, "tail.0-0000000000000007.open"));
	assert_true(exists(fx, name));
	got_destroy(&g);

	memset(&g, 0, sizeof(g));
	g.remove = true;
	g.steal = true;
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats), 0);
	assert_int_equal(g.calls, 1);
	assert_true(g.sealed);
	assert_int_equal(g.n_records, 3);
	assert_int_equal(g.records.len, all.len);
	assert_memory_equal(g.records.data, all.data, all.len);
	assert_false(exists(fx, name)); /* removed by the callback */
	got_destroy(&g);

	memset(&g, 0, sizeof(g));
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats), 0);
	assert_int_equal(g.calls, 0);
	assert_int_equal(stats.files, 0);
	sl_buf_destroy(&b);
	sl_buf_destroy(&all);
}

static void seal_from_create(void **state)
{
	struct fixture *fx = *state;
	struct sl_storage_chunk *f;
	struct sl_buf all = {0};
	struct got g = {.remove = true};

	assert_int_equal(sl_storage_chunk_create(fx->st, "http", "x", 1, 3, &f),
			 0);
	add_record(&all, 5, "{\"n\":1}");
	assert_int_equal(sl_storage_chunk_append(f, all.data, all.len), 0);
	assert_int_equal(sl_storage_chunk_persist(f), 0);
	add_record(&all, 6, "{\"n\":2}");
	assert_int_equal(sl_storage_chunk_seal(f, &all, 2), 0);
	assert_int_equal(sl_storage_chunk_append(f, all.data, all.len),
			 -SL_EINVAL);
	assert_int_equal(count_files(fx->dir, ".open"), 0);
	assert_int_equal(count_files(fx->dir, ".tmp"), 0);
	assert_int_equal(count_files(fx->dir, ".sealed"), 1);
	assert_int_equal(sl_storage_chunk_remove(f), 0);
	assert_int_equal(count_files(fx->dir, ".sealed"), 0);
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, NULL), 0);
	assert_int_equal(g.calls, 0);
	got_destroy(&g);
	sl_buf_destroy(&all);
}

static void truncated_last_block_keeps_earlier_ones(void **state)
{
	struct fixture *fx = *state;
	struct sl_buf all = {0};
	struct sl_storage_scan_stats stats;
	const char *name = "in-0000000000000001.open";
	size_t end1;
	struct stat sb;
	/* cut inside the payload, inside the block header, after its magic */
	const int kept[] = {-5, 10, 4}; /* bytes after block 1; <0: from end */

	for (size_t i = 0; i < SL_ARRAY_LEN(kept); i++) {
		struct got g = {.remove = true};

		two_blocks(fx, 1, &all, &end1);
		assert_int_equal(stat(path_of(fx, name), &sb), 0);
		assert_int_equal(truncate(path_of(fx, name),
					  kept[i] < 0 ? sb.st_size + kept[i]
						      : (off_t)end1 + kept[i]),
				 0);
		assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats),
				 0);
		assert_int_equal(g.calls, 1);
		assert_true(g.cut);
		assert_int_equal(stats.cut, 1);
		assert_int_equal(g.n_records, 2);
		assert_int_equal(g.records.len,
				 2 * (SL_CHUNK_RECORD_HEADER + 7));
		assert_memory_equal(g.records.data, all.data, g.records.len);
		assert_int_equal(quarantined(fx), 0);
		got_destroy(&g);
	}

	/* cut exactly at a block boundary: nothing was torn */
	{
		struct got g = {.remove = true};

		two_blocks(fx, 1, &all, &end1);
		assert_int_equal(truncate(path_of(fx, name), (off_t)end1), 0);
		assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats),
				 0);
		assert_int_equal(g.calls, 1);
		assert_false(g.cut);
		assert_int_equal(g.n_records, 2);
		got_destroy(&g);
	}

	/* a zero-filled tail (power loss after the size grew) is a cut too */
	{
		struct got g = {.remove = true};
		unsigned char zeros[100] = {0};
		FILE *fp;

		two_blocks(fx, 1, &all, &end1);
		fp = fopen(path_of(fx, name), "ab");
		assert_non_null(fp);
		assert_int_equal(fwrite(zeros, 1, sizeof(zeros), fp),
				 sizeof(zeros));
		fclose(fp);
		assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats),
				 0);
		assert_true(g.cut);
		assert_int_equal(g.n_records, 3);
		assert_memory_equal(g.records.data, all.data, all.len);
		got_destroy(&g);
	}
	sl_buf_destroy(&all);
}

static void corrupt_crc_is_quarantined(void **state)
{
	struct fixture *fx = *state;
	struct sl_buf all = {0};
	struct sl_storage_scan_stats stats;
	const char *name = "in-0000000000000002.open";
	unsigned char buf[512];
	size_t end1, n;
	struct got g = {.remove = true};
	char q[300];

	/* a flipped byte in the first block's payload: both modes refuse */
	two_blocks(fx, 2, &all, &end1);
	n = read_whole(fx, name, buf, sizeof(buf));
	buf[end1 - 3] ^= 0x40;
	write_file(fx, name, buf, n);
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats), 0);
	assert_int_equal(g.calls, 0);
	assert_int_equal(stats.quarantined, 1);
	assert_false(exists(fx, name));
	snprintf(q, sizeof(q), "quarantine/%s", name);
	assert_true(exists(fx, q));

	/* the same again: earlier evidence is kept under another name */
	write_file(fx, name, buf, n);
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats), 0);
	assert_int_equal(quarantined(fx), 2);

	/* a complete last block with a bad CRC: cut when lenient ... */
	two_blocks(fx, 2, &all, &end1);
	n = read_whole(fx, name, buf, sizeof(buf));
	buf[n - 2] ^= 0x01;
	write_file(fx, name, buf, n);
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats), 0);
	assert_int_equal(g.calls, 1);
	assert_true(g.cut);
	assert_int_equal(g.n_records, 2);
	assert_int_equal(quarantined(fx), 2);

	/* ... and corrupt with storage.checksum on */
	write_file(fx, name, buf, n);
	sl_storage_close(fx->st);
	fx->st = open_at(fx->dir, true);
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats), 0);
	assert_int_equal(g.calls, 1);
	assert_int_equal(stats.quarantined, 1);
	assert_int_equal(quarantined(fx), 3);
	got_destroy(&g);
	sl_buf_destroy(&all);
}

static void sealed_body_damage_is_quarantined(void **state)
{
	struct fixture *fx = *state;
	struct sl_storage_chunk *f;
	struct sl_buf all = {0};
	unsigned char buf[4096];
	const char *name = "s-0000000000000004.sealed";
	size_t n;
	struct got g = {0};
	struct sl_storage_scan_stats stats;

	for (int i = 0; i < 20; i++)
		add_record(&all, i, "{\"log\":\"the same line again\"}");
	/* each damage: a compressed byte, a trailing byte, a short body */
	for (int k = 0; k < 3; k++) {
		assert_int_equal(
		    sl_storage_chunk_create(fx->st, "s", "t", 1, 4, &f), 0);
		assert_int_equal(sl_storage_chunk_seal(f, &all, 20), 0);
		sl_storage_chunk_close(f);
		n = read_whole(fx, name, buf, sizeof(buf));
		assert_true(n < sizeof(buf) - 1);
		if (k == 0)
			buf[n - 4] ^= 0x10;
		else if (k == 1)
			buf[n++] = 0;
		else
			n -= 1;
		write_file(fx, name, buf, n);
		assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats),
				 0);
		assert_int_equal(stats.quarantined, 1);
		assert_int_equal(quarantined(fx), k + 1);
	}
	assert_int_equal(g.calls, 0);
	got_destroy(&g);
	sl_buf_destroy(&all);
}

static void garbage_and_stray_files(void **state)
{
	struct fixture *fx = *state;
	struct sl_storage_scan_stats stats;
	struct got g = {0};
	static const char text[] = "this is not a chunk file at all, really";

	write_file(fx, "x-0000000000000005.open", text, sizeof(text));
	write_file(fx, "x-0000000000000006.sealed", text, sizeof(text));
	write_file(fx, "no-id.open", "SLCH", 4);
	write_file(fx, "README.txt", text, sizeof(text)); /* not ours */
	/* a chunk file whose header names another id */
	{
		unsigned char buf[256];
		struct sl_buf r = {0};
		size_t n;

		add_record(&r, 1, "{}");
		n = craft_open(buf, "x", 99, r.data, (uint32_t)r.len, 1);
		write_file(fx, "x-0000000000000007.open", buf, n);
		sl_buf_destroy(&r);
	}
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats), 0);
	assert_int_equal(g.calls, 0);
	assert_int_equal(stats.files, 4);
	assert_int_equal(stats.quarantined, 4);
	assert_int_equal(quarantined(fx), 4);
	assert_true(exists(fx, "README.txt"));
	assert_true(exists(fx, "sluice.lock"));
	got_destroy(&g);
}

static void zero_length_and_torn_header(void **state)
{
	struct fixture *fx = *state;
	struct sl_storage_chunk *f;
	struct sl_storage_scan_stats stats;
	struct got g = {0};

	/* crash between creating the file and writing its header */
	write_file(fx, "in-0000000000000001.open", "", 0);
	write_file(fx, "in-0000000000000002.open", "SLCH\1", 5);
	/* a header and no block: nothing was ever persisted */
	assert_int_equal(sl_storage_chunk_create(fx->st, "in", "t", 1, 3, &f),
			 0);
	sl_storage_chunk_close(f);
	/* a sealed file is complete before its rename: empty means damage */
	write_file(fx, "in-0000000000000004.sealed", "", 0);
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats), 0);
	assert_int_equal(g.calls, 0);
	assert_int_equal(stats.empty, 3);
	assert_int_equal(stats.quarantined, 1);
	assert_int_equal(stats.max_id, 4);
	assert_int_equal(count_files(fx->dir, ".open"), 0);
	assert_int_equal(count_files(fx->dir, ".sealed"), 0);
	got_destroy(&g);
}

static void second_open_is_locked_out(void **state)
{
	struct fixture *fx = *state;
	struct sl_storage_opts o = {.path = fx->dir};
	struct sl_storage *st2 = NULL;
	pid_t pid;
	int status;

	/* another process */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc = sl_storage_open(&o, &st2);

		_exit(rc == -SL_EIO && errno == EWOULDBLOCK ? 7 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);

	/* and a second open in this one */
	errno = 0;
	assert_int_equal(sl_storage_open(&o, &st2), -SL_EIO);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_null(st2);

	/* closing releases the lock */
	sl_storage_close(fx->st);
	fx->st = NULL;
	assert_int_equal(sl_storage_open(&o, &st2), 0);
	fx->st = st2;
}

static void unusable_path_fails_with_errno(void **state)
{
	struct fixture *fx = *state;
	char file[300];
	struct sl_storage_opts o = {.path = file};
	struct sl_storage *st = NULL;

	snprintf(file, sizeof(file), "%s/plain", fx->dir);
	write_file(fx, "plain", "x", 1);
	errno = 0;
	assert_int_equal(sl_storage_open(&o, &st), -SL_EIO);
	assert_int_equal(errno, ENOTDIR);
	strncat(file, "/below", sizeof(file) - strlen(file) - 1);
	errno = 0;
	assert_int_equal(sl_storage_open(&o, &st), -SL_EIO);
	assert_int_equal(errno, ENOTDIR);
	assert_null(st);
	o.path = "";
	assert_int_equal(sl_storage_open(&o, &st), -SL_EINVAL);
}

static void scan_goes_by_id(void **state)
{
	struct fixture *fx = *state;
	const uint64_t ids[] = {16, 5, 2, 9};
	const char *streams[] = {"a", "b", "z", "c"};
	struct sl_buf r = {0};
	struct got g = {.remove = true};
	struct sl_storage_scan_stats stats;

	add_record(&r, 1, "{}");
	for (size_t i = 0; i < SL_ARRAY_LEN(ids); i++) {
		struct sl_storage_chunk *f;

		assert_int_equal(sl_storage_chunk_create(fx->st, streams[i],
							 "t", 1, ids[i], &f),
				 0);
		assert_int_equal(sl_storage_chunk_append(f, r.data, r.len), 0);
		assert_int_equal(sl_storage_chunk_persist(f), 0);
		if (i == 1) /* forms do not change the order */
			assert_int_equal(sl_storage_chunk_seal(f, &r, 1), 0);
		sl_storage_chunk_close(f);
	}
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats), 0);
	assert_int_equal(g.calls, 4);
	assert_int_equal(g.ids[0], 2);
	assert_string_equal(g.streams[0], "z");
	assert_int_equal(g.ids[1], 5);
	assert_string_equal(g.streams[1], "b");
	assert_int_equal(g.ids[2], 9);
	assert_int_equal(g.ids[3], 16);
	assert_int_equal(stats.max_id, 16);
	got_destroy(&g);

	/* a callback error stops the scan; max_id still counts every file */
	for (size_t i = 0; i < 2; i++) {
		struct sl_storage_chunk *f;

		assert_int_equal(
		    sl_storage_chunk_create(fx->st, "a", "t", 1, 30 + i, &f),
		    0);
		assert_int_equal(sl_storage_chunk_append(f, r.data, r.len), 0);
		assert_int_equal(sl_storage_chunk_persist(f), 0);
		sl_storage_chunk_close(f);
	}
	memset(&g, 0, sizeof(g));
	g.stop_after = 1;
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats),
			 -SL_EIO);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.ids[0], 30);
	assert_int_equal(stats.max_id, 31);
	got_destroy(&g);
	/* the same id twice is refused rather than overwritten */
	{
		struct sl_storage_chunk *f = NULL;

		assert_int_equal(
		    sl_storage_chunk_create(fx->st, "a", "t", 1, 31, &f),
		    -SL_EIO);
		assert_int_equal(errno, EEXIST);
		assert_null(f);
	}
	sl_buf_destroy(&r);
}

static void stream_is_sanitized_in_the_name_only(void **state)
{
	struct fixture *fx = *state;
	struct sl_storage_chunk *f;
	struct sl_buf r = {0};
	struct got g = {.remove = true};
	char long_stream[300];

	add_record(&r, 1, "{}");
	assert_int_equal(sl_storage_chunk_create(
			     fx->st, "../etc/pass wd\xc3\xa9", "t", 1, 42, &f),
			 0);
	assert_string_equal(sl_storage_chunk_name(f),
			    "_._etc_pass_wd__-000000000000002a.open");
	assert_int_equal(sl_storage_chunk_append(f, r.data, r.len), 0);
	assert_int_equal(sl_storage_chunk_persist(f), 0);
	sl_storage_chunk_close(f);

	assert_int_equal(sl_storage_chunk_create(fx->st, "", "t", 1, 43, &f),
			 0);
	assert_string_equal(sl_storage_chunk_name(f),
			    "_-000000000000002b.open");
	assert_int_equal(sl_storage_chunk_append(f, r.data, r.len), 0);
	assert_int_equal(sl_storage_chunk_persist(f), 0);
	sl_storage_chunk_close(f);

	memset(long_stream, 'x', 255);
	long_stream[255] = '\0';
	assert_int_equal(
	    sl_storage_chunk_create(fx->st, long_stream, "t", 1, 44, &f), 0);
	assert_int_equal(strlen(sl_storage_chunk_name(f)), 64 + 1 + 16 + 5);
	assert_int_equal(sl_storage_chunk_append(f, r.data, r.len), 0);
	assert_int_equal(sl_storage_chunk_persist(f), 0);
	sl_storage_chunk_close(f);
	long_stream[255] = 'x';
	long_stream[256] = '\0';
	assert_int_equal(
	    sl_storage_chunk_create(fx->st, long_stream, "t", 1, 45, &f),
	    -SL_EINVAL);
	assert_int_equal(
	    sl_storage_chunk_create(fx->st, "s", "t", 65536, 45, &f),
	    -SL_EINVAL);

	/* the scan gives the real stream names back */
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, NULL), 0);
	assert_int_equal(g.calls, 3);
	assert_string_equal(g.streams[0], "../etc/pass wd\xc3\xa9");
	assert_string_equal(g.streams[1], "");
	long_stream[255] = '\0';
	assert_string_equal(g.streams[2], long_stream);
	got_destroy(&g);
	sl_buf_destroy(&r);
}

static void record_framing_is_validated(void **state)
{
	struct fixture *fx = *state;
	struct sl_storage_chunk *f;
	struct sl_buf r = {0};
	struct got g = {0};
	struct sl_storage_scan_stats stats;
	unsigned char buf[256];
	uint32_t n = 0, big = 1000;
	size_t len;

	add_record(&r, 1, "{\"a\":1}");
	add_record(&r, 2, "{\"b\":2}");
	assert_int_equal(sl_storage_records_count(r.data, r.len, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(sl_storage_records_count(r.data, r.len - 1, &n),
			 -SL_EPARSE);
	assert_int_equal(sl_storage_records_count(r.data, 5, &n), -SL_EPARSE);

	/* append refuses partial records and leaves the pending block alone */
	assert_int_equal(sl_storage_chunk_create(fx->st, "in", "t", 1, 1, &f),
			 0);
	assert_int_equal(sl_storage_chunk_append(f, r.data, r.len - 3),
			 -SL_EINVAL);
	assert_int_equal(sl_storage_chunk_append(f, r.data, r.len), 0);
	assert_int_equal(sl_storage_chunk_seal(f, &r, 3), -SL_EINVAL);
	assert_int_equal(sl_storage_chunk_remove(f), 0);

	/* files whose CRCs are right but whose records do not frame */
	len = craft_open(buf, "in", 2, r.data, (uint32_t)r.len, 3);
	write_file(fx, "in-0000000000000002.open", buf, len);
	/* first body length too big */
	memcpy(r.data + SL_CHUNK_RECORD_LEN_OFF, &big, sizeof(big));
	len = craft_open(buf, "in", 3, r.data, (uint32_t)r.len, 2);
	write_file(fx, "in-0000000000000003.open", buf, len);
	/* control: the crafted format is what the scan reads */
	sl_buf_reset(&r);
	add_record(&r, 1, "{\"ok\":true}");
	len = craft_open(buf, "in", 4, r.data, (uint32_t)r.len, 1);
	write_file(fx, "in-0000000000000004.open", buf, len);

	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats), 0);
	assert_int_equal(stats.quarantined, 2);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.ids[0], 4);
	assert_memory_equal(g.records.data, r.data, r.len);
	got_destroy(&g);
	sl_buf_destroy(&r);
}

static void interrupted_seal_shapes(void **state)
{
	struct fixture *fx = *state;
	struct sl_buf all = {0};
	struct sl_storage_scan_stats stats;
	struct got g = {.remove = true};
	unsigned char open_copy[512], buf[512];
	size_t n_open, n, end1;

	/* crash between rename and unlink: both forms, the sealed one wins */
	two_blocks(fx, 8, &all, &end1);
	n_open = read_whole(fx, "in-0000000000000008.open", open_copy,
			    sizeof(open_copy));
	/* seal through a recovered handle, then put the open form back */
	{
		struct got k = {0};

		assert_int_equal(sl_storage_scan(fx->st, on_chunk, &k, NULL),
				 0);
		assert_int_equal(k.calls, 1);
		assert_int_equal(sl_storage_chunk_seal(k.keep, &all, 3), 0);
		got_destroy(&k);
	}
	write_file(fx, "in-0000000000000008.open", open_copy, n_open);
	/* and a temp file a seal never renamed */
	write_file(fx, "in-0000000000000008.sealed.tmp", "SLCH", 4);
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats), 0);
	assert_int_equal(g.calls, 1);
	assert_true(g.sealed);
	assert_int_equal(g.n_records, 3);
	assert_int_equal(stats.superseded, 1);
	assert_int_equal(count_files(fx->dir, ".open"), 0);
	assert_int_equal(count_files(fx->dir, ".sealed"), 0); /* removed */
	assert_int_equal(count_files(fx->dir, ".tmp"), 0);

	/* a damaged sealed form next to its open form: the open one is used */
	two_blocks(fx, 8, &all, &end1);
	n = craft_open(buf, "in", 8, all.data, (uint32_t)all.len, 3);
	buf[4] = 2;
	buf[5] = 2; /* claims sealed: its header CRC no longer matches */
	write_file(fx, "in-0000000000000008.sealed", buf, n);
	got_destroy(&g);
	memset(&g, 0, sizeof(g));
	g.remove = true;
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, &stats), 0);
	assert_int_equal(stats.quarantined, 1);
	assert_int_equal(g.calls, 1);
	assert_false(g.sealed);
	assert_int_equal(g.n_records, 3);
	assert_memory_equal(g.records.data, all.data, all.len);
	got_destroy(&g);
	sl_buf_destroy(&all);
}

static void failed_write_is_cut_back_and_retried(void **state)
{
	struct fixture *fx = *state;
	struct sl_storage_chunk *f;
	struct sl_buf b = {0}, big = {0};
	struct rlimit old, lim;
	struct got g = {.remove = true};
	struct stat sb;
	char body[4096];
	void (*prev)(int);

	memset(body, 'y', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	add_record(&b, 1, "{\"small\":1}");
	for (int i = 0; i < 4; i++)
		add_record(&big, 2, body);
	assert_int_equal(sl_storage_chunk_create(fx->st, "in", "t", 1, 1, &f),
			 0);
	assert_int_equal(sl_storage_chunk_append(f, b.data, b.len), 0);
	assert_int_equal(sl_storage_chunk_persist(f), 0);
	assert_int_equal(stat(path_of(fx, sl_storage_chunk_name(f)), &sb), 0);

	/* the file may grow by 100 bytes: the 16 KB block is torn */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)sb.st_size + 100;
	prev = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(sl_storage_chunk_append(f, big.data, big.len), 0);
	errno = 0;
	assert_int_equal(sl_storage_chunk_persist(f), -SL_EIO);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(sl_storage_error(fx->st), EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	/* cut back to the last good block ... */
	{
		struct stat now;

		assert_int_equal(
		    stat(path_of(fx, sl_storage_chunk_name(f)), &now), 0);
		assert_int_equal(now.st_size, sb.st_size);
	}
	/* ... and the block is still pending */
	assert_int_equal(sl_storage_chunk_persist(f), 0);
	sl_storage_chunk_close(f);
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, NULL), 0);
	assert_int_equal(g.calls, 1);
	assert_false(g.cut);
	assert_int_equal(g.n_records, 5);
	assert_int_equal(g.records.len, b.len + big.len);
	got_destroy(&g);
	sl_buf_destroy(&b);
	sl_buf_destroy(&big);
}

/* The engine takes records back after a failed persist: discard drops
 * the pending block only, the file keeps what was written before. */
static void discard_forgets_only_the_pending_block(void **state)
{
	struct fixture *fx = *state;
	struct sl_storage_chunk *f;
	struct sl_buf a = {0}, b = {0};
	struct got g = {.remove = true};

	add_record(&a, 1, "{\"kept\":1}");
	add_record(&b, 2, "{\"taken back\":2}");
	assert_int_equal(sl_storage_chunk_create(fx->st, "in", "t", 1, 7, &f),
			 0);
	assert_int_equal(sl_storage_chunk_append(f, a.data, a.len), 0);
	assert_int_equal(sl_storage_chunk_persist(f), 0);
	assert_int_equal(sl_storage_chunk_append(f, b.data, b.len), 0);
	sl_storage_chunk_discard(f);
	assert_int_equal(sl_storage_chunk_persist(f), 0); /* nothing left */
	assert_int_equal(sl_storage_chunk_bytes(f), a.len);
	sl_storage_chunk_close(f);
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, NULL), 0);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.n_records, 1);
	assert_int_equal(g.records.len, a.len);
	assert_memory_equal(g.records.data, a.data, a.len);
	got_destroy(&g);
	sl_buf_destroy(&a);
	sl_buf_destroy(&b);
}

/* The errno of a failure is kept for the caller's message, whatever
 * happens to errno afterwards; bad arguments are not system errors. */
static void failures_keep_their_errno(void **state)
{
	struct fixture *fx = *state;
	struct sl_storage_chunk *f, *g;
	char *tag = malloc(SL_STORAGE_TAG_MAX + 2);

	assert_non_null(tag);
	memset(tag, 't', SL_STORAGE_TAG_MAX + 1);
	assert_int_equal(sl_storage_error(fx->st), 0);
	assert_int_equal(sl_storage_chunk_create(fx->st, "in", tag,
						 SL_STORAGE_TAG_MAX + 1, 1, &f),
			 -SL_EINVAL);
	assert_null(f);
	assert_int_equal(sl_storage_chunk_create(fx->st, "in", "t", 1, 2, &f),
			 0);
	assert_int_equal(sl_storage_chunk_create(fx->st, "in", "t", 1, 2, &g),
			 -SL_EIO);
	assert_null(g);
	errno = 0;
	assert_int_equal(open("/nonexistent/x", O_RDONLY), -1);
	assert_int_equal(sl_storage_error(fx->st), EEXIST);
	sl_storage_chunk_close(f);
	free(tag);
}

/* A chunk kept down on disk is read back later: the same records, and a
 * file damaged or gone meanwhile is reported, never handed out. */
static void recovered_chunks_load_back_from_disk(void **state)
{
	struct fixture *fx = *state;
	struct sl_storage_chunk *f;
	struct sl_buf a = {0}, back = {0};
	struct got g = {0};
	const char *reason;
	uint32_t n;
	size_t tag_len;
	unsigned char buf[4096];
	size_t len;

	add_record(&a, 1, "{\"a\":1}");
	add_record(&a, 2, "{\"b\":2}");
	assert_int_equal(sl_storage_chunk_create(fx->st, "in", "tg", 2, 9, &f),
			 0);
	assert_int_equal(sl_storage_chunk_seal(f, &a, 2), 0);
	sl_storage_chunk_close(f);
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, NULL), 0);
	assert_int_equal(g.calls, 1);
	assert_non_null(g.keep);
	assert_string_equal(sl_storage_chunk_tag(g.keep, &tag_len), "tg");
	assert_int_equal(tag_len, 2);
	assert_int_equal(sl_storage_chunk_id(g.keep), 9);
	assert_int_equal(sl_storage_chunk_load(g.keep, &back, &n, &reason), 0);
	assert_int_equal(n, 2);
	assert_int_equal(back.len, a.len);
	assert_memory_equal(back.data, a.data, a.len);
	sl_buf_destroy(&back);

	/* damaged meanwhile: refused with a reason, then quarantined */
	len = read_whole(fx, sl_storage_chunk_name(g.keep), buf, sizeof(buf));
	buf[len - 1] ^= 0xff;
	write_file(fx, sl_storage_chunk_name(g.keep), buf, len);
	assert_int_equal(sl_storage_chunk_load(g.keep, &back, &n, &reason),
			 -SL_EPARSE);
	assert_non_null(reason);
	assert_null(back.data);
	assert_int_equal(sl_storage_chunk_quarantine(g.keep, reason), 0);
	g.keep = NULL;
	assert_int_equal(quarantined(fx), 1);
	assert_int_equal(count_files(fx->dir, ".sealed"), 0);
	got_destroy(&g);

	/* gone meanwhile: -SL_EIO with ENOENT */
	memset(&g, 0, sizeof(g));
	assert_int_equal(sl_storage_chunk_create(fx->st, "in", "t", 1, 10, &f),
			 0);
	assert_int_equal(sl_storage_chunk_seal(f, &a, 2), 0);
	sl_storage_chunk_close(f);
	assert_int_equal(sl_storage_scan(fx->st, on_chunk, &g, NULL), 0);
	assert_non_null(g.keep);
	assert_int_equal(unlink(path_of(fx, sl_storage_chunk_name(g.keep))), 0);
	assert_int_equal(sl_storage_chunk_load(g.keep, &back, &n, &reason),
			 -SL_EIO);
	assert_int_equal(sl_storage_error(fx->st), ENOENT);
	got_destroy(&g);
	sl_buf_destroy(&a);
}

static void decoder_refuses_lying_lengths(void **state)
{
	struct sl_storage_decoded d;
	unsigned char buf[256];
	struct sl_buf r = {0};
	size_t n;

	(void)state;
	add_record(&r, 1, "{}");
	n = craft_open(buf, "s", 1, r.data, (uint32_t)r.len, 1);
	assert_int_equal(sl_storage_decode(buf, n, true, &d), 0);
	assert_int_equal(d.n_records, 1);
	assert_string_equal(d.stream, "s");
	assert_string_equal(d.tag, "t");
	sl_storage_decoded_destroy(&d);

	/* a tag length past the end is refused, not a read overrun; it is
	 * not taken for a torn header: the file goes to quarantine */
	buf[16] = 0xff;
	buf[17] = 0xff;
	assert_int_equal(sl_storage_decode(buf, n, true, &d), -SL_EPARSE);
	assert_false(d.torn_header);
	assert_string_equal(d.reason, "header longer than the file");
	sl_storage_decoded_destroy(&d);

	/* a sealed body claiming 64 MB from a few bytes is refused unread */
	n = craft_open(buf, "s", 1, r.data, (uint32_t)r.len, 1);
	buf[5] = 2;
	put32(buf + 20 + 1 + 1, crc_of(buf, 22));
	memcpy(buf + 26, "SLSZ", 4);
	put32(buf + 30, SL_STORAGE_CHUNK_MAX);
	put32(buf + 34, 4);
	put32(buf + 38, 1);
	put32(buf + 42, 0);
	put32(buf + 46, crc_of(buf + 26, 20));
	memset(buf + 50, 0, 4);
	assert_int_equal(sl_storage_decode(buf, 54, true, &d), -SL_EPARSE);
	assert_string_equal(d.reason, "bad uncompressed length");
	sl_storage_decoded_destroy(&d);

	/* version 1 (records without identity) is refused with its reason */
	n = craft_open(buf, "s", 1, r.data, (uint32_t)r.len, 1);
	buf[4] = 1;
	assert_int_equal(sl_storage_decode(buf, n, true, &d), -SL_EPARSE);
	assert_non_null(strstr(d.reason, "format version 1"));
	sl_storage_decoded_destroy(&d);
	sl_buf_destroy(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(round_trip_open_then_sealed),
	    T(seal_from_create),
	    T(truncated_last_block_keeps_earlier_ones),
	    T(corrupt_crc_is_quarantined),
	    T(sealed_body_damage_is_quarantined),
	    T(garbage_and_stray_files),
	    T(zero_length_and_torn_header),
	    T(second_open_is_locked_out),
	    T(unusable_path_fails_with_errno),
	    T(scan_goes_by_id),
	    T(stream_is_sanitized_in_the_name_only),
	    T(record_framing_is_validated),
	    T(interrupted_seal_shapes),
	    T(failed_write_is_cut_back_and_retried),
	    T(discard_forgets_only_the_pending_block),
	    T(failures_keep_their_errno),
	    T(recovered_chunks_load_back_from_disk),
	    cmocka_unit_test(decoder_refuses_lying_lengths),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
