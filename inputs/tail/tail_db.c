/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_db.c - the tail offsets database: a text file, one line per file,
 *   "<inode> <fp_len> <fp_hex> <offset> <name>"
 * after a "# sluice tail db 1" header line; the name has '\\' and newlines
 * escaped. Written whole to "<path>.tmp", fsync'd, renamed over <path>.
 * No sqlite: there is no query here, only a small map saved atomically.
 */
#include "tail_db.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_HEADER "# sluice tail db 1\n"

int tail_db_parse_sync(const char *s, enum tail_db_sync *out)
{
	if (strcasecmp(s, "off") == 0)
		*out = TAIL_DB_SYNC_OFF;
	else if (strcasecmp(s, "normal") == 0)
		*out = TAIL_DB_SYNC_NORMAL;
	else if (strcasecmp(s, "full") == 0 || strcasecmp(s, "extra") == 0)
		*out = TAIL_DB_SYNC_FULL;
	else
		return -SL_EINVAL;
	return 0;
}

struct tail_db_entry *tail_db_find(struct tail_db *db, uint64_t ino)
{
	for (size_t i = 0; i < db->n; i++)
		if (db->e[i].ino == ino)
			return &db->e[i];
	return NULL;
}

static struct tail_db_entry *add(struct tail_db *db, uint64_t ino)
{
	struct tail_db_entry *e;

	if (db->n == db->cap) {
		size_t cap = db->cap ? db->cap * 2 : 16;
		struct tail_db_entry *ne = realloc(db->e, cap * sizeof(*ne));

		if (!ne)
			return NULL;
		db->e = ne;
		db->cap = cap;
	}
	e = &db->e[db->n++];
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	return e;
}

static void drop(struct tail_db *db, struct tail_db_entry *e)
{
	free(e->name);
	*e = db->e[--db->n];
	db->dirty = true;
}

static char *unescape_name(const char *s)
{
	size_t len = strlen(s), n = 0;
	char *out = malloc(len + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len) {
			i++;
			out[n++] = s[i] == 'n' ? '\n' : s[i];
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	return out;
}

int tail_db_parse_line(struct tail_db *db, const char *line)
{
	uint64_t ino, fp;
	uint32_t fp_len;
	int64_t offset;
	int used = 0;
	struct tail_db_entry *e;
	char *name;

	if (sscanf(line, "%" SCNu64 " %" SCNu32 " %" SCNx64 " %" SCNd64 "%n",
		   &ino, &fp_len, &fp, &offset, &used) < 4 ||
	    used == 0 || offset < 0 || fp_len > TAIL_DB_FP_MAX)
		return -SL_EPARSE;
	/* Exactly one space before the name: a name may start with spaces. */
	if (line[used] == ' ')
		used++;
	else if (line[used] != '\0')
		return -SL_EPARSE;
	name = unescape_name(line + used);
	if (!name)
		return -SL_ENOMEM;
	e = tail_db_find(db, ino);
	if (!e)
		e = add(db, ino);
	if (!e) {
		free(name);
		return -SL_ENOMEM;
	}
	free(e->name);
	e->name = name;
	e->fp_len = fp_len;
	e->fp = fp;
	e->offset = offset;
	return 0;
}

int tail_db_load(struct tail_db *db, FILE *fp, const char *what)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, rc = 0;

	while ((len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		/* A NUL inside a line is damage, not part of a name. */
		rc = (size_t)len != strlen(line) ? -SL_EPARSE
						 : tail_db_parse_line(db, line);
		if (rc == -SL_ENOMEM)
			break;
		if (rc < 0)
			sl_log(SL_LOG_WARN, "tail",
			       "DB %s:%d: malformed line "
			       "skipped",
			       what, lineno);
		rc = 0;
	}
	free(line);
	return rc;
}

int tail_db_open(struct tail_db *db, const char *path, enum tail_db_sync sync)
{
	struct stat st;
	FILE *fp;
	int rc;

	memset(db, 0, sizeof(*db));
	db->sync = sync;
	db->path = strdup(path);
	if (!db->path)
		return -SL_ENOMEM;
	fp = fopen(path, "re");
	if (!fp) {
		if (errno == ENOENT)
			return 0;
		sl_log(SL_LOG_ERROR, "tail", "DB %s: cannot open: %s", path,
		       strerror(errno));
		return -SL_EIO;
	}
	if (fstat(fileno(fp), &st) == 0)
		db->saved_ns = (int64_t)st.st_mtim.tv_sec * SL_NS_PER_SEC +
			       st.st_mtim.tv_nsec;
	rc = tail_db_load(db, fp, path);
	fclose(fp);
	if (rc < 0) {
		char *keep = db->path;

		db->path = NULL;
		tail_db_close(db);
		memset(db, 0, sizeof(*db));
		db->path = keep;
		db->sync = sync;
	}
	return rc;
}

void tail_db_close(struct tail_db *db)
{
	for (size_t i = 0; i < db->n; i++)
		free(db->e[i].name);
	free(db->e);
	free(db->path);
	memset(db, 0, sizeof(*db));
}

uint64_t tail_db_fp_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

int tail_db_fingerprint(int fd, uint32_t len, uint64_t *out)
{
	unsigned char buf[TAIL_DB_FP_MAX];
	ssize_t got;

	if (len > sizeof(buf))
		len = sizeof(buf);
	got = len ? pread(fd, buf, len, 0) : 0;
	if (got < 0)
		return -SL_EIO;
	if ((uint32_t)got < len)
		return -SL_ENOENT;
	*out = tail_db_fp_bytes(buf, len);
	return 0;
}

int tail_db_lookup(struct tail_db *db, int fd, uint64_t ino, int64_t *offset)
{
	struct tail_db_entry *e = tail_db_find(db, ino);
	uint64_t fp;

	if (!e)
		return -SL_ENOENT;
	if (tail_db_fingerprint(fd, e->fp_len, &fp) < 0 || fp != e->fp) {
		sl_log(SL_LOG_DEBUG, "tail",
		       "DB: inode %" PRIu64 " now holds "
		       "another file; old offset dropped",
		       ino);
		drop(db, e);
		return -SL_ENOENT;
	}
	*offset = e->offset;
	return 0;
}

int tail_db_set(struct tail_db *db, int fd, uint64_t ino, const char *name,
		int64_t offset)
{
	struct tail_db_entry *e = tail_db_find(db, ino);
	bool created = false;

	if (!e) {
		e = add(db, ino);
		if (!e)
			return -SL_ENOMEM;
		created = true;
	}
	/* The bytes already read cannot change for the same file, so they
	 * are what the fingerprint covers; after a truncation (offset back
	 * below it) it is taken again over what is left. */
	if ((e->fp_len < TAIL_DB_FP_MAX && (int64_t)e->fp_len < offset) ||
	    (int64_t)e->fp_len > offset) {
		uint32_t want = offset < (int64_t)TAIL_DB_FP_MAX
				    ? (uint32_t)offset
				    : TAIL_DB_FP_MAX;
		uint64_t fp;

		if (tail_db_fingerprint(fd, want, &fp) == 0) {
			e->fp = fp;
			e->fp_len = want;
		}
	} else if (created) {
		tail_db_fingerprint(fd, 0, &e->fp);
	}
	if (!e->name || strcmp(e->name, name) != 0) {
		char *n = strdup(name);

		if (!n) {
			if (created)
				drop(db, e);
			return -SL_ENOMEM;
		}
		free(e->name);
		e->name = n;
	}
	if (created || e->offset != offset)
		db->dirty = true;
	e->offset = offset;
	return 0;
}

bool tail_db_has_name(const struct tail_db *db, const char *name)
{
	for (size_t i = 0; i < db->n; i++)
		if (db->e[i].name && strcmp(db->e[i].name, name) == 0)
			return true;
	return false;
}

void tail_db_remove(struct tail_db *db, uint64_t ino)
{
	struct tail_db_entry *e = tail_db_find(db, ino);

	if (e)
		drop(db, e);
}

static int append_entry(struct sl_buf *b, const struct tail_db_entry *e)
{
	char head[96];
	int n = snprintf(head, sizeof(head),
			 "%" PRIu64 " %" PRIu32 " %016" PRIx64 " %" PRId64 " ",
			 e->ino, e->fp_len, e->fp, e->offset);

	if (sl_buf_append(b, head, (size_t)n) < 0)
		return -SL_ENOMEM;
	for (const char *p = e->name ? e->name : ""; *p; p++) {
		const char *esc = *p == '\\'   ? "\\\\"
				  : *p == '\n' ? "\\n"
					       : NULL;

		if (sl_buf_append(b, esc ? esc : p, esc ? 2 : 1) < 0)
			return -SL_ENOMEM;
	}
	return sl_buf_append(b, "\n", 1) < 0 ? -SL_ENOMEM : 0;
}

int tail_db_render(const struct tail_db *db, struct sl_buf *out)
{
	if (sl_buf_append(out, DB_HEADER, sizeof(DB_HEADER) - 1) < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < db->n; i++)
		if (append_entry(out, &db->e[i]) < 0)
			return -SL_ENOMEM;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -SL_EIO;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static void sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int tail_db_save(struct tail_db *db)
{
	struct sl_buf b = {0};
	char *tmp = NULL;
	int fd = -1, rc = -SL_EIO;
	size_t plen;

	if (!db->dirty || !db->path)
		return 0;
	plen = strlen(db->path);
	tmp = malloc(plen + 5);
	if (!tmp)
		return -SL_ENOMEM;
	memcpy(tmp, db->path, plen);
	memcpy(tmp + plen, ".tmp", 5);
	if (tail_db_render(db, &b) < 0)
		goto oom;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || write_all(fd, b.data, b.len) < 0 ||
	    (db->sync != TAIL_DB_SYNC_OFF && fsync(fd) < 0))
		goto io;
	if (close(fd) < 0) {
		fd = -1;
		goto io;
	}
	fd = -1;
	if (rename(tmp, db->path) < 0)
		goto io;
	if (db->sync == TAIL_DB_SYNC_FULL)
		sync_dir(db->path);
	db->dirty = false;
	rc = 0;
	goto out;
oom:
	rc = -SL_ENOMEM;
	goto out;
io:
	sl_log(SL_LOG_ERROR, "tail", "DB %s: cannot save: %s", db->path,
	       strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	sl_buf_destroy(&b);
	free(tmp);
	return rc;
}
