/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_recover.c - finds the unread part of rotated and truncated files:
 * a file is the one a DB entry describes when its inode and head
 * fingerprint match (a copy: the head alone, and a size covering the
 * offset); a sibling nobody knows is unread when it changed after the
 * moment we last knew everything (the DB's last save, the copy found).
 * Reads no lines and holds no file open.
 */
#include "tail_recover.h"
#include "tail_rotated.h"
#include "tail_scan.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void tail_recover_init(struct tail_recover *r,
		       const struct tail_recover_host *h)
{
	memset(r, 0, sizeof(*r));
	r->h = *h;
}

void tail_recover_destroy(struct tail_recover *r)
{
	free(r->claimed);
	r->claimed = NULL;
	r->n_claimed = r->cap_claimed = 0;
}

void tail_recover_end_pass(struct tail_recover *r)
{
	r->n_claimed = 0;
}

static bool claimed(const struct tail_recover *r, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < r->n_claimed; i++)
		if (r->claimed[i].dev == dev && r->claimed[i].ino == ino)
			return true;
	return false;
}

/* Notes a file as accounted for. False when it was already. */
static bool claim(struct tail_recover *r, dev_t dev, ino_t ino)
{
	if (claimed(r, dev, ino))
		return false;
	if (r->n_claimed == r->cap_claimed) {
		size_t cap = r->cap_claimed ? r->cap_claimed * 2 : 8;
		struct tail_recover_claim *v =
		    realloc(r->claimed, cap * sizeof(*v));

		if (!v)
			return true; /* worst case: reported twice */
		r->claimed = v;
		r->cap_claimed = cap;
	}
	r->claimed[r->n_claimed].dev = dev;
	r->claimed[r->n_claimed++].ino = ino;
	return true;
}

/* The scan follows it by itself: not a rotated file to look at. */
static bool scanned(const struct tail_recover *r, const char *path)
{
	return tail_scan_matches(r->h.paths, r->h.excludes, path);
}

struct want {
	struct tail_recover *r;
	uint32_t fp_len;
	uint64_t fp;
	uint64_t ino; /* 0: any inode (a copy) */
	int64_t min_size;
	bool gz;   /* look at compressed files (else plain ones) */
	char *hit; /* owned: the match */
	int64_t size;
	dev_t hit_dev;
	ino_t hit_ino;
};

/* A candidate: the file described, not followed, not the scan's. */
static int on_candidate(void *arg, const char *path, const struct stat *st)
{
	struct want *w = arg;
	struct tail_recover *r = w->r;
	int64_t size = (int64_t)st->st_size;
	uint64_t fp;

	if (r->h.followed(r->h.arg, st->st_dev, st->st_ino) || scanned(r, path))
		return 0;
	if (w->ino && (uint64_t)st->st_ino != w->ino)
		return 0;
	if (tail_rotated_is_gz(path) != w->gz)
		return 0;
	if (w->gz) {
		if (tail_rotated_gz_probe(path, w->fp_len, &fp, &size) < 0 ||
		    fp != w->fp)
			return 0;
	} else if (tail_rotated_fp_matches(path, w->fp_len, w->fp) != 1) {
		return 0;
	}
	if (size < w->min_size)
		return 0;
	w->hit = strdup(path);
	w->size = size;
	w->hit_dev = st->st_dev;
	w->hit_ino = st->st_ino;
	return w->hit ? 1 : -SL_ENOMEM;
}

/* Searches the siblings of `name`; 1 and w->hit (owned) when found. */
static int search(struct tail_recover *r, const char *name, struct want *w)
{
	free(w->hit);
	w->r = r;
	w->hit = NULL;
	return tail_rotated_each(name, r->h.rotated_path, on_candidate, w);
}

struct newer {
	struct tail_recover *r;
	const char *name;
	int64_t after_ns; /* only files modified after this */
};

/*
 * A rotated sibling modified after a->after_ns that nobody follows: at
 * start-up one written while sluice was down that no DB entry knows (a
 * second rotation), at a truncation a later copytruncate copy than the one
 * holding our offset. All of it is unread.
 */
static int on_newer(void *arg, const char *path, const struct stat *st)
{
	struct newer *a = arg;
	struct tail_recover *r = a->r;
	int64_t mtime =
	    (int64_t)st->st_mtim.tv_sec * SL_NS_PER_SEC + st->st_mtim.tv_nsec;
	uint64_t fp;
	int64_t size;

	if (mtime <= a->after_ns ||
	    r->h.followed(r->h.arg, st->st_dev, st->st_ino) ||
	    claimed(r, st->st_dev, st->st_ino) || scanned(r, path))
		return 0;
	if (!tail_rotated_is_gz(path)) {
		claim(r, st->st_dev, st->st_ino);
		return r->h.follow(r->h.arg, path, a->name, 0,
				   "rotated, not followed yet") == -SL_ENOMEM
			   ? -SL_ENOMEM
			   : 0;
	}
	/* Compressed, and not the gzip of a file the DB knew (those are
	 * claimed and counted by find_rotated). A compressor gives its output
	 * a new mtime, so this may be a file read long ago: said, not
	 * counted. */
	if (tail_rotated_gz_probe(path, 0, &fp, &size) == 0 && size > 0 &&
	    claim(r, st->st_dev, st->st_ino))
		sl_log(SL_LOG_INFO, "tail",
		       "%s: %s is compressed and no DB "
		       "entry knows it: if it was written while sluice was "
		       "down, its %" PRId64 " bytes were not read",
		       a->name, path, size);
	return 0;
}

void tail_recover_copy(struct tail_recover *r, const char *name,
		       uint32_t fp_len, uint64_t fp, int64_t off, int64_t known)
{
	struct want w = {.fp_len = fp_len, .fp = fp, .min_size = off};
	struct stat st;

	/* Without a head we cannot tell the copy from any other file. */
	if (!r->h.search || fp_len == 0) {
		if (known > off)
			r->h.lost(r->h.arg, name,
				  "truncated before it was read", known - off);
		return;
	}
	if (search(r, name, &w) == 1) {
		/* Ours even when nothing is left to read in it: it is no
		 * "newer sibling" to read from 0 at start-up. */
		claim(r, w.hit_dev, w.hit_ino);
		if (w.size > off)
			r->h.follow(r->h.arg, w.hit, name, off,
				    "truncated (copytruncate)");
		/* Truncated more than once since we looked: the later
		 * copies are newer than ours and wholly unread. */
		if (stat(w.hit, &st) == 0) {
			struct newer n = {r, name,
					  (int64_t)st.st_mtim.tv_sec *
						  SL_NS_PER_SEC +
					      st.st_mtim.tv_nsec};

			tail_rotated_each(name, r->h.rotated_path, on_newer,
					  &n);
		}
		free(w.hit);
		return;
	}
	w.gz = true;
	if (search(r, name, &w) == 1) {
		if (claim(r, w.hit_dev, w.hit_ino))
			r->h.lost(r->h.arg, name,
				  "truncated, its copy is compressed",
				  w.size - off);
		free(w.hit);
		return;
	}
	if (known > off)
		r->h.lost(r->h.arg, name, "truncated, no copy found",
			  known - off);
}

/*
 * The DB entry of inode `ino` names a path that no longer holds it: finds
 * the file among the rotated siblings and follows it from the offset, or
 * reports what is lost (compressed meanwhile, gone). The entry goes.
 */
static void find_rotated(struct tail_recover *r, uint64_t ino)
{
	struct tail_db_entry *e = tail_db_find(r->h.db, ino);
	struct want w = {0};
	struct stat st;
	char *name;
	int64_t off;

	if (!e || !e->name)
		return;
	name = strdup(e->name);
	if (!name)
		return;
	off = e->offset;
	w.ino = ino;
	w.fp_len = e->fp_len;
	w.fp = e->fp;
	/* Still there (Ignore_Older, unreadable for now): not rotated. */
	if (stat(name, &st) == 0 && (uint64_t)st.st_ino == ino)
		goto out;
	tail_db_remove(r->h.db, ino);
	if (search(r, name, &w) == 1) {
		claim(r, w.hit_dev, w.hit_ino);
		r->h.follow(r->h.arg, w.hit, name, off,
			    "rotated while sluice was down");
		goto out;
	}
	w.ino = 0;
	w.gz = true;
	if (w.fp_len > 0 && search(r, name, &w) == 1) {
		if (claim(r, w.hit_dev, w.hit_ino) && w.size > off)
			r->h.lost(r->h.arg, name,
				  "rotated and compressed while sluice was "
				  "down",
				  w.size - off);
		goto out;
	}
	r->h.lost(r->h.arg, name,
		  "rotated or deleted while sluice was down and not found "
		  "beside it",
		  -1);
out:
	free(w.hit);
	free(name);
}

void tail_recover_scan(struct tail_recover *r, bool at_start)
{
	struct tail_db *db = r->h.db;
	uint64_t *inos = NULL;
	char **names = NULL;
	size_t n_inos = 0, n_names = 0;

	if (!db || !r->h.search || db->n == 0)
		goto out;
	/* Collected first: following and removing change the DB array. */
	inos = calloc(db->n, sizeof(*inos));
	names = calloc(db->n, sizeof(*names));
	if (!inos || !names)
		goto out;
	for (size_t i = 0; i < db->n; i++) {
		const struct tail_db_entry *e = &db->e[i];
		bool dup = false;

		if (!e->name || !scanned(r, e->name))
			continue; /* Path changed since: not ours any more */
		if (!r->h.followed_ino(r->h.arg, e->ino))
			inos[n_inos++] = e->ino;
		for (size_t k = 0; k < n_names && !dup; k++)
			dup = strcmp(names[k], e->name) == 0;
		if (dup)
			continue;
		names[n_names] = strdup(e->name);
		if (!names[n_names])
			goto out;
		n_names++;
	}
	for (size_t i = 0; i < n_inos; i++)
		find_rotated(r, inos[i]);
	for (size_t k = 0; at_start && db->saved_ns && k < n_names; k++) {
		struct newer a = {r, names[k], db->saved_ns};

		tail_rotated_each(names[k], r->h.rotated_path, on_newer, &a);
	}
out:
	for (size_t k = 0; names && k < n_names; k++)
		free(names[k]);
	free(names);
	free(inos);
	tail_recover_end_pass(r); /* rescans look at what is new */
}
