/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_forward_decode.c - arbitrary bytes as what a forward client sends:
 * framed message by message under a limit (as one connection does), each
 * unpacked, checked as a PING, classified and its entries decoded, each
 * record's JSON made a sluice record. Promises checked: the framer agrees
 * with msgpack-c on where an object ends and gives the same answer fed in
 * two pieces; every JSON the decoder makes is a valid record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../inputs/forward/forward_auth.h"
#include "../../inputs/forward/forward_decode.h"
#include "sl_record.h"

#define LIMIT (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	struct sl_buf json;
	struct sl_record rec;
};

static int on_entry(void *arg, int64_t ts, const msgpack_object *record)
{
	struct fz *z = arg;
	int rc;

	sl_buf_reset(&z->json);
	rc = fwd_json_append(&z->json, record);
	if (rc == -SL_ENOMEM || rc == -SL_ETOOBIG)
		return 0;
	if (rc < 0)
		abort();
	rc = sl_record_reset_json(&z->rec, ts, z->json.data, z->json.len);
	/* the decoder's JSON is always a valid object */
	if (rc < 0 && rc != -SL_ENOMEM && rc != -SL_ETOOBIG)
		abort();
	return 0;
}

static void one(struct fz *z, const char *p, size_t n)
{
	static const uint8_t nonce[FWD_NONCE_SIZE], salt[FWD_SALT_SIZE];
	struct fwd_auth auth = {.shared_key = "k", .self_hostname = "h"};
	msgpack_unpacked u;
	struct fwd_message m;
	struct fwd_entry_stats st = {0};
	struct sl_buf scratch = {0};
	const char *cs;
	size_t cs_len, used = 0;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, p, n, &used) == MSGPACK_UNPACK_SUCCESS) {
		if (used != n)
			abort(); /* the framer and msgpack-c disagree */
		(void)fwd_ping_check(&auth, &u.data, nonce, salt, &cs, &cs_len);
		if (fwd_message_parse(&u.data, &m) == 0)
			(void)fwd_entries(&m, &scratch, LIMIT, on_entry, z,
					  &st);
	}
	msgpack_unpacked_destroy(&u);
	sl_buf_destroy(&scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = {0};
	size_t off = 0;

	sl_record_init(&z.rec);
	while (off < size) {
		struct fwd_framer f, g;
		size_t n = 0, n2 = 0, half = (size - off) / 2;
		uint64_t owed = 0;
		enum fwd_frame_result r, r2;

		fwd_framer_reset(&f);
		r = fwd_frame(&f, data + off, size - off, &n, &owed);
		/* the same bytes in two pieces: the same answer */
		fwd_framer_reset(&g);
		r2 = fwd_frame(&g, data + off, half, &n2, NULL);
		if (r2 == FWD_FRAME_MORE)
			r2 = fwd_frame(&g, data + off, size - off, &n2, NULL);
		if (r2 != r || (r == FWD_FRAME_DONE && n2 != n))
			abort();
		if (r != FWD_FRAME_DONE || n > LIMIT)
			break; /* a connection would be refused or wait */
		one(&z, (const char *)data + off, n);
		off += n;
	}
	sl_record_destroy(&z.rec);
	sl_buf_destroy(&z.json);
	return 0;
}
