/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_tail_db.c - arbitrary bytes as a tail offsets DB file (it is read
 * back at every start, after crashes, disk errors, hand edits). Whatever
 * loads must hold sane entries (offset >= 0, fingerprint <= 256 bytes, one
 * entry per inode) and survive a save: rendering and loading again gives
 * the same entries, names included.
 */
#include "sl_log.h"
#include "../../inputs/tail/tail_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int load(struct tail_db *db, const void *data, size_t size)
{
	FILE *fp;
	int rc;

	memset(db, 0, sizeof(*db));
	if (size == 0)
		return 0;
	fp = fmemopen((void *)data, size, "r");
	if (!fp)
		return -SL_ENOMEM;
	rc = tail_db_load(db, fp, "fuzz");
	fclose(fp);
	return rc;
}

static void check_sane(struct tail_db *db)
{
	for (size_t i = 0; i < db->n; i++) {
		const struct tail_db_entry *e = &db->e[i];

		if (e->offset < 0 || e->fp_len > TAIL_DB_FP_MAX || !e->name)
			abort();
		if (tail_db_find(db, e->ino) != e)
			abort(); /* a second entry for the same inode */
		if (!tail_db_has_name(db, e->name))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tail_db a, b;
	struct sl_buf text = {0};
	static int quiet;

	if (!quiet) {
		sl_log_set_level(SL_LOG_ERROR); /* one warning per bad line */
		quiet = 1;
	}
	if (load(&a, data, size) < 0) {
		tail_db_close(&a);
		return 0;
	}
	check_sane(&a);
	if (tail_db_render(&a, &text) == 0 &&
	    load(&b, text.data, text.len) == 0) {
		check_sane(&b);
		if (b.n != a.n)
			abort();
		for (size_t i = 0; i < a.n; i++) {
			const struct tail_db_entry *x = &a.e[i];
			const struct tail_db_entry *y =
			    tail_db_find(&b, x->ino);

			if (!y || y->offset != x->offset ||
			    y->fp_len != x->fp_len || y->fp != x->fp ||
			    strcmp(y->name, x->name) != 0)
				abort();
		}
		tail_db_close(&b);
	}
	sl_buf_destroy(&text);
	tail_db_close(&a);
	return 0;
}
