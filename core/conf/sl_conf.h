/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_conf.h - configuration files read into a neutral tree of sections and
 * key/value entries, each remembering its file and line. Fluent Bit's
 * classic format (sl_conf_classic.c) and YAML format (sl_conf_yaml.c) both
 * produce this tree; what a key means is decided later by config maps.
 *
 * Values are stored with ${VAR} already expanded. Every problem is added to
 * a struct sl_diag as "FILE:LINE: message"; loading goes on after an error
 * where it safely can, so that all errors are reported at once.
 */
#ifndef SL_CONF_H
#define SL_CONF_H

#include "sl_diag.h"

#include <stdbool.h>
#include <stddef.h>

enum sl_section_kind {
	SL_SEC_SERVICE = 1,
	SL_SEC_INPUT,
	SL_SEC_FILTER,
	SL_SEC_OUTPUT,
	SL_SEC_PARSER,
	SL_SEC_MULTILINE_PARSER,
	SL_SEC_PLUGINS,	 /* [PLUGINS] in a Plugins_File: Path entries */
	SL_SEC_UPSTREAM, /* [UPSTREAM]/[NODE]: accepted, unused by sluice */
	SL_SEC_NODE,
	SL_SEC_CUSTOM, /* [CUSTOM]: Fluent Bit custom plugins (none in sluice)
			*/
	/* YAML only, each with an owner (struct sl_conf_section.owner): a
	 * filter in an input's or output's `processors.logs`, a route in an
	 * input's `routes.logs`, a rule of their `condition` */
	SL_SEC_PROCESSOR,
	SL_SEC_ROUTE,
	SL_SEC_RULE,
	SL_SEC_OTHER, /* any other header: kept so validation can name it */
};

struct sl_conf_entry {
	char *key;   /* as written (case kept); compare case-insensitively */
	char *value; /* expanded */
	const char *file; /* interned in struct sl_conf, valid while it lives */
	int line;
};

struct sl_conf_section {
	enum sl_section_kind kind;
	char *header; /* header name as written, e.g. "INPUT" */
	const char *file;
	int line;
	struct sl_conf_entry *entries; /* owned, in file order */
	size_t n, cap;
	/* 1 + index in sl_conf.sections of the section this one belongs to
	 * (processor, route, rule); 0: a top-level section */
	size_t owner;
};

struct sl_conf {
	struct sl_conf_section
	    *sections; /* owned, in file order (includes inlined) */
	size_t n, cap;
	char **files; /* interned file names (owned) */
	size_t n_files;
	char **vars; /* @SET / YAML env: "NAME=value" (owned) */
	size_t n_vars;
	const char *main_file; /* first file loaded (interned) */
};

void sl_conf_init(struct sl_conf *conf);
void sl_conf_destroy(struct sl_conf *conf);

/*
 * Reads `path` into `conf` (appending sections): classic format, or YAML
 * when the name ends in .yaml/.yml (any case). Follows @INCLUDE / includes
 * relative to the including file. Returns 0, or -SL_ECONFIG after adding
 * diagnostics.
 */
int sl_conf_load(struct sl_conf *conf, const char *path, struct sl_diag *diag);

/*
 * Reads a Parsers_File (only [PARSER] and [MULTILINE_PARSER] sections are
 * allowed in one) into `conf`. Relative paths are taken relative to
 * `base_dir` (the main config's folder) when not NULL. Returns as above.
 */
int sl_conf_load_parsers(struct sl_conf *conf, const char *path,
			 const char *base_dir, struct sl_diag *diag);

/*
 * Reads a Plugins_File ([PLUGINS] with Path entries) into `conf`.
 */
int sl_conf_load_plugins(struct sl_conf *conf, const char *path,
			 const char *base_dir, struct sl_diag *diag);

/* Appends a section programmatically (CLI one-liners). NULL on ENOMEM. */
struct sl_conf_section *sl_conf_add_section(struct sl_conf *conf,
					    enum sl_section_kind kind,
					    const char *header,
					    const char *file, int line);
/* Appends an entry to a section (copies key and value). 0 or -SL_ENOMEM. */
int sl_conf_add_entry(struct sl_conf *conf, struct sl_conf_section *sec,
		      const char *key, const char *value, const char *file,
		      int line);
/* Interns a file name for the conf's lifetime. NULL on ENOMEM. */
const char *sl_conf_intern_file(struct sl_conf *conf, const char *name);

/* The first entry named `key` (case-insensitive), or NULL. */
const struct sl_conf_entry *sl_conf_get(const struct sl_conf_section *sec,
					const char *key);

/*
 * Expands ${NAME} and ${NAME:-default} in `in` with @SET variables first,
 * then the environment. An undefined name without default expands to "".
 * Returns a malloc'd string or NULL on ENOMEM.
 */
char *sl_conf_expand(const struct sl_conf *conf, const char *in);

/* Called once per ${NAME} that is undefined and has no default. */
typedef void (*sl_conf_undefined_fn)(void *arg, const char *name, size_t len);
/*
 * sl_conf_expand() that also calls `undefined` (when not NULL) for each
 * such variable; name points into `in` (len bytes, not terminated). The
 * loader uses it to warn with the entry's FILE:LINE.
 */
char *sl_conf_expand_report(const struct sl_conf *conf, const char *in,
			    sl_conf_undefined_fn undefined, void *arg);

#endif
