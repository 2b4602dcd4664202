/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_uuid.c - UUIDv4 and UUIDv7 (RFC 9562). v7 uses "method 1" of the RFC:
 * after the 48-bit millisecond timestamp, a 42-bit counter (the 12 bits of
 * rand_a and the top 30 bits of rand_b) seeded with random bits at each new
 * millisecond and incremented within one, then 32 random bits. The state is
 * process-wide under a mutex, so IDs increase across threads too.
 */
#include "sl_uuid.h"
#include "sl_common.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#define COUNTER_BITS 42
#define COUNTER_MAX  ((UINT64_C(1) << COUNTER_BITS) - 1)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* guarded by lock */
static uint8_t pool[256];
static size_t pool_pos = sizeof(pool);
static uint64_t last_ms, counter;
static uint64_t (*clock_fn)(void);

static uint64_t real_now_ms(void)
{
	return (uint64_t)(sl_now_ns() / 1000000);
}

/* Takes `n` random bytes from the pool, refilling it. Caller holds lock. */
static int take_random(uint8_t *out, size_t n)
{
	if (pool_pos + n > sizeof(pool)) {
		size_t got = 0;

		while (got < sizeof(pool)) {
			ssize_t r =
			    getrandom(pool + got, sizeof(pool) - got, 0);

			if (r < 0) {
				if (errno == EINTR)
					continue;
				return -SL_EIO;
			}
			got += (size_t)r;
		}
		pool_pos = 0;
	}
	memcpy(out, pool + pool_pos, n);
	/* used bytes are not kept around */
	memset(pool + pool_pos, 0, n);
	pool_pos += n;
	return 0;
}

int sl_uuid_v4(uint8_t out[SL_UUID_LEN])
{
	int rc;

	pthread_mutex_lock(&lock);
	rc = take_random(out, SL_UUID_LEN);
	pthread_mutex_unlock(&lock);
	if (rc < 0)
		return rc;
	out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
	out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
	return 0;
}

static uint64_t load_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int sl_uuid_v7(uint8_t out[SL_UUID_LEN])
{
	uint8_t rnd[10];
	uint64_t ms, ctr, tail;
	int rc;

	pthread_mutex_lock(&lock);
	rc = take_random(rnd, sizeof(rnd));
	if (rc < 0) {
		pthread_mutex_unlock(&lock);
		return rc;
	}
	ms =
	    (clock_fn ? clock_fn() : real_now_ms()) & ((UINT64_C(1) << 48) - 1);
	if (ms > last_ms) {
		last_ms = ms;
		/*
		 * A fresh seed with its top bit clear, so that at least 2^41
		 * IDs fit in this millisecond before the counter overflows.
		 */
		counter = load_be(rnd, 6) & (COUNTER_MAX >> 1);
	} else if (counter < COUNTER_MAX) {
		/* same millisecond, or the clock went back: keep order */
		counter++;
	} else {
		/* counter exhausted: borrow the next millisecond */
		last_ms++;
		counter = load_be(rnd, 6) & (COUNTER_MAX >> 1);
	}
	ms = last_ms;
	ctr = counter;
	pthread_mutex_unlock(&lock);

	tail = load_be(rnd + 6, 4); /* 32 random bits */
	for (int i = 0; i < 6; i++)
		out[i] = (uint8_t)(ms >> (40 - 8 * i));
	/* ver(4) | counter[41..30] (12) */
	out[6] = (uint8_t)(0x70 | ((ctr >> 38) & 0x0f));
	out[7] = (uint8_t)(ctr >> 30);
	/* var(2) | counter[29..0] (30) | random (32) */
	out[8] = (uint8_t)(0x80 | ((ctr >> 24) & 0x3f));
	out[9] = (uint8_t)(ctr >> 16);
	out[10] = (uint8_t)(ctr >> 8);
	out[11] = (uint8_t)ctr;
	for (int i = 0; i < 4; i++)
		out[12 + i] = (uint8_t)(tail >> (24 - 8 * i));
	return 0;
}

void sl_uuid_format(const uint8_t uuid[SL_UUID_LEN],
		    char out[SL_UUID_STR_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < SL_UUID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[uuid[i] >> 4];
		out[o++] = hex[uuid[i] & 0x0f];
	}
	out[o] = '\0';
}

int sl_uuid_v7_string(char out[SL_UUID_STR_LEN + 1])
{
	uint8_t u[SL_UUID_LEN];
	int rc = sl_uuid_v7(u);

	if (rc < 0)
		return rc;
	sl_uuid_format(u, out);
	return 0;
}

void sl_uuid_set_clock(uint64_t (*now_ms)(void))
{
	pthread_mutex_lock(&lock);
	clock_fn = now_ms;
	pthread_mutex_unlock(&lock);
}
