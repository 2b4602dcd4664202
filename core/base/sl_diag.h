/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_diag.h - a list of configuration diagnostics, each "FILE:LINE: message".
 * Loading a config collects every problem here instead of stopping at the
 * first, so that a user fixes them all in one round.
 */
#ifndef SL_DIAG_H
#define SL_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct sl_diag {
	char **msgs; /* owned, each "FILE:LINE: message" or "FILE: message" */
	size_t n, cap;
	int oom; /* set when a message could not be stored */
};

/* file may be NULL (then "sluice: message"); line <= 0 omits the line. */
void sl_diag_add(struct sl_diag *d, const char *file, int line, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));
/* Prints each message on its own line. */
void sl_diag_print(const struct sl_diag *d, FILE *out);
void sl_diag_destroy(struct sl_diag *d);
static inline size_t sl_diag_count(const struct sl_diag *d)
{
	return d->n + (d->oom ? 1 : 0);
}

#endif
