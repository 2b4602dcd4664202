/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_time.c - Time_Format parsing without libc strptime (locale dependent,
 * slow, no fractions) and without mktime/TZ state on the hot path: fields
 * are read here and turned into seconds with civil-date arithmetic. IANA
 * zones (Time_Zone) come from TZif files read once at start-up.
 */
#include "sl_time.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct sl_tz {
	size_t n;      /* transitions */
	int64_t *at;   /* transition times, UTC seconds, ascending */
	uint8_t *type; /* type index after each transition */
	size_t ntypes;
	int32_t *utoff;	 /* seconds east of UTC, per type */
	int32_t initial; /* offset before the first transition */
};

static const char *const months[12] = {
    "january", "february", "march",	"april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december",
};
static const char *const day_names[7] = {
    "sunday",	"monday", "tuesday",  "wednesday",
    "thursday", "friday", "saturday",
};

int64_t sl_time_days_from_civil(int64_t y, int m, int d)
{
	/* Years counted from March so that the leap day ends a year. */
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int md[12] = {31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};

	return m == 2 && leap_year(y) ? 29 : md[m - 1];
}

void sl_time_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	/* days since 0000-03-01, so that the leap day ends a year */
	int64_t z = days + 719468, era, doe, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Year, month and day of the UTC date of `ns`. */
static void civil_from_ns(int64_t ns, int64_t *y, int *m, int *d)
{
	int64_t z = ns / SL_NS_PER_SEC;

	sl_time_civil_from_days((z >= 0 ? z : z - 86399) / 86400, y, m, d);
}

int sl_time_parse_offset(const char *s, size_t len, int32_t *secs)
{
	int h, mi = 0, neg;

	if (len == 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*secs = 0;
		return 0;
	}
	if (len < 3 || (s[0] != '+' && s[0] != '-') ||
	    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]))
		return -SL_EINVAL;
	neg = s[0] == '-';
	h = (s[1] - '0') * 10 + (s[2] - '0');
	s += 3;
	len -= 3;
	if (len && *s == ':') {
		s++;
		len--;
		if (len != 2)
			return -SL_EINVAL;
	}
	if (len == 2 && isdigit((unsigned char)s[0]) &&
	    isdigit((unsigned char)s[1]))
		mi = (s[0] - '0') * 10 + (s[1] - '0');
	else if (len != 0)
		return -SL_EINVAL;
	if (h > 23 || mi > 59)
		return -SL_EINVAL;
	*secs = (h * 3600 + mi * 60) * (neg ? -1 : 1);
	return 0;
}

/* ---- format compilation ------------------------------------------------ */

static int epoch_kind(const char *fmt, enum sl_time_kind *kind)
{
	static const struct {
		const char *name;
		enum sl_time_kind kind;
	} names[] = {
	    {"epoch", SL_TIME_EPOCH},
	    {"epoch_ms", SL_TIME_EPOCH_MS},
	    {"epoch_us", SL_TIME_EPOCH_US},
	    {"epoch_ns", SL_TIME_EPOCH_NS},
	};

	for (size_t i = 0; i < SL_ARRAY_LEN(names); i++) {
		if (strcasecmp(fmt, names[i].name) == 0) {
			*kind = names[i].kind;
			return 1;
		}
	}
	return 0;
}

int sl_time_fmt_init(struct sl_time_fmt *tf, const char *fmt, const char **err)
{
	memset(tf, 0, sizeof(*tf));
	*err = NULL;
	if (epoch_kind(fmt, &tf->kind)) {
		tf->has_year = tf->has_zone = true;
		return 0;
	}
	for (const char *p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p == 'E' || *p == 'O')
			p++;
		switch (*p) {
		case 'Y':
		case 'y':
		case 's':
		case 'F':
		case 'D':
			tf->has_year = true;
			break;
		case 'z':
		case 'Z':
			tf->has_zone = true;
			break;
		case 'S':
		case 'L':
		case 'T':
			if (p[1] == 'Z')
				tf->has_zone = true;
			break;
		case 'm':
		case 'd':
		case 'e':
		case 'H':
		case 'k':
		case 'I':
		case 'l':
		case 'M':
		case 'p':
		case 'b':
		case 'h':
		case 'B':
		case 'a':
		case 'A':
		case 'j':
		case 'R':
		case 'n':
		case 't':
		case '%':
			break;
		default:
			*err = *p ? "unsupported conversion in Time_Format"
				  : "Time_Format ends with a lone '%'";
			return -SL_EINVAL;
		}
	}
	tf->fmt = strdup(fmt);
	return tf->fmt ? 0 : -SL_ENOMEM;
}

void sl_time_fmt_destroy(struct sl_time_fmt *tf)
{
	free(tf->fmt);
	tf->fmt = NULL;
	if (tf->tz) {
		free(tf->tz->at);
		free(tf->tz->type);
		free(tf->tz->utoff);
		free(tf->tz);
		tf->tz = NULL;
	}
}

/* ---- IANA zones --------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int tz_decode(struct sl_tz *tz, const unsigned char *b, size_t len)
{
	size_t off = 0, tsz = 4, cnt[6], need;

	for (int pass = 0; pass < 2; pass++) {
		if (len - off < 44 || memcmp(b + off, "TZif", 4) != 0)
			return -SL_EPARSE;
		for (int i = 0; i < 6; i++)
			cnt[i] = be32(b + off + 20 + 4 * i);
		/* isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt */
		if (cnt[3] > 100000 || cnt[4] == 0 || cnt[4] > 256 ||
		    cnt[5] > 100000 || cnt[2] > 100000 || cnt[0] > 256 ||
		    cnt[1] > 256)
			return -SL_EPARSE;
		need = cnt[3] * tsz + cnt[3] + cnt[4] * 6 + cnt[5] +
		       cnt[2] * (tsz + 4) + cnt[1] + cnt[0];
		if (len - off - 44 < need)
			return -SL_EPARSE;
		if (pass == 0 && b[off + 4] >= '2') {
			off += 44 + need; /* the 64-bit block follows */
			tsz = 8;
			continue;
		}
		break;
	}
	off += 44;
	tz->n = cnt[3];
	tz->ntypes = cnt[4];
	tz->at = calloc(tz->n ? tz->n : 1, sizeof(*tz->at));
	tz->type = calloc(tz->n ? tz->n : 1, 1);
	tz->utoff = calloc(tz->ntypes, sizeof(*tz->utoff));
	if (!tz->at || !tz->type || !tz->utoff)
		return -SL_ENOMEM;
	for (size_t i = 0; i < tz->n; i++)
		tz->at[i] = tsz == 8 ? be64(b + off + i * 8)
				     : (int32_t)be32(b + off + i * 4);
	off += tz->n * tsz;
	for (size_t i = 0; i < tz->n; i++) {
		if (b[off + i] >= tz->ntypes)
			return -SL_EPARSE;
		tz->type[i] = b[off + i];
	}
	off += tz->n;
	tz->initial = 0;
	for (size_t i = 0; i < tz->ntypes; i++) {
		tz->utoff[i] = (int32_t)be32(b + off + i * 6);
		if (i == 0 || (!b[off + i * 6 + 4] && tz->initial == 0))
			tz->initial = tz->utoff[i];
	}
	return 0;
}

int sl_time_fmt_set_zone(struct sl_time_fmt *tf, const char *name)
{
	char path[512];
	unsigned char *buf;
	struct sl_tz *tz;
	FILE *f;
	size_t len;
	int rc;

	/* A name, not a path: never read files outside the zone database. */
	if (!*name || name[0] == '/' || strstr(name, "..") ||
	    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name) >=
		(int)sizeof(path))
		return -SL_ENOENT;
	f = fopen(path, "rb");
	if (!f)
		return -SL_ENOENT;
	buf = malloc(1 << 20);
	if (!buf) {
		fclose(f);
		return -SL_ENOMEM;
	}
	len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	tz = calloc(1, sizeof(*tz));
	rc = tz ? tz_decode(tz, buf, len) : -SL_ENOMEM;
	free(buf);
	if (rc < 0) {
		if (tz) {
			free(tz->at);
			free(tz->type);
			free(tz->utoff);
			free(tz);
		}
		return rc;
	}
	tf->tz = tz;
	return 0;
}

static int32_t tz_offset_at(const struct sl_tz *tz, int64_t utc)
{
	size_t lo = 0, hi = tz->n;

	if (!tz->n || utc < tz->at[0])
		return tz->initial;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->at[mid] <= utc)
			lo = mid;
		else
			hi = mid;
	}
	return tz->utoff[tz->type[lo]];
}

/* Local wall-clock seconds to UTC; in a gap the earlier offset is used. */
static int64_t tz_local_to_utc(const struct sl_tz *tz, int64_t local)
{
	int32_t o1 = tz_offset_at(tz, local), o2;

	o2 = tz_offset_at(tz, local - o1);
	if (o2 == o1)
		return local - o1;
	if (tz_offset_at(tz, local - o2) == o2)
		return local - o2;
	return local - o1;
}

/* ---- parsing ------------------------------------------------------------ */

struct tparts {
	int64_t year;
	int mon, mday, hour, min, sec;
	int64_t nsec;
	int yday; /* 1-366 or 0 */
	bool have_md;
	int pm; /* -1 none, 0 am, 1 pm */
	bool h12;
	bool have_zone;
	int32_t zone;
	bool have_epoch;
	int64_t epoch;
};

struct cursor {
	const char *s, *end;
};

static void skip_space(struct cursor *c)
{
	while (c->s < c->end && isspace((unsigned char)*c->s))
		c->s++;
}

static int get_num(struct cursor *c, int maxd, int64_t lo, int64_t hi,
		   int64_t *out)
{
	int64_t v = 0;
	int n = 0;

	skip_space(c);
	while (c->s < c->end && n < maxd && isdigit((unsigned char)*c->s)) {
		v = v * 10 + (*c->s++ - '0');
		n++;
	}
	if (n == 0 || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Matches a full or 3-letter English name; returns its index or -1. */
static int get_name(struct cursor *c, const char *const *names, int n)
{
	size_t avail = (size_t)(c->end - c->s);

	for (int i = 0; i < n; i++) {
		size_t full = strlen(names[i]);

		if (avail >= full && strncasecmp(c->s, names[i], full) == 0) {
			c->s += full;
			return i;
		}
	}
	for (int i = 0; i < n; i++) {
		if (avail >= 3 && strncasecmp(c->s, names[i], 3) == 0) {
			c->s += 3;
			return i;
		}
	}
	return -1;
}

static int get_zone(struct cursor *c, struct tparts *t, bool named)
{
	const char *st = c->s;
	size_t n;

	if (c->s < c->end && (*c->s == 'Z' || *c->s == 'z') &&
	    (c->s + 1 == c->end || !isalpha((unsigned char)c->s[1]))) {
		c->s++;
		t->have_zone = true;
		t->zone = 0;
		return 0;
	}
	if (c->s < c->end && (*c->s == '+' || *c->s == '-')) {
		n = 1;
		while (
		    st + n < c->end && n < 6 &&
		    (isdigit((unsigned char)st[n]) || (st[n] == ':' && n == 3)))
			n++;
		/* +hh, +hhmm, +hh:mm */
		while (n > 1 && sl_time_parse_offset(st, n, &t->zone) < 0)
			n--;
		if (n <= 1)
			return -1;
		c->s += n;
		t->have_zone = true;
		return 0;
	}
	if (!named)
		return -1;
	/* %Z: a zone name. UTC/GMT are known; others are taken as unknown. */
	while (c->s < c->end && isalpha((unsigned char)*c->s))
		c->s++;
	n = (size_t)(c->s - st);
	if (n == 0)
		return -1;
	if ((n == 3 &&
	     (!strncasecmp(st, "UTC", 3) || !strncasecmp(st, "GMT", 3))) ||
	    (n == 1 && (*st == 'Z' || *st == 'z'))) {
		t->have_zone = true;
		t->zone = 0;
	}
	return 0;
}

static int get_epoch(struct cursor *c, struct tparts *t)
{
	bool neg = false;
	int64_t v = 0;
	int n = 0;

	skip_space(c);
	if (c->s < c->end && *c->s == '-') {
		neg = true;
		c->s++;
	}
	while (c->s < c->end && isdigit((unsigned char)*c->s)) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, *c->s - '0', &v))
			return -1;
		c->s++;
		n++;
	}
	if (!n)
		return -1;
	t->have_epoch = true;
	t->epoch = neg ? -v : v;
	return 0;
}

static int parse_fmt(struct cursor *c, const char *f, struct tparts *t,
		     int depth)
{
	int64_t v;
	int i;

	for (; *f; f++) {
		if (isspace((unsigned char)*f)) {
			skip_space(c);
			continue;
		}
		if (*f != '%') {
			if (c->s >= c->end || *c->s != *f)
				return -1;
			c->s++;
			continue;
		}
		f++;
		if (*f == 'E' || *f == 'O')
			f++;
		switch (*f) {
		case '%':
			if (c->s >= c->end || *c->s != '%')
				return -1;
			c->s++;
			break;
		case 'Y':
			if (get_num(c, 4, 0, 9999, &t->year) < 0)
				return -1;
			break;
		case 'y':
			if (get_num(c, 2, 0, 99, &v) < 0)
				return -1;
			t->year =
			    v < 69 ? 2000 + v : 1900 + v; /* POSIX pivot */
			break;
		case 'm':
			if (get_num(c, 2, 1, 12, &v) < 0)
				return -1;
			t->mon = (int)v;
			t->have_md = true;
			break;
		case 'd':
		case 'e':
			if (get_num(c, 2, 1, 31, &v) < 0)
				return -1;
			t->mday = (int)v;
			t->have_md = true;
			break;
		case 'j':
			if (get_num(c, 3, 1, 366, &v) < 0)
				return -1;
			t->yday = (int)v;
			break;
		case 'H':
		case 'k':
			if (get_num(c, 2, 0, 23, &v) < 0)
				return -1;
			t->hour = (int)v;
			t->h12 = false;
			break;
		case 'I':
		case 'l':
			if (get_num(c, 2, 1, 12, &v) < 0)
				return -1;
			t->hour = (int)v;
			t->h12 = true;
			break;
		case 'M':
			if (get_num(c, 2, 0, 59, &v) < 0)
				return -1;
			t->min = (int)v;
			break;
		case 'S':
			if (get_num(c, 2, 0, 60, &v) < 0)
				return -1;
			t->sec = (int)v;
			break;
		case 'L': {
			/* Fluent Bit's fraction: any number of digits, ns kept.
			 */
			int n = 0;

			t->nsec = 0;
			while (c->s < c->end && isdigit((unsigned char)*c->s)) {
				if (n < 9)
					t->nsec = t->nsec * 10 + (*c->s - '0');
				n++;
				c->s++;
			}
			if (!n)
				return -1;
			for (; n < 9; n++)
				t->nsec *= 10;
			break;
		}
		case 'p':
			if (c->end - c->s >= 2 &&
			    (c->s[1] == 'M' || c->s[1] == 'm') &&
			    strchr("AaPp", c->s[0])) {
				t->pm = c->s[0] == 'P' || c->s[0] == 'p';
				c->s += 2;
			} else {
				return -1;
			}
			break;
		case 'b':
		case 'h':
		case 'B':
			if ((i = get_name(c, months, 12)) < 0)
				return -1;
			t->mon = i + 1;
			t->have_md = true;
			break;
		case 'a':
		case 'A':
			if (get_name(c, day_names, 7) < 0)
				return -1;
			break;
		case 'z':
			if (get_zone(c, t, false) < 0)
				return -1;
			break;
		case 'Z':
			if (get_zone(c, t, true) < 0)
				return -1;
			break;
		case 's':
			if (get_epoch(c, t) < 0)
				return -1;
			break;
		case 'n':
		case 't':
			skip_space(c);
			break;
		case 'T':
		case 'D':
		case 'R':
		case 'F': {
			const char *sub = *f == 'T'   ? "%H:%M:%S"
					  : *f == 'D' ? "%m/%d/%y"
					  : *f == 'R' ? "%H:%M"
						      : "%Y-%m-%d";

			if (depth > 0 || parse_fmt(c, sub, t, depth + 1) < 0)
				return -1;
			break;
		}
		default:
			return -1;
		}
	}
	return 0;
}

static int parse_epoch(enum sl_time_kind kind, const char *s, size_t len,
		       int64_t *out)
{
	static const int64_t unit[] = {
	    [SL_TIME_EPOCH] = SL_NS_PER_SEC,
	    [SL_TIME_EPOCH_MS] = 1000000,
	    [SL_TIME_EPOCH_US] = 1000,
	    [SL_TIME_EPOCH_NS] = 1,
	};
	const char *e = s + len;
	int64_t ip = 0, frac = 0, scale = unit[kind], ns;
	bool neg = false;
	int n = 0;

	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (s < e && (*s == '-' || *s == '+'))
		neg = *s++ == '-';
	for (; s < e && isdigit((unsigned char)*s); s++, n++) {
		if (__builtin_mul_overflow(ip, 10, &ip) ||
		    __builtin_add_overflow(ip, *s - '0', &ip))
			return -SL_EPARSE;
	}
	if (s < e && *s == '.') {
		int64_t f = scale;

		s++;
		for (; s < e && isdigit((unsigned char)*s); s++, n++) {
			f /= 10;
			frac += (*s - '0') * f;
		}
	}
	if (!n || s != e)
		return -SL_EPARSE;
	if (__builtin_mul_overflow(ip, scale, &ns) ||
	    __builtin_add_overflow(ns, frac, &ns))
		return -SL_EPARSE;
	*out = neg ? -ns : ns;
	return 0;
}

static int64_t system_local_to_utc(const struct tparts *t)
{
	struct tm tm = {0};

	tm.tm_year = (int)(t->year - 1900);
	tm.tm_mon = t->mon - 1;
	tm.tm_mday = t->mday;
	tm.tm_hour = t->hour;
	tm.tm_min = t->min;
	tm.tm_sec = t->sec;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

int sl_time_parse(const struct sl_time_fmt *tf, const char *s, size_t len,
		  int64_t now_ns, int64_t *out_ns)
{
	struct tparts t = {.year = 1970, .mon = 1, .mday = 1, .pm = -1};
	struct cursor c = {s, s + len};
	int64_t days, secs, ns;

	if (tf->kind != SL_TIME_STRPTIME)
		return parse_epoch(tf->kind, s, len, out_ns);
	if (!tf->has_year) {
		/* As Fluent Bit: a year-less time is in the current year. */
		civil_from_ns(now_ns, &t.year, &t.mon, &t.mday);
	}
	if (parse_fmt(&c, tf->fmt, &t, 0) < 0)
		return -SL_EPARSE;
	if (t.have_epoch) {
		if (__builtin_mul_overflow(t.epoch, SL_NS_PER_SEC, &ns) ||
		    __builtin_add_overflow(ns, t.nsec, &ns))
			return -SL_EPARSE;
		*out_ns = ns;
		return 0;
	}
	if (t.h12) {
		t.hour %= 12;
		if (t.pm == 1)
			t.hour += 12;
	} else if (t.pm == 1 && t.hour < 12) {
		t.hour += 12;
	}
	if (t.yday && !t.have_md) {
		if (t.yday > (leap_year(t.year) ? 366 : 365))
			return -SL_EPARSE;
		days = sl_time_days_from_civil(t.year, 1, 1) + t.yday - 1;
	} else {
		if (t.mday > month_days(t.year, t.mon))
			return -SL_EPARSE;
		days = sl_time_days_from_civil(t.year, t.mon, t.mday);
	}
	secs = days * 86400 + t.hour * 3600 + t.min * 60 + t.sec;
	if (t.have_zone)
		secs -= t.zone;
	else if (tf->has_zone)
		; /* a literal Z in the format: UTC */
	else if (tf->tz)
		secs = tz_local_to_utc(tf->tz, secs);
	else if (tf->system_tz)
		secs = system_local_to_utc(&t);
	else
		secs -= tf->offset;
	if (__builtin_mul_overflow(secs, SL_NS_PER_SEC, &ns) ||
	    __builtin_add_overflow(ns, t.nsec, &ns))
		return -SL_EPARSE;
	*out_ns = ns;
	return 0;
}
