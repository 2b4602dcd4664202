/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_tail.c - the tail input's file logic without the engine: lines cut
 * across reads, CRLF, long lines skipped or stopping the file, empty lines,
 * stopping on pause, copytruncate, rename rotation, globs with excludes,
 * Ignore_Older, tag expansion, kubelet log names (Kube_Meta_From_Path) and
 * the inotify watch -> file map.
 * Files live in a fresh temporary folder.
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

#include "../../inputs/tail/tail_file.h"
#include "../../inputs/tail/tail_k8s.h"
#include "../../inputs/tail/tail_scan.h"
#include "../../inputs/tail/tail_wd.h"

/* ---- helpers ----------------------------------------------------------- */

struct lines {
	char *v[64];
	int64_t off[64];
	size_t n;
	size_t stop_after; /* ask to stop after this many lines (0: never) */
};

static int collect(void *arg, struct tail_file *f, const char *line, size_t len,
		   int64_t off, int64_t ts_ns)
{
	struct lines *l = arg;

	(void)f;
	(void)ts_ns;
	assert_true(l->n < 64);
	l->v[l->n] = strndup(line, len);
	l->off[l->n] = off;
	l->n++;
	return l->stop_after && l->n == l->stop_after ? 1 : 0;
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	memset(l, 0, sizeof(*l));
}

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/sl_tail_XXXXXX");
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

static const struct tail_line_opts def_opts = {
    .max_line = 32,
    .skip_long = false,
    .skip_empty = false,
};

/* Reads until EOF (or error / stop); returns the last status. */
static int read_all(struct tail_file *f, const struct tail_line_opts *o,
		    size_t cap, struct lines *l)
{
	char *buf = malloc(cap);
	int rc;

	assert_non_null(buf);
	do
		rc = tail_file_read(f, buf, cap, o, 1, collect, l);
	while (rc == TAIL_READ_MORE);
	free(buf);
	return rc;
}

static struct tail_file *open_file(const char *name)
{
	struct tail_file *f = NULL;

	assert_int_equal(tail_file_open(path_of(name), &f), 0);
	return f;
}

/* ---- line cutting ------------------------------------------------------ */

static void lines_split_across_reads(void **state)
{
	struct lines l = {0};
	struct tail_file *f;

	(void)state;
	write_file("a.log", "w", "one\ntw");
	f = open_file("a.log");
	assert_int_equal(read_all(f, &def_opts, 64, &l), TAIL_READ_EOF);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "one");
	assert_int_equal(f->offset, 4); /* the partial line is not consumed */
	write_file("a.log", "a", "o\nthree\n");
	assert_int_equal(read_all(f, &def_opts, 64, &l), TAIL_READ_EOF);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[1], "two");
	assert_string_equal(l.v[2], "three");
	assert_int_equal(l.off[1], 4);
	assert_int_equal(l.off[2], 8);
	tail_file_destroy(f);
	lines_free(&l);
}

static void small_blocks_cut_the_same_lines(void **state)
{
	struct lines l = {0};
	struct tail_file *f;
	char text[400] = "";

	(void)state;
	for (int i = 0; i < 30; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "line-%d\n", i);
	write_file("b.log", "w", text);
	f = open_file("b.log");
	/* a block just over max_line: most reads end inside a line */
	assert_int_equal(read_all(f, &def_opts, 35, &l), TAIL_READ_EOF);
	assert_int_equal(l.n, 30);
	assert_string_equal(l.v[0], "line-0");
	assert_string_equal(l.v[29], "line-29");
	tail_file_destroy(f);
	lines_free(&l);
}

static void crlf_is_stripped(void **state)
{
	struct lines l = {0};
	struct tail_file *f;

	(void)state;
	write_file("c.log", "w", "dos\r\nunix\n\r\n");
	f = open_file("c.log");
	read_all(f, &def_opts, 64, &l);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0], "dos");
	assert_string_equal(l.v[1], "unix");
	assert_string_equal(l.v[2], "");
	tail_file_destroy(f);
	lines_free(&l);
}

static void empty_lines_skipped_when_asked(void **state)
{
	struct tail_line_opts o = def_opts;
	struct lines l = {0};
	struct tail_file *f;

	(void)state;
	o.skip_empty = true;
	write_file("e.log", "w", "a\n\n\r\nb\n");
	f = open_file("e.log");
	read_all(f, &o, 64, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[1], "b");
	tail_file_destroy(f);
	lines_free(&l);
}

static void long_line_skipped_and_counted(void **state)
{
	struct tail_line_opts o = def_opts;
	struct lines l = {0};
	struct tail_file *f;
	char text[256];

	(void)state;
	o.max_line = 8;
	o.skip_long = true;
	/* 100 bytes: longer than the 16-byte block, so skipped across reads */
	snprintf(text, sizeof(text), "ok\n%0100d\nshort\n%012d\nend\n", 0, 0);
	write_file("l.log", "w", text);
	f = open_file("l.log");
	assert_int_equal(read_all(f, &o, 16, &l), TAIL_READ_EOF);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0], "ok");
	assert_string_equal(l.v[1], "short");
	assert_string_equal(l.v[2], "end");
	assert_int_equal(f->long_lines, 2);
	assert_false(f->failed);
	tail_file_destroy(f);
	lines_free(&l);
}

static void long_line_stops_the_file(void **state)
{
	struct tail_line_opts o = def_opts;
	struct lines l = {0};
	struct tail_file *f;

	(void)state;
	o.max_line = 8;
	write_file("m.log", "w", "ok\n0123456789abcdef0123\nnext\n");
	f = open_file("m.log");
	assert_int_equal(read_all(f, &o, 16, &l), -SL_ETOOBIG);
	assert_true(f->failed);
	assert_int_equal(l.n, 1);
	assert_int_equal(f->offset, 3); /* stopped at the long line */
	/* a stopped file reads nothing more */
	assert_int_equal(read_all(f, &o, 16, &l), TAIL_READ_EOF);
	assert_int_equal(l.n, 1);
	tail_file_destroy(f);
	lines_free(&l);
}

static void stop_request_resumes_at_next_line(void **state)
{
	struct lines l = {.stop_after = 2};
	struct tail_file *f;

	(void)state;
	write_file("p.log", "w", "1\n2\n3\n4\n");
	f = open_file("p.log");
	assert_int_equal(read_all(f, &def_opts, 64, &l), TAIL_READ_STOP);
	assert_int_equal(l.n, 2);
	assert_int_equal(f->offset, 4);
	l.stop_after = 0;
	assert_int_equal(read_all(f, &def_opts, 64, &l), TAIL_READ_EOF);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[2], "3");
	tail_file_destroy(f);
	lines_free(&l);
}

static void unterminated_last_line_flushed_on_request(void **state)
{
	struct lines l = {0};
	struct tail_file *f;
	char buf[64];

	(void)state;
	write_file("u.log", "w", "a\nlast\r");
	f = open_file("u.log");
	read_all(f, &def_opts, 64, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(tail_file_flush_partial(f, buf, sizeof(buf), &def_opts,
						 1, collect, &l),
			 TAIL_READ_EOF);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[1], "last");
	assert_int_equal(f->offset, 7);
	tail_file_destroy(f);
	lines_free(&l);
}

static void leading_nuls_are_skipped(void **state)
{
	struct lines l = {0};
	struct tail_file *f;
	int fd;

	(void)state;
	fd = open(path_of("z.log"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\0\0\0x\n", 5), 5);
	close(fd);
	f = open_file("z.log");
	read_all(f, &def_opts, 64, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "x");
	tail_file_destroy(f);
	lines_free(&l);
}

/* ---- truncation and rotation -------------------------------------------- */

static void copytruncate_restarts_at_zero(void **state)
{
	struct lines l = {0};
	struct tail_file *f;

	(void)state;
	write_file("t.log", "w", "first line\nsecond line\n");
	f = open_file("t.log");
	read_all(f, &def_opts, 64, &l);
	assert_int_equal(l.n, 2);
	write_file("t.log", "w", "new\n"); /* truncates, shorter than offset */
	assert_int_equal(read_all(f, &def_opts, 64, &l), TAIL_READ_EOF);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[2], "new");
	assert_int_equal(f->truncations, 1);
	assert_int_equal(f->offset, 4);
	tail_file_destroy(f);
	lines_free(&l);
}

static void rename_rotation_finishes_old_then_reads_new(void **state)
{
	struct lines l_old = {0}, l_new = {0};
	struct tail_file *f, *g;
	FILE *writer;

	(void)state;
	write_file("r.log", "w", "");
	writer = fopen(path_of("r.log"), "a");
	assert_non_null(writer);
	fputs("before\n", writer);
	fflush(writer);
	f = open_file("r.log");
	read_all(f, &def_opts, 64, &l_old);
	assert_int_equal(tail_file_check_rotated(f), 0);

	assert_int_equal(rename(path_of("r.log"), path_of("r.log.1")), 0);
	assert_int_equal(tail_file_check_rotated(f), 1);
	/* the writer still appends to the renamed file, a new one appears */
	fputs("late\n", writer);
	fclose(writer);
	write_file("r.log", "w", "fresh\n");
	assert_int_equal(tail_file_check_rotated(f), 1);

	read_all(f, &def_opts, 64, &l_old);
	assert_int_equal(l_old.n, 2);
	assert_string_equal(l_old.v[1], "late");
	g = open_file("r.log");
	assert_true(g->ino != f->ino);
	assert_int_equal(g->offset, 0);
	read_all(g, &def_opts, 64, &l_new);
	assert_int_equal(l_new.n, 1);
	assert_string_equal(l_new.v[0], "fresh");
	tail_file_destroy(f);
	tail_file_destroy(g);
	lines_free(&l_old);
	lines_free(&l_new);
}

static void deleted_file_counts_as_rotated(void **state)
{
	struct tail_file *f;

	(void)state;
	write_file("d.log", "w", "x\n");
	f = open_file("d.log");
	assert_int_equal(unlink(path_of("d.log")), 0);
	assert_int_equal(tail_file_check_rotated(f), 1);
	tail_file_destroy(f);
}

/* ---- scanning ------------------------------------------------------------ */

struct found {
	char *v[16];
	size_t n;
};

static int on_found(void *arg, const char *path, const struct stat *st)
{
	struct found *fd = arg;

	(void)st;
	assert_true(fd->n < 16);
	fd->v[fd->n++] = strdup(strrchr(path, '/') + 1);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void found_free(struct found *fd)
{
	for (size_t i = 0; i < fd->n; i++)
		free(fd->v[i]);
	fd->n = 0;
}

static void globs_with_excludes(void **state)
{
	char p1[256], p2[256], ex[] = "*.gz";
	char *pv[] = {p1, p2}, *ev[] = {ex};
	struct sl_strlist paths = {2, pv}, excl = {1, ev};
	struct tail_scan_opts o = {
	    .paths = &paths, .excludes = &excl, .now_ns = sl_now_ns()};
	struct found fd = {0};

	(void)state;
	write_file("s1.log", "w", "");
	write_file("s2.log", "w", "");
	write_file("s3.txt", "w", "");
	write_file("s4.gz", "w", "");
	assert_int_equal(mkdir(path_of("sub.log"), 0755), 0); /* not a file */
	snprintf(p1, sizeof(p1), "%s/s*.log", dir);
	snprintf(p2, sizeof(p2), "%s/s*", dir); /* overlaps: no duplicates */
	assert_int_equal(tail_scan(&o, on_found, &fd), 3);
	qsort(fd.v, fd.n, sizeof(fd.v[0]), cmp_str);
	assert_string_equal(fd.v[0], "s1.log");
	assert_string_equal(fd.v[1], "s2.log");
	assert_string_equal(fd.v[2], "s3.txt");
	found_free(&fd);
}

static void ignore_older_skips_stale_files(void **state)
{
	char p1[256];
	char *pv[] = {p1};
	struct sl_strlist paths = {1, pv};
	struct tail_scan_opts o = {
	    .paths = &paths, .ignore_older = 3600, .now_ns = sl_now_ns()};
	struct timespec old[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};
	struct found fd = {0};

	(void)state;
	write_file("o-new.log", "w", "");
	write_file("o-old.log", "w", "");
	assert_int_equal(utimensat(AT_FDCWD, path_of("o-old.log"), old, 0), 0);
	snprintf(p1, sizeof(p1), "%s/o-*.log", dir);
	assert_int_equal(tail_scan(&o, on_found, &fd), 1);
	assert_string_equal(fd.v[0], "o-new.log");
	found_free(&fd);
}

static void missing_glob_is_not_an_error(void **state)
{
	char p1[] = "/nonexistent-sluice-dir/*.log";
	char *pv[] = {p1};
	struct sl_strlist paths = {1, pv};
	struct tail_scan_opts o = {.paths = &paths};
	struct found fd = {0};

	(void)state;
	assert_int_equal(tail_scan(&o, on_found, &fd), 0);
}

static void expect_tag(const char *tag, const char *path, const char *want)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(tail_tag_compose(tag, path, &out, &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
}

static void tag_expansion_follows_fluent_bit(void **state)
{
	(void)state;
	expect_tag("kube.*", "/var/log/a.log", "kube.var.log.a.log");
	expect_tag("app", "/var/log/a.log", "app");
	expect_tag("*", "/var/log/a.log", "var.log.a.log");
	expect_tag("x.*.y", "/p/q", "x.p.q.y");
	expect_tag("c:*", "/d/e:f", "c.d.e.f");
	expect_tag("t.*", "rel/dir/f", "t.rel.dir.f");
}

static void excluded_matches_across_slashes(void **state)
{
	char e1[] = "*.gz", e2[] = "/var/log/skip*";
	char *ev[] = {e1, e2};
	struct sl_strlist excl = {2, ev};

	(void)state;
	assert_true(tail_scan_excluded(&excl, "/var/log/x/old.gz"));
	assert_true(tail_scan_excluded(&excl, "/var/log/skip/me.log"));
	assert_false(tail_scan_excluded(&excl, "/var/log/keep.log"));
	assert_false(tail_scan_excluded(NULL, "/var/log/keep.log"));
}

/* ---- Kube_Meta_From_Path ------------------------------------------------- */

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect_k8s(const char *path, const char *pod, const char *ns,
		       const char *container)
{
	struct tail_k8s_meta m;

	assert_int_equal(tail_k8s_parse(path, &m), 0);
	assert_int_equal(m.pod_len, strlen(pod));
	assert_memory_equal(m.pod, pod, m.pod_len);
	assert_int_equal(m.ns_len, strlen(ns));
	assert_memory_equal(m.ns, ns, m.ns_len);
	assert_int_equal(m.container_len, strlen(container));
	assert_memory_equal(m.container, container, m.container_len);
	assert_int_equal(m.id_len, 64);
	assert_memory_equal(m.id, ID64, 64);
}

static void kubelet_log_names_are_split(void **state)
{
	(void)state;
	expect_k8s("/var/log/containers/web-7d4f9c-x2k8p_shop_nginx-" ID64
		   ".log",
		   "web-7d4f9c-x2k8p", "shop", "nginx");
	/* dashes and dots in every part; the id is the last 64 hex digits */
	expect_k8s("/tmp/t/containers/coredns-5d78c.v2_kube-system_side-car-"
		   "2-" ID64 ".log",
		   "coredns-5d78c.v2", "kube-system", "side-car-2");
	/* only the file name counts */
	expect_k8s("a_b_c-" ID64 ".log", "a", "b", "c");
}

static void other_names_get_no_kubernetes_fields(void **state)
{
	static const char *const bad[] = {
	    "/var/log/containers/app.log",
	    "/var/log/containers/pod_ns_ctr-" ID64 ".txt",
	    "/var/log/containers/pod_ns_ctr-" ID64 ".log.1",
	    "/var/log/containers/pod_ns_ctr" ID64 ".log", /* no dash */
	    "/var/log/containers/pod_ns_ctr-0123abc.log", /* short id */
	    "/var/log/containers/pod_ns_ctr-0123456789ABCDEF0123456789abcdef"
	    "0123456789abcdef0123456789abcdef.log",	  /* upper hex */
	    "/var/log/containers/podns_ctr-" ID64 ".log", /* one '_' */
	    "/var/log/containers/_ns_ctr-" ID64 ".log",	  /* empty pod */
	    "/var/log/containers/pod__ctr-" ID64 ".log",  /* empty ns */
	    "/var/log/containers/pod_ns_-" ID64 ".log",	  /* no container */
	    "/var/log/containers/p_n_c_d-" ID64 ".log",	  /* '_' in container */
	    "/var/log/containers/pod_ns_ctr-" ID64 ".log/x",
	};
	struct tail_k8s_meta m;
	char *json = NULL;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tail_k8s_parse(bad[i], &m) != -SL_ENOENT)
			fail_msg("accepted: %s", bad[i]);
	}
	assert_int_equal(tail_k8s_json(bad[0], &json, &len), -SL_ENOENT);
	assert_null(json);
}

static void kubernetes_object_is_json(void **state)
{
	char *json = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(
	    tail_k8s_json("/var/log/containers/web-1_shop_nginx-" ID64 ".log",
			  &json, &len),
	    0);
	assert_string_equal(json, "{\"namespace_name\":\"shop\",\"pod_name\":"
				  "\"web-1\",\"container_name\":\"nginx\","
				  "\"docker_id\":\"" ID64 "\"}");
	assert_int_equal(len, strlen(json));
	free(json);
}

/* ---- inotify watch -> file ---------------------------------------------- */

/* Thousands of watches, added in the kernel's increasing order, each event
 * finds its own file (issue 15: 5,000 files). */
static void watches_find_their_files(void **state)
{
	enum { N = 5000 };
	static struct tail_file files[N];
	struct tail_wd_map m;

	(void)state;
	tail_wd_init(&m);
	for (int i = 0; i < N; i++)
		assert_int_equal(tail_wd_add(&m, i + 1, &files[i]), 0);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(tail_wd_find(&m, i + 1), &files[i]);
	assert_null(tail_wd_find(&m, 0));
	assert_null(tail_wd_find(&m, -1)); /* IN_Q_OVERFLOW's wd */
	assert_null(tail_wd_find(&m, N + 1));
	tail_wd_destroy(&m);
	tail_wd_destroy(&m); /* idempotent */
}

/* Out of order, removed in the middle, a removed number given out again. */
static void watches_removed_and_reused(void **state)
{
	struct tail_file a, b, c, d;
	struct tail_wd_map m;

	(void)state;
	tail_wd_init(&m);
	assert_int_equal(tail_wd_add(&m, 7, &a), 0);
	assert_int_equal(tail_wd_add(&m, 3, &b), 0);
	assert_int_equal(tail_wd_add(&m, 5, &c), 0);
	tail_wd_remove(&m, 5, &c);
	assert_null(tail_wd_find(&m, 5));
	assert_ptr_equal(tail_wd_find(&m, 3), &b);
	assert_ptr_equal(tail_wd_find(&m, 7), &a);
	/* a removal on behalf of a file that no longer owns the number (the
	 * late IN_IGNORED of a watch whose number was reused) keeps it */
	assert_int_equal(tail_wd_add(&m, 5, &d), 0);
	tail_wd_remove(&m, 5, &c);
	assert_ptr_equal(tail_wd_find(&m, 5), &d);
	/* the same number again names the newest owner, once */
	assert_int_equal(tail_wd_add(&m, 5, &a), 0);
	assert_ptr_equal(tail_wd_find(&m, 5), &a);
	assert_int_equal(m.n, 3);
	tail_wd_remove(&m, 3, &b);
	tail_wd_remove(&m, 7, &a);
	tail_wd_remove(&m, 5, &a);
	assert_int_equal(m.n, 0);
	assert_null(tail_wd_find(&m, 5));
	tail_wd_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lines_split_across_reads),
	    cmocka_unit_test(small_blocks_cut_the_same_lines),
	    cmocka_unit_test(crlf_is_stripped),
	    cmocka_unit_test(empty_lines_skipped_when_asked),
	    cmocka_unit_test(long_line_skipped_and_counted),
	    cmocka_unit_test(long_line_stops_the_file),
	    cmocka_unit_test(stop_request_resumes_at_next_line),
	    cmocka_unit_test(unterminated_last_line_flushed_on_request),
	    cmocka_unit_test(leading_nuls_are_skipped),
	    cmocka_unit_test(copytruncate_restarts_at_zero),
	    cmocka_unit_test(rename_rotation_finishes_old_then_reads_new),
	    cmocka_unit_test(deleted_file_counts_as_rotated),
	    cmocka_unit_test(globs_with_excludes),
	    cmocka_unit_test(ignore_older_skips_stale_files),
	    cmocka_unit_test(missing_glob_is_not_an_error),
	    cmocka_unit_test(tag_expansion_follows_fluent_bit),
	    cmocka_unit_test(excluded_matches_across_slashes),
	    cmocka_unit_test(kubelet_log_names_are_split),
	    cmocka_unit_test(other_names_get_no_kubernetes_fields),
	    cmocka_unit_test(kubernetes_object_is_json),
	    cmocka_unit_test(watches_find_their_files),
	    cmocka_unit_test(watches_removed_and_reused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
