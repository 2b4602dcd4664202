/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube_cache.c - the metadata cache: a chained hash of entries keyed
 * "ns/pod" or "ns", bounded in count. Past the bound the least recently
 * used entry that no request is waiting for is evicted (a scan, only when
 * full). Engine thread only: no lock. TTLs are the caller's (kubernetes.c).
 */
#include "kube.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

double kube_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

int kube_cache_init(struct kube_cache *c, size_t max)
{
	memset(c, 0, sizeof(*c));
	c->max = max ? max : 1;
	c->n_buckets = 64;
	while (c->n_buckets < c->max && c->n_buckets < (1u << 20))
		c->n_buckets <<= 1;
	c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
	return c->buckets ? 0 : -SL_ENOMEM;
}

static void entry_free(struct kube_entry *e)
{
	free(e->key);
	kube_pod_destroy(e->pod);
	kube_namespace_destroy(e->nsm);
	free(e);
}

void kube_cache_destroy(struct kube_cache *c)
{
	if (!c->buckets)
		return;
	for (size_t i = 0; i < c->n_buckets; i++) {
		struct kube_entry *e = c->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			entry_free(e);
		}
	}
	free(c->buckets);
	memset(c, 0, sizeof(*c));
}

struct kube_entry *kube_cache_find(struct kube_cache *c, const char *key,
				   size_t len)
{
	struct kube_entry *e = c->buckets[hash(key, len) & (c->n_buckets - 1)];

	for (; e; e = e->next)
		if (strncmp(e->key, key, len) == 0 && e->key[len] == '\0') {
			e->used = ++c->clock;
			return e;
		}
	return NULL;
}

/*
 * Evicts the least recently used entry. One with a request in flight is
 * kept, since its answer would only be fetched again.
 */
static void evict_one(struct kube_cache *c)
{
	struct kube_entry **victim = NULL;

	for (size_t i = 0; i < c->n_buckets; i++)
		for (struct kube_entry **pe = &c->buckets[i]; *pe;
		     pe = &(*pe)->next)
			if (!(*pe)->asking &&
			    (!victim || (*pe)->used < (*victim)->used))
				victim = pe;
	if (victim) {
		struct kube_entry *e = *victim;

		*victim = e->next;
		entry_free(e);
		c->n--;
		c->gen++;
	}
}

struct kube_entry *kube_cache_add(struct kube_cache *c, const char *key,
				  size_t len, enum kube_kind kind)
{
	struct kube_entry *e;
	size_t b;

	if (c->n >= c->max)
		evict_one(c);
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = strndup(key, len);
	if (!e->key) {
		free(e);
		return NULL;
	}
	e->kind = kind;
	e->state = KUBE_PENDING;
	e->used = ++c->clock;
	b = hash(key, len) & (c->n_buckets - 1);
	e->next = c->buckets[b];
	c->buckets[b] = e;
	c->n++;
	return e;
}
