/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_sanitize.c - record-derived text made safe per destination (see the
 * header). Byte-wise, allocation only through the caller's buffer.
 */
#include "sl_sanitize.h"
#include "sl_json.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

int sl_sanitize_tag(struct sl_buf *out, const char *s, size_t len)
{
	if (len > SL_SANITIZE_TAG_MAX)
		len = SL_SANITIZE_TAG_MAX;
	if (sl_buf_reserve(out, len) < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char o = (is_alnum(c) || c == '_' || c == '.') ? (char)c : '_';

		if (sl_buf_append(out, &o, 1) < 0)
			return -SL_ENOMEM;
	}
	return 0;
}

/* FNV-1a, 64 bits: only to tell long names apart, not for security. */
static uint64_t fnv64(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

int sl_sanitize_file_name(struct sl_buf *out, const char *s, size_t len)
{
	/* "~" + 16 hex digits after a shortened name */
	enum { SUFFIX = 17, KEEP = SL_SANITIZE_NAME_MAX - SUFFIX };
	size_t n = len > SL_SANITIZE_NAME_MAX ? KEEP : len;
	char suffix[SUFFIX + 1];

	if (len == 0 || (len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.'))
		return sl_buf_append(out, "_", 1);
	if (sl_buf_reserve(out, SL_SANITIZE_NAME_MAX) < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char o = (is_alnum(c) || c == '_' || c == '.' || c == '-')
			     ? (char)c
			     : '_';

		if (sl_buf_append(out, &o, 1) < 0)
			return -SL_ENOMEM;
	}
	if (n == len)
		return 0;
	snprintf(suffix, sizeof(suffix), "~%016llx",
		 (unsigned long long)fnv64(s, len));
	return sl_buf_append(out, suffix, SUFFIX);
}

int sl_sanitize_file_path(struct sl_buf *out, const char *s, size_t len)
{
	size_t start_len = out->len, i = 0, parts = 0, start;
	int rc;

	while (i < len) {
		while (i < len && (s[i] == '/' || s[i] == '\\'))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && s[i] != '/' && s[i] != '\\')
			i++;
		/* room for this component at its longest, and a separator */
		if (out->len - start_len + SL_SANITIZE_NAME_MAX + 1 >
		    SL_SANITIZE_PATH_MAX)
			break;
		if (parts++ && sl_buf_append(out, "/", 1) < 0)
			return -SL_ENOMEM;
		if ((rc = sl_sanitize_file_name(out, s + start, i - start)) < 0)
			return rc;
	}
	if (parts == 0)
		return sl_buf_append(out, "_", 1);
	return 0;
}

int sl_sanitize_header_value(struct sl_buf *out, const char *s, size_t len)
{
	if (len > SL_SANITIZE_HEADER_MAX)
		len = SL_SANITIZE_HEADER_MAX;
	while (len && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (sl_buf_reserve(out, len) < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char o = (is_ctl(c) && c != '\t') ? '_' : (char)c;

		if (sl_buf_append(out, &o, 1) < 0)
			return -SL_ENOMEM;
	}
	return 0;
}

int sl_sanitize_url_component(struct sl_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	bool dots = (len == 1 && s[0] == '.') ||
		    (len == 2 && s[0] == '.' && s[1] == '.');

	if (len > SL_SANITIZE_URL_MAX)
		len = SL_SANITIZE_URL_MAX;
	if (sl_buf_reserve(out, len * 3) < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char enc[3] = {'%', hex[c >> 4], hex[c & 15]};

		if (!dots && (is_alnum(c) || c == '-' || c == '.' || c == '_' ||
			      c == '~')) {
			if (sl_buf_append(out, &s[i], 1) < 0)
				return -SL_ENOMEM;
		} else if (sl_buf_append(out, enc, 3) < 0) {
			return -SL_ENOMEM;
		}
	}
	return 0;
}

/* Length of the UTF-8 sequence led by `c` (1 for a continuation byte). */
static size_t utf8_len(unsigned char c)
{
	if (c >= 0xF0)
		return 4;
	if (c >= 0xE0)
		return 3;
	if (c >= 0xC0)
		return 2;
	return 1;
}

int sl_sanitize_label_value(struct sl_buf *out, const char *s, size_t len)
{
	struct sl_buf tmp = {0};
	const char *p;
	size_t n, i = 0, w = 0;
	int rc = 0;

	/* repair first (it may grow the text), then bound */
	if (!sl_utf8_valid(s, len)) {
		if (sl_utf8_repair(&tmp, s, len) < 0)
			return -SL_ENOMEM;
		s = tmp.data ? tmp.data : "";
		len = tmp.len;
	}
	if (sl_buf_reserve(out, len < SL_SANITIZE_LABEL_MAX
				    ? len
				    : SL_SANITIZE_LABEL_MAX) < 0) {
		rc = -SL_ENOMEM;
		goto out;
	}
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		n = utf8_len(c);
		if (i + n > len)
			n = len - i; /* cannot happen: repaired */
		if (w + n > SL_SANITIZE_LABEL_MAX)
			break;
		p = &s[i];
		if (is_ctl(c))
			p = "_";
		if (sl_buf_append(out, p, n) < 0) {
			rc = -SL_ENOMEM;
			goto out;
		}
		i += n;
		w += n;
	}
out:
	sl_buf_destroy(&tmp);
	return rc;
}

bool sl_sanitize_topic_valid(const char *s, size_t len)
{
	if (len == 0 || len > SL_SANITIZE_TOPIC_MAX)
		return false;
	if ((len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_alnum(c) && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

/* The escape of byte `c` in log text into esc[4]; returns its length. */
static size_t escape_byte(unsigned char c, char esc[4])
{
	static const char hex[] = "0123456789abcdef";

	if (c == '\n' || c == '\r') {
		esc[0] = '\\';
		esc[1] = c == '\n' ? 'n' : 'r';
		return 2;
	}
	if (is_ctl(c) && c != '\t') {
		esc[0] = '\\';
		esc[1] = 'x';
		esc[2] = hex[c >> 4];
		esc[3] = hex[c & 15];
		return 4;
	}
	esc[0] = (char)c;
	return 1;
}

size_t sl_sanitize_log_text(char *dst, size_t cap, const char *src, size_t len)
{
	size_t w = 0;

	if (cap == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char esc[4];
		size_t n = escape_byte((unsigned char)src[i], esc);

		if (w + n >= cap)
			break;
		memcpy(dst + w, esc, n);
		w += n;
	}
	dst[w] = '\0';
	return w;
}

int sl_sanitize_line_text(struct sl_buf *out, const char *s, size_t len)
{
	if (sl_buf_reserve(out, len) < 0)
		return -SL_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		char esc[4];
		size_t n = escape_byte((unsigned char)s[i], esc);

		if (sl_buf_append(out, esc, n) < 0)
			return -SL_ENOMEM;
	}
	return 0;
}
