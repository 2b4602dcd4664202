/* SPDX-License-Identifier: Apache-2.0 */
/* sl_buf.c - the growable byte buffer of sluice_plugin.h. */
#include "sl_common.h"

#include <stdlib.h>
#include <string.h>

int sl_buf_reserve(struct sl_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return -SL_ENOMEM;
	need = b->len + extra + 1; /* +1 keeps room for a NUL terminator */
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return -SL_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int sl_buf_append(struct sl_buf *b, const void *data, size_t len)
{
	if (sl_buf_reserve(b, len) < 0)
		return -SL_ENOMEM;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

void sl_buf_reset(struct sl_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void sl_buf_destroy(struct sl_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
