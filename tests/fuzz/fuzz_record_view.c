/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_record_view.c - arbitrary bytes as a record body: reset_json, then
 * (when accepted) every field walked and read as text, and a few edits whose
 * result must still be a valid, UTF-8 clean JSON object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_body(struct sl_record *rec)
{
	struct sl_view v = {0};
	size_t len;
	const char *b = sl_record_body(rec, &len);

	if (!b)
		return; /* out of memory */
	if (!sl_utf8_valid(b, len) || sl_view_build(&v, b, len) != 0)
		abort();
	sl_view_destroy(&v);
}

static void walk(struct sl_record *rec, struct sl_text *scratch)
{
	const char *key, *text;
	size_t key_len, len, pos = 0;
	struct sl_value v;

	while (sl_record_next_field(rec, &pos, scratch, &key, &key_len, &v) ==
	       1) {
		struct sl_accessor *acc;
		const char *err;
		char *name = malloc(key_len + 1);

		if (!name)
			return;
		memcpy(name, key, key_len);
		name[key_len] = '\0';
		/* keys holding NUL cannot be named by an accessor */
		acc = strlen(name) == key_len && key_len
			  ? sl_accessor_create(name, &err)
			  : NULL;
		if (acc) {
			if (sl_record_get_text(rec, acc, scratch, &text,
					       &len) == 0 &&
			    !sl_utf8_valid(text, len))
				abort();
			sl_accessor_destroy(acc);
		}
		free(name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_record rec;
	struct sl_text scratch = {0};
	const char *text = (const char *)data;
	size_t pos = 0, key_len;
	const char *key;
	struct sl_value v;
	char first[64];

	sl_record_init(&rec);
	if (sl_record_reset_json(&rec, 1, text, size) == 0) {
		check_body(&rec);
		walk(&rec, &scratch);
		/* edits on the first key, then on new ones */
		if (sl_record_next_field(&rec, &pos, &scratch, &key, &key_len,
					 &v) == 1) {
			size_t n =
			    key_len < sizeof(first) ? key_len : sizeof(first);

			memcpy(first, key, n);
			sl_record_set(&rec, first, n, "[1,{\"x\":null}]", 14);
			check_body(&rec);
			sl_record_rename(&rec, first, n, "renamed", 7);
			check_body(&rec);
			sl_record_remove(&rec, "renamed", 7);
			check_body(&rec);
		}
		sl_record_set_string(&rec, "new", 3, text, size);
		check_body(&rec);
		walk(&rec, &scratch);
	}
	/* the same bytes as a plain line */
	sl_record_reset_line(&rec, 2, "log", 3, text, size);
	check_body(&rec);
	if (sl_record_replace_json(&rec, text, size) == 0)
		check_body(&rec);
	sl_record_destroy(&rec);
	free(scratch.buf);
	return 0;
}
