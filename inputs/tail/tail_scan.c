/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_scan.c - Path globbing, Exclude_Path, Ignore_Older and tag
 * composition for the tail input. Decides nothing about offsets or
 * rotation: it only lists candidate files.
 */
#include "tail_scan.h"

#include <fnmatch.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

bool tail_scan_excluded(const struct sl_strlist *ex, const char *path)
{
	if (!ex)
		return false;
	for (size_t i = 0; i < ex->n; i++)
		if (fnmatch(ex->v[i], path, 0) == 0)
			return true;
	return false;
}

bool tail_scan_matches(const struct sl_strlist *paths,
		       const struct sl_strlist *excludes, const char *path)
{
	bool hit = false;

	for (size_t i = 0; paths && i < paths->n && !hit; i++)
		hit =
		    fnmatch(paths->v[i], path, FNM_PATHNAME | FNM_PERIOD) == 0;
	return hit && !tail_scan_excluded(excludes, path);
}

static bool too_old(const struct tail_scan_opts *o, const struct stat *st)
{
	int64_t mtime_ns, limit_ns;

	if (o->ignore_older <= 0)
		return false;
	mtime_ns =
	    (int64_t)st->st_mtim.tv_sec * SL_NS_PER_SEC + st->st_mtim.tv_nsec;
	limit_ns = (int64_t)(o->ignore_older * (double)SL_NS_PER_SEC);
	return o->now_ns - mtime_ns > limit_ns;
}

/* A path reported by an earlier pattern of the same scan is not repeated. */
static bool seen_before(const glob_t *done, size_t n_done, const char *path)
{
	for (size_t g = 0; g < n_done; g++)
		for (size_t i = 0; i < done[g].gl_pathc; i++)
			if (strcmp(done[g].gl_pathv[i], path) == 0)
				return true;
	return false;
}

int tail_scan(const struct tail_scan_opts *o, tail_scan_fn fn, void *arg)
{
	glob_t *globs;
	size_t n_globs = 0;
	int count = 0, rc = 0;

	if (!o->paths || o->paths->n == 0)
		return 0;
	globs = calloc(o->paths->n, sizeof(*globs));
	if (!globs)
		return -SL_ENOMEM;
	for (size_t p = 0; p < o->paths->n && rc == 0; p++) {
		glob_t *g = &globs[n_globs];
		int grc =
		    glob(o->paths->v[p], GLOB_TILDE | GLOB_NOSORT, NULL, g);

		if (grc == GLOB_NOSPACE) {
			globfree(g);
			rc = -SL_ENOMEM;
			break;
		}
		if (grc != 0) { /* GLOB_NOMATCH, GLOB_ABORTED: nothing here */
			globfree(g);
			continue;
		}
		for (size_t i = 0; i < g->gl_pathc && rc == 0; i++) {
			const char *path = g->gl_pathv[i];
			struct stat st;

			if (tail_scan_excluded(o->excludes, path))
				continue;
			if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
				continue;
			if (too_old(o, &st))
				continue;
			if (seen_before(globs, n_globs, path))
				continue;
			rc = fn(arg, path, &st);
			if (rc == 0)
				count++;
		}
		n_globs++;
	}
	for (size_t g = 0; g < n_globs; g++)
		globfree(&globs[g]);
	free(globs);
	return rc < 0 ? rc : count;
}

int tail_tag_compose(const char *tag, const char *path, char **out,
		     size_t *out_len)
{
	const char *star = strchr(tag, '*');
	size_t tlen = strlen(tag), plen = strlen(path), n = 0;
	char *buf;

	buf = malloc(tlen + plen + 1);
	if (!buf)
		return -SL_ENOMEM;
	if (!star) {
		memcpy(buf, tag, tlen + 1);
		*out = buf;
		*out_len = tlen;
		return 0;
	}
	/* prefix, path, suffix; then sanitised in one pass */
	{
		size_t pre = (size_t)(star - tag);
		const char *parts[3] = {tag, path, star + 1};
		size_t lens[3] = {pre, plen, tlen - pre - 1};

		for (int k = 0; k < 3; k++) {
			for (size_t i = 0; i < lens[k]; i++) {
				char c = parts[k][i];

				if (c == '/' || c == '\\' || c == ':') {
					if (n == 0)
						continue;
					c = '.';
				}
				if (c == '*')
					continue;
				if (c == '.' && n > 0 && buf[n - 1] == '.')
					continue;
				buf[n++] = c;
			}
		}
	}
	if (n > 0 && buf[n - 1] == '.')
		n--;
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return 0;
}
