/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_rotated.c - lists the rotated siblings of a followed path and
 * checks their heads against a DB fingerprint, gzip ones through zlib (only
 * the first bytes are inflated: a compressed sibling is identified and
 * measured, never read as lines). What is found is tail.c's to follow.
 */
#include "tail_rotated.h"
#include "tail_db.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

struct seen {
	struct {
		dev_t dev;
		ino_t ino;
	} * v;
	size_t n, cap;
	dev_t self_dev; /* the file now at the name: never a candidate */
	ino_t self_ino;
	bool have_self;
};

/* 1 when st was reported already (or is the file at the name), 0 when
 * just noted, -SL_ENOMEM. */
static int note(struct seen *s, const struct stat *st)
{
	if (s->have_self && st->st_dev == s->self_dev &&
	    st->st_ino == s->self_ino)
		return 1;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].dev == st->st_dev && s->v[i].ino == st->st_ino)
			return 1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		void *nv = realloc(s->v, cap * sizeof(*s->v));

		if (!nv)
			return -SL_ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n].dev = st->st_dev;
	s->v[s->n].ino = st->st_ino;
	s->n++;
	return 0;
}

static int report(struct seen *s, const char *path, tail_rot_each_fn fn,
		  void *arg)
{
	struct stat st;
	int rc;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	rc = note(s, &st);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	return fn(arg, path, &st);
}

/* "app.log.1" for "app.log"; "app.1.log" / "app-2024.log" by stem + ext. */
static bool sibling_name(const char *cand, const char *base)
{
	size_t blen = strlen(base), clen = strlen(cand);
	const char *dot = strrchr(base, '.');

	if (clen > blen && strncmp(cand, base, blen) == 0)
		return true;
	if (dot && dot != base) {
		size_t stem = (size_t)(dot - base), ext = blen - stem;

		if (clen > blen && strncmp(cand, base, stem) == 0 &&
		    strcmp(cand + clen - ext, dot) == 0)
			return true;
	}
	return false;
}

static int list_dir(struct seen *s, const char *dir, const char *base,
		    tail_rot_each_fn fn, void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return 0; /* gone or unreadable: nothing rotated to find */
	while (rc == 0 && (e = readdir(d))) {
		char path[PATH_MAX];
		int n;

		if (e->d_name[0] == '.' &&
		    (e->d_name[1] == '\0' || strcmp(e->d_name, "..") == 0))
			continue;
		if (!sibling_name(e->d_name, base))
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		rc = report(s, path, fn, arg);
	}
	closedir(d);
	return rc;
}

/* Splits `path` (copied into buf) into its folder and base name. */
static void split(char *buf, size_t cap, const char *path, const char **dir,
		  const char **base)
{
	char *slash;

	snprintf(buf, cap, "%s", path);
	slash = strrchr(buf, '/');
	if (!slash) {
		*dir = ".";
		*base = buf;
	} else if (slash == buf) {
		*dir = "/";
		*base = buf + 1;
	} else {
		*slash = '\0';
		*dir = buf;
		*base = slash + 1;
	}
}

/* Where the symlink `name` points (even when dangling), or 0 chars. */
static void link_target(const char *name, char *out, size_t cap)
{
	char t[PATH_MAX];
	ssize_t n = readlink(name, t, sizeof(t) - 1);
	const char *slash;

	out[0] = '\0';
	if (n <= 0)
		return;
	t[n] = '\0';
	slash = strrchr(name, '/');
	if (t[0] == '/' || !slash) {
		memcpy(out, t, (size_t)n + 1);
	} else {
		size_t dlen = (size_t)(slash - name);

		if (dlen + 1 + (size_t)n + 1 > cap)
			return;
		memcpy(out, name, dlen + 1);
		memcpy(out + dlen + 1, t, (size_t)n + 1);
	}
}

int tail_rotated_each(const char *name, const struct sl_strlist *extra,
		      tail_rot_each_fn fn, void *arg)
{
	struct seen s = {0};
	struct stat st;
	char b1[PATH_MAX], b2[PATH_MAX], target[PATH_MAX];
	const char *dir, *base;
	int rc;

	if (stat(name, &st) == 0) {
		s.self_dev = st.st_dev;
		s.self_ino = st.st_ino;
		s.have_self = true;
	}
	split(b1, sizeof(b1), name, &dir, &base);
	rc = list_dir(&s, dir, base, fn, arg);
	link_target(name, target, sizeof(target));
	if (rc == 0 && target[0]) {
		split(b2, sizeof(b2), target, &dir, &base);
		rc = list_dir(&s, dir, base, fn, arg);
	}
	for (size_t i = 0; rc == 0 && extra && i < extra->n; i++) {
		glob_t g;
		int grc = glob(extra->v[i], GLOB_NOSORT, NULL, &g);

		if (grc == GLOB_NOSPACE)
			rc = -SL_ENOMEM;
		for (size_t k = 0; grc == 0 && rc == 0 && k < g.gl_pathc; k++)
			rc = report(&s, g.gl_pathv[k], fn, arg);
		globfree(&g);
	}
	free(s.v);
	return rc;
}

bool tail_rotated_is_gz(const char *path)
{
	unsigned char m[2];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool gz;

	if (fd < 0)
		return false;
	gz = pread(fd, m, 2, 0) == 2 && m[0] == 0x1f && m[1] == 0x8b;
	close(fd);
	return gz;
}

int tail_rotated_fp_matches(const char *path, uint32_t fp_len, uint64_t fp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t got;
	int rc;

	if (fd < 0)
		return -SL_EIO;
	rc = tail_db_fingerprint(fd, fp_len, &got);
	close(fd);
	if (rc == -SL_ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	return got == fp;
}

/* Inflates the first `len` bytes of the gzip file `fd` into `out`. */
static int gz_head(int fd, unsigned char *out, uint32_t len)
{
	unsigned char in[4096];
	z_stream z;
	off_t at = 0;
	int zrc = Z_OK, rc = 0;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -SL_ENOMEM;
	z.next_out = out;
	z.avail_out = len;
	while (z.avail_out > 0 && zrc == Z_OK) {
		ssize_t got = pread(fd, in, sizeof(in), at);

		if (got < 0) {
			rc = -SL_EIO;
			break;
		}
		if (got == 0)
			break;
		at += got;
		z.next_in = in;
		z.avail_in = (uInt)got;
		while (z.avail_in > 0 && z.avail_out > 0 && zrc == Z_OK)
			zrc = inflate(&z, Z_NO_FLUSH);
	}
	if (rc == 0 && zrc != Z_OK && zrc != Z_STREAM_END)
		rc = -SL_EPARSE;
	if (rc == 0 && z.avail_out > 0)
		rc = -SL_ENOENT;
	inflateEnd(&z);
	return rc;
}

int tail_rotated_gz_probe(const char *path, uint32_t fp_len, uint64_t *fp,
			  int64_t *size)
{
	unsigned char head[TAIL_DB_FP_MAX], tr[4];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -SL_EIO;
	if (fp_len > TAIL_DB_FP_MAX)
		fp_len = TAIL_DB_FP_MAX;
	if (fstat(fd, &st) < 0 || st.st_size < 18) {
		close(fd);
		return -SL_EPARSE;
	}
	if (pread(fd, tr, 4, st.st_size - 4) != 4) {
		close(fd);
		return -SL_EIO;
	}
	*size = (int64_t)((uint32_t)tr[0] | (uint32_t)tr[1] << 8 |
			  (uint32_t)tr[2] << 16 | (uint32_t)tr[3] << 24);
	rc = fp_len ? gz_head(fd, head, fp_len) : 0;
	close(fd);
	if (rc < 0)
		return rc;
	*fp = tail_db_fp_bytes(head, fp_len);
	return 0;
}
