/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_tail_db.c - the tail offsets database: a save is read back the same,
 * saves replace the file atomically and leave no temp file, entries are
 * keyed by inode plus a fingerprint (a reused inode is not trusted),
 * malformed lines are skipped, unchanged databases are not rewritten; and
 * what goes into it: the committed offset of commit-after-ack (tail_ack),
 * the end of the longest prefix of released chunks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../inputs/tail/tail_ack.h"
#include "../../inputs/tail/tail_db.h"

static char dir[64];
static char db_path[128];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/sl_taildb_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/offsets.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes `text` to a file in the folder; returns an open read fd. */
static int make_file(const char *name, const char *text, uint64_t *ino)
{
	char p[256];
	struct stat st;
	FILE *fp;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*ino = (uint64_t)st.st_ino;
	return fd;
}

static void save_then_load_round_trips(void **state)
{
	struct tail_db db;
	uint64_t ino_a, ino_b;
	int fa = make_file("a.log", "hello\nworld\n", &ino_a);
	int fb = make_file("b.log", "x\n", &ino_b);
	int64_t off = -1;

	(void)state;
	unlink(db_path);
	assert_int_equal(tail_db_open(&db, db_path, TAIL_DB_SYNC_NORMAL), 0);
	assert_int_equal(db.n, 0);
	assert_int_equal(tail_db_set(&db, fa, ino_a, "/var/log/a b.log", 6), 0);
	assert_int_equal(tail_db_set(&db, fb, ino_b, "/odd\\name\n.log", 2), 0);
	assert_true(db.dirty);
	assert_int_equal(tail_db_save(&db), 0);
	assert_false(db.dirty);
	tail_db_close(&db);

	assert_int_equal(tail_db_open(&db, db_path, TAIL_DB_SYNC_NORMAL), 0);
	assert_int_equal(db.n, 2);
	assert_int_equal(tail_db_lookup(&db, fa, ino_a, &off), 0);
	assert_int_equal(off, 6);
	assert_int_equal(tail_db_lookup(&db, fb, ino_b, &off), 0);
	assert_int_equal(off, 2);
	for (size_t i = 0; i < db.n; i++)
		if (db.e[i].ino == ino_b)
			assert_string_equal(db.e[i].name, "/odd\\name\n.log");
	tail_db_close(&db);
	close(fa);
	close(fb);
}

/* A name may start with spaces (the DB keeps exactly one separator), and
 * the DB says which paths it knew and when it was last saved: what
 * start-up uses to find files rotated while sluice was down. */
static void leading_spaces_names_and_save_time_survive(void **state)
{
	struct tail_db db;
	uint64_t ino;
	int fd = make_file("s.log", "abc\n", &ino);
	struct stat st;

	(void)state;
	unlink(db_path);
	assert_int_equal(tail_db_open(&db, db_path, TAIL_DB_SYNC_OFF), 0);
	assert_int_equal(db.saved_ns, 0);
	assert_int_equal(tail_db_set(&db, fd, ino, "  lead.log", 4), 0);
	assert_int_equal(tail_db_save(&db), 0);
	tail_db_close(&db);
	assert_int_equal(tail_db_open(&db, db_path, TAIL_DB_SYNC_OFF), 0);
	assert_int_equal(db.n, 1);
	assert_string_equal(db.e[0].name, "  lead.log");
	assert_true(tail_db_has_name(&db, "  lead.log"));
	assert_false(tail_db_has_name(&db, "lead.log"));
	assert_int_equal(stat(db_path, &st), 0);
	assert_true(db.saved_ns == (int64_t)st.st_mtim.tv_sec * 1000000000 +
				       st.st_mtim.tv_nsec);
	/* an entry without the separator before its name is damage */
	assert_int_equal(tail_db_parse_line(&db, "7 0 0 5x"), -SL_EPARSE);
	assert_int_equal(tail_db_parse_line(&db, "7 0 0 5"), 0);
	assert_non_null(tail_db_find(&db, 7));
	tail_db_close(&db);
	close(fd);
}

static void save_is_atomic_and_leaves_no_temp(void **state)
{
	struct tail_db db;
	uint64_t ino;
	int fd = make_file("c.log", "abc\n", &ino);
	char tmp[160];
	struct stat st;
	int64_t off;

	(void)state;
	unlink(db_path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", db_path);
	/* a temp file left by a crash mid-save is not the database */
	FILE *junk = fopen(tmp, "w");
	assert_non_null(junk);
	fputs("garbage that must never be read\n", junk);
	fclose(junk);
	assert_int_equal(tail_db_open(&db, db_path, TAIL_DB_SYNC_FULL), 0);
	assert_int_equal(db.n, 0);
	assert_int_equal(tail_db_set(&db, fd, ino, "c.log", 4), 0);
	assert_int_equal(tail_db_save(&db), 0);
	assert_int_equal(stat(tmp, &st), -1); /* renamed over the database */
	assert_int_equal(stat(db_path, &st), 0);
	tail_db_close(&db);

	assert_int_equal(tail_db_open(&db, db_path, TAIL_DB_SYNC_OFF), 0);
	assert_int_equal(tail_db_lookup(&db, fd, ino, &off), 0);
	assert_int_equal(off, 4);
	tail_db_close(&db);
	close(fd);
}

static void reused_inode_with_other_content_is_not_trusted(void **state)
{
	struct tail_db db;
	uint64_t ino;
	int fd = make_file("d.log", "original first line\n", &ino);
	int other;
	uint64_t ino2;
	int64_t off = -1;

	(void)state;
	unlink(db_path);
	assert_int_equal(tail_db_open(&db, db_path, TAIL_DB_SYNC_OFF), 0);
	assert_int_equal(tail_db_set(&db, fd, ino, "d.log", 20), 0);
	/* another file presented under the same inode number */
	other = make_file("e.log", "something else entirely\n", &ino2);
	assert_int_equal(tail_db_lookup(&db, other, ino, &off), -SL_ENOENT);
	assert_int_equal(off, -1);
	assert_int_equal(db.n, 0); /* the stale entry is dropped */
	tail_db_close(&db);
	close(fd);
	close(other);
}

static void fingerprint_grows_with_what_was_read(void **state)
{
	struct tail_db db;
	uint64_t ino;
	int fd = make_file("f.log", "ab\n", &ino);
	int64_t off;

	(void)state;
	unlink(db_path);
	assert_int_equal(tail_db_open(&db, db_path, TAIL_DB_SYNC_OFF), 0);
	assert_int_equal(tail_db_set(&db, fd, ino, "f.log", 0), 0);
	assert_int_equal(db.e[0].fp_len, 0);
	assert_int_equal(tail_db_set(&db, fd, ino, "f.log", 3), 0);
	assert_int_equal(db.e[0].fp_len, 3);
	assert_int_equal(tail_db_lookup(&db, fd, ino, &off), 0);
	assert_int_equal(off, 3);
	tail_db_close(&db);
	close(fd);
}

static void truncated_file_keeps_being_recognised(void **state)
{
	struct tail_db db;
	uint64_t ino;
	int fd = make_file("t.log", "a long first line\n", &ino);
	char p[256];
	FILE *fp;
	int64_t off;

	(void)state;
	unlink(db_path);
	assert_int_equal(tail_db_open(&db, db_path, TAIL_DB_SYNC_OFF), 0);
	assert_int_equal(tail_db_set(&db, fd, ino, "t.log", 18), 0);
	snprintf(p, sizeof(p), "%s/t.log", dir);
	fp = fopen(p, "w"); /* copytruncate: same inode, new content */
	assert_non_null(fp);
	fputs("new\n", fp);
	fclose(fp);
	assert_int_equal(tail_db_set(&db, fd, ino, "t.log", 4), 0);
	assert_int_equal(db.e[0].fp_len, 4);
	assert_int_equal(tail_db_lookup(&db, fd, ino, &off), 0);
	assert_int_equal(off, 4);
	tail_db_close(&db);
	close(fd);
}

static void malformed_lines_are_skipped(void **state)
{
	struct tail_db db;
	uint64_t ino;
	int fd = make_file("g.log", "", &ino);
	int64_t off;
	FILE *fp = fopen(db_path, "w");
	uint64_t fp0;

	(void)state;
	assert_non_null(fp);
	assert_int_equal(tail_db_fingerprint(fd, 0, &fp0), 0);
	fprintf(fp, "# sluice tail db 1\nnot a line\n12 x y z\n");
	fprintf(fp, "%llu 0 %016llx 0 g.log\n", (unsigned long long)ino,
		(unsigned long long)fp0);
	fclose(fp);
	assert_int_equal(tail_db_open(&db, db_path, TAIL_DB_SYNC_OFF), 0);
	assert_int_equal(db.n, 1);
	assert_int_equal(tail_db_lookup(&db, fd, ino, &off), 0);
	assert_int_equal(off, 0);
	tail_db_close(&db);
	close(fd);
}

static void unchanged_database_is_not_rewritten(void **state)
{
	struct tail_db db;
	uint64_t ino;
	int fd = make_file("h.log", "line\n", &ino);
	struct stat st;

	(void)state;
	unlink(db_path);
	assert_int_equal(tail_db_open(&db, db_path, TAIL_DB_SYNC_OFF), 0);
	assert_int_equal(tail_db_set(&db, fd, ino, "h.log", 5), 0);
	assert_int_equal(tail_db_save(&db), 0);
	unlink(db_path);
	assert_int_equal(tail_db_set(&db, fd, ino, "h.log", 5), 0);
	assert_int_equal(tail_db_save(&db), 0);
	assert_int_equal(stat(db_path, &st),
			 -1); /* nothing changed: no write */
	assert_int_equal(tail_db_set(&db, fd, ino, "h.log", 4), 0);
	assert_int_equal(tail_db_save(&db), 0);
	assert_int_equal(stat(db_path, &st), 0);
	tail_db_close(&db);
	close(fd);
}

static void remove_forgets_a_file(void **state)
{
	struct tail_db db;
	uint64_t ino;
	int fd = make_file("i.log", "x\n", &ino);
	int64_t off;

	(void)state;
	unlink(db_path);
	assert_int_equal(tail_db_open(&db, db_path, TAIL_DB_SYNC_OFF), 0);
	assert_int_equal(tail_db_set(&db, fd, ino, "i.log", 2), 0);
	tail_db_remove(&db, ino);
	assert_int_equal(tail_db_lookup(&db, fd, ino, &off), -SL_ENOENT);
	tail_db_close(&db);
	close(fd);
}

static void sync_values_parse(void **state)
{
	enum tail_db_sync s;

	(void)state;
	assert_int_equal(tail_db_parse_sync("Off", &s), 0);
	assert_int_equal(s, TAIL_DB_SYNC_OFF);
	assert_int_equal(tail_db_parse_sync("normal", &s), 0);
	assert_int_equal(s, TAIL_DB_SYNC_NORMAL);
	assert_int_equal(tail_db_parse_sync("FULL", &s), 0);
	assert_int_equal(s, TAIL_DB_SYNC_FULL);
	assert_int_equal(tail_db_parse_sync("extra", &s), 0);
	assert_int_equal(s, TAIL_DB_SYNC_FULL);
	assert_int_equal(tail_db_parse_sync("sometimes", &s), -SL_EINVAL);
}

/* ---- commit-after-ack ------------------------------------------------------
 */

static void commit_waits_for_every_earlier_chunk(void **state)
{
	struct tail_ack a;

	(void)state;
	tail_ack_init(&a, 100);
	assert_int_equal(tail_ack_push(&a, 7, 110), 0);
	assert_int_equal(tail_ack_push(&a, 7, 120),
			 0); /* same chunk: one run */
	assert_int_equal(tail_ack_push(&a, 8, 130), 0);
	assert_int_equal(tail_ack_push(&a, 9, 140), 0);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.committed, 100);
	/* released out of order: nothing moves until 7 is out */
	assert_int_equal(tail_ack_release(&a, 9), 0);
	assert_int_equal(tail_ack_release(&a, 8), 0);
	assert_int_equal(a.committed, 100);
	assert_false(tail_ack_idle(&a));
	assert_int_equal(tail_ack_release(&a, 7), 1);
	assert_int_equal(a.committed, 140);
	assert_true(tail_ack_idle(&a));
	/* an id it never saw changes nothing */
	assert_int_equal(tail_ack_release(&a, 3), 0);
	assert_int_equal(a.committed, 140);
	tail_ack_destroy(&a);
}

static void dropped_records_count_as_released(void **state)
{
	struct tail_ack a;

	(void)state;
	tail_ack_init(&a, 0);
	/* nothing in flight: a filtered line commits at once */
	assert_int_equal(tail_ack_push(&a, 0, 10), 1);
	assert_int_equal(a.committed, 10);
	assert_int_equal(tail_ack_push(&a, 4, 20), 0);
	assert_int_equal(tail_ack_push(&a, 0, 30), 0); /* behind chunk 4 */
	assert_int_equal(tail_ack_push(&a, 0, 35), 0);
	assert_int_equal(tail_ack_push(&a, 5, 40), 0);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.committed, 10);
	assert_int_equal(tail_ack_release(&a, 4), 1);
	assert_int_equal(a.committed, 35); /* through the dropped run */
	assert_int_equal(tail_ack_release(&a, 5), 1);
	assert_int_equal(a.committed, 40);
	tail_ack_destroy(&a);
}

/* storage.type filesystem: lines persisted in an open chunk are safe at
 * once; later lines into the same chunk wait for the next persist. */
static void persisted_lines_commit_before_the_chunk_is_released(void **state)
{
	struct tail_ack a;

	(void)state;
	tail_ack_init(&a, 0);
	assert_int_equal(tail_ack_push(&a, 3, 10), 0);
	assert_int_equal(tail_ack_push(&a, 3, 20), 0);
	assert_int_equal(tail_ack_persisted(&a, 3), 1);
	assert_int_equal(a.committed, 20);
	/* the chunk is still open: new lines make a new run, not yet safe */
	assert_int_equal(tail_ack_push(&a, 3, 30), 0);
	assert_int_equal(tail_ack_push(&a, 3, 40), 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.committed, 20);
	/* a persist of another chunk moves nothing before chunk 3's run */
	assert_int_equal(tail_ack_push(&a, 4, 50), 0);
	assert_int_equal(tail_ack_persisted(&a, 4), 0);
	assert_int_equal(a.committed, 20);
	assert_int_equal(tail_ack_persisted(&a, 3), 1);
	assert_int_equal(a.committed, 50);
	assert_true(tail_ack_idle(&a));
	/* the release that follows for a persisted chunk is harmless */
	assert_int_equal(tail_ack_release(&a, 3), 0);
	assert_int_equal(tail_ack_release(&a, 4), 0);
	assert_int_equal(a.committed, 50);
	/* persisted then one more line, then the final release: all out */
	assert_int_equal(tail_ack_push(&a, 5, 60), 0);
	assert_int_equal(tail_ack_persisted(&a, 5), 1);
	assert_int_equal(tail_ack_push(&a, 5, 70), 0);
	assert_int_equal(tail_ack_release(&a, 5), 1);
	assert_int_equal(a.committed, 70);
	/* a persisted run still behind an unreleased one: a line added to its
	 * chunk must not ride on the persisted run */
	assert_int_equal(tail_ack_push(&a, 8, 80), 0);
	assert_int_equal(tail_ack_push(&a, 9, 90), 0);
	assert_int_equal(tail_ack_persisted(&a, 9), 0);
	assert_int_equal(tail_ack_push(&a, 9, 100), 0);
	assert_int_equal(a.n, 3);
	assert_int_equal(tail_ack_release(&a, 8), 1);
	assert_int_equal(a.committed, 90);
	tail_ack_destroy(&a);
}

static void ring_wraps_and_grows_in_order(void **state)
{
	struct tail_ack a;
	uint64_t id = 1;
	int64_t end = 0;

	(void)state;
	tail_ack_init(&a, 0);
	/* keep a window of 5 in flight while 1000 runs pass: wraps the ring */
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(tail_ack_push(&a, id + (uint64_t)i, end += 10),
				 0);
		if (i >= 5)
			assert_int_equal(
			    tail_ack_release(&a, id + (uint64_t)i - 5), 1);
	}
	assert_int_equal(a.n, 5);
	assert_true(a.cap <= 8);
	assert_int_equal(a.committed, 9950);
	/* then 20 in flight (grows while wrapped), released newest first */
	for (int i = 1000; i < 1020; i++)
		assert_int_equal(tail_ack_push(&a, id + (uint64_t)i, end += 10),
				 0);
	for (int i = 1019; i >= 996; i--)
		tail_ack_release(&a, id + (uint64_t)i);
	assert_int_equal(a.committed, 9950);
	assert_int_equal(tail_ack_release(&a, id + 995), 1);
	assert_int_equal(a.committed, end);
	assert_true(tail_ack_idle(&a));
	tail_ack_destroy(&a);
}

static void committed_offset_goes_to_the_db(void **state)
{
	struct tail_db db;
	struct tail_ack a;
	char path[160];
	int64_t off = -1;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/acked.log", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a\nb\nc\n", 6), 6);
	assert_int_equal(tail_db_open(&db, db_path, TAIL_DB_SYNC_NORMAL), 0);
	tail_ack_init(&a, 0);
	tail_ack_push(&a, 1, 2);
	tail_ack_push(&a, 2, 6);
	assert_int_equal(tail_ack_release(&a, 1), 1);
	assert_int_equal(tail_db_set(&db, fd, 77, path, a.committed), 0);
	assert_int_equal(tail_db_save(&db), 0);
	tail_db_close(&db);
	/* a crash now re-reads from 2: line "b" and "c" were in flight */
	assert_int_equal(tail_db_open(&db, db_path, TAIL_DB_SYNC_NORMAL), 0);
	assert_int_equal(tail_db_lookup(&db, fd, 77, &off), 0);
	assert_int_equal(off, 2);
	tail_db_close(&db);
	tail_ack_destroy(&a);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(save_then_load_round_trips),
	    cmocka_unit_test(leading_spaces_names_and_save_time_survive),
	    cmocka_unit_test(save_is_atomic_and_leaves_no_temp),
	    cmocka_unit_test(reused_inode_with_other_content_is_not_trusted),
	    cmocka_unit_test(fingerprint_grows_with_what_was_read),
	    cmocka_unit_test(truncated_file_keeps_being_recognised),
	    cmocka_unit_test(malformed_lines_are_skipped),
	    cmocka_unit_test(unchanged_database_is_not_rewritten),
	    cmocka_unit_test(remove_forgets_a_file),
	    cmocka_unit_test(sync_values_parse),
	    cmocka_unit_test(commit_waits_for_every_earlier_chunk),
	    cmocka_unit_test(dropped_records_count_as_released),
	    cmocka_unit_test(
		persisted_lines_commit_before_the_chunk_is_released),
	    cmocka_unit_test(ring_wraps_and_grows_in_order),
	    cmocka_unit_test(committed_offset_goes_to_the_db),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
