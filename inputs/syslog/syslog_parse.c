/* SPDX-License-Identifier: Apache-2.0 */
/*
 * syslog_parse.c - RFC 5424 and RFC 3164 messages to JSON objects, by hand
 * (no regex: one pass, structured data unescaped, no backtracking on
 * hostile input). A message that claims version 1 but breaks RFC 5424's
 * grammar is read again with the RFC 3164 rules, which accept any text
 * after <PRI>, so only a missing or broken <PRI> is a parse error.
 * Framing (RFC 6587) is syslog_frame.c's job, not this file's.
 */
#include "syslog_parse.h"

#include "sl_time.h"
#include "sl_utf8.h"

#include <string.h>

/* RFC 5424 6.3: SD-IDs and PARAM-NAMEs are at most 32 characters; more
 * elements or params than this in one message are kept in `extradata`
 * but left out of the map rather than checked for duplicates slowly. */
#define SD_MAX_ELEMS  64
#define SD_MAX_PARAMS 64

struct span {
	const char *p;
	size_t n;
};

struct emit {
	struct sl_buf *out;
	bool first;
};

static int add_key(struct emit *e, const char *key)
{
	if (!e->first && sl_buf_append(e->out, ",", 1) < 0)
		return -SL_ENOMEM;
	e->first = false;
	if (sl_json_append_string(e->out, key, strlen(key)) < 0 ||
	    sl_buf_append(e->out, ":", 1) < 0)
		return -SL_ENOMEM;
	return 0;
}

static int add_str(struct emit *e, const char *key, const char *v, size_t n)
{
	if (add_key(e, key) < 0 || sl_json_append_string(e->out, v, n) < 0)
		return -SL_ENOMEM;
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads exactly `n` digits. */
static bool digits(const char *s, size_t avail, size_t n, int *v)
{
	int x = 0;

	if (avail < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static bool valid_time(int y, int mo, int d, int h, int mi, int s)
{
	/* 60: a leap second, as RFC 3339 allows */
	return y >= 1 && mo >= 1 && mo <= 12 && d >= 1 &&
	       d <= days_in_month(y, mo) && h <= 23 && mi <= 59 && s <= 60;
}

static int64_t to_ns(int y, int mo, int d, int h, int mi, int s, int64_t frac)
{
	int64_t days = sl_time_days_from_civil(y, mo, d);

	return ((days * 86400) + h * 3600 + mi * 60 + s) * SL_NS_PER_SEC + frac;
}

/* ".ddd" (1-9 digits) to ns; returns the bytes used (0: none). */
static size_t fraction(const char *s, size_t avail, int64_t *ns)
{
	size_t i = 1;
	int64_t v = 0, scale = SL_NS_PER_SEC;

	*ns = 0;
	if (avail < 2 || s[0] != '.' || !is_digit(s[1]))
		return 0;
	while (i < avail && is_digit(s[i])) {
		if (scale > 1) {
			scale /= 10;
			v += (s[i] - '0') * scale;
		}
		i++;
	}
	*ns = v;
	return i;
}

size_t syslog_parse_rfc3339(const char *s, size_t len, bool zone_optional,
			    int64_t *ns)
{
	int y, mo, d, h, mi, sec;
	int64_t frac = 0;
	int32_t off = 0;
	size_t i = 19, zl = 0;

	if (len < 19 || !digits(s, len, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, len - 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, len - 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, len - 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, len - 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, len - 17, 2, &sec) ||
	    !valid_time(y, mo, d, h, mi, sec))
		return 0;
	i += fraction(s + i, len - i, &frac);
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		zl = 1;
	} else if (i + 6 <= len && (s[i] == '+' || s[i] == '-') &&
		   s[i + 3] == ':') {
		zl = 6;
		if (sl_time_parse_offset(s + i, 6, &off) < 0)
			return 0;
	} else if (!zone_optional) {
		return 0;
	}
	*ns = to_ns(y, mo, d, h, mi, sec, frac) - (int64_t)off * SL_NS_PER_SEC;
	return i + zl;
}

/* "<PRI>": 1-3 digits, 0..191 (RFC 5424 6.2.1). Returns the bytes used. */
static size_t parse_pri(const char *s, size_t len)
{
	size_t i = 1;
	int v = 0;

	if (len < 3 || s[0] != '<')
		return 0;
	while (i < len && i <= 3 && is_digit(s[i]))
		v = v * 10 + (s[i++] - '0');
	if (i == 1 || i >= len || s[i] != '>' || v > 191)
		return 0;
	return i + 1;
}

/* ---- RFC 5424 --------------------------------------------------------- */

/* A header field: printable US-ASCII up to the next SP. */
static bool token(const char **p, const char *end, struct span *t)
{
	const char *s = *p;

	while (*p<end &&* * p> ' ' && **p < 127)
		(*p)++;
	t->p = s;
	t->n = (size_t)(*p - s);
	if (t->n == 0 || *p >= end || **p != ' ')
		return false;
	(*p)++;
	return true;
}

static bool sd_name_char(char c)
{
	/* RFC 5424 6.3.2 SD-NAME: PRINTUSASCII except '=', SP, ']', '"' */
	return c > ' ' && c < 127 && c != '=' && c != ']' && c != '"';
}

/* PARAM-VALUE unescaped: \" \\ \] lose the backslash, any other
 * backslash stays (RFC 5424 6.3.3). `raw` is the text inside the quotes. */
static int append_param_value(struct sl_buf *out, struct span raw)
{
	struct sl_buf tmp = {0};
	int rc = 0;

	for (size_t i = 0; i < raw.n && rc == 0; i++) {
		char c = raw.p[i];

		if (c == '\\' && i + 1 < raw.n &&
		    (raw.p[i + 1] == '"' || raw.p[i + 1] == '\\' ||
		     raw.p[i + 1] == ']'))
			c = raw.p[++i];
		rc = sl_buf_append(&tmp, &c, 1);
	}
	if (rc == 0)
		rc = sl_json_append_string(out, tmp.data ? tmp.data : "",
					   tmp.len);
	sl_buf_destroy(&tmp);
	return rc;
}

static bool seen(const struct span *v, size_t n, struct span s)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].n == s.n && memcmp(v[i].p, s.p, s.n) == 0)
			return true;
	return false;
}

/*
 * STRUCTURED-DATA at *p: "-" or one or more SD-ELEMENTs. Checks the
 * grammar; with `map` (not NULL) also appends {"id":{"name":"value"}}.
 * First SD-ID and PARAM-NAME win when a message repeats one (RFC 5424
 * forbids it; JSON consumers such as Elasticsearch refuse duplicate keys).
 */
static int parse_sd(const char **p, const char *end, struct sl_buf *map)
{
	struct span ids[SD_MAX_ELEMS], names[SD_MAX_PARAMS];
	size_t n_ids = 0;
	const char *s = *p;
	int rc = 0;

	if (s < end && *s == '-') {
		*p = s + 1;
		return 0;
	}
	if (map && sl_buf_append(map, "{", 1) < 0)
		return -SL_ENOMEM;
	if (s >= end || *s != '[')
		return -SL_EPARSE;
	while (s < end && *s == '[') {
		struct span id;
		size_t n_names = 0;
		bool keep;

		id.p = ++s;
		while (s < end && sd_name_char(*s))
			s++;
		id.n = (size_t)(s - id.p);
		if (id.n == 0 || id.n > 32)
			return -SL_EPARSE;
		keep = map && n_ids < SD_MAX_ELEMS && !seen(ids, n_ids, id);
		if (keep) {
			if (n_ids && sl_buf_append(map, ",", 1) < 0)
				return -SL_ENOMEM;
			ids[n_ids++] = id;
			if (sl_json_append_string(map, id.p, id.n) < 0 ||
			    sl_buf_append(map, ":{", 2) < 0)
				return -SL_ENOMEM;
		}
		while (s < end && *s == ' ') {
			struct span name, val;
			bool keep_param;

			name.p = ++s;
			while (s < end && sd_name_char(*s))
				s++;
			name.n = (size_t)(s - name.p);
			if (name.n == 0 || name.n > 32 || s + 1 >= end ||
			    s[0] != '=' || s[1] != '"')
				return -SL_EPARSE;
			s += 2;
			val.p = s;
			while (s < end && *s != '"') {
				if (*s == '\\' && s + 1 < end)
					s++;
				s++;
			}
			if (s >= end)
				return -SL_EPARSE;
			val.n = (size_t)(s - val.p);
			s++; /* closing quote */
			keep_param = keep && n_names < SD_MAX_PARAMS &&
				     !seen(names, n_names, name);
			if (!keep_param)
				continue;
			if ((n_names && sl_buf_append(map, ",", 1) < 0) ||
			    sl_json_append_string(map, name.p, name.n) < 0 ||
			    sl_buf_append(map, ":", 1) < 0 ||
			    append_param_value(map, val) < 0)
				return -SL_ENOMEM;
			names[n_names++] = name;
		}
		if (s >= end || *s != ']')
			return -SL_EPARSE;
		s++;
		if (keep && sl_buf_append(map, "}", 1) < 0)
			return -SL_ENOMEM;
	}
	if (map && sl_buf_append(map, "}", 1) < 0)
		return -SL_ENOMEM;
	*p = s;
	return rc;
}

/* RFC 5424 6: the rest after "<PRI>1 ". -SL_EPARSE: not RFC 5424. */
static int parse_5424(struct emit *e, const char *pri, size_t pri_len,
		      const char *p, const char *end,
		      const struct syslog_parse_opts *opts,
		      struct syslog_parsed *res)
{
	struct span ts, host, app, proc, msgid, sd;
	struct sl_buf map = {0};
	int64_t ns = 0;
	int rc;

	if (!token(&p, end, &ts) || !token(&p, end, &host) ||
	    !token(&p, end, &app) || !token(&p, end, &proc) ||
	    !token(&p, end, &msgid))
		return -SL_EPARSE;
	if (!(ts.n == 1 && ts.p[0] == '-') &&
	    syslog_parse_rfc3339(ts.p, ts.n, false, &ns) != ts.n)
		return -SL_EPARSE;
	sd.p = p;
	rc = parse_sd(&p, end, opts && opts->sd_key ? &map : NULL);
	if (rc < 0 || (p < end && *p != ' ')) {
		sl_buf_destroy(&map);
		return rc < 0 ? rc : -SL_EPARSE;
	}
	sd.n = (size_t)(p - sd.p);
	if (p < end)
		p++; /* SP before MSG */
	/* MSG-UTF8 starts with a BOM, which is not part of the text */
	if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	res->ts_ns = ns;
	res->rfc5424 = true;
	rc = add_str(e, "pri", pri, pri_len);
	if (rc == 0)
		rc = add_str(e, "time", ts.p, ts.n);
	if (rc == 0)
		rc = add_str(e, "host", host.p, host.n);
	if (rc == 0)
		rc = add_str(e, "ident", app.p, app.n);
	if (rc == 0)
		rc = add_str(e, "pid", proc.p, proc.n);
	if (rc == 0)
		rc = add_str(e, "msgid", msgid.p, msgid.n);
	if (rc == 0)
		rc = add_str(e, "extradata", sd.p, sd.n);
	if (rc == 0 && map.len) {
		rc = add_key(e, opts->sd_key);
		if (rc == 0)
			rc = sl_buf_append(e->out, map.data, map.len);
	}
	if (rc == 0 && p < end)
		rc = add_str(e, "message", p, (size_t)(end - p));
	sl_buf_destroy(&map);
	return rc;
}

/* ---- RFC 3164 and what devices send under its name -------------------- */

static int month_of(const char *s)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int m = 0; m < 12; m++)
		if (s[0] == names[m * 3] && (s[1] | 0x20) == names[m * 3 + 1] &&
		    (s[2] | 0x20) == names[m * 3 + 2])
			return m + 1;
	return 0;
}

static int year_of(int64_t ns)
{
	int64_t days = ns / SL_NS_PER_SEC / 86400;
	int y = 1970;

	while (sl_time_days_from_civil(y + 1, 1, 1) <= days)
		y++;
	return y;
}

/*
 * "Mmm dd hh:mm:ss" (day space-padded or not), optionally with a year
 * after the day ("Mmm dd yyyy hh:mm:ss", Cisco) and a fraction. A date
 * without a year is put in the year that makes it at most 31 days after
 * `now` (a December message read in January is last year's). UTC.
 */
static size_t parse_bsd_time(const char *s, size_t len, int64_t now_ns,
			     int64_t *ns)
{
	int mo, d, y = 0, h, mi, sec;
	int64_t frac = 0;
	size_t i = 4;

	if (len < 14 || !(mo = month_of(s)) || s[3] != ' ')
		return 0;
	if (s[4] == ' ')
		i++;
	if (i < len && is_digit(s[i]) && i + 1 < len && is_digit(s[i + 1])) {
		d = (s[i] - '0') * 10 + (s[i + 1] - '0');
		i += 2;
	} else if (i < len && is_digit(s[i])) {
		d = s[i] - '0';
		i++;
	} else {
		return 0;
	}
	if (i >= len || s[i] != ' ')
		return 0;
	i++;
	if (digits(s + i, len - i, 4, &y) && i + 4 < len && s[i + 4] == ' ')
		i += 5;
	else
		y = 0;
	if (!digits(s + i, len - i, 2, &h) || i + 2 >= len || s[i + 2] != ':' ||
	    !digits(s + i + 3, len - i - 3, 2, &mi) || i + 5 >= len ||
	    s[i + 5] != ':' || !digits(s + i + 6, len - i - 6, 2, &sec))
		return 0;
	i += 8;
	i += fraction(s + i, len - i, &frac);
	if (!y) {
		int64_t limit = now_ns + 31 * 86400 * SL_NS_PER_SEC;

		y = year_of(now_ns);
		if (valid_time(y, mo, d, h, mi, sec) &&
		    to_ns(y, mo, d, h, mi, sec, frac) > limit)
			y--;
		/* Feb 29 in a year without one: the leap year before */
		while (!valid_time(y, mo, d, h, mi, sec) && y > 1970 && mo == 2)
			y--;
	}
	if (!valid_time(y, mo, d, h, mi, sec))
		return 0;
	*ns = to_ns(y, mo, d, h, mi, sec, frac);
	return i;
}

static bool ident_char(char c)
{
	/* Fluent Bit's syslog-rfc3164 ident: [a-zA-Z0-9_/.-] */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit(c) || c == '_' || c == '/' || c == '.' || c == '-';
}

/* TAG[PID]: at p; fills ident/pid and moves p to the content. */
static void parse_tag(const char **pp, const char *end, struct span *ident,
		      struct span *pid)
{
	const char *p = *pp, *s = p;

	ident->n = pid->n = 0;
	while (p < end && ident_char(*p))
		p++;
	if (p == s)
		return;
	if (p < end && *p == '[') {
		const char *q = p + 1;

		while (q < end && is_digit(*q))
			q++;
		if (q < end && *q == ']' && q > p + 1) {
			pid->p = p + 1;
			pid->n = (size_t)(q - p - 1);
			p = q + 1;
		} else {
			return; /* "tag[x": no tag, all content */
		}
	}
	if (p < end && *p == ':')
		p++;
	else if (p < end && *p != ' ')
		return; /* "word(...": content, not a tag */
	ident->p = s;
	ident->n = (size_t)((pid->n ? pid->p - 1 : p) - s);
	if (!pid->n && p > s && p[-1] == ':')
		ident->n--;
	while (p < end && *p == ' ')
		p++;
	*pp = p;
}

/* A hostname-looking word followed by SP, not a tag ("sshd[1]:", "su:"). */
static bool host_word(const char *p, const char *end, struct span *host)
{
	const char *s = p;

	while (p<end && * p> ' ' && *p < 127)
		p++;
	if (p == s || p >= end || *p != ' ')
		return false;
	if (p[-1] == ':' || memchr(s, '[', (size_t)(p - s)) || s[0] == '%')
		return false;
	host->p = s;
	host->n = (size_t)(p - s);
	return true;
}

/* Cisco's "show-timezone": " UTC" between the time and its colon. The
 * name is kept in `time`; the time is read as UTC whatever it names (a
 * name is not an offset). Returns the bytes of " NAME" (0: none). */
static size_t zone_name(const char *p, const char *end)
{
	size_t n = 1;

	if (p >= end || *p != ' ')
		return 0;
	while (p + n < end && n <= 6 && p[n] >= 'A' && p[n] <= 'Z')
		n++;
	if (n < 3 || n > 6 || p + n >= end || p[n] != ':')
		return 0;
	return n;
}

static int parse_3164(struct emit *e, const char *pri, size_t pri_len,
		      const char *p, const char *end, int64_t now_ns,
		      struct syslog_parsed *res)
{
	struct span seq = {0}, ts = {0}, host = {0}, ident = {0}, pid = {0};
	const char *q = p;
	int64_t ns = 0;
	size_t n;
	int rc;

	/* Cisco "service sequence-numbers": "<189>52: ..." */
	while (q < end && is_digit(*q))
		q++;
	if (q > p && q + 1 < end && q[0] == ':' && q[1] == ' ') {
		seq.p = p;
		seq.n = (size_t)(q - p);
		p = q + 2;
	}
	/* Cisco marks a time not set ('*') or not synchronised ('.') */
	if (p < end && (*p == '*' || *p == '.'))
		p++;
	ts.p = p;
	if ((n = syslog_parse_rfc3339(p, (size_t)(end - p), true, &ns)) ||
	    (n = parse_bsd_time(p, (size_t)(end - p), now_ns, &ns))) {
		p += n;
		n = zone_name(p, end);
		p += n;
		ts.n = (size_t)(p - ts.p);
		if (p < end && *p == ':') /* Cisco "...11.123: %SYS-5-..." */
			p++;
		if (p < end && *p == ' ')
			p++;
		/* a first word that reads as a tag ("sshd[1]:", "su:") or a
		 * Cisco mnemonic ("%SYS-5-...") means the host was left out,
		 * as senders to /dev/log and many devices do */
		if (host_word(p, end, &host))
			p += host.n + 1;
		parse_tag(&p, end, &ident, &pid);
	}
	res->ts_ns = ns;
	rc = add_str(e, "pri", pri, pri_len);
	if (rc == 0 && seq.n)
		rc = add_str(e, "seq", seq.p, seq.n);
	if (rc == 0 && ts.n)
		rc = add_str(e, "time", ts.p, ts.n);
	if (rc == 0 && host.n)
		rc = add_str(e, "host", host.p, host.n);
	if (rc == 0 && ident.n)
		rc = add_str(e, "ident", ident.p, ident.n);
	if (rc == 0 && pid.n)
		rc = add_str(e, "pid", pid.p, pid.n);
	if (rc == 0)
		rc = add_str(e, "message", p, (size_t)(end - p));
	return rc;
}

int syslog_parse(const char *msg, size_t len, int64_t now_ns,
		 const struct syslog_parse_opts *opts, struct sl_buf *out,
		 struct syslog_parsed *res)
{
	size_t old = out->len, pl = parse_pri(msg, len);
	const char *end = msg + len, *p = msg + pl;
	struct emit e = {.out = out, .first = true};
	int rc = -SL_EPARSE;

	memset(res, 0, sizeof(*res));
	if (!pl)
		return -SL_EPARSE;
	res->repaired = !sl_utf8_valid(msg, len);
	if (sl_buf_append(out, "{", 1) < 0)
		return -SL_ENOMEM;
	/* VERSION "1" SP; "<13>1: ..." or "<13>12 ..." are RFC 3164 text */
	if (end - p >= 2 && p[0] == '1' && p[1] == ' ')
		rc = parse_5424(&e, msg + 1, pl - 2, p + 2, end, opts, res);
	if (rc == -SL_EPARSE) {
		out->len = old + 1;
		e.first = true;
		res->rfc5424 = false;
		rc = parse_3164(&e, msg + 1, pl - 2, p, end, now_ns, res);
	}
	if (rc == 0)
		rc = sl_buf_append(out, "}", 1);
	if (rc < 0)
		out->len = old;
	return rc;
}
