/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_file.c - one followed file: reads blocks with pread() at the offset
 * of the first unread line, cuts lines with memchr and hands them out
 * without copying. A partial last line is not kept anywhere: it is simply
 * read again from its start next time. Does not emit records itself.
 */
#include "tail_file.h"
#include "tail_db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tail_file_open(const char *path, struct tail_file **out)
{
	struct tail_file *f;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return (errno == ENOENT || errno == ENOTDIR) ? -SL_ENOENT
							     : -SL_EIO;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -SL_ENOENT;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return -SL_ENOMEM;
	}
	f->name_len = strlen(path);
	f->name = strdup(path);
	if (!f->name) {
		free(f);
		close(fd);
		return -SL_ENOMEM;
	}
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->wd = -1;
	f->pending = true;
	tail_ack_init(&f->ack, 0);
	tail_ml_group_init(&f->ml);
	*out = f;
	return 0;
}

void tail_file_destroy(struct tail_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	tail_ack_destroy(&f->ack);
	tail_ml_group_destroy(&f->ml);
	free(f->k8s);
	free(f->name);
	free(f->tag);
	free(f);
}

int tail_file_set_tag(struct tail_file *f, const char *tag, size_t len)
{
	char *t = malloc(len + 1);

	if (!t)
		return -SL_ENOMEM;
	memcpy(t, tag, len);
	t[len] = '\0';
	free(f->tag);
	f->tag = t;
	f->tag_len = len;
	return 0;
}

int64_t tail_file_size(const struct tail_file *f)
{
	struct stat st;

	if (fstat(f->fd, &st) < 0)
		return -SL_EIO;
	return (int64_t)st.st_size;
}

int tail_file_check_rotated(const struct tail_file *f)
{
	struct stat st;

	if (stat(f->name, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 1;
		return -SL_EIO;
	}
	if (st.st_ino != f->ino || st.st_dev != f->dev)
		return 1;
	/* Deleted while open, and the name reused by a hard link to us is
	 * impossible; but a zero link count means the name is stale. */
	if (fstat(f->fd, &st) == 0 && st.st_nlink == 0)
		return 1;
	return 0;
}

/* Extends the head fingerprint while it covers less than it could. */
static void grow_head(struct tail_file *f, int64_t size)
{
	uint32_t want =
	    size < (int64_t)TAIL_DB_FP_MAX ? (uint32_t)size : TAIL_DB_FP_MAX;
	uint64_t fp;

	if (want > f->head_len && tail_db_fingerprint(f->fd, want, &fp) == 0) {
		f->head_fp = fp;
		f->head_len = want;
	}
}

/*
 * The file was truncated under us: remember what tail.c needs to find the
 * copy (where we were, the old head, the size we knew), restart at 0.
 */
static void truncated(struct tail_file *f, int64_t size)
{
	sl_log(SL_LOG_INFO, "tail",
	       "%s: truncated (now %lld bytes, read to "
	       "%lld of %lld), reading from the start",
	       f->name, (long long)size, (long long)f->offset,
	       (long long)f->size_max);
	f->trunc_pending = true;
	f->trunc_offset = f->offset;
	f->trunc_size = f->size_max > f->offset ? f->size_max : f->offset;
	f->trunc_fp_len = f->head_len;
	f->trunc_fp = f->head_fp;
	f->offset = 0;
	f->skipping = false;
	f->truncations++;
	f->at_eof = false;
	f->size_max = size;
	f->head_len = 0;
	f->head_fp = tail_db_fp_bytes("", 0);
	/* At once: a second truncation before the next look must show. */
	grow_head(f, size);
}

/*
 * Before each block: a size below the largest seen is a truncation, even
 * when the file grew back past our offset since (reading on there would
 * hand out the middle of new lines). Returns 1 when truncated.
 */
static int check_size(struct tail_file *f)
{
	int64_t size = tail_file_size(f);

	if (size < 0)
		return (int)size;
	if (size < f->size_max || size < f->offset) {
		truncated(f, size);
		return 1;
	}
	/* Before a short head grows over new bytes, it must still be the
	 * same: else it would take the new content for ours. */
	if (f->head_len > 0 && f->head_len < TAIL_DB_FP_MAX &&
	    size > (int64_t)f->head_len) {
		uint64_t fp;

		if (tail_db_fingerprint(f->fd, f->head_len, &fp) == 0 &&
		    fp != f->head_fp) {
			truncated(f, size);
			return 1;
		}
	}
	f->size_max = size;
	if (f->head_len < TAIL_DB_FP_MAX)
		grow_head(f, size);
	return 0;
}

int tail_file_check_head(struct tail_file *f)
{
	uint64_t fp;
	int rc;

	if (f->failed)
		return 0;
	rc = check_size(f);
	if (rc != 0)
		return rc;
	if (f->head_len == 0)
		return 0;
	rc = tail_db_fingerprint(f->fd, f->head_len, &fp);
	if (rc == -SL_EIO)
		return rc;
	if (rc == 0 && fp == f->head_fp)
		return 0;
	truncated(f, tail_file_size(f));
	return 1;
}

/* No data at the offset. */
static int at_end(struct tail_file *f)
{
	f->at_eof = true;
	f->eof_size = f->offset;
	return TAIL_READ_EOF;
}

static int too_long(struct tail_file *f, const struct tail_line_opts *o)
{
	if (!o->skip_long) {
		f->failed = true;
		return -SL_ETOOBIG;
	}
	if (f->long_lines++ == 0)
		sl_log(SL_LOG_WARN, "tail",
		       "%s: skipping lines longer than "
		       "Buffer_Max_Size (%zu bytes)",
		       f->name, o->max_line);
	return 0;
}

int tail_file_read(struct tail_file *f, char *buf, size_t cap,
		   const struct tail_line_opts *o, int64_t ts_ns,
		   tail_line_fn fn, void *arg)
{
	size_t pos = 0, n, rest;
	ssize_t got;
	int rc;

	if (f->failed)
		return TAIL_READ_EOF;
	rc = check_size(f);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return TAIL_READ_MORE;
	got = pread(f->fd, buf, cap, f->offset);
	if (got < 0)
		return errno == EINTR ? TAIL_READ_MORE : -SL_EIO;
	if (got == 0)
		return at_end(f);
	n = (size_t)got;
	f->at_eof = false;

	if (f->skipping) {
		const char *nl = memchr(buf, '\n', n);

		if (!nl) {
			f->offset += (int64_t)n;
			if (n == cap)
				return TAIL_READ_MORE;
			f->at_eof = true;
			f->eof_size = f->offset;
			return TAIL_READ_EOF;
		}
		pos = (size_t)(nl - buf) + 1;
		f->skipping = false;
	}
	while (pos < n) {
		const char *line, *nl;
		size_t len, start;

		/* NULs where a line starts are holes left by copytruncate
		 * under a writer that does not append. */
		if (SL_UNLIKELY(buf[pos] == '\0')) {
			pos++;
			continue;
		}
		line = buf + pos;
		nl = memchr(line, '\n', n - pos);
		if (!nl)
			break;
		start = pos;
		len = (size_t)(nl - line);
		pos += len + 1;
		if (len && line[len - 1] == '\r')
			len--;
		if (SL_UNLIKELY(len > o->max_line)) {
			if (too_long(f, o) < 0) {
				f->offset += (int64_t)start;
				return -SL_ETOOBIG;
			}
			continue;
		}
		if (len == 0 && o->skip_empty)
			continue;
		f->line_end = f->offset + (int64_t)pos;
		rc = fn(arg, f, line, len, f->offset + (int64_t)start, ts_ns);
		if (SL_UNLIKELY(rc != 0)) {
			f->offset += (int64_t)pos;
			return rc > 0 ? TAIL_READ_STOP : rc;
		}
	}
	/* What is left is a partial line: read again next time, unless it
	 * already cannot fit (one more byte allowed for its '\r'). */
	rest = n - pos;
	if (rest > o->max_line + 1) {
		if (too_long(f, o) < 0) {
			f->offset += (int64_t)pos;
			return -SL_ETOOBIG;
		}
		f->skipping = true;
		pos = n;
	}
	f->offset += (int64_t)pos;
	if (n < cap) {
		f->at_eof = true;
		f->eof_size = f->offset + (int64_t)(n - pos);
		return TAIL_READ_EOF;
	}
	return TAIL_READ_MORE;
}

int tail_file_flush_partial(struct tail_file *f, char *buf, size_t cap,
			    const struct tail_line_opts *o, int64_t ts_ns,
			    tail_line_fn fn, void *arg)
{
	ssize_t got;
	size_t n, len;
	int rc;

	if (f->failed)
		return TAIL_READ_EOF;
	got = pread(f->fd, buf, cap, f->offset);
	if (got < 0)
		return -SL_EIO;
	if (got == 0)
		return TAIL_READ_EOF;
	n = (size_t)got;
	if (memchr(buf, '\n', n) || n == cap)
		return TAIL_READ_MORE; /* not the last line: read normally */
	f->offset += (int64_t)n;
	if (f->skipping) {
		f->skipping = false;
		return TAIL_READ_EOF;
	}
	len = n;
	if (buf[len - 1] == '\r')
		len--;
	if (len > o->max_line) {
		if (too_long(f, o) < 0) {
			f->offset -= (int64_t)n;
			return -SL_ETOOBIG;
		}
		return TAIL_READ_EOF;
	}
	if (len == 0 && o->skip_empty)
		return TAIL_READ_EOF;
	f->line_end = f->offset;
	rc = fn(arg, f, buf, len, f->offset - (int64_t)n, ts_ns);
	if (rc < 0)
		return rc;
	return rc > 0 ? TAIL_READ_STOP : TAIL_READ_EOF;
}
