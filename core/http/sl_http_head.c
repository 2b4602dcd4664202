/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_http_head.c - request heads by the RFC 9112 grammar. Lines are found
 * with memchr over the known length (never strstr: a NUL in the block must
 * not end the scan early), each byte class is checked against what the
 * grammar allows, and the framing headers are decided here, in one place,
 * so that the server and the fuzz targets see the same rules.
 */
#include "sl_http_head.h"

#include <string.h>
#include <strings.h>

ssize_t sl_http_head_end(const char *data, size_t len, size_t *from)
{
	size_t i = *from;

	for (; i < len; i++) {
		char c = data[i];

		if (c == '\0')
			return -1;
		if (c == '\r') {
			if (i + 1 == len)
				break; /* its LF may come next */
			if (data[i + 1] != '\n')
				return -1;
		} else if (c == '\n') {
			if (i == 0 || data[i - 1] != '\r')
				return -1;
			if (i >= 3 && data[i - 2] == '\n' &&
			    data[i - 3] == '\r')
				return (ssize_t)(i + 1);
		}
	}
	*from = i;
	return 0;
}

/* RFC 9110 tchar */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar, SP, HTAB, obs-text: anything but controls and DEL */
static bool is_field_byte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* One comma-separated list element of `value` equal to `token`. */
static bool has_token(const char *value, const char *token)
{
	size_t n = strlen(token);

	for (const char *p = value; p && *p;) {
		p += strspn(p, " \t,");
		if (strncasecmp(p, token, n) == 0 &&
		    (p[n] == '\0' || p[n] == ',' || is_ows(p[n]) ||
		     p[n] == ';'))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

/* Content-Length: 1*DIGIT, no sign, no list, no overflow. */
static int parse_length(const char *s, size_t *out)
{
	size_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (SIZE_MAX - 9) / 10)
			return -1;
		v = v * 10 + (size_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/*
 * Transfer-Encoding values, all fields together: only "chunked", once, is
 * understood (returns 0); another coding is 501, a repeated or empty list
 * is 400.
 */
static int parse_codings(const struct sl_http_head *h, const char **msg)
{
	size_t n_chunked = 0, n_fields = 0;

	for (size_t i = 0; i < h->n_fields; i++) {
		const char *p = h->fields[i].value;

		if (strcasecmp(h->fields[i].name, "Transfer-Encoding") != 0)
			continue;
		n_fields++;
		while (*p) {
			size_t n;

			p += strspn(p, " \t,");
			n = strcspn(p, " \t,;");
			if (n == 0 && *p == ';')
				goto bad;
			if (n == 0)
				continue;
			if (n == 7 && strncasecmp(p, "chunked", 7) == 0) {
				n_chunked++;
			} else {
				*msg = "transfer coding not supported: "
				       "send chunked or Content-Length\n";
				return 501;
			}
			p += n;
			p += strspn(p, " \t");
			if (*p && *p != ',')
				goto bad;
		}
	}
	if (n_fields > 0 && n_chunked != 1)
		goto bad;
	return 0;
bad:
	*msg = "bad Transfer-Encoding\n";
	return 400;
}

/* The framing headers, after every field is in. */
static int parse_framing(struct sl_http_head *h, const char **msg)
{
	bool have_len = false, have_te = false;
	size_t n_host = 0;
	int rc;

	for (size_t i = 0; i < h->n_fields; i++) {
		const char *name = h->fields[i].name;
		size_t n;

		if (strcasecmp(name, "Host") == 0) {
			n_host++;
		} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
			have_te = true;
		} else if (strcasecmp(name, "Content-Length") == 0) {
			if (parse_length(h->fields[i].value, &n) < 0 ||
			    (have_len && n != h->content_length)) {
				*msg = "bad Content-Length\n";
				return 400;
			}
			have_len = true;
			h->content_length = n;
		}
	}
	/* RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one in 1.0 */
	if (n_host > 1 || (n_host == 0 && !h->http10)) {
		*msg = "a request needs exactly one Host header\n";
		return 400;
	}
	if (have_te) {
		/* both framings: a request smuggling attempt or a broken
		 * proxy; which one a peer obeyed cannot be known */
		if (have_len) {
			*msg = "both Content-Length and Transfer-Encoding\n";
			return 400;
		}
		if (h->http10) {
			*msg = "Transfer-Encoding in an HTTP/1.0 request\n";
			return 400;
		}
		rc = parse_codings(h, msg);
		if (rc)
			return rc;
		h->chunked = true;
	}
	for (size_t i = 0; i < h->n_fields; i++) {
		if (strcasecmp(h->fields[i].name, "Connection") != 0)
			continue;
		if (has_token(h->fields[i].value, "close"))
			return (h->keep_alive = false), 0;
		if (has_token(h->fields[i].value, "keep-alive"))
			h->keep_alive = true;
	}
	if (!h->http10)
		h->keep_alive = true;
	return 0;
}

/* request-line = method SP request-target SP HTTP-version */
static int parse_request_line(char *p, char *end, struct sl_http_head *h)
{
	char *sp, *target, *version, *q;

	for (sp = p; sp < end && is_tchar((unsigned char)*sp); sp++)
		;
	if (sp == p || sp == end || *sp != ' ')
		return 400;
	*sp = '\0';
	h->method = p;
	target = sp + 1;
	for (version = target; version < end; version++) {
		unsigned char c = (unsigned char)*version;

		if (c <= 0x20 || c >= 0x7f)
			break;
	}
	/* origin-form only: the server is no proxy */
	if (version == target || *target != '/' || version == end ||
	    *version != ' ')
		return 400;
	*version++ = '\0';
	if (end - version != 8)
		return 400;
	if (memcmp(version, "HTTP/1.1", 8) == 0)
		h->http10 = false;
	else if (memcmp(version, "HTTP/1.0", 8) == 0)
		h->http10 = true;
	else
		return 400;
	*end = '\0';
	h->path = target;
	h->query = "";
	q = strchr(target, '?');
	if (q) {
		*q = '\0';
		h->query = q + 1;
	}
	return 0;
}

/* field-line = field-name ":" OWS field-value OWS */
static int parse_field(char *p, char *end, struct sl_http_head *h,
		       const char **msg)
{
	char *colon, *v, *e;

	/* obs-fold (a line starting with white space) is refused, RFC 9112
	 * 5.2: unfolding it differently from a peer is a smuggling vector */
	for (colon = p; colon < end && is_tchar((unsigned char)*colon); colon++)
		;
	if (colon == p || colon == end || *colon != ':') {
		*msg = colon < end && is_ows(*colon)
			   ? "white space in a header field name\n"
			   : "malformed header field\n";
		return 400;
	}
	for (v = colon + 1; v < end; v++)
		if (!is_field_byte((unsigned char)*v)) {
			*msg = "control character in a header field\n";
			return 400;
		}
	if (h->n_fields == SL_HTTP_HEAD_MAX_FIELDS) {
		*msg = "too many header fields\n";
		return 431;
	}
	*colon = '\0';
	*end = '\0';
	for (v = colon + 1; is_ows(*v); v++)
		;
	for (e = end; e > v && is_ows(e[-1]); e--)
		;
	*e = '\0';
	h->fields[h->n_fields].name = p;
	h->fields[h->n_fields].value = v;
	h->n_fields++;
	return 0;
}

int sl_http_head_parse(char *block, size_t len, struct sl_http_head *h,
		       const char **msg)
{
	char *p = block, *end = block + len, *eol;
	bool first = true;
	int rc;

	memset(h, 0, sizeof(*h));
	h->query = "";
	*msg = "malformed request\n";
	if (len < 4 || memcmp(end - 4, "\r\n\r\n", 4) != 0 ||
	    memchr(block, '\0', len)) {
		*msg = "malformed request (NUL byte or no empty line)\n";
		return 400;
	}
	for (;;) {
		eol = memchr(p, '\n', (size_t)(end - p));
		/* every line ends in CRLF; no CR or LF stands alone */
		if (!eol || eol == p || eol[-1] != '\r' ||
		    memchr(p, '\r', (size_t)(eol - 1 - p))) {
			*msg = "malformed request (bare CR or LF)\n";
			return 400;
		}
		if (eol - 1 == p) /* the empty line */
			break;
		if (first) {
			rc = parse_request_line(p, eol - 1, h);
			if (rc) {
				*msg = "malformed request line\n";
				return rc;
			}
			first = false;
		} else {
			if (is_ows(*p)) {
				*msg = "obsolete line folding\n";
				return 400;
			}
			rc = parse_field(p, eol - 1, h, msg);
			if (rc)
				return rc;
		}
		p = eol + 1;
	}
	if (first || eol + 1 != end)
		return 400;
	return parse_framing(h, msg);
}

const char *sl_http_head_field(const struct sl_http_head *h, const char *name)
{
	for (size_t i = 0; i < h->n_fields; i++)
		if (strcasecmp(h->fields[i].name, name) == 0)
			return h->fields[i].value;
	return NULL;
}
