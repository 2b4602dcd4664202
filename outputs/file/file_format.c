/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file_format.c - Fluent Bit's file formats, the target path and the
 * append (file_format.h). Values in csv/ltsv/template are printed the way
 * Fluent Bit prints msgpack objects, so files look the same; nested values
 * print as {"k"=>v} there too.
 */
#include "file_format.h"
#include "sl_sanitize.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

int sl_out_file_fmt_parse(const char *s, enum sl_out_file_fmt *out)
{
	static const struct {
		const char *name;
		enum sl_out_file_fmt fmt;
	} names[] = {
	    {"out_file", SL_OUT_FILE_FMT_OUT_FILE},
	    {"plain", SL_OUT_FILE_FMT_PLAIN},
	    {"json_lines", SL_OUT_FILE_FMT_PLAIN},
	    {"csv", SL_OUT_FILE_FMT_CSV},
	    {"ltsv", SL_OUT_FILE_FMT_LTSV},
	    {"template", SL_OUT_FILE_FMT_TEMPLATE},
	    {"msgpack", SL_OUT_FILE_FMT_MSGPACK},
	};

	for (size_t i = 0; i < SL_ARRAY_LEN(names); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].fmt;
			return 0;
		}
	}
	return -SL_EINVAL;
}

const char *sl_out_file_delimiter(const char *s)
{
	if (!s)
		return NULL;
	if (strcasecmp(s, "\\t") == 0 || strcasecmp(s, "tab") == 0)
		return "\t";
	if (strcasecmp(s, "space") == 0)
		return " ";
	if (strcasecmp(s, "comma") == 0)
		return ",";
	return NULL;
}

static int add(struct sl_buf *b, const char *s)
{
	return sl_buf_append(b, s, strlen(s));
}

static int field_text(struct sl_buf *b, const struct sl_fields *f, size_t off,
		      size_t len)
{
	return sl_buf_append(b, f->text.data + off, len);
}

static int render_csv(struct sl_buf *b, const struct sl_out_file_opts *o,
		      const struct sl_fields *f, bool *header, int64_t ts_ns)
{
	if (f->n == 0)
		return 0;
	if (header && *header) {
		if (add(b, "timestamp") < 0 || add(b, o->delimiter) < 0)
			return -SL_ENOMEM;
		for (size_t i = 0; i < f->n; i++) {
			if ((i && add(b, o->delimiter) < 0) ||
			    sl_format_print_string(
				b, f->text.data + f->v[i].key_off,
				f->v[i].key_len) < 0)
				return -SL_ENOMEM;
		}
		if (add(b, "\n") < 0)
			return -SL_ENOMEM;
		*header = false;
	}
	if (sl_format_time_nsec(b, ts_ns) < 0 || add(b, o->delimiter) < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < f->n; i++) {
		if ((i && add(b, o->delimiter) < 0) ||
		    field_text(b, f, f->v[i].print_off, f->v[i].print_len) < 0)
			return -SL_ENOMEM;
	}
	return add(b, "\n");
}

static int render_ltsv(struct sl_buf *b, const struct sl_out_file_opts *o,
		       const struct sl_fields *f, int64_t ts_ns)
{
	if (f->n == 0)
		return 0;
	if (add(b, "\"time\"") < 0 || add(b, o->label_delimiter) < 0 ||
	    sl_format_time_f(b, ts_ns) < 0 || add(b, o->delimiter) < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < f->n; i++) {
		if ((i && add(b, o->delimiter) < 0) ||
		    sl_format_print_string(b, f->text.data + f->v[i].key_off,
					   f->v[i].key_len) < 0 ||
		    add(b, o->label_delimiter) < 0 ||
		    field_text(b, f, f->v[i].print_off, f->v[i].print_len) < 0)
			return -SL_ENOMEM;
	}
	return add(b, "\n");
}

/* One "{key}": the time, a field (strings bare), or the braces kept. */
static int template_key(struct sl_buf *b, const struct sl_fields *f,
			const char *key, size_t len, int64_t ts_ns)
{
	long i;

	if (len == 4 && memcmp(key, "time", 4) == 0)
		return sl_format_time_f(b, ts_ns);
	i = sl_fields_find(f, key, len);
	if (i < 0) {
		if (sl_buf_append(b, key - 1, len + 2) < 0)
			return -SL_ENOMEM;
		return 0;
	}
	return field_text(b, f, f->v[i].raw_off, f->v[i].raw_len);
}

static int render_template(struct sl_buf *b, const char *tpl,
			   const struct sl_fields *f, int64_t ts_ns)
{
	const char *open = NULL, *run = tpl, *p;

	for (p = tpl; *p; p++) {
		if (*p == '{') {
			/* "{a{b}": the first brace is literal text. */
			if (sl_buf_append(b, run, (size_t)(p - run)) < 0)
				return -SL_ENOMEM;
			open = run = p;
		} else if (*p == '}' && open) {
			if (template_key(b, f, open + 1, (size_t)(p - open - 1),
					 ts_ns) < 0)
				return -SL_ENOMEM;
			open = NULL;
			run = p + 1;
		}
	}
	if (sl_buf_append(b, run, (size_t)(p - run)) < 0)
		return -SL_ENOMEM;
	return add(b, "\n");
}

int sl_out_file_render(struct sl_buf *out, const struct sl_out_file_opts *o,
		       struct sl_fields *fields, bool *header, const char *tag,
		       size_t tag_len, int64_t ts_ns, const char *body,
		       size_t len)
{
	int rc;

	switch (o->fmt) {
	case SL_OUT_FILE_FMT_OUT_FILE:
		return sl_format_tag_line(out, tag, tag_len, ts_ns, body, len);
	case SL_OUT_FILE_FMT_PLAIN:
		if (sl_buf_append(out, body, len) < 0)
			return -SL_ENOMEM;
		return sl_buf_append(out, "\n", 1);
	case SL_OUT_FILE_FMT_CSV:
	case SL_OUT_FILE_FMT_LTSV:
	case SL_OUT_FILE_FMT_TEMPLATE:
		break;
	case SL_OUT_FILE_FMT_MSGPACK:
	default:
		return -SL_EINVAL; /* not text: file.c packs the events */
	}
	rc = sl_fields_split(fields, body, len);
	if (rc == -SL_ENOMEM)
		return rc;
	/* A body that is not an object (cannot happen) counts as empty. */
	if (o->fmt == SL_OUT_FILE_FMT_CSV)
		return render_csv(out, o, fields, header, ts_ns);
	if (o->fmt == SL_OUT_FILE_FMT_LTSV)
		return render_ltsv(out, o, fields, ts_ns);
	return render_template(out, o->template, fields, ts_ns);
}

int sl_out_file_path(struct sl_buf *out, const char *path, const char *file,
		     const char *tag, size_t tag_len)
{
	sl_buf_reset(out);
	if (path && *path) {
		if (add(out, path) < 0)
			return -SL_ENOMEM;
		if (path[strlen(path) - 1] != '/' && add(out, "/") < 0)
			return -SL_ENOMEM;
	}
	if (file && *file)
		return add(out, file);
	/* A tag is user data: keep it inside Path whatever it holds. */
	return sl_sanitize_file_path(out, tag, tag_len);
}

int sl_out_file_mkdirs(const char *dir)
{
	char tmp[4096];
	size_t len = strlen(dir);
	struct stat st;

	if (len == 0 || len >= sizeof(tmp)) {
		errno = len ? ENAMETOOLONG : EINVAL;
		return -SL_EIO;
	}
	memcpy(tmp, dir, len + 1);
	/* Each prefix in turn; EEXIST is fine as long as it is a directory. */
	for (char *p = tmp + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -SL_EIO;
		if (stat(tmp, &st) < 0)
			return -SL_EIO;
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			return -SL_EIO;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	return 0;
}

static int open_target(const char *target, bool mkdirs)
{
	char dir[4096];
	const char *slash;
	int fd;

	fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0 || errno != ENOENT || !mkdirs)
		return fd;
	slash = strrchr(target, '/');
	if (!slash || slash == target ||
	    (size_t)(slash - target) >= sizeof(dir))
		return -1;
	memcpy(dir, target, (size_t)(slash - target));
	dir[slash - target] = '\0';
	if (sl_out_file_mkdirs(dir) < 0)
		return -1;
	return open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

int sl_out_file_append(const char *target, bool mkdirs, const char *data,
		       size_t len)
{
	int fd, saved;
	ssize_t n;

	fd = open_target(target, mkdirs);
	if (fd < 0)
		return -SL_EIO;
	while (len > 0) {
		n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			errno = saved;
			return -SL_EIO;
		}
		data += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0 && errno != EINTR)
		return -SL_EIO;
	return 0;
}

/* Writes all of iov[0..cnt), resuming after short writes. */
static int writev_all(int fd, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		ssize_t n = writev(fd, iov, cnt);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int sl_out_file_append_lines(const char *target, bool mkdirs,
			     const struct sl_chunk *c)
{
	static const char newline[] = "\n";
	struct iovec iov[1024]; /* IOV_MAX on Linux */
	struct sl_chunk_iter it;
	const char *body;
	int fd, cnt = 0, saved;
	size_t len;
	int64_t ts;

	fd = open_target(target, mkdirs);
	if (fd < 0)
		return -SL_EIO;
	sl_chunk_iter_init(&it, c);
	while (sl_chunk_next(&it, &ts, &body, &len)) {
		iov[cnt].iov_base = (void *)body;
		iov[cnt++].iov_len = len;
		iov[cnt].iov_base = (void *)newline;
		iov[cnt++].iov_len = 1;
		if (cnt == (int)(sizeof(iov) / sizeof(iov[0]))) {
			if (writev_all(fd, iov, cnt) < 0)
				goto fail;
			cnt = 0;
		}
	}
	if (cnt && writev_all(fd, iov, cnt) < 0)
		goto fail;
	if (close(fd) < 0 && errno != EINTR)
		return -SL_EIO;
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -SL_EIO;
}
