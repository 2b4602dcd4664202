/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_syslog.c - arbitrary bytes as a syslog TCP stream. The first two
 * bytes choose Buffer_Max_Size and the read size; the rest is framed once
 * whole and once piece by piece (RFC 6587), and both runs must give the
 * same messages and counts. Every message then goes through the RFC
 * 5424/3164 parser (with and without the structured-data map), whose
 * output must be one valid UTF-8 JSON object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../inputs/syslog/syslog_frame.h"
#include "../../inputs/syslog/syslog_parse.h"
#include "sl_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct sl_buf all; /* every message, each prefixed by its length */
	size_t max;
	uint64_t n;
};

static void check_parse(const char *msg, size_t len)
{
	static const struct syslog_parse_opts with = {.sd_key = "sd"};
	struct sl_buf out = {0};
	struct syslog_parsed res;
	struct sl_view v = {0};
	int64_t now = INT64_C(1796169600) * 1000000000; /* 2026-12-02 */

	for (int k = 0; k < 2; k++) {
		int rc =
		    syslog_parse(msg, len, now, k ? &with : NULL, &out, &res);

		if (rc == -SL_EPARSE) {
			if (out.len)
				abort(); /* nothing appended on error */
			continue;
		}
		if (rc < 0)
			break;
		if (!sl_utf8_valid(out.data, out.len))
			abort();
		rc = sl_view_build(&v, out.data, out.len);
		if (rc == -SL_EPARSE)
			abort();
		sl_buf_reset(&out);
	}
	sl_view_destroy(&v);
	sl_buf_destroy(&out);
}

static int collect(void *arg, const char *msg, size_t len)
{
	struct run *r = arg;

	if (len == 0 || len > r->max)
		abort();
	r->n++;
	if (sl_buf_append(&r->all, &len, sizeof(len)) < 0 ||
	    sl_buf_append(&r->all, msg, len) < 0)
		return -SL_ENOMEM;
	return 0;
}

static int frame(const char *in, size_t len, size_t step, size_t max,
		 struct run *r, struct syslog_framer *f)
{
	r->max = max;
	syslog_framer_init(f, max, 64);
	for (size_t off = 0; off < len;) {
		size_t n = len - off < step ? len - off : step;
		long used = syslog_framer_feed(f, in + off, n, collect, r);

		if (used < 0)
			return -1;
		if ((size_t)used != n)
			abort(); /* the callback never asked to stop */
		off += n;
	}
	return syslog_framer_finish(f, collect, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run a = {0}, b = {0};
	struct syslog_framer fa, fb;
	size_t max, step;
	const char *in;
	int ra, rb;

	if (size < 2)
		return 0;
	max = (size_t)data[0] * 8 + 1;
	step = (size_t)data[1] % 16 + 1;
	in = (const char *)data + 2;
	size -= 2;
	ra = frame(in, size, size ? size : 1, max, &a, &fa);
	rb = frame(in, size, step, max, &b, &fb);
	if (ra == 0 && rb == 0) {
		if (a.n != b.n || a.all.len != b.all.len ||
		    (a.all.len && memcmp(a.all.data, b.all.data, a.all.len)) ||
		    fa.oversize != fb.oversize || fa.truncated != fb.truncated)
			abort();
		for (size_t off = 0; off < a.all.len;) {
			size_t len;

			memcpy(&len, a.all.data + off, sizeof(len));
			off += sizeof(len);
			check_parse(a.all.data + off, len);
			off += len;
		}
	}
	/* a message on its own, unframed (a datagram) */
	check_parse(in, size);
	syslog_framer_destroy(&fa);
	syslog_framer_destroy(&fb);
	sl_buf_destroy(&a.all);
	sl_buf_destroy(&b.all);
	return 0;
}
