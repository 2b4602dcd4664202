/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_witness_body.c - arbitrary bytes as an HTTP input body through the
 * splitter, in each format. A success must yield items inside the input
 * that each become a record (the all-or-nothing promise: what the splitter
 * accepts, the emit loop cannot refuse); a failure must name a reason.
 * The witness signature check runs on the same bytes as a header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../inputs/witness/witness_auth.h"
#include "sl_http_body.h"
#include "sl_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum sl_http_body_format fmts[] = {
	    SL_BODY_AUTO, SL_BODY_JSON, SL_BODY_NDJSON};
	const char *text = (const char *)data;
	struct sl_http_body b;
	struct sl_record rec;
	char *hdr;

	sl_http_body_init(&b);
	sl_record_init(&rec);
	for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		int rc = sl_http_body_split(&b, text, size, fmts[f]);

		if (rc == -SL_ENOMEM)
			continue;
		if (rc < 0) {
			if (!b.error || b.n != 0)
				abort();
			continue;
		}
		for (size_t i = 0; i < b.n; i++) {
			if (b.items[i].off + b.items[i].len > size ||
			    b.items[i].len == 0)
				abort();
			rc = sl_record_reset_json(
			    &rec, 0, text + b.items[i].off, b.items[i].len);
			if (rc < 0 && rc != -SL_ENOMEM)
				abort();
		}
	}
	hdr = malloc(size + 1);
	if (hdr) {
		memcpy(hdr, data, size);
		hdr[size] = '\0';
		if (sl_witness_signature_check("k", 1, hdr, text, size) ==
		    SL_WITNESS_SIG_OK)
			abort(); /* a forged signature from random bytes */
		free(hdr);
	}
	sl_record_destroy(&rec);
	sl_http_body_destroy(&b);
	return 0;
}
