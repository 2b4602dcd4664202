/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_uuid.h - RFC 9562 UUIDs: version 4 (random) and version 7 (Unix
 * milliseconds + random), the latter strictly increasing within a process
 * (a 42-bit counter seeded randomly each millisecond). Random bits come from
 * the kernel (getrandom), drawn in blocks so that a call rarely enters it.
 * Does not parse UUIDs.
 */
#ifndef SL_UUID_H
#define SL_UUID_H

#include <stdint.h>

#define SL_UUID_LEN	16
#define SL_UUID_STR_LEN 36 /* without the terminating NUL */

/* Fill `out` with a new UUID. Return 0 or -SL_EIO (no random source). */
int sl_uuid_v4(uint8_t out[SL_UUID_LEN]);
int sl_uuid_v7(uint8_t out[SL_UUID_LEN]);

/* Lower-case 8-4-4-4-12 text into `out` (SL_UUID_STR_LEN + 1 bytes). */
void sl_uuid_format(const uint8_t uuid[SL_UUID_LEN],
		    char out[SL_UUID_STR_LEN + 1]);

/* Both in one step: the text form of a new v7 UUID. */
int sl_uuid_v7_string(char out[SL_UUID_STR_LEN + 1]);

/*
 * Test hook: the millisecond clock v7 reads (NULL restores the real one).
 * Not thread-safe against concurrent sl_uuid_v7 calls.
 */
void sl_uuid_set_clock(uint64_t (*now_ms)(void));

#endif
