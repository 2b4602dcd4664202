/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_worker.c - an output's worker threads. Each takes the next queued
 * flush, runs the plugin's flush on it with the thread's own state, and
 * the plugin reports through sl_flush_done(), which posts the result back
 * to the engine thread. Workers never touch engine state directly.
 */
#include "sl_engine_int.h"

#include <stdlib.h>
#include <string.h>

struct sl_worker_pool {
	struct sl_output *out;
	int n;
	pthread_t *threads;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sl_flush *head, *tail;
	bool stop;
};

struct sl_worker_pool *sl_worker_pool_create(struct sl_output *out, int n)
{
	struct sl_worker_pool *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return NULL;
	pool->threads = calloc((size_t)n, sizeof(pthread_t));
	if (!pool->threads) {
		free(pool);
		return NULL;
	}
	pool->out = out;
	pool->n = n;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	return pool;
}

static struct sl_flush *next_flush(struct sl_worker_pool *pool)
{
	struct sl_flush *fl;

	pthread_mutex_lock(&pool->lock);
	while (!pool->head && !pool->stop)
		pthread_cond_wait(&pool->cond, &pool->lock);
	fl = pool->head;
	if (fl && !pool->stop) {
		pool->head = fl->next;
		if (!pool->head)
			pool->tail = NULL;
		fl->next = NULL;
	} else {
		fl = NULL;
	}
	pthread_mutex_unlock(&pool->lock);
	return fl;
}

static void *worker_main(void *arg)
{
	struct sl_worker_pool *pool = arg;
	struct sl_output *out = pool->out;
	void *state = NULL;
	struct sl_flush *fl;

	if (out->plugin->worker_init &&
	    out->plugin->worker_init(out->ctx, &state) < 0) {
		sl_log(SL_LOG_ERROR, out->ins.name,
		       "worker could not start; its flushes will be retried");
		state = NULL;
	}
	while ((fl = next_flush(pool)))
		out->plugin->flush(out->ctx, state, fl);
	if (out->plugin->worker_exit)
		out->plugin->worker_exit(out->ctx, state);
	return NULL;
}

int sl_worker_pool_start(struct sl_worker_pool *pool)
{
	for (int i = 0; i < pool->n; i++) {
		if (pthread_create(&pool->threads[i], NULL, worker_main,
				   pool)) {
			sl_log(SL_LOG_ERROR, pool->out->ins.name,
			       "cannot start worker thread %d", i);
			return -SL_EIO;
		}
		pool->started++;
	}
	return 0;
}

void sl_worker_pool_push(struct sl_worker_pool *pool, struct sl_flush *fl)
{
	fl->next = NULL;
	pthread_mutex_lock(&pool->lock);
	if (pool->tail)
		pool->tail->next = fl;
	else
		pool->head = fl;
	pool->tail = fl;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

void sl_worker_pool_quiesce(struct sl_worker_pool *pool)
{
	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stop = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

void sl_worker_pool_destroy(struct sl_worker_pool *pool)
{
	struct sl_flush *fl, *next;

	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stop = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (int i = 0; i < pool->started; i++)
		pthread_join(pool->threads[i], NULL);
	/* Flushes never started go back to the engine as retries. */
	for (fl = pool->head; fl; fl = next) {
		next = fl->next;
		fl->unstarted = true;
		sl_flush_done(fl, SL_FLUSH_RETRY);
	}
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->cond);
	free(pool->threads);
	free(pool);
}
