/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_parser_logfmt.c - the logfmt tokenizer behind [PARSER] Format logfmt:
 * `key=value key="quoted value" bare_key`. It only splits and unescapes;
 * turning pairs into a record body (types, Time_Key) is sl_parser.c's job.
 */
#include "sl_parser_int.h"

/* Bytes that end a key or an unquoted value. */
static bool is_sep(unsigned char c)
{
	return c <= ' ' || c == '=' || c == '"';
}

static int unquote(const char **ps, const char *end, struct sl_buf *tmp)
{
	const char *s = *ps, *run = s;

	sl_buf_reset(tmp);
	while (s < end && *s != '"') {
		if (*s != '\\') {
			s++;
			continue;
		}
		if (s + 1 >= end)
			return -SL_EPARSE;
		if (sl_buf_append(tmp, run, (size_t)(s - run)) < 0)
			return -SL_ENOMEM;
		switch (s[1]) {
		case '"':
		case '\\':
			if (sl_buf_append(tmp, s + 1, 1) < 0)
				return -SL_ENOMEM;
			break;
		case 'n':
			if (sl_buf_append(tmp, "\n", 1) < 0)
				return -SL_ENOMEM;
			break;
		case 'r':
			if (sl_buf_append(tmp, "\r", 1) < 0)
				return -SL_ENOMEM;
			break;
		case 't':
			if (sl_buf_append(tmp, "\t", 1) < 0)
				return -SL_ENOMEM;
			break;
		default: /* unknown escape: kept as written */
			if (sl_buf_append(tmp, s, 2) < 0)
				return -SL_ENOMEM;
			break;
		}
		s += 2;
		run = s;
	}
	if (s >= end)
		return -SL_EPARSE; /* unterminated */
	if (sl_buf_append(tmp, run, (size_t)(s - run)) < 0)
		return -SL_ENOMEM;
	*ps = s + 1;
	return 0;
}

int sl_parser_logfmt_scan(const char *s, size_t len, bool no_bare_keys,
			  struct sl_buf *tmp, sl_parser_field_cb cb, void *arg)
{
	const char *end = s + len, *key, *val;
	size_t klen, vlen;
	int n = 0, rc;

	for (;;) {
		while (s < end && (unsigned char)*s <= ' ')
			s++;
		if (s >= end)
			break;
		key = s;
		while (s < end && !is_sep((unsigned char)*s))
			s++;
		klen = (size_t)(s - key);
		if (klen == 0)
			return -SL_EPARSE; /* '=' or '"' where a key should be
					    */
		if (s >= end || *s != '=') {
			if (s < end && *s == '"')
				return -SL_EPARSE;
			if (no_bare_keys)
				return -SL_EPARSE;
			rc = cb(arg, key, klen, NULL, 0);
			if (rc < 0)
				return rc;
			n++;
			continue;
		}
		s++; /* '=' */
		if (s < end && *s == '"') {
			s++;
			rc = unquote(&s, end, tmp);
			if (rc < 0)
				return rc;
			val = tmp->data ? tmp->data : "";
			vlen = tmp->len;
			if (s < end && (unsigned char)*s > ' ')
				return -SL_EPARSE; /* garbage glued to a quote
						    */
		} else {
			val = s;
			while (s < end && !is_sep((unsigned char)*s))
				s++;
			vlen = (size_t)(s - val);
			if (s < end && (unsigned char)*s > ' ')
				return -SL_EPARSE; /* a=b=c or a=b"c */
		}
		rc = cb(arg, key, klen, val, vlen);
		if (rc < 0)
			return rc;
		n++;
	}
	return n ? 0 : -SL_EPARSE;
}
