/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tail_wd.c - watch descriptor to followed file, a sorted array. The kernel
 * hands out watch descriptors in increasing order, so an add is almost
 * always an append; removals (a file let go) memmove, which is rare.
 */
#include "tail_wd.h"

#include <stdlib.h>
#include <string.h>

void tail_wd_init(struct tail_wd_map *m)
{
	m->v = NULL;
	m->n = m->cap = 0;
}

void tail_wd_destroy(struct tail_wd_map *m)
{
	free(m->v);
	tail_wd_init(m);
}

/* The first index whose wd is >= `wd`. */
static size_t lower_bound(const struct tail_wd_map *m, int wd)
{
	size_t lo = 0, hi = m->n;

	if (m->n > 0 && m->v[m->n - 1].wd < wd)
		return m->n; /* the usual case: a new, larger wd */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int tail_wd_add(struct tail_wd_map *m, int wd, struct tail_file *f)
{
	size_t i = lower_bound(m, wd);

	if (i < m->n && m->v[i].wd == wd) {
		m->v[i].file = f;
		return 0;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct tail_wd_ent *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return -SL_ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i].wd = wd;
	m->v[i].file = f;
	m->n++;
	return 0;
}

void tail_wd_remove(struct tail_wd_map *m, int wd, const struct tail_file *f)
{
	size_t i = lower_bound(m, wd);

	if (i >= m->n || m->v[i].wd != wd || m->v[i].file != f)
		return;
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
	m->n--;
}

struct tail_file *tail_wd_find(const struct tail_wd_map *m, int wd)
{
	size_t i = lower_bound(m, wd);

	return i < m->n && m->v[i].wd == wd ? m->v[i].file : NULL;
}
