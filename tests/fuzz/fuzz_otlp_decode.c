/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_otlp_decode.c - arbitrary bytes as an OTLP/HTTP logs body: the
 * first byte chooses protobuf (even) or OTLP/JSON (odd), the rest is the
 * body. Decoded requests are turned into records. Promises checked: no
 * crash or leak whatever the body, and every record the decoder makes is a
 * valid sluice record (a JSON object within the nesting limit).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../inputs/opentelemetry/otlp_decode.h"
#include "sl_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_record(void *arg, int64_t ts, const char *json, size_t len)
{
	struct sl_record *rec = arg;
	int rc = sl_record_reset_json(rec, ts, json, len);

	if (rc < 0 && rc != -SL_ENOMEM)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct otlp_arena a = {0};
	struct sl_record rec;
	otlp_request *req = NULL;

	if (size < 1)
		return 0;
	sl_record_init(&rec);
	if (otlp_decode_request(&a, (const char *)data + 1, size - 1,
				data[0] & 1, &req) == 0)
		(void)otlp_request_records(req, "otlp", "log", 1, on_record,
					   &rec);
	otlp_arena_free(&a);
	sl_record_destroy(&rec);
	return 0;
}
