/* SPDX-License-Identifier: Apache-2.0 */
/*
 * syslog_frame.h - RFC 6587 framing of a syslog byte stream, one framer
 * per connection. Each frame is read the way its first byte says (RFC 6587
 * 3.4): a digit starts octet counting ("LEN SP MSG"), anything else a
 * message ended by LF, NUL or CRLF (non-transparent framing), so a sender
 * may use either and even switch. A message over `max` bytes is skipped to
 * its end and counted, and the next message is read normally. Pure: bytes
 * in, messages out through a callback; no sockets.
 */
#ifndef SYSLOG_FRAME_H
#define SYSLOG_FRAME_H

#include "sl_common.h"

#include <stdbool.h>
#include <stdint.h>

enum syslog_frame_state {
	SYSLOG_FR_START = 0, /* between frames */
	SYSLOG_FR_LEN,	     /* reading MSG-LEN digits */
	SYSLOG_FR_OCTETS,    /* reading `want` bytes of an octet frame */
	SYSLOG_FR_LINE,	     /* reading up to LF or NUL */
	SYSLOG_FR_SKIP,	     /* dropping `want` bytes of an oversize frame */
	SYSLOG_FR_SKIP_LINE, /* dropping an oversize line up to its end */
};

struct syslog_framer {
	size_t max;  /* longest message kept (Buffer_Max_Size) */
	size_t keep; /* buffer capacity kept between messages */
	enum syslog_frame_state state;
	uint64_t want;	    /* octets still expected / to skip */
	struct sl_buf buf;  /* owned: the message being assembled */
	uint64_t oversize;  /* messages skipped for their size */
	uint64_t truncated; /* octet frames the stream ended inside */
	uint64_t octet_frames, line_frames;
};

/*
 * Called with each complete message (borrowed until it returns; never
 * empty). Return 0 to go on, 1 to stop feeding after this message (the
 * input is paused), or -SL_ENOMEM.
 */
typedef int (*syslog_frame_fn)(void *arg, const char *msg, size_t len);

/* `max`: longest message; `keep`: buffer capacity kept between messages
 * (Buffer_Chunk_Size), so one large message does not pin its memory. */
void syslog_framer_init(struct syslog_framer *f, size_t max, size_t keep);
void syslog_framer_destroy(struct syslog_framer *f);

/*
 * Feeds `len` bytes. Returns the bytes consumed (less than `len` only when
 * the callback asked to stop; feed the rest later), or -SL_ENOMEM.
 */
long syslog_framer_feed(struct syslog_framer *f, const char *data, size_t len,
			syslog_frame_fn fn, void *arg);

/* The stream ended: a line without its LF is still a message (RFC 6587
 * 3.4.2 lets the last one end with the connection); a cut octet frame is
 * not (it is counted in `truncated`). */
int syslog_framer_finish(struct syslog_framer *f, syslog_frame_fn fn,
			 void *arg);

#endif
