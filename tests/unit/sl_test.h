/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_test.h - unit-test harness: configure a filter plugin from key/value
 * pairs (through the real config map and init) and run JSON records through
 * it, the way the engine does.
 */
#ifndef SL_TEST_H
#define SL_TEST_H

#include "sl_conf.h"
#include "sl_instance.h"
#include "sl_parser.h"
#include "sl_record.h"

struct sl_test_filter {
	const struct sl_filter_plugin *plugin;
	struct sl_plugin_instance ins;
	struct sl_conf conf;
	struct sl_diag diag;
	struct sl_parsers *parsers;
	void *ctx;
	int init_rc;
	struct sl_record rec;
	char *out; /* last output body, owned */
};

/*
 * `kv` is "key", "value", ..., NULL. `parsers_file` (may be NULL) is the
 * path of a Parsers_File to load first. Returns NULL when configuration or
 * init failed; then *diag_out (if given) receives the messages joined by
 * newlines (caller frees).
 */
struct sl_test_filter *sl_test_filter_create(const struct sl_filter_plugin *p,
					     const char *const *kv,
					     const char *parsers_file,
					     char **diag_out);
/*
 * Runs one record; returns the verdict and sets tf->out to the resulting
 * body (NULL when dropped). A record that is not a JSON object is fed as a
 * lazy {"log": "<text>"} line record, as tail does.
 */
enum sl_filter_verdict sl_test_filter_run(struct sl_test_filter *tf,
					  const char *json);
void sl_test_filter_destroy(struct sl_test_filter *tf);

/* Writes `text` to a new temporary file and returns its malloc'd path. */
char *sl_test_write_temp(const char *text);

#endif
