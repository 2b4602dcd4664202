/* SPDX-License-Identifier: Apache-2.0 */
/* sl_diag.c - collected configuration diagnostics. */
#include "sl_diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void sl_diag_add(struct sl_diag *d, const char *file, int line, const char *fmt,
		 ...)
{
	char msg[1024], *full;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (file && line > 0)
		n = asprintf(&full, "%s:%d: %s", file, line, msg);
	else if (file)
		n = asprintf(&full, "%s: %s", file, msg);
	else
		n = asprintf(&full, "sluice: %s", msg);
	if (n < 0) {
		d->oom = 1;
		return;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		char **p = realloc(d->msgs, cap * sizeof(*p));

		if (!p) {
			free(full);
			d->oom = 1;
			return;
		}
		d->msgs = p;
		d->cap = cap;
	}
	d->msgs[d->n++] = full;
}

void sl_diag_print(const struct sl_diag *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(out, "%s\n", d->msgs[i]);
	if (d->oom)
		fprintf(out, "sluice: out of memory while reporting errors\n");
}

void sl_diag_destroy(struct sl_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	memset(d, 0, sizeof(*d));
}
