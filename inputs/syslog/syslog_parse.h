/* SPDX-License-Identifier: Apache-2.0 */
/*
 * syslog_parse.h - one syslog message (already framed) to a JSON object:
 * RFC 5424 when the message says version 1, else RFC 3164 with the vendor
 * variants seen in the field (no hostname, <PRI> only, Cisco sequence
 * numbers and '*' markers, ISO timestamps, year-less dates, a year after the
 * day). Pure functions over bytes: no sockets, no clock (the caller passes
 * "now" for year-less dates), so unit tests and the fuzz target drive it.
 */
#ifndef SYSLOG_PARSE_H
#define SYSLOG_PARSE_H

#include "sl_common.h"

#include <stdbool.h>
#include <stdint.h>

struct syslog_parse_opts {
	/* RFC 5424 structured data also as a map {SD-ID: {PARAM: VALUE}}
	 * under this key (borrowed); NULL: only the `extradata` string */
	const char *sd_key;
};

struct syslog_parsed {
	int64_t ts_ns; /* the message's own time, 0 when it has none */
	bool repaired; /* invalid UTF-8 was replaced by U+FFFD */
	bool rfc5424;  /* parsed as RFC 5424 (else RFC 3164 rules) */
};

/*
 * Appends to `out` the JSON object of `msg` (borrowed) with Fluent Bit's
 * field names: pri, time, host, ident, pid, msgid, extradata, message
 * (strings, as its regex parsers give them; a field the message lacks is
 * absent) and `seq` for a Cisco sequence number. `now_ns` chooses the year
 * of a date written without one (the year that puts it closest before
 * now + 31 days). Returns 0, -SL_EPARSE when the text does not start with
 * a valid <PRI> (nothing appended), or -SL_ENOMEM (`out` as it was).
 */
int syslog_parse(const char *msg, size_t len, int64_t now_ns,
		 const struct syslog_parse_opts *opts, struct sl_buf *out,
		 struct syslog_parsed *res);

/*
 * An RFC 3339 time "YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm)" at the start of
 * [s, s+len) as ns since the epoch. With `zone_optional` a time without
 * offset is taken as UTC. Returns the bytes used, or 0 when it is not one.
 */
size_t syslog_parse_rfc3339(const char *s, size_t len, bool zone_optional,
			    int64_t *ns);

#endif
