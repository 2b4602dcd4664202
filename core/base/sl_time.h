/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_time.h - event time parsing for [PARSER] Time_Format: a strptime-like
 * parser (with Fluent Bit's %L fractions and %z offsets) that needs no
 * locale and no TZ state, plus sluice's epoch, epoch_ms, epoch_us and
 * epoch_ns formats. Results are nanoseconds since the epoch, UTC.
 * It does not format times (see sl_format.c).
 */
#ifndef SL_TIME_H
#define SL_TIME_H

#include "sl_common.h"

#include <stdbool.h>

enum sl_time_kind {
	SL_TIME_STRPTIME = 0, /* a %-format */
	SL_TIME_EPOCH,	      /* seconds, fraction allowed */
	SL_TIME_EPOCH_MS,
	SL_TIME_EPOCH_US,
	SL_TIME_EPOCH_NS,
};

struct sl_tz; /* an IANA zone read from /usr/share/zoneinfo */

/* A compiled Time_Format with the options that decide its zone. */
struct sl_time_fmt {
	char *fmt; /* owned copy of the %-format (STRPTIME) */
	enum sl_time_kind kind;
	bool has_year;	  /* %Y, %y or %s: else the current year is used */
	bool has_zone;	  /* %z, %Z, or a literal Z after %S/%L */
	int32_t offset;	  /* Time_Offset seconds, for texts without zone */
	bool system_tz;	  /* Time_System_Timezone: local rules */
	struct sl_tz *tz; /* Time_Zone (owned), or NULL */
};

/*
 * Compiles `fmt` (copied): "epoch", "epoch_ms", "epoch_us", "epoch_ns" or a
 * %-format. Returns 0, -SL_EINVAL with *err set to a static message for an
 * unsupported conversion, or -SL_ENOMEM.
 */
int sl_time_fmt_init(struct sl_time_fmt *tf, const char *fmt, const char **err);
/* Frees what init and sl_time_fmt_set_zone made; idempotent. */
void sl_time_fmt_destroy(struct sl_time_fmt *tf);
/*
 * Loads IANA zone `name` (e.g. "America/New_York") for texts without an
 * offset. Returns 0, -SL_ENOENT (unknown zone), -SL_EPARSE (bad zone file)
 * or -SL_ENOMEM.
 */
int sl_time_fmt_set_zone(struct sl_time_fmt *tf, const char *name);

/*
 * Parses [s, s+len) with `tf`. `now_ns` supplies the year when the format
 * has none. Text after the last conversion is ignored, as Fluent Bit does.
 * Returns 0 and *out_ns, or -SL_EPARSE.
 */
int sl_time_parse(const struct sl_time_fmt *tf, const char *s, size_t len,
		  int64_t now_ns, int64_t *out_ns);

/* "Z", "+hh", "+hhmm", "+hh:mm" (or '-') to seconds east of UTC. */
int sl_time_parse_offset(const char *s, size_t len, int32_t *secs);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
int64_t sl_time_days_from_civil(int64_t y, int m, int d);
/* The inverse: the proleptic Gregorian date of a day count from 1970-01-01. */
void sl_time_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

#endif
