/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_storage.c - chunk files under storage.path: create, append blocks,
 * seal (LZ4, temp + rename), remove, and the start-up scan that gives good
 * files back and quarantines corrupt ones. The format is in sl_storage.h.
 * Every length read from a file is checked against the bytes actually there
 * before it is used, so no file content can crash or over-allocate.
 */
#include "sl_storage.h"

#include "sl_chunk.h"
#include "sl_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define COMPONENT    "storage"
#define FILE_MAGIC   "SLCH"
#define BLOCK_MAGIC  "SLBK"
#define SEALED_MAGIC "SLSZ"
/* 2: records carry a uint64 identity after ts_ns (sl_chunk.h) */
#define FORMAT_VERSION 2
#define FORM_OPEN      1
#define FORM_SEALED    2
#define HDR_FIXED      20u /* file header up to the tag */
#define HDR_CRC	       4u
#define BLOCK_HDR      20u
#define SEALED_HDR     24u
/* An open form holds at most CHUNK_MAX record bytes plus block headers (at
 * least one 20-byte record per 20-byte header): 4x covers every valid file. */
#define FILE_MAX (4ull * SL_STORAGE_CHUNK_MAX)
/* LZ4 cannot expand one input byte to more than 255 output bytes. */
#define LZ4_MAX_RATIO 256u
#define LOCK_NAME     "sluice.lock"
#define QUARANTINE    "quarantine"
#define EXT_OPEN      ".open"
#define EXT_SEALED    ".sealed"
#define EXT_TMP	      ".tmp"
#define BASE_MAX      (SL_STORAGE_NAME_STREAM_MAX + 1 + 16 + 1)
#define NAME_MAX_LEN  (BASE_MAX + sizeof(EXT_SEALED EXT_TMP))

struct sl_storage {
	char *path;
	int dfd;  /* storage.path */
	int qfd;  /* storage.path/quarantine */
	int lock; /* flock'ed sluice.lock */
	bool sync_full;
	bool checksum;
	int err; /* errno of the last failed chunk call, saved at once */
};

struct sl_storage_chunk {
	struct sl_storage *st;	 /* borrowed */
	char base[BASE_MAX];	 /* "<stream>-<id>" */
	char name[NAME_MAX_LEN]; /* current file name */
	char *stream;		 /* owned */
	char *tag;		 /* owned */
	size_t tag_len;
	uint64_t id;
	int fd;		/* open form being written, else -1 */
	uint64_t size;	/* bytes of good data in the file */
	uint64_t bytes; /* record bytes in the file */
	/* BLOCK_HDR bytes kept free at the front, then the pending records */
	struct sl_buf pending;
	uint32_t pending_records;
	bool sealed;
	bool recovered; /* from the scan: no appends */
	bool broken;	/* a failed write could not be cut back */
};

static void put_le16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint16_t get_le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const unsigned char *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static uint32_t crc(const void *p, size_t len)
{
	return (uint32_t)crc32_z(0, (const Bytef *)p, len);
}

int sl_storage_records_count(const void *records, size_t len,
			     uint32_t *n_records)
{
	const char *p = records;
	size_t off = 0;
	uint32_t n = 0;

	while (off < len) {
		uint32_t blen;

		if (len - off < SL_CHUNK_RECORD_HEADER || n == UINT32_MAX)
			return -SL_EPARSE;
		memcpy(&blen, p + off + SL_CHUNK_RECORD_LEN_OFF, sizeof(blen));
		if (blen > len - off - SL_CHUNK_RECORD_HEADER)
			return -SL_EPARSE;
		off += SL_CHUNK_RECORD_HEADER + blen;
		n++;
	}
	*n_records = n;
	return 0;
}

/* ---- files ------------------------------------------------------------ */

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return -SL_EIO;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Keeps errno of the failure the caller is about to report. */
static void close_keep_errno(int fd)
{
	int e = errno;

	if (fd >= 0)
		close(fd);
	errno = e;
}

/*
 * A chunk call failed with `e` (saved by the caller right after the failing
 * system call): keeps it for sl_storage_error() and in errno.
 */
static int fail(struct sl_storage *st, int e)
{
	st->err = e ? e : EIO;
	errno = st->err;
	return -SL_EIO;
}

int sl_storage_error(const struct sl_storage *st)
{
	return st ? st->err : 0;
}

static int mkdirs(const char *path)
{
	size_t len = strlen(path);
	char *p = malloc(len + 1);

	if (!p)
		return -SL_ENOMEM;
	memcpy(p, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0750) != 0 && errno != EEXIST) {
			int e = errno;

			free(p);
			errno = e;
			return -SL_EIO;
		}
		p[i] = i < len ? '/' : '\0';
	}
	free(p);
	return 0;
}

int sl_storage_open(const struct sl_storage_opts *o, struct sl_storage **out)
{
	struct sl_storage *st;
	const char *what = "create";

	*out = NULL;
	if (!o || !o->path || !*o->path)
		return -SL_EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -SL_ENOMEM;
	st->dfd = st->qfd = st->lock = -1;
	st->sync_full = o->sync_full;
	st->checksum = o->checksum;
	st->path = strdup(o->path);
	if (!st->path) {
		free(st);
		return -SL_ENOMEM;
	}
	switch (mkdirs(o->path)) {
	case 0:
		break;
	case -SL_ENOMEM:
		sl_storage_close(st);
		return -SL_ENOMEM;
	default:
		goto err;
	}
	what = "open";
	st->dfd = open(o->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dfd < 0)
		goto err;
	what = "create " QUARANTINE " in";
	if (mkdirat(st->dfd, QUARANTINE, 0750) != 0 && errno != EEXIST)
		goto err;
	st->qfd = openat(st->dfd, QUARANTINE,
			 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (st->qfd < 0)
		goto err;
	what = "create " LOCK_NAME " in";
	/* read-only is enough for flock, and an fd open for writing would
	 * keep the file system from being remounted read-only */
	st->lock = openat(st->dfd, LOCK_NAME,
			  O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (st->lock < 0)
		goto err;
	while (flock(st->lock, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		what = errno == EWOULDBLOCK ? "lock (another sluice uses it)"
					    : "lock";
		goto err;
	}
	*out = st;
	return 0;
err : {
	int e = errno;

	sl_log(SL_LOG_ERROR, COMPONENT, "cannot %s storage.path %s: %s", what,
	       o->path, strerror(e));
	sl_storage_close(st);
	errno = e;
	return -SL_EIO;
}
}

void sl_storage_close(struct sl_storage *st)
{
	if (!st)
		return;
	if (st->lock >= 0)
		close(st->lock); /* releases the flock */
	if (st->qfd >= 0)
		close(st->qfd);
	if (st->dfd >= 0)
		close(st->dfd);
	free(st->path);
	free(st);
}

/* ---- chunk files ------------------------------------------------------ */

static void sanitize_stream(const char *stream, char *out, size_t cap)
{
	size_t n = 0;

	for (; stream[n] && n < SL_STORAGE_NAME_STREAM_MAX && n + 1 < cap;
	     n++) {
		unsigned char c = (unsigned char)stream[n];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-' ||
			  (c == '.' && n > 0);

		out[n] = ok ? (char)c : '_';
	}
	if (n == 0)
		out[n++] = '_';
	out[n] = '\0';
}

static void set_name(struct sl_storage_chunk *f, const char *ext)
{
	snprintf(f->name, sizeof(f->name), "%s%s", f->base, ext);
}

/* The header for `f`'s stream, tag and id into `p` (header_size bytes). */
static size_t header_size(const struct sl_storage_chunk *f)
{
	return HDR_FIXED + f->tag_len + strlen(f->stream) + HDR_CRC;
}

static void header_write(const struct sl_storage_chunk *f, int form,
			 unsigned char *p)
{
	size_t slen = strlen(f->stream), off = HDR_FIXED;

	memcpy(p, FILE_MAGIC, 4);
	p[4] = FORMAT_VERSION;
	p[5] = (unsigned char)form;
	put_le16(p + 6, 0);
	put_le64(p + 8, f->id);
	put_le16(p + 16, (uint16_t)f->tag_len);
	put_le16(p + 18, (uint16_t)slen);
	memcpy(p + off, f->tag, f->tag_len);
	off += f->tag_len;
	memcpy(p + off, f->stream, slen);
	off += slen;
	put_le32(p + off, crc(p, off));
}

static struct sl_storage_chunk *handle_new(struct sl_storage *st,
					   const char *stream, const char *tag,
					   size_t tag_len, uint64_t id)
{
	struct sl_storage_chunk *f = calloc(1, sizeof(*f));
	char clean[SL_STORAGE_NAME_STREAM_MAX + 1];

	if (!f)
		return NULL;
	f->st = st;
	f->fd = -1;
	f->id = id;
	f->stream = strdup(stream);
	f->tag = malloc(tag_len + 1);
	if (!f->stream || !f->tag ||
	    sl_buf_reserve(&f->pending, BLOCK_HDR) != 0) {
		sl_storage_chunk_close(f);
		return NULL;
	}
	if (tag_len)
		memcpy(f->tag, tag, tag_len);
	f->tag[tag_len] = '\0';
	f->tag_len = tag_len;
	f->pending.len = BLOCK_HDR;
	sanitize_stream(stream, clean, sizeof(clean));
	snprintf(f->base, sizeof(f->base), "%s-%016llx", clean,
		 (unsigned long long)id);
	return f;
}

int sl_storage_chunk_create(struct sl_storage *st, const char *stream,
			    const char *tag, size_t tag_len, uint64_t id,
			    struct sl_storage_chunk **out)
{
	struct sl_storage_chunk *f;
	unsigned char *hdr;
	size_t hlen;
	int e;

	*out = NULL;
	if (strlen(stream) > SL_STORAGE_STREAM_MAX ||
	    tag_len > SL_STORAGE_TAG_MAX)
		return -SL_EINVAL;
	f = handle_new(st, stream, tag, tag_len, id);
	if (!f)
		return -SL_ENOMEM;
	hlen = header_size(f);
	hdr = malloc(hlen);
	if (!hdr) {
		sl_storage_chunk_close(f);
		return -SL_ENOMEM;
	}
	header_write(f, FORM_OPEN, hdr);
	set_name(f, EXT_OPEN);
	f->fd =
	    openat(st->dfd, f->name,
		   O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (f->fd < 0)
		goto err_noent;
	if (pwrite_all(f->fd, hdr, hlen, 0) != 0)
		goto err;
	/* the directory entry must survive too, or the data is unreachable */
	if (st->sync_full && (fdatasync(f->fd) != 0 || fsync(st->dfd) != 0))
		goto err;
	free(hdr);
	f->size = hlen;
	*out = f;
	return 0;
err:
	e = errno;
	close(f->fd);
	f->fd = -1;
	unlinkat(st->dfd, f->name, 0);
	errno = e;
err_noent:
	e = errno;
	free(hdr);
	/* the engine logs it (rate-limited): a full disk fails every chunk */
	sl_storage_chunk_close(f);
	return fail(st, e);
}

int sl_storage_chunk_append(struct sl_storage_chunk *f, const void *records,
			    size_t len)
{
	uint32_t n;
	size_t pending = f->pending.len - BLOCK_HDR;

	if (f->sealed || f->recovered)
		return -SL_EINVAL;
	if (sl_storage_records_count(records, len, &n) != 0)
		return -SL_EINVAL;
	if (len > SL_STORAGE_CHUNK_MAX ||
	    f->bytes + pending + len > SL_STORAGE_CHUNK_MAX ||
	    n > UINT32_MAX - f->pending_records)
		return -SL_ETOOBIG;
	if (sl_buf_append(&f->pending, records, len) != 0)
		return -SL_ENOMEM;
	f->pending_records += n;
	return 0;
}

int sl_storage_chunk_persist(struct sl_storage_chunk *f)
{
	unsigned char *h = (unsigned char *)f->pending.data;
	size_t payload = f->pending.len - BLOCK_HDR;
	int e;

	if (f->pending_records == 0)
		return 0;
	if (f->fd < 0 || f->broken)
		return fail(f->st, EIO);
	memcpy(h, BLOCK_MAGIC, 4);
	put_le32(h + 4, (uint32_t)payload);
	put_le32(h + 8, f->pending_records);
	put_le32(h + 12, crc(h + BLOCK_HDR, payload));
	put_le32(h + 16, crc(h, 16));
	if (pwrite_all(f->fd, h, f->pending.len, f->size) != 0)
		goto err;
	if (f->st->sync_full && fdatasync(f->fd) != 0)
		goto err;
	f->size += f->pending.len;
	f->bytes += payload;
	f->pending.len = BLOCK_HDR;
	f->pending_records = 0;
	return 0;
err:
	e = errno;
	/* a torn block left in the middle would make every later one corrupt */
	if (ftruncate(f->fd, (off_t)f->size) != 0)
		f->broken = true;
	return fail(f->st, e);
}

void sl_storage_chunk_discard(struct sl_storage_chunk *f)
{
	f->pending.len = BLOCK_HDR;
	f->pending_records = 0;
}

int sl_storage_chunk_seal(struct sl_storage_chunk *f,
			  const struct sl_buf *all_records, uint32_t n_records)
{
	static const char empty[1];
	const char *src = all_records->data ? all_records->data : empty;
	size_t len = all_records->len, hlen, total;
	char tmp[NAME_MAX_LEN], sealed[NAME_MAX_LEN];
	unsigned char *buf, *b;
	uint32_t n;
	int bound, clen, fd = -1, e;
	struct sl_storage *st = f->st;

	if (f->sealed)
		return 0;
	if (sl_storage_records_count(src, len, &n) != 0 || n != n_records)
		return -SL_EINVAL;
	if (len > SL_STORAGE_CHUNK_MAX)
		return -SL_ETOOBIG;
	bound = LZ4_compressBound((int)len);
	hlen = header_size(f);
	buf = malloc(hlen + SEALED_HDR + (size_t)bound);
	if (!buf)
		return -SL_ENOMEM;
	header_write(f, FORM_SEALED, buf);
	b = buf + hlen;
	clen =
	    LZ4_compress_default(src, (char *)b + SEALED_HDR, (int)len, bound);
	if (clen <= 0) { /* cannot happen with a compressBound buffer */
		free(buf);
		return -SL_ENOMEM;
	}
	memcpy(b, SEALED_MAGIC, 4);
	put_le32(b + 4, (uint32_t)len);
	put_le32(b + 8, (uint32_t)clen);
	put_le32(b + 12, n_records);
	put_le32(b + 16, crc(src, len));
	put_le32(b + 20, crc(b, 20));
	total = hlen + SEALED_HDR + (size_t)clen;

	snprintf(tmp, sizeof(tmp), "%s" EXT_SEALED EXT_TMP, f->base);
	snprintf(sealed, sizeof(sealed), "%s" EXT_SEALED, f->base);
	fd =
	    openat(st->dfd, tmp,
		   O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0 || pwrite_all(fd, buf, total, 0) != 0 ||
	    (st->sync_full && fdatasync(fd) != 0))
		goto err;
	if (close(fd) != 0) {
		fd = -1;
		goto err;
	}
	fd = -1;
	if (renameat(st->dfd, tmp, st->dfd, sealed) != 0)
		goto err;
	free(buf);
	if (st->sync_full && fsync(st->dfd) != 0)
		sl_log(SL_LOG_WARN, COMPONENT, "fsync of %s: %s", st->path,
		       strerror(errno));
	/* both forms present is fine: the scan prefers the sealed one */
	set_name(f, EXT_OPEN);
	if (unlinkat(st->dfd, f->name, 0) != 0 && errno != ENOENT)
		sl_log(SL_LOG_WARN, COMPONENT, "cannot remove %s/%s: %s",
		       st->path, f->name, strerror(errno));
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->sealed = true;
	f->broken = false;
	f->size = total;
	f->bytes = len;
	f->pending.len = BLOCK_HDR;
	f->pending_records = 0;
	snprintf(f->name, sizeof(f->name), "%s", sealed);
	return 0;
err:
	e = errno;
	close_keep_errno(fd);
	unlinkat(st->dfd, tmp, 0);
	free(buf);
	return fail(st, e);
}

int sl_storage_chunk_remove(struct sl_storage_chunk *f)
{
	static const char *const exts[] = {EXT_OPEN, EXT_SEALED};
	char name[NAME_MAX_LEN];

	/* open first: a stale open form coming back would be partial */
	for (size_t i = 0; i < SL_ARRAY_LEN(exts); i++) {
		snprintf(name, sizeof(name), "%s%s", f->base, exts[i]);
		if (unlinkat(f->st->dfd, name, 0) != 0 && errno != ENOENT) {
			return fail(f->st, errno);
		}
	}
	sl_storage_chunk_close(f);
	return 0;
}

void sl_storage_chunk_close(struct sl_storage_chunk *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	sl_buf_destroy(&f->pending);
	free(f->stream);
	free(f->tag);
	free(f);
}

const char *sl_storage_chunk_name(const struct sl_storage_chunk *f)
{
	return f->name;
}

const char *sl_storage_chunk_tag(const struct sl_storage_chunk *f, size_t *len)
{
	*len = f->tag_len;
	return f->tag;
}

uint64_t sl_storage_chunk_id(const struct sl_storage_chunk *f)
{
	return f->id;
}

uint64_t sl_storage_chunk_bytes(const struct sl_storage_chunk *f)
{
	return f->bytes;
}

/* ---- decoding --------------------------------------------------------- */

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* `n` bytes at the end of a file that could be a torn write of `magic`. */
static bool torn_prefix(const unsigned char *p, size_t n, const char *magic)
{
	return all_zero(p, n) || memcmp(p, magic, n < 4 ? n : 4) == 0;
}

static int corrupt(struct sl_storage_decoded *d, const char *reason)
{
	d->reason = reason;
	return -SL_EPARSE;
}

static int decode_open(const unsigned char *p, size_t n, bool strict,
		       struct sl_storage_decoded *d)
{
	size_t off = 0;

	/* bounded by the file: the payloads are part of it */
	if (sl_buf_reserve(&d->records, n) != 0)
		return -SL_ENOMEM;
	while (off < n) {
		const unsigned char *h = p + off;
		size_t rem = n - off;
		uint32_t len, count, framed;

		if (rem < BLOCK_HDR) {
			if (!torn_prefix(h, rem, BLOCK_MAGIC))
				return corrupt(d,
					       "garbage after the last block");
			d->cut = true;
			break;
		}
		if (memcmp(h, BLOCK_MAGIC, 4) != 0 ||
		    get_le32(h + 16) != crc(h, 16)) {
			/* power loss can leave a zero-filled tail */
			if (!all_zero(h, rem))
				return corrupt(d, "bad block header");
			d->cut = true;
			break;
		}
		len = get_le32(h + 4);
		count = get_le32(h + 8);
		if (len == 0 || len > SL_STORAGE_CHUNK_MAX || count == 0)
			return corrupt(d, "bad block length");
		if (len > rem - BLOCK_HDR) {
			d->cut = true; /* the payload was not all written */
			break;
		}
		if (crc(h + BLOCK_HDR, len) != get_le32(h + 12)) {
			if (strict || BLOCK_HDR + len != rem)
				return corrupt(d, "block CRC mismatch");
			d->cut = true;
			break;
		}
		if (sl_storage_records_count(h + BLOCK_HDR, len, &framed) !=
			0 ||
		    framed != count)
			return corrupt(d, "records do not frame the block");
		if (d->records.len + len > SL_STORAGE_CHUNK_MAX ||
		    count > UINT32_MAX - d->n_records)
			return corrupt(d, "chunk over the size limit");
		memcpy(d->records.data + d->records.len, h + BLOCK_HDR, len);
		d->records.len += len;
		d->n_records += count;
		off += BLOCK_HDR + len;
	}
	d->records.data[d->records.len] = '\0';
	return 0;
}

static int decode_sealed(const unsigned char *p, size_t n,
			 struct sl_storage_decoded *d)
{
	uint32_t ulen, clen, count, framed;
	int got;

	if (n < SEALED_HDR)
		return corrupt(d, "truncated sealed body");
	if (memcmp(p, SEALED_MAGIC, 4) != 0 || get_le32(p + 20) != crc(p, 20))
		return corrupt(d, "bad sealed body header");
	ulen = get_le32(p + 4);
	clen = get_le32(p + 8);
	count = get_le32(p + 12);
	if (clen == 0 || clen != n - SEALED_HDR || clen > INT_MAX)
		return corrupt(d, "sealed body length does not match the file");
	if (ulen > SL_STORAGE_CHUNK_MAX ||
	    ulen / LZ4_MAX_RATIO > clen) /* keeps the allocation bounded */
		return corrupt(d, "bad uncompressed length");
	if (sl_buf_reserve(&d->records, ulen) != 0)
		return -SL_ENOMEM;
	got = LZ4_decompress_safe((const char *)p + SEALED_HDR, d->records.data,
				  (int)clen, (int)ulen);
	if (got < 0 || (uint32_t)got != ulen)
		return corrupt(d, "LZ4 data does not decode");
	if (crc(d->records.data, ulen) != get_le32(p + 16))
		return corrupt(d, "body CRC mismatch");
	if (sl_storage_records_count(d->records.data, ulen, &framed) != 0 ||
	    framed != count)
		return corrupt(d, "records do not frame the body");
	d->records.len = ulen;
	d->records.data[ulen] = '\0';
	d->n_records = count;
	return 0;
}

int sl_storage_decode(const void *file, size_t size, bool strict,
		      struct sl_storage_decoded *d)
{
	const unsigned char *p = file;
	size_t tlen, slen, hlen;
	int rc;

	memset(d, 0, sizeof(*d));
	if (size < HDR_FIXED + HDR_CRC ||
	    (memcmp(p, FILE_MAGIC, 4) != 0 && all_zero(p, size))) {
		if (!torn_prefix(p, size < HDR_FIXED ? size : HDR_FIXED,
				 FILE_MAGIC))
			return corrupt(d, "bad magic");
		d->torn_header = true;
		return corrupt(d, "truncated header");
	}
	if (memcmp(p, FILE_MAGIC, 4) != 0)
		return corrupt(d, "bad magic");
	/* version 1 (before record identity) is not converted: such a file is
	 * quarantined with this reason, its records kept for an operator */
	if (p[4] == 1)
		return corrupt(d,
			       "format version 1 (written by an older sluice, "
			       "records without identity): not read");
	if (p[4] != FORMAT_VERSION)
		return corrupt(d, "unsupported version");
	if (p[5] != FORM_OPEN && p[5] != FORM_SEALED)
		return corrupt(d, "unknown form");
	if (get_le16(p + 6) != 0)
		return corrupt(d, "unknown flags");
	tlen = get_le16(p + 16);
	slen = get_le16(p + 18);
	if (slen > SL_STORAGE_STREAM_MAX)
		return corrupt(d, "stream name too long");
	hlen = HDR_FIXED + tlen + slen;
	/* not called torn: a bad length could hide blocks, keep the evidence */
	if (size < hlen + HDR_CRC)
		return corrupt(d, "header longer than the file");
	if (crc(p, hlen) != get_le32(p + hlen))
		return corrupt(d, "header CRC mismatch");
	if (memchr(p + HDR_FIXED + tlen, '\0', slen))
		return corrupt(d, "NUL in stream name");
	d->tag = malloc(tlen + 1);
	d->stream = malloc(slen + 1);
	if (!d->tag || !d->stream)
		return -SL_ENOMEM;
	memcpy(d->tag, p + HDR_FIXED, tlen);
	d->tag[tlen] = '\0';
	d->tag_len = tlen;
	memcpy(d->stream, p + HDR_FIXED + tlen, slen);
	d->stream[slen] = '\0';
	d->id = get_le64(p + 8);
	d->sealed = p[5] == FORM_SEALED;
	hlen += HDR_CRC;
	if (d->sealed)
		rc = decode_sealed(p + hlen, size - hlen, d);
	else
		rc = decode_open(p + hlen, size - hlen, strict, d);
	return rc;
}

void sl_storage_decoded_destroy(struct sl_storage_decoded *d)
{
	if (!d)
		return;
	free(d->stream);
	free(d->tag);
	sl_buf_destroy(&d->records);
	d->stream = d->tag = NULL;
}

/* ---- start-up scan ---------------------------------------------------- */

struct entry {
	char *name;
	size_t base_len; /* name without the extension */
	uint64_t id;
	bool sealed;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	size_t m = x->base_len < y->base_len ? x->base_len : y->base_len;
	int c;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	c = memcmp(x->name, y->name, m);
	if (c)
		return c;
	if (x->base_len != y->base_len)
		return x->base_len < y->base_len ? -1 : 1;
	/* the sealed form first: it decides whether the open one is stale */
	return x->sealed == y->sealed ? 0 : x->sealed ? -1 : 1;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* "<anything>-<16 lowercase hex>" of `len` bytes: 0 and the id, or -1. */
static int parse_base(const char *s, size_t len, uint64_t *id)
{
	uint64_t v = 0;

	if (len < 18 || s[len - 17] != '-')
		return -1;
	for (size_t i = len - 16; i < len; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	*id = v;
	return 0;
}

/* Moves `name` to quarantine/ (logged either way). 0, or -SL_EIO: left. */
static int quarantine_file(struct sl_storage *st, const char *name,
			   const char *reason)
{
	char dest[NAME_MAX + 16];
	struct stat sb;
	int i = 0;

	snprintf(dest, sizeof(dest), "%s", name);
	/* keep earlier evidence of the same name */
	while (fstatat(st->qfd, dest, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	       ++i < 1000)
		snprintf(dest, sizeof(dest), "%s.%d", name, i);
	if (renameat(st->dfd, name, st->qfd, dest) != 0) {
		int e = errno;

		sl_log(SL_LOG_ERROR, COMPONENT,
		       "chunk file %s/%s is corrupt (%s) and cannot be moved "
		       "to " QUARANTINE "/: %s; left in place",
		       st->path, name, reason, strerror(e));
		return fail(st, e);
	}
	sl_log(SL_LOG_ERROR, COMPONENT,
	       "chunk file %s/%s is corrupt (%s): moved to %s/" QUARANTINE
	       "/%s, its records are not delivered",
	       st->path, name, reason, st->path, dest);
	return 0;
}

static void quarantine(struct sl_storage *st, const char *name,
		       const char *reason, struct sl_storage_scan_stats *stats)
{
	if (quarantine_file(st, name, reason) == 0)
		stats->quarantined++;
}

/* Reads a whole regular file of at most FILE_MAX bytes. */
static int read_file(struct sl_storage *st, const char *name, char **data,
		     size_t *size, const char **why)
{
	struct stat sb;
	char *buf;
	size_t got = 0;
	int fd = openat(st->dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	*why = NULL;
	if (fd < 0)
		return -SL_EIO;
	if (fstat(fd, &sb) != 0) {
		close_keep_errno(fd);
		return -SL_EIO;
	}
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > FILE_MAX) {
		close(fd);
		*why = S_ISREG(sb.st_mode) ? "file over the size limit"
					   : "not a regular file";
		return -SL_EPARSE;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		close(fd);
		return -SL_ENOMEM;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			close_keep_errno(fd);
			return -SL_EIO;
		}
		if (n == 0)
			break; /* shrank meanwhile: decode what is there */
		got += (size_t)n;
	}
	close(fd);
	*data = buf;
	*size = got;
	return 0;
}

static void remove_file(struct sl_storage *st, const char *name,
			const char *why)
{
	if (unlinkat(st->dfd, name, 0) != 0 && errno != ENOENT)
		sl_log(SL_LOG_WARN, COMPONENT, "cannot remove %s/%s: %s",
		       st->path, name, strerror(errno));
	else
		sl_log(SL_LOG_INFO, COMPONENT, "removed %s/%s: %s", st->path,
		       name, why);
}

/*
 * One chunk file: 1 = handed to cb (good), 0 = not (removed, quarantined
 * or skipped), negative = stop the scan with that code.
 */
static int scan_one(struct sl_storage *st, const struct entry *e,
		    sl_storage_scan_cb cb, void *arg,
		    struct sl_storage_scan_stats *stats)
{
	struct sl_storage_decoded d;
	struct sl_storage_recovered rc;
	struct sl_storage_chunk *f;
	const char *why;
	char *data = NULL;
	size_t size = 0;
	int r;

	r = read_file(st, e->name, &data, &size, &why);
	if (r == -SL_ENOMEM)
		return r;
	if (r == -SL_EPARSE) {
		quarantine(st, e->name, why, stats);
		return 0;
	}
	if (r != 0) {
		sl_log(SL_LOG_ERROR, COMPONENT, "cannot read %s/%s: %s",
		       st->path, e->name, strerror(errno));
		return 0;
	}
	r = sl_storage_decode(data, size, st->checksum, &d);
	free(data);
	if (r == -SL_ENOMEM)
		goto out;
	r = 0;
	if (d.reason) {
		if (d.torn_header && !e->sealed) {
			stats->empty++;
			remove_file(st, e->name, "header torn, no records");
		} else {
			quarantine(st, e->name, d.reason, stats);
		}
		goto out;
	}
	if (d.id != e->id || d.sealed != e->sealed) {
		quarantine(st, e->name, "header does not match file name",
			   stats);
		goto out;
	}
	if (d.n_records == 0) {
		stats->empty++;
		remove_file(st, e->name, "no records");
		goto out;
	}
	f = handle_new(st, d.stream, d.tag, d.tag_len, d.id);
	if (!f) {
		r = -SL_ENOMEM;
		goto out;
	}
	/* keep the name found on disk: sanitizing rules may have changed */
	snprintf(f->base, sizeof(f->base), "%.*s", (int)e->base_len, e->name);
	snprintf(f->name, sizeof(f->name), "%s", e->name);
	f->recovered = true;
	f->sealed = d.sealed;
	f->size = size;
	f->bytes = d.records.len;
	if (d.cut) {
		stats->cut++;
		sl_log(SL_LOG_WARN, COMPONENT,
		       "chunk file %s/%s ends in a torn block (crash while "
		       "appending): its %u complete records are kept, the "
		       "unacknowledged tail is dropped",
		       st->path, e->name, d.n_records);
	}
	stats->recovered++;
	stats->records += d.n_records;
	stats->bytes += d.records.len;
	memset(&rc, 0, sizeof(rc));
	rc.stream = f->stream;
	rc.tag = f->tag;
	rc.tag_len = f->tag_len;
	rc.id = d.id;
	rc.records = d.records;
	rc.n_records = d.n_records;
	rc.sealed = d.sealed;
	rc.cut = d.cut;
	rc.handle = f;
	memset(&d.records, 0, sizeof(d.records));
	r = cb(arg, &rc);
	sl_buf_destroy(&rc.records);
	r = r < 0 ? r : 1;
out:
	sl_storage_decoded_destroy(&d);
	return r;
}

int sl_storage_chunk_load(struct sl_storage_chunk *f, struct sl_buf *records,
			  uint32_t *n_records, const char **reason)
{
	struct sl_storage_decoded d;
	char *data = NULL;
	size_t size = 0;
	int r;

	*reason = NULL;
	memset(records, 0, sizeof(*records));
	*n_records = 0;
	r = read_file(f->st, f->name, &data, &size, reason);
	if (r == -SL_EIO)
		return fail(f->st, errno);
	if (r < 0)
		return r;
	r = sl_storage_decode(data, size, f->st->checksum, &d);
	free(data);
	if (r == 0 && (d.id != f->id || d.sealed != f->sealed)) {
		d.reason = "header does not match file name";
		r = -SL_EPARSE;
	}
	if (r == -SL_EPARSE)
		*reason = d.reason;
	if (r == 0) {
		*records = d.records; /* stolen */
		memset(&d.records, 0, sizeof(d.records));
		*n_records = d.n_records;
		f->bytes = records->len;
	}
	sl_storage_decoded_destroy(&d);
	return r;
}

int sl_storage_chunk_quarantine(struct sl_storage_chunk *f, const char *reason)
{
	int rc = quarantine_file(f->st, f->name, reason);

	sl_storage_chunk_close(f);
	return rc;
}

static int list_dir(struct sl_storage *st, struct entry **out, size_t *count,
		    struct sl_storage_scan_stats *stats)
{
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int fd = dup(st->dfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;

	if (!dir) {
		close_keep_errno(fd);
		return -SL_EIO;
	}
	rewinddir(dir);
	while ((errno = 0, de = readdir(dir))) {
		const char *name = de->d_name;
		size_t len = strlen(name), base_len;
		bool sealed;
		uint64_t id;

		if (ends_with(name, len, EXT_TMP)) {
			remove_file(st, name, "unfinished seal");
			continue;
		}
		if (ends_with(name, len, EXT_OPEN)) {
			sealed = false;
			base_len = len - strlen(EXT_OPEN);
		} else if (ends_with(name, len, EXT_SEALED)) {
			sealed = true;
			base_len = len - strlen(EXT_SEALED);
		} else {
			continue; /* the lock, quarantine/, not ours */
		}
		if (parse_base(name, base_len, &id) != 0) {
			stats->files++;
			quarantine(st, name, "bad chunk file name", stats);
			continue;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct entry *nv = realloc(v, ncap * sizeof(*v));

			if (!nv)
				goto nomem;
			v = nv;
			cap = ncap;
		}
		v[n].name = strdup(name);
		if (!v[n].name)
			goto nomem;
		v[n].base_len = base_len;
		v[n].id = id;
		v[n].sealed = sealed;
		n++;
	}
	if (errno) {
		int e = errno;

		closedir(dir);
		for (size_t i = 0; i < n; i++)
			free(v[i].name);
		free(v);
		errno = e;
		return -SL_EIO;
	}
	closedir(dir);
	if (n > 1)
		qsort(v, n, sizeof(*v), entry_cmp);
	*out = v;
	*count = n;
	return 0;
nomem:
	closedir(dir);
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	return -SL_ENOMEM;
}

int sl_storage_scan(struct sl_storage *st, sl_storage_scan_cb cb, void *arg,
		    struct sl_storage_scan_stats *stats)
{
	struct sl_storage_scan_stats local;
	struct entry *v = NULL;
	size_t n = 0;
	const struct entry *good_sealed = NULL;
	int rc;

	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	rc = list_dir(st, &v, &n, stats);
	if (rc != 0) {
		if (rc == -SL_EIO)
			sl_log(SL_LOG_ERROR, COMPONENT, "cannot list %s: %s",
			       st->path, strerror(errno));
		return rc;
	}
	rc = 0;
	for (size_t i = 0; i < n; i++) {
		const struct entry *e = &v[i];
		int r;

		stats->files++;
		if (e->id > stats->max_id)
			stats->max_id = e->id;
		if (rc < 0)
			continue; /* still count files and ids */
		if (!e->sealed && good_sealed &&
		    good_sealed->base_len == e->base_len &&
		    memcmp(good_sealed->name, e->name, e->base_len) == 0) {
			/* a seal that stopped between rename and unlink */
			stats->superseded++;
			remove_file(st, e->name,
				    "superseded by its sealed form");
			continue;
		}
		r = scan_one(st, e, cb, arg, stats);
		good_sealed = r == 1 && e->sealed ? e : NULL;
		if (r < 0)
			rc = r;
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	return rc;
}
