/* SPDX-License-Identifier: Apache-2.0 */
/*
 * syslog_frame.c - the RFC 6587 framer: a small state machine fed whatever
 * a read returned (one byte or a megabyte), so a slow sender and a fast
 * one produce the same messages. Lines end at LF or NUL (a CR before the
 * LF is dropped); octet frames are "MSG-LEN SP MSG", MSG-LEN without a
 * leading zero. Digits not followed by SP were not a length: they are the
 * start of a line.
 */
#include "syslog_frame.h"

#include <stdlib.h>
#include <string.h>

/* MSG-LEN digits beyond this are not a length (10^12 bytes) */
#define LEN_DIGITS_MAX 12

void syslog_framer_init(struct syslog_framer *f, size_t max, size_t keep)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
	f->keep = keep;
}

void syslog_framer_destroy(struct syslog_framer *f)
{
	sl_buf_destroy(&f->buf);
	f->state = SYSLOG_FR_START;
}

/* Hands the assembled message over and gets ready for the next frame. */
static int deliver(struct syslog_framer *f, syslog_frame_fn fn, void *arg)
{
	int rc = 0;

	if (f->buf.len)
		rc = fn(arg, f->buf.data, f->buf.len);
	f->state = SYSLOG_FR_START;
	f->want = 0;
	sl_buf_reset(&f->buf);
	/* one 1 MB message must not keep 1 MB per connection */
	if (f->buf.cap > f->keep)
		sl_buf_destroy(&f->buf);
	return rc;
}

static bool is_end(char c)
{
	return c == '\n' || c == '\0';
}

long syslog_framer_feed(struct syslog_framer *f, const char *data, size_t len,
			syslog_frame_fn fn, void *arg)
{
	size_t i = 0;
	int rc;

	while (i < len) {
		char c = data[i];

		switch (f->state) {
		case SYSLOG_FR_START:
			if (is_end(c) || c == '\r' || c == ' ') {
				i++; /* frame separators and padding */
				break;
			}
			if (c >= '1' && c <= '9') {
				f->state = SYSLOG_FR_LEN;
				f->want = 0;
			} else {
				f->state = SYSLOG_FR_LINE;
			}
			break;
		case SYSLOG_FR_LEN:
			if (c >= '0' && c <= '9' &&
			    f->buf.len < LEN_DIGITS_MAX) {
				f->want = f->want * 10 + (uint64_t)(c - '0');
				if (sl_buf_append(&f->buf, &c, 1) < 0)
					return -SL_ENOMEM;
				i++;
				break;
			}
			if (c != ' ') {
				/* not a length: these digits begin a line */
				f->state = SYSLOG_FR_LINE;
				break;
			}
			i++;
			sl_buf_reset(&f->buf);
			f->octet_frames++;
			if (f->want > f->max) {
				f->oversize++;
				f->state = SYSLOG_FR_SKIP;
			} else {
				f->state = SYSLOG_FR_OCTETS;
			}
			break;
		case SYSLOG_FR_OCTETS: {
			size_t n = len - i;

			if (n > f->want)
				n = (size_t)f->want;
			if (sl_buf_append(&f->buf, data + i, n) < 0)
				return -SL_ENOMEM;
			i += n;
			f->want -= n;
			if (f->want == 0 && (rc = deliver(f, fn, arg)) != 0)
				return rc < 0 ? rc : (long)i;
			break;
		}
		case SYSLOG_FR_SKIP: {
			size_t n = len - i;

			if (n > f->want)
				n = (size_t)f->want;
			i += n;
			f->want -= n;
			if (f->want == 0)
				f->state = SYSLOG_FR_START;
			break;
		}
		case SYSLOG_FR_LINE: {
			size_t n = 0;
			bool ended;

			while (i + n < len && !is_end(data[i + n]))
				n++;
			ended = i + n < len;
			/* max + 1: room for the CR of a CRLF, taken off below
			 */
			if (f->buf.len + n > f->max + 1) {
				f->oversize++;
				sl_buf_reset(&f->buf);
				f->state = SYSLOG_FR_SKIP_LINE;
				break;
			}
			if (sl_buf_append(&f->buf, data + i, n) < 0)
				return -SL_ENOMEM;
			i += n;
			if (!ended)
				break;
			i++; /* the LF or NUL */
			f->line_frames++;
			if (f->buf.len && f->buf.data[f->buf.len - 1] == '\r')
				f->buf.len--;
			if (f->buf.len > f->max) {
				f->oversize++;
				sl_buf_reset(&f->buf);
				f->state = SYSLOG_FR_START;
				break;
			}
			if ((rc = deliver(f, fn, arg)) != 0)
				return rc < 0 ? rc : (long)i;
			break;
		}
		case SYSLOG_FR_SKIP_LINE: {
			const char *nl = memchr(data + i, '\n', len - i);
			const char *nul = memchr(data + i, '\0', len - i);
			const char *e = nl && (!nul || nl < nul) ? nl : nul;

			if (!e) {
				i = len;
				break;
			}
			i = (size_t)(e - data) + 1;
			f->state = SYSLOG_FR_START;
			break;
		}
		}
	}
	return (long)len;
}

int syslog_framer_finish(struct syslog_framer *f, syslog_frame_fn fn, void *arg)
{
	int rc = 0;

	switch (f->state) {
	case SYSLOG_FR_LINE:
	case SYSLOG_FR_LEN: /* digits only: a (strange) line */
		f->line_frames++;
		if (f->buf.len && f->buf.data[f->buf.len - 1] == '\r')
			f->buf.len--;
		if (f->buf.len > f->max)
			f->oversize++;
		else
			rc = deliver(f, fn, arg);
		break;
	case SYSLOG_FR_OCTETS:
		f->truncated++;
		break;
	default:
		break;
	}
	f->state = SYSLOG_FR_START;
	sl_buf_destroy(&f->buf);
	return rc < 0 ? rc : 0;
}
