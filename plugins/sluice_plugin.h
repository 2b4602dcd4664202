/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sluice_plugin.h - the public, versioned plugin ABI of sluice.
 *
 * Every filter, built-in or loaded from a shared object, is written against
 * this header alone: config maps, records and their accessors, the filter
 * table. Records are opaque so that their layout can change without breaking
 * plugins. Inputs and outputs are internal (core/sl_input.h, sl_output.h).
 *
 * Conventions: functions return 0 or a negative -SL_E* code; pointer returns
 * are NULL on failure. Pointers handed to a callback are borrowed for the
 * duration of the call unless the prototype says otherwise.
 */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A plugin built against another major version is refused by the loader. */
#define SL_ABI_MAJOR 1
#define SL_ABI_MINOR 0

/* ---- error codes (negated when returned) -------------------------------- */
enum sl_error {
	SL_OK = 0,
	SL_ENOMEM = 1,    /* allocation failed */
	SL_EINVAL = 2,    /* bad argument or value */
	SL_EIO = 3,       /* system I/O error, errno is set */
	SL_EAGAIN = 4,    /* try again later (buffer full, paused) */
	SL_ENOENT = 5,    /* no such key, file or plugin */
	SL_EPARSE = 6,    /* input did not parse */
	SL_ETOOBIG = 7,   /* input over a size or depth limit */
	SL_ECONFIG = 8,   /* configuration error (already reported) */
	SL_EABI = 9,      /* plugin ABI mismatch */
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
 *   any type with SL_CFG_MULTI: struct sl_cfg_multi, one item per line, raw
 *                                   string values with their location
 */
enum sl_cfg_type {
	SL_CFG_STR = 1,
	SL_CFG_INT,
	SL_CFG_BOOL,
	SL_CFG_SIZE,
	SL_CFG_DOUBLE,
	SL_CFG_TIME,
	SL_CFG_SLIST,
};

enum sl_cfg_flags {
	SL_CFG_MULTI = 1 << 0,    /* may repeat; stored as struct sl_cfg_multi */
	SL_CFG_REQUIRED = 1 << 1, /* must be given */
	SL_CFG_IGNORED = 1 << 2,  /* Fluent Bit option sluice accepts but has no
	                           * use for: validated, logged once, not stored */
	SL_CFG_PREFIX = 1 << 3,   /* `name` is a prefix ("rdkafka."): every key
	                           * starting with it is collected, MULTI storage,
	                           * each item "suffix value" */
};

struct sl_cfg_option {
	const char *name;  /* case-insensitive */
	enum sl_cfg_type type;
	unsigned flags;
	const char *def;   /* default as it would be written in a config, or NULL */
	double min, max;   /* inclusive range for numbers; ignored when max <= min */
	size_t offset;     /* offsetof(struct <plugin>_ctx, field) */
	const char *desc;  /* one line for `sluice -h` */
};
#define SL_CFG_END { .name = NULL }

struct sl_strlist {
	size_t n;
	char **v; /* owned */
};

struct sl_cfg_item {
	char *value;       /* owned */
	const char *file;  /* borrowed from the config, valid for the process */
	int line;
};

struct sl_cfg_multi {
	size_t n;
	struct sl_cfg_item *items; /* owned */
};

/*
 * Where a plugin instance was declared, for errors at init time. A plugin
 * reports every problem through sl_plugin_error() and then returns
 * -SL_ECONFIG from init, so that all errors of a config are listed at once.
 */
struct sl_plugin_instance;
void sl_plugin_error(const struct sl_plugin_instance *ins, int line,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The instance's name as it appears in metrics: its Alias or "<plugin>.<n>". */
const char *sl_plugin_instance_name(const struct sl_plugin_instance *ins);
/* File and line of the instance's section header. */
const char *sl_plugin_instance_file(const struct sl_plugin_instance *ins);
int sl_plugin_instance_line(const struct sl_plugin_instance *ins);

/* ---- logging ------------------------------------------------------------- */
enum sl_log_level {
	SL_LOG_OFF = 0,
	SL_LOG_ERROR,
	SL_LOG_WARN,
	SL_LOG_INFO,
	SL_LOG_DEBUG,
	SL_LOG_TRACE,
};
void sl_log(enum sl_log_level level, const char *component, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

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
struct sl_accessor *sl_accessor_create(const char *spec, const char **err);
void sl_accessor_destroy(struct sl_accessor *acc);
/* Number of path steps; the first step's key (top-level field name). */
size_t sl_accessor_depth(const struct sl_accessor *acc);
/* Key of the last step, or NULL when the last step is an array index. */
const char *sl_accessor_last_key(const struct sl_accessor *acc);

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

int64_t sl_record_time(const struct sl_record *rec);
void sl_record_set_time(struct sl_record *rec, int64_t ts_ns);
/* The body, built on first use. Borrowed until the record changes. */
const char *sl_record_body(struct sl_record *rec, size_t *len);
/*
 * Replaces the body with a copy of `json` (len bytes, a JSON object that the
 * caller guarantees valid: produced by sl_json_* helpers or a parser).
 * Returns 0 or -SL_ENOMEM (record unchanged).
 */
int sl_record_set_body(struct sl_record *rec, const char *json, size_t len);

/*
 * Looks up a field. Returns 0 and fills *out, -SL_ENOENT when absent,
 * -SL_EPARSE when the body is not a valid object (cannot happen for records
 * built by the core).
 */
int sl_record_get(struct sl_record *rec, const struct sl_accessor *acc,
		  struct sl_value *out);
/*
 * The field as text: a string unescaped, a number/bool/null as its literal,
 * an object/array as its JSON. *text is borrowed from the record or from
 * `scratch` (caller-owned, grown as needed, zero-initialise it and free its
 * buf when done), valid until either changes.
 */
struct sl_text {
	char *buf;  /* owned by the caller; free() when done */
	size_t cap;
};
int sl_record_get_text(struct sl_record *rec, const struct sl_accessor *acc,
		       struct sl_text *scratch, const char **text, size_t *len);

/*
 * Top-level edits. Keys are plain (unescaped) names. `json_value` is a valid
 * JSON value text. Each returns 0, -SL_ENOENT (remove/rename of an absent
 * key) or -SL_ENOMEM (record unchanged).
 */
int sl_record_set(struct sl_record *rec, const char *key, size_t key_len,
		  const char *json_value, size_t value_len);
int sl_record_set_string(struct sl_record *rec, const char *key,
			 size_t key_len, const char *str, size_t str_len);
int sl_record_remove(struct sl_record *rec, const char *key, size_t key_len);
int sl_record_rename(struct sl_record *rec, const char *key, size_t key_len,
		     const char *new_key, size_t new_len);

/*
 * Marks the record as one that failed to parse (kept as {"log": ...});
 * the engine counts it in sluice_input_parse_errors_total of its input.
 */
void sl_record_flag_parse_error(struct sl_record *rec);

/*
 * Iterates the top-level fields in order. Call with *pos = 0; returns 1 and
 * fills key (unescaped text via `scratch`, borrowed) and value while there
 * are fields, 0 at the end.
 */
int sl_record_next_field(struct sl_record *rec, size_t *pos,
			 struct sl_text *scratch, const char **key,
			 size_t *key_len, struct sl_value *value);

/* ---- JSON text helpers ---------------------------------------------------- */
/*
 * A growable byte buffer for building JSON. `data` is owned by the buffer.
 * Appends return 0 or -SL_ENOMEM (the buffer keeps what it had).
 */
struct sl_buf {
	char *data;
	size_t len, cap;
};
int sl_buf_append(struct sl_buf *b, const void *data, size_t len);
int sl_buf_reserve(struct sl_buf *b, size_t extra);
void sl_buf_reset(struct sl_buf *b);   /* len = 0, memory kept */
void sl_buf_destroy(struct sl_buf *b); /* frees, back to all-zero */
/* Appends `s` as a quoted JSON string; invalid UTF-8 becomes U+FFFD. */
int sl_json_append_string(struct sl_buf *b, const char *s, size_t len);

/* ---- filters --------------------------------------------------------------- */
enum sl_filter_verdict {
	SL_FILTER_KEEP = 0, /* the record goes on (possibly changed) */
	SL_FILTER_DROP,     /* the record is dropped and counted */
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

/*
 * A shared object listed in Plugins_File exports one symbol of this type,
 * named "sluice_plugin".
 */
struct sl_plugin_export {
	uint32_t abi_major;
	uint32_t abi_minor;
	const struct sl_filter_plugin *filter;
};
#define SL_PLUGIN_EXPORT(filter_table)                                       \
	const struct sl_plugin_export sluice_plugin = {                      \
		.abi_major = SL_ABI_MAJOR,                                   \
		.abi_minor = SL_ABI_MINOR,                                   \
		.filter = &(filter_table),                                   \
	}

#ifdef __cplusplus
}
#endif
#endif
