/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_sanitize.h - one place that makes record-derived text (a tag, a label,
 * a field) safe for the place it is going: a tag, a file-name component or
 * relative path, an HTTP header value, a URL path segment or query value, a
 * Loki label value, a Kafka topic, a log line. Each function has a length
 * bound, never fails on any input bytes, and keeps safe text unchanged.
 *
 * It does not decide *whether* a value should be used (that is the
 * output's option logic), only what bytes may reach the destination.
 */
#ifndef SL_SANITIZE_H
#define SL_SANITIZE_H

#include "sl_common.h"

#include <stdbool.h>

/* The longest tag an input makes from request data (path, Tag_Key). */
#define SL_SANITIZE_TAG_MAX 1024
/* One file-name component (NAME_MAX on Linux filesystems). */
#define SL_SANITIZE_NAME_MAX 255
/* A relative path built from a tag (PATH_MAX leaves room for Path). */
#define SL_SANITIZE_PATH_MAX 2048
/* An HTTP header value built from record data. */
#define SL_SANITIZE_HEADER_MAX 4096
/* A URL component before percent-encoding. */
#define SL_SANITIZE_URL_MAX 2048
/* Loki's default max_label_value_length. */
#define SL_SANITIZE_LABEL_MAX 2048
/* Kafka's topic name limit. */
#define SL_SANITIZE_TOPIC_MAX 249

/*
 * Each appends to `out` (the caller resets it when it wants) and returns
 * 0 or -SL_ENOMEM (out then holds a prefix; reset it).
 */

/*
 * A tag from request data, Fluent Bit's in_http rule: every byte other
 * than [A-Za-z0-9_.] becomes '_'; at most SL_SANITIZE_TAG_MAX bytes.
 */
int sl_sanitize_tag(struct sl_buf *out, const char *s, size_t len);

/*
 * One file-name component: [A-Za-z0-9._-] kept, other bytes become '_';
 * "", "." and ".." become "_". A component longer than NAME_MAX keeps its
 * first bytes and ends in "~" and 16 hex digits of a hash of the whole, so
 * two long tags still name two files.
 */
int sl_sanitize_file_name(struct sl_buf *out, const char *s, size_t len);

/*
 * A relative path from a tag (Fluent Bit's out_file rule): '/' and '\'
 * separate components, empty ones are skipped, each is made safe with
 * sl_sanitize_file_name; never absolute, never a ".." step, "_" when
 * nothing is left. Components past SL_SANITIZE_PATH_MAX are cut off.
 */
int sl_sanitize_file_path(struct sl_buf *out, const char *s, size_t len);

/*
 * An HTTP header value: CR, LF, NUL and the other control bytes (HTAB
 * excepted) become '_', so the value cannot end the header nor start
 * another one; leading and trailing blanks are dropped; at most
 * SL_SANITIZE_HEADER_MAX bytes.
 */
int sl_sanitize_header_value(struct sl_buf *out, const char *s, size_t len);

/*
 * A URL path segment or query value: every byte other than RFC 3986's
 * unreserved [A-Za-z0-9-._~] is percent-encoded, and a "." or ".."
 * segment is encoded whole (%2E), so it can neither add a path step nor
 * a query parameter. At most SL_SANITIZE_URL_MAX input bytes are used.
 */
int sl_sanitize_url_component(struct sl_buf *out, const char *s, size_t len);

/*
 * A Loki label value: valid UTF-8 (invalid sequences become U+FFFD),
 * control bytes become '_', at most SL_SANITIZE_LABEL_MAX bytes, cut on a
 * character boundary.
 */
int sl_sanitize_label_value(struct sl_buf *out, const char *s, size_t len);

/*
 * True when `s` is a valid Kafka topic name: 1 to 249 bytes of
 * [A-Za-z0-9._-], and not "." or "..".
 */
bool sl_sanitize_topic_valid(const char *s, size_t len);

/*
 * Log text: copies `src` into `dst` (capacity `cap`, NUL-terminated) with
 * every control byte other than HTAB, and DEL, written as \n, \r or \xNN,
 * so that nothing printed can start a line of its own or drive a
 * terminal. Returns the length written (< cap); cut at `cap` - 1.
 */
size_t sl_sanitize_log_text(char *dst, size_t cap, const char *src, size_t len);

/*
 * The same escaping into a buffer, unbounded: a tag printed at the start
 * of an output line (out_file's and stdout's "tag: [...]" formats), so that
 * a tag cannot end the record's line and forge another.
 */
int sl_sanitize_line_text(struct sl_buf *out, const char *s, size_t len);

#endif
