/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file_rotate.c - Fluent Bit's size-based rotation of out_file (Rotate,
 * Rotate_Max_Size, Rotate_Max_Files, Rotate_Gzip): before a write, a target
 * that holds Rotate_Max_Size bytes or more is renamed to
 * "<target>.<YYYYMMDD_HHMMSS>_<8 hex>" (local time, random hex against
 * same-second collisions), gzip'd to "<that>.gz" when asked, and the oldest
 * rotated files of that target beyond Rotate_Max_Files are removed. As in
 * Fluent Bit a failed rotation is only logged: the write goes on to the
 * file as it is, and the next flush tries again. Stateless: the size is
 * the file's, read with stat(2) before each write.
 */
#include "file_format.h"

#include "sl_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* One rotation at a time in the process: two workers seeing the same full
 * file must not both rename it (the second would move the fresh one). */
static pthread_mutex_t rotate_lock = PTHREAD_MUTEX_INITIALIZER;

/* "<target>.<YYYYMMDD_HHMMSS>_<8 hex>" into `out` (size PATH_MAX). */
static int rotated_name(char *out, const char *target)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[4] = {0};
	char date[32], tail[16];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (!localtime_r(&now, &tm) ||
	    strftime(date, sizeof(date), "%Y%m%d_%H%M%S", &tm) == 0)
		snprintf(date, sizeof(date), "19700101_000000");
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(rnd)) {
		uint32_t v = (uint32_t)now ^ ((uint32_t)getpid() << 16);

		memcpy(rnd, &v, sizeof(rnd));
	}
	for (int i = 0; i < 4; i++) {
		tail[2 * i] = hex[rnd[i] >> 4];
		tail[2 * i + 1] = hex[rnd[i] & 0xf];
	}
	tail[8] = '\0';
	n = snprintf(out, PATH_MAX, "%s.%s_%s", target, date, tail);
	return n > 0 && n < PATH_MAX ? 0 : -1;
}

/* Gzips `src` into `dst`; 0, or -1 with `dst` removed. */
static int gzip_file(const char *src, const char *dst)
{
	char buf[64 * 1024];
	FILE *in = fopen(src, "rb");
	gzFile out;
	size_t n;
	int rc = 0;

	if (!in)
		return -1;
	out = gzopen(dst, "wb");
	if (!out) {
		fclose(in);
		return -1;
	}
	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (gzwrite(out, buf, (unsigned)n) != (int)n)
			rc = -1;
	if (ferror(in))
		rc = -1;
	fclose(in);
	if (gzclose(out) != Z_OK)
		rc = -1;
	if (rc < 0)
		unlink(dst);
	return rc;
}

/* Whether `name` is "<base>.<YYYYMMDD_HHMMSS>[_<8 hex>][.gz]", the names
 * Fluent Bit gives (and gave) rotated files. */
static bool is_rotated(const char *name, const char *base, size_t blen)
{
	const char *s;
	size_t len, i;

	if (strncmp(name, base, blen) != 0 || name[blen] != '.')
		return false;
	s = name + blen + 1;
	len = strlen(s);
	if (len >= 3 && !strcmp(s + len - 3, ".gz"))
		len -= 3;
	if (len != 15 && len != 24)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];
		bool ok = i == 8 || i == 15 ? c == '_'
			  : i > 15
			      ? (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
			      : c >= '0' && c <= '9';

		if (!ok)
			return false;
	}
	return true;
}

struct old_file {
	struct timespec mtime;
	char *path;
};

/* Oldest first. Nanoseconds matter: rotations in one second are common
 * with a small Rotate_Max_Size, and the names' random part is no order. */
static int cmp_old(const void *a, const void *b)
{
	const struct old_file *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* Removes the oldest rotated files of `target` beyond `keep`. */
static void trim(const char *target, int64_t keep, const char *log_name)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(target, '/'), *base;
	struct old_file *v = NULL, *grown;
	size_t n = 0, cap = 0, i, blen;
	struct dirent *de;
	DIR *d;

	if (slash) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - target),
			 target);
		if (!*dir)
			snprintf(dir, sizeof(dir), "/");
		base = slash + 1;
	} else {
		snprintf(dir, sizeof(dir), ".");
		base = target;
	}
	blen = strlen(base);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		char *path;

		if (!is_rotated(de->d_name, base, blen) ||
		    asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			continue;
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				free(path);
				break;
			}
			v = grown;
		}
		v[n++] = (struct old_file){st.st_mtim, path};
	}
	closedir(d);
	if ((int64_t)n > keep) {
		qsort(v, n, sizeof(*v), cmp_old);
		for (i = 0; i < n - (size_t)keep; i++)
			if (unlink(v[i].path) < 0)
				sl_log(SL_LOG_WARN, log_name,
				       "cannot remove old rotated file %s: %s",
				       v[i].path, strerror(errno));
	}
	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

void sl_out_file_rotate(const char *target,
			const struct sl_out_file_rotation *r,
			const char *log_name)
{
	char rotated[PATH_MAX], gz[PATH_MAX + 4];
	struct stat st;

	pthread_mutex_lock(&rotate_lock);
	if (stat(target, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (int64_t)st.st_size < r->max_size)
		goto out;
	if (rotated_name(rotated, target) < 0 || rename(target, rotated) < 0) {
		sl_log(SL_LOG_WARN, log_name, "cannot rotate %s: %s", target,
		       strerror(errno));
		goto out;
	}
	sl_log(SL_LOG_INFO, log_name, "rotated %s to %s", target, rotated);
	if (r->gzip) {
		snprintf(gz, sizeof(gz), "%s.gz", rotated);
		if (gzip_file(rotated, gz) == 0)
			unlink(rotated);
		else
			sl_log(SL_LOG_WARN, log_name,
			       "keeping uncompressed rotated file %s", rotated);
	}
	trim(target, r->max_files, log_name);
out:
	pthread_mutex_unlock(&rotate_lock);
}
