/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_format.h - record to output text, shared by the outputs: JSON arrays,
 * JSON lines and streams with a spliced date key (json_date_key /
 * json_date_format), Fluent Bit's `tag: [time, record]` line, and its
 * msgpack "print" style (stdout's default, csv, ltsv, template values).
 *
 * Everything works one record at a time on (ts_ns, body) as a chunk holds
 * them, and appends to a caller-owned struct sl_buf: callers loop over their
 * chunk, so one chunk becomes one buffer and one write. Bodies are valid
 * JSON object texts (the record model); the JSON formats never re-parse
 * them: the date is spliced in front of the body's first member.
 * Every function returns 0, or -SL_ENOMEM with the buffer holding what it
 * had plus possibly a partial record (reset it on error).
 */
#ifndef SL_FORMAT_H
#define SL_FORMAT_H

#include "sl_common.h"

#include <stdbool.h>

/* json_date_format values, named as in Fluent Bit. */
enum sl_date_format {
	SL_DATE_DOUBLE = 0, /* 1700000000.123457 (%.16g; integral: %.1f) */
	SL_DATE_EPOCH,	    /* 1700000000 */
	SL_DATE_EPOCH_MS,   /* 1700000000123 */
	SL_DATE_ISO8601,    /* "2023-11-14T22:13:20.123456Z" */
	SL_DATE_JAVA_SQL,   /* "2023-11-14 22:13:20.123456" */
};
/* "double|epoch|epoch_ms|epoch_millis|epoch_milliseconds|iso8601|
 * java_sql_timestamp" (any case). 0 or -SL_EINVAL. */
int sl_date_format_parse(const char *s, enum sl_date_format *out);

/* Format values shared by stdout and http (Fluent Bit's names). */
enum sl_json_format {
	SL_JSON_ARRAY = 0, /* "json": [{...},{...}] */
	SL_JSON_LINES,	   /* "json_lines": {...}\n{...}\n */
	SL_JSON_STREAM,	   /* "json_stream": {...}{...} */
};
/* "json|json_lines|json_stream" (any case). 0 or -SL_EINVAL. */
int sl_json_format_parse(const char *s, enum sl_json_format *out);

/*
 * How a record becomes a JSON object. `date_key` NULL: the body as it is;
 * otherwise the date is the object's first member. Borrowed.
 */
struct sl_json_opts {
	enum sl_json_format format;
	const char *date_key;
	enum sl_date_format date_format;
};

/*
 * Fills `opts` from the usual option strings: json_date_key may be NULL
 * (defaults to "date") or a false boolean ("off", "false", "no") which
 * disables the key; json_date_format NULL means double. The key string is
 * borrowed. Returns 0 or -SL_EINVAL (*what names the bad option).
 */
int sl_json_opts_init(struct sl_json_opts *opts, enum sl_json_format format,
		      const char *date_key, const char *date_format,
		      const char **what);

/*
 * Appends the date value alone (a number, or a quoted string). The bytes
 * are printf's ("%.16g" of the double, "%.1f" when it is integral) and
 * strftime's, written without either (no locale, no allocation).
 */
int sl_format_date(struct sl_buf *b, int64_t ts_ns, enum sl_date_format f);
/* "2023-11-14T22:13:20.123456789Z" with the quotes (kafka iso8601_ns). */
int sl_format_iso8601_ns(struct sl_buf *b, int64_t ts_ns);
/* "<sec>.<9 digits of nsec>", the time of Fluent Bit's text formats. */
int sl_format_time_nsec(struct sl_buf *b, int64_t ts_ns);
/* The time as printf's "%f" of a double (6 decimals: ltsv, template). */
int sl_format_time_f(struct sl_buf *b, int64_t ts_ns);

/* The record as one JSON object, date spliced per opts. No separator. */
int sl_format_json_object(struct sl_buf *b, const struct sl_json_opts *o,
			  int64_t ts_ns, const char *body, size_t len);

/*
 * A batch in opts->format: call begin, then record for each record with
 * its index (0, 1, ...), then end. json: "[", ",", "]"; json_lines: a
 * "\n" after each record; json_stream: nothing between records.
 */
int sl_format_json_begin(struct sl_buf *b, const struct sl_json_opts *o);
int sl_format_json_record(struct sl_buf *b, const struct sl_json_opts *o,
			  size_t index, int64_t ts_ns, const char *body,
			  size_t len);
int sl_format_json_end(struct sl_buf *b, const struct sl_json_opts *o);

/* Fluent Bit's out_file line: "<tag>: [<sec>.<nsec>, <body>]\n". */
int sl_format_tag_line(struct sl_buf *b, const char *tag, size_t tag_len,
		       int64_t ts_ns, const char *body, size_t len);

/*
 * A JSON value in msgpack-c's print style, as Fluent Bit prints records:
 * {"key"=>"value", "n"=>1, "a"=>[1, 2], "f"=>1.500000, "z"=>nil}; string
 * bytes that are not printable ASCII become \xNN, '"' becomes \".
 * -SL_EPARSE when `json` is not valid JSON (nothing appended then).
 */
int sl_format_print_value(struct sl_buf *b, const char *json, size_t len);
/* Raw bytes as a print-style string: "..." with the escapes above. */
int sl_format_print_string(struct sl_buf *b, const char *s, size_t len);
/* Fluent Bit's stdout line: "[<n>] <tag>: [[<sec>.<nsec>, {}], <print>]\n". */
int sl_format_print_line(struct sl_buf *b, size_t n, const char *tag,
			 size_t tag_len, int64_t ts_ns, const char *body,
			 size_t len);

/*
 * The top-level fields of a body, for formats that lay them out one by one
 * (csv, ltsv, template). All text lives in `text`, owned; reuse the struct
 * across records and free it with sl_fields_destroy().
 */
struct sl_field {
	size_t key_off, key_len;     /* the key, unescaped */
	size_t print_off, print_len; /* the value in print style */
	size_t raw_off, raw_len;     /* a string unescaped; else = print */
};
struct sl_fields {
	struct sl_field *v;
	size_t n, cap;
	struct sl_buf text;
};
/* Splits `body` (a JSON object). 0, -SL_EPARSE or -SL_ENOMEM. */
int sl_fields_split(struct sl_fields *f, const char *body, size_t len);
void sl_fields_destroy(struct sl_fields *f);
/* Index of the first field named key, or -1. */
long sl_fields_find(const struct sl_fields *f, const char *key, size_t len);

#endif
