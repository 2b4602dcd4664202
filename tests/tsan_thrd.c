/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsan_thrd.c - linked only into the ThreadSanitizer build. librdkafka
 * starts its threads with C11 thrd_create(), which glibc >= 2.34 implements
 * by calling its internal pthread_create directly; clang 14's TSan runtime
 * does not intercept thrd_create, so those threads run without TSan thread
 * state and the first allocation on them crashes the runtime ("CHECK failed:
 * thr->slot != 0"). This definition interposes glibc's: it starts the thread
 * through the intercepted pthread_create, and returns the int result as the
 * pointer value glibc's thrd_join() expects ((void *)(uintptr_t)res).
 * The same holds for C11 mutexes, condition variables, thrd_join and
 * thrd_detach: glibc forwards them to internal pthread calls TSan cannot
 * see, so librdkafka's locking would look like no locking at all, and every
 * object handed between its threads (and sluice's delivery callbacks) would
 * be reported as a race.
 * glibc's mtx_t, cnd_t and once_flag are its pthread types under other
 * names, so each call maps one to one onto the intercepted pthread call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

static int tsan_thrd_rc(int rc);

struct tsan_thrd_start {
	thrd_start_t func;
	void *arg;
};

static void *tsan_thrd_trampoline(void *p)
{
	struct tsan_thrd_start s = *(struct tsan_thrd_start *)p;

	free(p);
	return (void *)(uintptr_t)(unsigned)s.func(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
	struct tsan_thrd_start *s = malloc(sizeof(*s));
	int rc;

	if (!s)
		return thrd_nomem;
	s->func = func;
	s->arg = arg;
	rc = pthread_create(thr, NULL, tsan_thrd_trampoline, s);
	if (rc != 0) {
		free(s);
		return tsan_thrd_rc(rc);
	}
	return thrd_success;
}

static int tsan_thrd_rc(int rc)
{
	switch (rc) {
	case 0:
		return thrd_success;
	case EBUSY:
		return thrd_busy;
	case ETIMEDOUT:
		return thrd_timedout;
	case ENOMEM:
	case EAGAIN:
		return thrd_nomem;
	default:
		return thrd_error;
	}
}

int thrd_join(thrd_t thr, int *res)
{
	void *r = NULL;
	int rc = pthread_join(thr, &r);

	if (rc == 0 && res)
		*res = (int)(uintptr_t)r;
	return tsan_thrd_rc(rc);
}

/* also through TSan: a detached thread it thinks joinable is a "leak" */
int thrd_detach(thrd_t thr)
{
	return tsan_thrd_rc(pthread_detach(thr));
}

int mtx_init(mtx_t *m, int type)
{
	pthread_mutexattr_t a;
	int rc;

	pthread_mutexattr_init(&a);
	if (type & mtx_recursive)
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	rc = pthread_mutex_init((pthread_mutex_t *)m, &a);
	pthread_mutexattr_destroy(&a);
	return tsan_thrd_rc(rc);
}

int mtx_lock(mtx_t *m)
{
	return tsan_thrd_rc(pthread_mutex_lock((pthread_mutex_t *)m));
}

int mtx_trylock(mtx_t *m)
{
	return tsan_thrd_rc(pthread_mutex_trylock((pthread_mutex_t *)m));
}

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
	return tsan_thrd_rc(pthread_mutex_timedlock((pthread_mutex_t *)m, ts));
}

int mtx_unlock(mtx_t *m)
{
	return tsan_thrd_rc(pthread_mutex_unlock((pthread_mutex_t *)m));
}

void mtx_destroy(mtx_t *m)
{
	pthread_mutex_destroy((pthread_mutex_t *)m);
}

int cnd_init(cnd_t *c)
{
	return tsan_thrd_rc(pthread_cond_init((pthread_cond_t *)c, NULL));
}

int cnd_signal(cnd_t *c)
{
	return tsan_thrd_rc(pthread_cond_signal((pthread_cond_t *)c));
}

int cnd_broadcast(cnd_t *c)
{
	return tsan_thrd_rc(pthread_cond_broadcast((pthread_cond_t *)c));
}

int cnd_wait(cnd_t *c, mtx_t *m)
{
	return tsan_thrd_rc(
	    pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
		  const struct timespec *restrict ts)
{
	return tsan_thrd_rc(pthread_cond_timedwait((pthread_cond_t *)c,
						   (pthread_mutex_t *)m, ts));
}

void cnd_destroy(cnd_t *c)
{
	pthread_cond_destroy((pthread_cond_t *)c);
}

void call_once(once_flag *flag, void (*func)(void))
{
	pthread_once((pthread_once_t *)flag, func);
}
