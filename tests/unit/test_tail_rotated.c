/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_tail_rotated.c - what finding rotated files rests on: a truncation
 * is seen even when the file grew back past our offset (size below the
 * largest seen, or a changed head) and keeps what the copy search needs;
 * the rotated siblings of a path (renamed, dated, kubelet, gzip, through a
 * symlink, Rotated_Path globs) are listed once each and never the file
 * itself; gzip heads are fingerprinted like plain ones; Path matching.
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
#include <zlib.h>

#include "../../inputs/tail/tail_db.h"
#include "../../inputs/tail/tail_file.h"
#include "../../inputs/tail/tail_rotated.h"
#include "../../inputs/tail/tail_scan.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/sl_tailrot_XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *path_of(const char *name)
{
	static char p[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static void write_file(const char *name, const char *mode, const char *text)
{
	FILE *fp = fopen(path_of(name), mode);

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

struct lines {
	char *v[64];
	size_t n;
};

static int collect(void *arg, struct tail_file *f, const char *line, size_t len,
		   int64_t off, int64_t ts_ns)
{
	struct lines *l = arg;

	(void)f;
	(void)off;
	(void)ts_ns;
	assert_true(l->n < 64);
	l->v[l->n++] = strndup(line, len);
	return 0;
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	memset(l, 0, sizeof(*l));
}

static const struct tail_line_opts opts = {.max_line = 64};

static int read_some(struct tail_file *f, size_t cap, struct lines *l)
{
	char *buf = malloc(cap);
	int rc = tail_file_read(f, buf, cap, &opts, 1, collect, l);

	free(buf);
	return rc;
}

/* ---- truncation -------------------------------------------------------- */

/* Behind at a copytruncate, and the file grew back past our offset: the
 * truncation is still seen, and the new content is read from its start
 * (not from the middle of a line at the old offset). */
static void truncation_seen_when_grown_back_past_offset(void **state)
{
	struct tail_file *f;
	struct lines l = {0};
	uint64_t old_fp;

	(void)state;
	write_file("a.log", "w", "old-1\nold-2\nold-3\nold-4\n");
	assert_int_equal(tail_file_open(path_of("a.log"), &f), 0);
	/* a small block: read only the first line or two */
	assert_int_equal(read_some(f, 8, &l), TAIL_READ_MORE);
	assert_int_equal(l.n, 1);
	assert_int_equal(f->offset, 6);
	old_fp = f->head_fp;
	assert_int_equal(f->head_len, 24);
	/* copytruncate, then more than 6 bytes of new lines, still shorter
	 * than the 24 bytes seen */
	write_file("a.log", "w", "new-line-1\n");
	assert_int_equal(read_some(f, 64, &l), TAIL_READ_MORE);
	assert_true(f->trunc_pending);
	assert_int_equal(f->trunc_offset, 6);
	assert_int_equal(f->trunc_size, 24);
	assert_int_equal(f->trunc_fp_len, 24);
	assert_true(f->trunc_fp == old_fp);
	assert_int_equal(f->offset, 0);
	assert_int_equal(read_some(f, 64, &l), TAIL_READ_EOF);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[1], "new-line-1");
	assert_int_equal(f->truncations, 1);
	tail_file_destroy(f);
	lines_free(&l);
}

/* Truncated and grown back past the largest size seen: only the head
 * tells, and tail_file_check_head (the tick) sees it. */
static void check_head_sees_a_file_grown_past_its_old_size(void **state)
{
	struct tail_file *f;
	struct lines l = {0};

	(void)state;
	write_file("b.log", "w", "one\ntwo\n");
	assert_int_equal(tail_file_open(path_of("b.log"), &f), 0);
	assert_int_equal(read_some(f, 64, &l), TAIL_READ_EOF);
	assert_int_equal(tail_file_check_head(f), 0);
	write_file("b.log", "w", "three-and-more\nfour\n");
	assert_int_equal(tail_file_check_head(f), 1);
	assert_true(f->trunc_pending);
	assert_int_equal(f->trunc_offset, 8);
	assert_int_equal(f->offset, 0);
	/* the new head is taken at once: no second report for it */
	assert_int_equal(tail_file_check_head(f), 0);
	assert_int_equal(read_some(f, 64, &l), TAIL_READ_EOF);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[2], "three-and-more");
	tail_file_destroy(f);
	lines_free(&l);
}

/* Appends are not truncations. */
static void appends_are_not_truncations(void **state)
{
	struct tail_file *f;
	struct lines l = {0};

	(void)state;
	write_file("c.log", "w", "x\n");
	assert_int_equal(tail_file_open(path_of("c.log"), &f), 0);
	for (int i = 0; i < 5; i++) {
		write_file("c.log", "a", "more line\n");
		assert_int_equal(tail_file_check_head(f), 0);
		read_some(f, 16, &l);
	}
	assert_false(f->trunc_pending);
	assert_int_equal(f->truncations, 0);
	tail_file_destroy(f);
	lines_free(&l);
}

/* ---- siblings ------------------------------------------------------------ */

struct names {
	char *v[32];
	size_t n;
};

static int note_name(void *arg, const char *path, const struct stat *st)
{
	struct names *n = arg;
	const char *slash = strrchr(path, '/');

	(void)st;
	assert_true(n->n < 32);
	n->v[n->n++] = strdup(slash ? slash + 1 : path);
	return 0;
}

static bool has(const struct names *n, const char *name)
{
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->v[i], name) == 0)
			return true;
	return false;
}

static void names_free(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	memset(n, 0, sizeof(*n));
}

static void siblings_cover_the_common_rotation_names(void **state)
{
	struct names n = {0};

	(void)state;
	write_file("app.log", "w", "now\n");
	write_file("app.log.1", "w", "a\n");
	write_file("app.log.2.gz", "w", "b\n");
	write_file("app.log-20261201", "w", "c\n");
	write_file("app.1.log", "w", "d\n");
	write_file("app-20261201.log", "w", "e\n");
	write_file("other.log", "w", "f\n");
	write_file("ap.log.1", "w", "g\n");
	assert_int_equal(mkdir(path_of("app.log.d"), 0755), 0);
	assert_int_equal(
	    tail_rotated_each(path_of("app.log"), NULL, note_name, &n), 0);
	assert_int_equal(n.n, 5);
	assert_true(has(&n, "app.log.1"));
	assert_true(has(&n, "app.log.2.gz"));
	assert_true(has(&n, "app.log-20261201"));
	assert_true(has(&n, "app.1.log"));
	assert_true(has(&n, "app-20261201.log"));
	assert_false(has(&n, "app.log"));
	names_free(&n);
}

/* /var/log/containers/<x>.log -> /var/log/pods/.../0.log: the rotated
 * 0.log.<timestamp> is beside the target, not the link. */
static void siblings_through_a_kubelet_symlink(void **state)
{
	struct names n = {0};
	char link[256], target[256];

	(void)state;
	assert_int_equal(mkdir(path_of("pods"), 0755), 0);
	assert_int_equal(mkdir(path_of("containers"), 0755), 0);
	write_file("pods/0.log", "w", "new\n");
	write_file("pods/0.log.20261201-231500", "w", "old\n");
	write_file("pods/1.log", "w", "next container\n");
	snprintf(link, sizeof(link), "%s", path_of("containers/p_ns_c-1.log"));
	snprintf(target, sizeof(target), "../pods/0.log");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(tail_rotated_each(link, NULL, note_name, &n), 0);
	assert_int_equal(n.n, 1);
	assert_true(has(&n, "0.log.20261201-231500"));
	names_free(&n);
}

/* Rotated_Path globs add places; a file found twice is listed once. */
static void rotated_path_globs_add_places_once(void **state)
{
	struct names n = {0};
	char g1[256], g2[256];
	char *globs[2] = {g1, g2};
	struct sl_strlist extra = {2, globs};

	(void)state;
	assert_int_equal(mkdir(path_of("archive"), 0755), 0);
	write_file("x.log", "w", "now\n");
	write_file("x.log.1", "w", "a\n");
	write_file("archive/x.log.7", "w", "b\n");
	snprintf(g1, sizeof(g1), "%s", path_of("archive/*"));
	snprintf(g2, sizeof(g2), "%s", path_of("x.log.*"));
	assert_int_equal(
	    tail_rotated_each(path_of("x.log"), &extra, note_name, &n), 0);
	assert_int_equal(n.n, 2);
	assert_true(has(&n, "x.log.1"));
	assert_true(has(&n, "x.log.7"));
	names_free(&n);
}

/* ---- fingerprints ---------------------------------------------------- */

static void gzip_head_fingerprint_and_size(void **state)
{
	const char *text = "line one of the rotated file\nline two\n";
	uint64_t fp, want = tail_db_fp_bytes(text, 20);
	int64_t size = 0;
	gzFile gz;

	(void)state;
	gz = gzopen(path_of("r.log.1.gz"), "wb");
	assert_non_null(gz);
	assert_int_equal(gzputs(gz, text), (int)strlen(text));
	gzclose(gz);
	assert_true(tail_rotated_is_gz(path_of("r.log.1.gz")));
	assert_int_equal(
	    tail_rotated_gz_probe(path_of("r.log.1.gz"), 20, &fp, &size), 0);
	assert_true(fp == want);
	assert_int_equal(size, (int64_t)strlen(text));
	/* asking for more head than it holds */
	assert_int_equal(
	    tail_rotated_gz_probe(path_of("r.log.1.gz"), 200, &fp, &size),
	    -SL_ENOENT);
	/* not gzip at all */
	write_file("plain", "w", "not compressed, long enough to look at\n");
	assert_false(tail_rotated_is_gz(path_of("plain")));
	assert_int_equal(tail_rotated_gz_probe(path_of("plain"), 4, &fp, &size),
			 -SL_EPARSE);
}

static void plain_fingerprint_matches(void **state)
{
	(void)state;
	write_file("p.log", "w", "0123456789");
	assert_int_equal(tail_rotated_fp_matches(path_of("p.log"), 4,
						 tail_db_fp_bytes("0123", 4)),
			 1);
	assert_int_equal(tail_rotated_fp_matches(path_of("p.log"), 4,
						 tail_db_fp_bytes("0124", 4)),
			 0);
	assert_int_equal(tail_rotated_fp_matches(path_of("p.log"), 40,
						 tail_db_fp_bytes("0123", 4)),
			 0);
}

/* ---- Path matching --------------------------------------------------------
 */

static void path_matching_follows_glob_rules(void **state)
{
	char *pv[] = {"/var/log/*.log", "/data/app.log"};
	char *ev[] = {"*skip*"};
	struct sl_strlist paths = {2, pv}, ex = {1, ev};

	(void)state;
	assert_true(tail_scan_matches(&paths, &ex, "/var/log/a.log"));
	assert_true(tail_scan_matches(&paths, &ex, "/data/app.log"));
	assert_false(tail_scan_matches(&paths, &ex, "/var/log/a.log.1"));
	assert_false(tail_scan_matches(&paths, &ex, "/var/log/sub/a.log"));
	assert_false(tail_scan_matches(&paths, &ex, "/var/log/skip.log"));
	assert_false(tail_scan_matches(&paths, NULL, "/data/app.log.1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		truncation_seen_when_grown_back_past_offset, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		check_head_sees_a_file_grown_past_its_old_size, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(appends_are_not_truncations, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		siblings_cover_the_common_rotation_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(siblings_through_a_kubelet_symlink,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(rotated_path_globs_add_places_once,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(gzip_head_fingerprint_and_size,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(plain_fingerprint_matches, setup,
					    teardown),
	    cmocka_unit_test(path_matching_follows_glob_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
