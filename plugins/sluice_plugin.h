/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sluice_plugin.h - the public, versioned plugin ABI of sluice.
 *
 * Every filter, built-in or loaded from a shared object, is written against
 * this header alone: config maps, records and their accessors, the filter
 * table. Records are opaque so that their layout can change without breaking
 * plugins. Inputs and outputs are internal (core/engine/sl_input.h,
 * sl_output.h).
 *
 * Conventions: functions return 0 or a negative -SL_E* code; pointer returns
 * are NULL on failure. Pointers handed to a callback are borrowed for the
 * duration of the call unless the prototype says otherwise.
 *
 * The ABI is closed: the sluice binary exports no symbols. Every function
 * below is a slot of `struct sluice_host_api`, a table the loader hands to
 * the plugin before any of its code runs; the functions a plugin calls are
 * static inline wrappers over that table, so a plugin's own globals are never
 * interposed by the host's and a host that lacks a function fails the
 * version gate with a message, not dlopen with an unresolved symbol.
 * Versioning: the major must match; a plugin needs host minor >= its minor;
 * tables and structs carry their size so each can grow at its end.
 * Core files define SLUICE_HOST before including this header and get plain
 * prototypes of the same functions instead of the wrappers.
 */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A plugin built against another major version is refused by the loader, as
 * is one that needs a larger minor than the host has. 1.0: records, config
 * maps, logging, buffers. 1.1: regex, metrics, parsers, UUIDs, sl_strerror.
 */
#define SL_ABI_MAJOR 1
#define SL_ABI_MINOR 1
/*
 * The minor a plugin declares in its export: define it before including
 * this header to load into older 1.x hosts, and use only what that minor
 * has.
 */
#ifndef SL_PLUGIN_ABI_MINOR
#define SL_PLUGIN_ABI_MINOR SL_ABI_MINOR
#endif

#if defined(__GNUC__)
#define SL_ABI_HIDDEN	    __attribute__((visibility("hidden")))
#define SL_ABI_VISIBLE	    __attribute__((visibility("default")))
#define SL_ABI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SL_ABI_HIDDEN
#define SL_ABI_VISIBLE
#define SL_ABI_PRINTF(f, a)
#endif
#include <stdarg.h>

#ifdef SLUICE_HOST
#define SL_FN
#else
#define SL_FN static inline
#endif

/* ---- error codes (negated when returned) -------------------------------- */
enum sl_error {
	SL_OK = 0,
	SL_ENOMEM = 1,	/* allocation failed */
	SL_EINVAL = 2,	/* bad argument or value */
	SL_EIO = 3,	/* system I/O error, errno is set */
	SL_EAGAIN = 4,	/* try again later (buffer full, paused) */
	SL_ENOENT = 5,	/* no such key, file or plugin */
	SL_EPARSE = 6,	/* input did not parse */
	SL_ETOOBIG = 7, /* input over a size or depth limit */
	SL_ECONFIG = 8, /* configuration error (already reported) */
	SL_EABI = 9,	/* plugin ABI mismatch */
};

/* ---- config maps --------------------------------------------------------- */
/*
 * A plugin declares its options once, as data. The map validates them (type,
 * range, repetition, unknown keys), stores them into the plugin's context at
 * `offset`, renders `sluice -h` and is the plugin's documentation.
 *
 * Storage by type (the field at `offset` must have this C type):
 *   SL_CFG_STR    char *            owned by the context, freed by the core
 *   SL_CFG_INT    int64_t           checked against [min, max] when max > min
 *   SL_CFG_BOOL   bool              on/off/true/false/yes/no (any case)
 *   SL_CFG_SIZE   int64_t bytes     "32K", "5M", "1G" (decimal: K = 1000 as in
 *                                   Fluent Bit), range checked like INT
 *   SL_CFG_DOUBLE double            range checked like INT
 *   SL_CFG_TIME   double seconds    "5", "1.5", "10s", "5m", "1h"
 *   SL_CFG_SLIST  struct sl_strlist comma-separated, items trimmed
 *   SL_CFG_KV     struct sl_cfg_kv  "KEY VALUE" (since 1.1), see below
 *   any type with SL_CFG_MULTI: struct sl_cfg_multi, one item per line, raw
 *                                   string values with their location;
 *                                   SL_CFG_KV | SL_CFG_MULTI: struct
 *                                   sl_cfg_kvlist, each item split
 */
enum sl_cfg_type {
	SL_CFG_STR = 1,
	SL_CFG_INT,
	SL_CFG_BOOL,
	SL_CFG_SIZE,
	SL_CFG_DOUBLE,
	SL_CFG_TIME,
	SL_CFG_SLIST,
	SL_CFG_KV, /* since 1.1 */
};

enum sl_cfg_flags {
	SL_CFG_MULTI = 1 << 0, /* may repeat; stored as struct sl_cfg_multi */
	SL_CFG_REQUIRED = 1 << 1, /* must be given */
	SL_CFG_IGNORED =
	    1 << 2,		/* Fluent Bit option sluice accepts but has no
				 * use for: validated, logged once, not stored */
	SL_CFG_PREFIX = 1 << 3, /* `name` is a prefix ("rdkafka."): every key
				 * starting with it is collected, MULTI storage,
				 * each item "suffix value" */
	SL_CFG_VERBATIM = 1
			  << 4, /* SL_CFG_KV (since 1.1): VALUE is all that
				 * follows the one blank ending KEY, as written:
				 * no unquoting, further blanks kept (Fluent
				 * Bit's split of grep/log_to_metrics rules) */
};

struct sl_cfg_option {
	const char *name; /* case-insensitive */
	enum sl_cfg_type type;
	unsigned flags;
	const char
	    *def; /* default as it would be written in a config, or NULL */
	double min,
	    max; /* inclusive range for numbers; ignored when max <= min */
	size_t offset;	  /* offsetof(struct <plugin>_ctx, field) */
	const char *desc; /* one line for `sluice -h` */
};
#define SL_CFG_END                                                             \
	{                                                                      \
		.name = NULL                                                   \
	}

struct sl_strlist {
	size_t n;
	char **v; /* owned */
};

struct sl_cfg_item {
	char *value;	  /* owned */
	const char *file; /* borrowed from the config, valid for the process */
	int line;
};

struct sl_cfg_multi {
	size_t n;
	struct sl_cfg_item *items; /* owned */
};

/*
 * A "KEY VALUE" option (grep's Regex KEY REGEX, record_modifier's Record K
 * V, log_to_metrics' Add_label NAME ACCESSOR, ...), split once by the config
 * map: KEY is the first word; VALUE is the rest of the line after the
 * blanks that follow KEY, trimmed. Either may be quoted with " or ' when it
 * is one quoted word (inside, \<quote> and \\ are unescaped): 'a b' "c d".
 * A quote that opens KEY or VALUE must close.
 * A missing KEY or VALUE is a config error the map reports with file:line,
 * worded from the option's desc ("KEY REGEX: ..." gives "expected KEY
 * REGEX"). `value_quoted` tells a plugin that wants one word whether
 * VALUE's blanks were quoted. Both structs are fixed for major 1.
 */
struct sl_cfg_kv {
	char *key;	   /* owned */
	char *value;	   /* owned */
	bool value_quoted; /* VALUE was one quoted word */
	const char *file;  /* borrowed from the config, valid for the process */
	int line;
};

struct sl_cfg_kvlist {
	size_t n;
	struct sl_cfg_kv *items; /* owned */
};

/*
 * Where a plugin instance was declared, for errors at init time. A plugin
 * reports every problem through sl_plugin_error() and then returns
 * -SL_ECONFIG from init, so that all errors of a config are listed at once.
 */
struct sl_plugin_instance;
SL_FN void sl_plugin_error(const struct sl_plugin_instance *ins, int line,
			   const char *fmt, ...) SL_ABI_PRINTF(3, 4);
/* The instance's name as it appears in metrics: its Alias or "<plugin>.<n>". */
SL_FN const char *sl_plugin_instance_name(const struct sl_plugin_instance *ins);
/* File and line of the instance's section header. */
SL_FN const char *sl_plugin_instance_file(const struct sl_plugin_instance *ins);
SL_FN int sl_plugin_instance_line(const struct sl_plugin_instance *ins);

/* ---- logging ------------------------------------------------------------- */
enum sl_log_level {
	SL_LOG_OFF = 0,
	SL_LOG_ERROR,
	SL_LOG_WARN,
	SL_LOG_INFO,
	SL_LOG_DEBUG,
	SL_LOG_TRACE,
};
SL_FN void sl_log(enum sl_log_level level, const char *component,
		  const char *fmt, ...) SL_ABI_PRINTF(3, 4);

/* ---- records ------------------------------------------------------------- */
/*
 * A record is an event time and a body that is a JSON object, kept as valid
 * UTF-8 JSON text on one line. Filters read fields through accessors; the
 * record builds (once) and caches an index of its fields for that.
 */
struct sl_record;

/* A compiled record accessor: "key", "$key", "$key['sub'][0]['x']". */
struct sl_accessor;
/* Compiles `spec`. On error returns NULL and sets *err to a static message. */
SL_FN struct sl_accessor *sl_accessor_create(const char *spec,
					     const char **err);
SL_FN void sl_accessor_destroy(struct sl_accessor *acc);
/* Number of path steps; the first step's key (top-level field name). */
SL_FN size_t sl_accessor_depth(const struct sl_accessor *acc);
/* Key of the last step, or NULL when the last step is an array index. */
SL_FN const char *sl_accessor_last_key(const struct sl_accessor *acc);

enum sl_value_type {
	SL_VAL_NONE = 0, /* not found */
	SL_VAL_NULL,
	SL_VAL_BOOL,
	SL_VAL_NUMBER,
	SL_VAL_STRING,
	SL_VAL_OBJECT,
	SL_VAL_ARRAY,
};

/*
 * A value inside a record. `raw` is its JSON text (a string with its quotes
 * and escapes), borrowed from the record until the record changes.
 */
struct sl_value {
	enum sl_value_type type;
	const char *raw;
	size_t raw_len;
};

SL_FN int64_t sl_record_time(const struct sl_record *rec);
SL_FN void sl_record_set_time(struct sl_record *rec, int64_t ts_ns);
/* The body, built on first use. Borrowed until the record changes. */
SL_FN const char *sl_record_body(struct sl_record *rec, size_t *len);
/*
 * Replaces the body with a copy of `json` (len bytes, a JSON object that the
 * caller guarantees valid: produced by sl_json_* helpers or a parser).
 * Returns 0 or -SL_ENOMEM (record unchanged).
 */
SL_FN int sl_record_set_body(struct sl_record *rec, const char *json,
			     size_t len);

/*
 * Looks up a field. Returns 0 and fills *out, -SL_ENOENT when absent,
 * -SL_EPARSE when the body is not a valid object (cannot happen for records
 * built by the core).
 */
SL_FN int sl_record_get(struct sl_record *rec, const struct sl_accessor *acc,
			struct sl_value *out);
/*
 * The field as text: a string unescaped, a number/bool/null as its literal,
 * an object/array as its JSON. *text is borrowed from the record or from
 * `scratch` (caller-owned, grown as needed, zero-initialise it and free its
 * buf when done), valid until either changes.
 */
struct sl_text {
	char *buf; /* owned by the caller; free() when done */
	size_t cap;
};
SL_FN int sl_record_get_text(struct sl_record *rec,
			     const struct sl_accessor *acc,
			     struct sl_text *scratch, const char **text,
			     size_t *len);

/*
 * Top-level edits. Keys are plain (unescaped) names. `json_value` is a valid
 * JSON value text. Each returns 0, -SL_ENOENT (remove/rename of an absent
 * key) or -SL_ENOMEM (record unchanged).
 */
SL_FN int sl_record_set(struct sl_record *rec, const char *key, size_t key_len,
			const char *json_value, size_t value_len);
SL_FN int sl_record_set_string(struct sl_record *rec, const char *key,
			       size_t key_len, const char *str, size_t str_len);
SL_FN int sl_record_remove(struct sl_record *rec, const char *key,
			   size_t key_len);
SL_FN int sl_record_rename(struct sl_record *rec, const char *key,
			   size_t key_len, const char *new_key, size_t new_len);

/*
 * Marks the record as one that failed to parse (kept as {"log": ...});
 * the engine counts it in sluice_input_parse_errors_total of its input.
 */
SL_FN void sl_record_flag_parse_error(struct sl_record *rec);

/*
 * Iterates the top-level fields in order. Call with *pos = 0; returns 1 and
 * fills key (unescaped text via `scratch`, borrowed) and value while there
 * are fields, 0 at the end.
 */
SL_FN int sl_record_next_field(struct sl_record *rec, size_t *pos,
			       struct sl_text *scratch, const char **key,
			       size_t *key_len, struct sl_value *value);

/* ---- JSON text helpers ----------------------------------------------------
 */
/*
 * A growable byte buffer for building JSON. `data` is owned by the buffer.
 * Appends return 0 or -SL_ENOMEM (the buffer keeps what it had).
 */
struct sl_buf {
	char *data;
	size_t len, cap;
};
SL_FN int sl_buf_append(struct sl_buf *b, const void *data, size_t len);
SL_FN int sl_buf_reserve(struct sl_buf *b, size_t extra);
SL_FN void sl_buf_reset(struct sl_buf *b);   /* len = 0, memory kept */
SL_FN void sl_buf_destroy(struct sl_buf *b); /* frees, back to all-zero */
/* Appends `s` as a quoted JSON string; invalid UTF-8 becomes U+FFFD. */
SL_FN int sl_json_append_string(struct sl_buf *b, const char *s, size_t len);

/* ---- filters ---------------------------------------------------------------
 */
enum sl_filter_verdict {
	SL_FILTER_KEEP = 0, /* the record goes on (possibly changed) */
	SL_FILTER_DROP,	    /* the record is dropped and counted */
};

struct sl_filter_plugin {
	const char *name;
	const char *description;
	const struct sl_cfg_option *config_map;
	size_t ctx_size; /* zeroed context handed to every callback */
	/*
	 * After the config map filled ctx. Returns 0, or -SL_ECONFIG after
	 * reporting errors with sl_plugin_error(). On failure destroy is still
	 * called, so init may leave a partly built context.
	 */
	int (*init)(void *ctx, struct sl_plugin_instance *ins);
	/* Frees what init made; config-map fields are freed by the core. */
	void (*destroy)(void *ctx);
	/* Runs on the engine thread, one record at a time. */
	enum sl_filter_verdict (*filter)(void *ctx, struct sl_record *rec,
					 const char *tag, size_t tag_len);
};

/* ---- since 1.1: host services ------------------------------------------- */
/* Human-readable text for a negative -SL_E* code (static). */
SL_FN const char *sl_strerror(int err);

/*
 * Regular expressions written as Fluent Bit users write them (Onigmo/Ruby
 * style): "/re/imx" carries options (i caseless, m dot matches newline,
 * x extended), "/re/" is stripped, anything else is the pattern. ^ and $
 * match at line breaks; patterns and subjects are UTF-8. One wrapper for
 * every filter, so that one pattern means one thing everywhere.
 */
struct sl_regex;
/* Returns the compiled pattern, or NULL with "<reason> at offset N" in err. */
SL_FN struct sl_regex *sl_regex_create(const char *pattern, char *err,
				       size_t err_len);
SL_FN void sl_regex_destroy(struct sl_regex *re);
/* Does `re` match somewhere in s[0..len)? Engine thread only. */
SL_FN bool sl_regex_match(const struct sl_regex *re, const char *s, size_t len);
/*
 * A KEY REGEX rule as grep and log_to_metrics read it: true when the field
 * at `acc` is a string that `re` matches (numbers, booleans and containers
 * never match). `scratch` is the caller's, reused.
 */
SL_FN bool sl_regex_match_field(struct sl_record *rec,
				const struct sl_accessor *acc,
				const struct sl_regex *re,
				struct sl_text *scratch);

/*
 * Metrics in the engine's registry (rendered by the Prometheus exporter and
 * the HTTP API). Families and series are borrowed from the registry, valid
 * while the instance lives. Instances that ask for the same family (same
 * name, type, labels and buckets) share it.
 */
enum sl_metric_type {
	SL_METRIC_COUNTER = 1,
	SL_METRIC_GAUGE,
	SL_METRIC_HISTOGRAM,
};
struct sl_metric_family;
struct sl_metric_series;
/* Is `name` a valid metric (label) name: [a-zA-Z_:][a-zA-Z0-9_:]* ? */
SL_FN bool sl_metrics_valid_name(const char *name);
SL_FN bool sl_metrics_valid_label_name(const char *name);
/* Does the instance's registry already hold a family `name`? */
SL_FN bool sl_plugin_metric_exists(const struct sl_plugin_instance *ins,
				   const char *name);
#define SL_METRICS_MAX_LABELS 16
/*
 * The family `name`, created when absent. `buckets` (ascending, without
 * +Inf) for histograms only; `max_series` caps the label sets (0: no cap;
 * a family that exists keeps its cap, with a warning when it differs).
 * `scope` is the tag the family is emitted under by the Prometheus exporter
 * (NULL: internal metrics); a family that exists must have the same.
 * NULL with *err set to a static message when it exists with another
 * shape or scope, on ENOMEM ("out of memory"), or when the instance has no
 * registry (unit tests; *err is then NULL).
 */
SL_FN struct sl_metric_family *
sl_plugin_metric_family(const struct sl_plugin_instance *ins, const char *name,
			const char *help, enum sl_metric_type type,
			const char *const *label_names, size_t n_labels,
			const double *buckets, size_t n_buckets,
			size_t max_series, const char *scope, const char **err);
/*
 * The series for `label_values` (one per label), created when absent. NULL
 * when the family is at its cap (counted by the core) or on ENOMEM.
 */
SL_FN struct sl_metric_series *
sl_plugin_metric_series(const struct sl_plugin_instance *ins,
			struct sl_metric_family *fam,
			const char *const *label_values);
/* Value updates (counter add, gauge set, histogram observe). */
SL_FN void sl_metric_add(struct sl_metric_series *s, double v);
SL_FN void sl_metric_set(struct sl_metric_series *s, double v);
SL_FN void sl_metric_observe(const struct sl_metric_family *fam,
			     struct sl_metric_series *s, double v);

/*
 * [PARSER] definitions of the running configuration. A parser is borrowed
 * for the life of the instance.
 */
struct sl_parser;
/* The parser `name` (case-insensitive), or NULL when none is defined. */
SL_FN const struct sl_parser *
sl_plugin_parser_find(const struct sl_plugin_instance *ins, const char *name);
/*
 * Parses `text` (len bytes) and on success replaces the record's body with
 * the parsed fields (and its time when the parser has a Time_Key). Returns
 * 0, -SL_EPARSE (record unchanged) or -SL_ENOMEM.
 */
SL_FN int sl_parser_apply(const struct sl_parser *p, const char *text,
			  size_t len, struct sl_record *rec);

#define SL_UUID_STR_LEN 36 /* without the terminating NUL */
/* A new UUIDv7 (time-ordered) as text and a NUL. Returns 0 or -SL_EIO. */
SL_FN int sl_uuid_v7_string(char out[SL_UUID_STR_LEN + 1]);

/* ---- the host table ---------------------------------------------------------
 */
/*
 * X(ret, name, params, args): every function of the ABI, in table order.
 * New functions are appended at the end only, with a minor version bump.
 */
#define SL_HOST_API_1_0(X, XV)                                                 \
	XV(sl_plugin_instance_name, const char *,                              \
	   (const struct sl_plugin_instance *ins), (ins))                      \
	XV(sl_plugin_instance_file, const char *,                              \
	   (const struct sl_plugin_instance *ins), (ins))                      \
	XV(sl_plugin_instance_line, int,                                       \
	   (const struct sl_plugin_instance *ins), (ins))                      \
	XV(sl_accessor_create, struct sl_accessor *,                           \
	   (const char *spec, const char **err), (spec, err))                  \
	X(sl_accessor_destroy, (struct sl_accessor * acc), (acc))              \
	XV(sl_accessor_depth, size_t, (const struct sl_accessor *acc), (acc))  \
	XV(sl_accessor_last_key, const char *,                                 \
	   (const struct sl_accessor *acc), (acc))                             \
	XV(sl_record_time, int64_t, (const struct sl_record *rec), (rec))      \
	X(sl_record_set_time, (struct sl_record * rec, int64_t ts_ns),         \
	  (rec, ts_ns))                                                        \
	XV(sl_record_body, const char *,                                       \
	   (struct sl_record * rec, size_t * len), (rec, len))                 \
	XV(sl_record_set_body, int,                                            \
	   (struct sl_record * rec, const char *json, size_t len),             \
	   (rec, json, len))                                                   \
	XV(sl_record_get, int,                                                 \
	   (struct sl_record * rec, const struct sl_accessor *acc,             \
	    struct sl_value *out),                                             \
	   (rec, acc, out))                                                    \
	XV(sl_record_get_text, int,                                            \
	   (struct sl_record * rec, const struct sl_accessor *acc,             \
	    struct sl_text *scratch, const char **text, size_t *len),          \
	   (rec, acc, scratch, text, len))                                     \
	XV(sl_record_set, int,                                                 \
	   (struct sl_record * rec, const char *key, size_t key_len,           \
	    const char *json_value, size_t value_len),                         \
	   (rec, key, key_len, json_value, value_len))                         \
	XV(sl_record_set_string, int,                                          \
	   (struct sl_record * rec, const char *key, size_t key_len,           \
	    const char *str, size_t str_len),                                  \
	   (rec, key, key_len, str, str_len))                                  \
	XV(sl_record_remove, int,                                              \
	   (struct sl_record * rec, const char *key, size_t key_len),          \
	   (rec, key, key_len))                                                \
	XV(sl_record_rename, int,                                              \
	   (struct sl_record * rec, const char *key, size_t key_len,           \
	    const char *new_key, size_t new_len),                              \
	   (rec, key, key_len, new_key, new_len))                              \
	X(sl_record_flag_parse_error, (struct sl_record * rec), (rec))         \
	XV(sl_record_next_field, int,                                          \
	   (struct sl_record * rec, size_t * pos, struct sl_text * scratch,    \
	    const char **key, size_t *key_len, struct sl_value *value),        \
	   (rec, pos, scratch, key, key_len, value))                           \
	XV(sl_buf_append, int,                                                 \
	   (struct sl_buf * b, const void *data, size_t len), (b, data, len))  \
	XV(sl_buf_reserve, int, (struct sl_buf * b, size_t extra), (b, extra)) \
	X(sl_buf_reset, (struct sl_buf * b), (b))                              \
	X(sl_buf_destroy, (struct sl_buf * b), (b))                            \
	XV(sl_json_append_string, int,                                         \
	   (struct sl_buf * b, const char *s, size_t len), (b, s, len))

#define SL_HOST_API_1_1(X, XV)                                                 \
	XV(sl_strerror, const char *, (int err), (err))                        \
	XV(sl_regex_create, struct sl_regex *,                                 \
	   (const char *pattern, char *err, size_t err_len),                   \
	   (pattern, err, err_len))                                            \
	X(sl_regex_destroy, (struct sl_regex * re), (re))                      \
	XV(sl_regex_match, bool,                                               \
	   (const struct sl_regex *re, const char *s, size_t len),             \
	   (re, s, len))                                                       \
	XV(sl_regex_match_field, bool,                                         \
	   (struct sl_record * rec, const struct sl_accessor *acc,             \
	    const struct sl_regex *re, struct sl_text *scratch),               \
	   (rec, acc, re, scratch))                                            \
	XV(sl_metrics_valid_name, bool, (const char *name), (name))            \
	XV(sl_metrics_valid_label_name, bool, (const char *name), (name))      \
	XV(sl_plugin_metric_exists, bool,                                      \
	   (const struct sl_plugin_instance *ins, const char *name),           \
	   (ins, name))                                                        \
	XV(sl_plugin_metric_family, struct sl_metric_family *,                 \
	   (const struct sl_plugin_instance *ins, const char *name,            \
	    const char *help, enum sl_metric_type type,                        \
	    const char *const *label_names, size_t n_labels,                   \
	    const double *buckets, size_t n_buckets, size_t max_series,        \
	    const char *scope, const char **err),                              \
	   (ins, name, help, type, label_names, n_labels, buckets, n_buckets,  \
	    max_series, scope, err))                                           \
	XV(sl_plugin_metric_series, struct sl_metric_series *,                 \
	   (const struct sl_plugin_instance *ins,                              \
	    struct sl_metric_family *fam, const char *const *label_values),    \
	   (ins, fam, label_values))                                           \
	X(sl_metric_add, (struct sl_metric_series * s, double v), (s, v))      \
	X(sl_metric_set, (struct sl_metric_series * s, double v), (s, v))      \
	X(sl_metric_observe,                                                   \
	  (const struct sl_metric_family *fam, struct sl_metric_series *s,     \
	   double v),                                                          \
	  (fam, s, v))                                                         \
	XV(sl_plugin_parser_find, const struct sl_parser *,                    \
	   (const struct sl_plugin_instance *ins, const char *name),           \
	   (ins, name))                                                        \
	XV(sl_parser_apply, int,                                               \
	   (const struct sl_parser *p, const char *text, size_t len,           \
	    struct sl_record *rec),                                            \
	   (p, text, len, rec))                                                \
	XV(sl_uuid_v7_string, int, (char out[SL_UUID_STR_LEN + 1]), (out))

/*
 * Handed to the plugin by the loader (stored through sl_plugin_export.host)
 * before any of its callbacks runs; valid until the plugin is unloaded.
 */
struct sluice_host_api {
	uint32_t abi_major, abi_minor; /* the host's version */
	uint32_t struct_size;	       /* sizeof this table in the host */
	/* 1.0 */
	void (*sl_vlog)(enum sl_log_level level, const char *component,
			const char *fmt, va_list ap) SL_ABI_PRINTF(3, 0);
	void (*sl_plugin_verror)(const struct sl_plugin_instance *ins, int line,
				 const char *fmt, va_list ap)
	    SL_ABI_PRINTF(3, 0);
#define SL_HOST_SLOT_(name, params, args)	void(*name) params;
#define SL_HOST_SLOTV_(name, ret, params, args) ret(*name) params;
	SL_HOST_API_1_0(SL_HOST_SLOT_, SL_HOST_SLOTV_)
	/* 1.1 */
	SL_HOST_API_1_1(SL_HOST_SLOT_, SL_HOST_SLOTV_)
#undef SL_HOST_SLOT_
#undef SL_HOST_SLOTV_
};

/*
 * The table every wrapper calls through: defined by SL_PLUGIN_EXPORT in a
 * shared object (hidden, so plugins never see each other's), by the core
 * for the built-in filters.
 */
extern const struct sluice_host_api *sluice_host SL_ABI_HIDDEN;

#ifndef SLUICE_HOST
#define SL_HOST_WRAP_(name, params, args)                                      \
	static inline void name params                                         \
	{                                                                      \
		sluice_host->name args;                                        \
	}
#define SL_HOST_WRAPV_(name, ret, params, args)                                \
	static inline ret name params                                          \
	{                                                                      \
		return sluice_host->name args;                                 \
	}
SL_HOST_API_1_0(SL_HOST_WRAP_, SL_HOST_WRAPV_)
SL_HOST_API_1_1(SL_HOST_WRAP_, SL_HOST_WRAPV_)
#undef SL_HOST_WRAP_
#undef SL_HOST_WRAPV_

SL_ABI_PRINTF(3, 4)
static inline void sl_log(enum sl_log_level level, const char *component,
			  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sluice_host->sl_vlog(level, component, fmt, ap);
	va_end(ap);
}

SL_ABI_PRINTF(3, 4)
static inline void sl_plugin_error(const struct sl_plugin_instance *ins,
				   int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sluice_host->sl_plugin_verror(ins, line, fmt, ap);
	va_end(ap);
}
#endif

/*
 * A shared object listed in Plugins_File exports one object of this type,
 * named "sluice_plugin" (use SL_PLUGIN_EXPORT). The loader reads it before
 * running any plugin code: it checks the version and the sizes, stores its
 * table through `host`, and walks `filter` and its config map with the
 * sizes declared here, so either struct may grow in a later minor. The
 * table is not there yet while the object's ELF constructors run: call no
 * sluice function from one.
 */
struct sl_plugin_export {
	uint32_t abi_major;
	uint32_t abi_minor;
	uint32_t struct_size; /* sizeof(struct sl_plugin_export) */
	uint32_t filter_size; /* sizeof(struct sl_filter_plugin) */
	uint32_t option_size; /* sizeof(struct sl_cfg_option) */
	const struct sl_filter_plugin *filter;
	const struct sluice_host_api **host; /* where the table is stored */
};
#define SL_PLUGIN_EXPORT(filter_table)                                         \
	SL_ABI_HIDDEN const struct sluice_host_api *sluice_host;               \
	SL_ABI_VISIBLE const struct sl_plugin_export sluice_plugin = {         \
	    .abi_major = SL_ABI_MAJOR,                                         \
	    .abi_minor = SL_PLUGIN_ABI_MINOR,                                  \
	    .struct_size = sizeof(struct sl_plugin_export),                    \
	    .filter_size = sizeof(struct sl_filter_plugin),                    \
	    .option_size = sizeof(struct sl_cfg_option),                       \
	    .filter = &(filter_table),                                         \
	    .host = &sluice_host,                                              \
	}

#ifdef __cplusplus
}
#endif
#endif
