/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_conf.c - the configuration tree of sl_conf.h: sections and entries,
 * interned file names, ${VAR} expansion, and the three load entry points
 * (main config, Parsers_File, Plugins_File) with the section kinds each
 * allows. The grammars live in sl_conf_classic.c and sl_conf_yaml.c; what
 * a key means is decided by config maps.
 */
#include "sl_conf.h"
#include "sl_common.h"
#include "sl_conf_classic.h"
#include "sl_conf_yaml.h"
#include "sl_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum load_mode { MODE_MAIN, MODE_PARSERS, MODE_PLUGINS };

void sl_conf_init(struct sl_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
}

static void section_free(struct sl_conf_section *sec)
{
	for (size_t i = 0; i < sec->n; i++) {
		free(sec->entries[i].key);
		free(sec->entries[i].value);
	}
	free(sec->entries);
	free(sec->header);
}

void sl_conf_destroy(struct sl_conf *conf)
{
	if (!conf)
		return;
	for (size_t i = 0; i < conf->n; i++)
		section_free(&conf->sections[i]);
	free(conf->sections);
	for (size_t i = 0; i < conf->n_files; i++)
		free(conf->files[i]);
	free(conf->files);
	for (size_t i = 0; i < conf->n_vars; i++)
		free(conf->vars[i]);
	free(conf->vars);
	memset(conf, 0, sizeof(*conf));
}

const char *sl_conf_intern_file(struct sl_conf *conf, const char *name)
{
	char **files, *copy;

	for (size_t i = 0; i < conf->n_files; i++)
		if (strcmp(conf->files[i], name) == 0)
			return conf->files[i];
	copy = strdup(name);
	if (!copy)
		return NULL;
	files = realloc(conf->files, (conf->n_files + 1) * sizeof(*files));
	if (!files) {
		free(copy);
		return NULL;
	}
	conf->files = files;
	conf->files[conf->n_files++] = copy;
	return copy;
}

/*
 * The returned pointer points into conf->sections: it is valid until the
 * next sl_conf_add_section() on the same conf (which may move the array).
 */
struct sl_conf_section *sl_conf_add_section(struct sl_conf *conf,
					    enum sl_section_kind kind,
					    const char *header,
					    const char *file, int line)
{
	struct sl_conf_section *sec;
	char *h = strdup(header ? header : "");

	if (!h)
		return NULL;
	if (conf->n == conf->cap) {
		size_t cap = conf->cap ? conf->cap * 2 : 8;
		struct sl_conf_section *p =
		    realloc(conf->sections, cap * sizeof(*p));

		if (!p) {
			free(h);
			return NULL;
		}
		conf->sections = p;
		conf->cap = cap;
	}
	sec = &conf->sections[conf->n++];
	memset(sec, 0, sizeof(*sec));
	sec->kind = kind;
	sec->header = h;
	sec->file = file;
	sec->line = line;
	return sec;
}

int sl_conf_add_entry(struct sl_conf *conf, struct sl_conf_section *sec,
		      const char *key, const char *value, const char *file,
		      int line)
{
	struct sl_conf_entry *e;
	char *k, *v;

	(void)conf;
	if (sec->n == sec->cap) {
		size_t cap = sec->cap ? sec->cap * 2 : 8;
		struct sl_conf_entry *p =
		    realloc(sec->entries, cap * sizeof(*p));

		if (!p)
			return -SL_ENOMEM;
		sec->entries = p;
		sec->cap = cap;
	}
	k = strdup(key);
	v = strdup(value ? value : "");
	if (!k || !v) {
		free(k);
		free(v);
		return -SL_ENOMEM;
	}
	e = &sec->entries[sec->n++];
	e->key = k;
	e->value = v;
	e->file = file;
	e->line = line;
	return 0;
}

const struct sl_conf_entry *sl_conf_get(const struct sl_conf_section *sec,
					const char *key)
{
	for (size_t i = 0; i < sec->n; i++)
		if (strcasecmp(sec->entries[i].key, key) == 0)
			return &sec->entries[i];
	return NULL;
}

/* ---- variables ------------------------------------------------------------
 */

/* The @SET value of `name` (name_len bytes), or NULL. Names are case-sensitive.
 */
static const char *var_lookup(const struct sl_conf *conf, const char *name,
			      size_t name_len)
{
	/* Last one wins, as a later @SET replaces an earlier one. */
	for (size_t i = conf->n_vars; i-- > 0;) {
		const char *v = conf->vars[i];

		if (strncmp(v, name, name_len) == 0 && v[name_len] == '=')
			return v + name_len + 1;
	}
	return NULL;
}

/*
 * A variable's value: @SET first, then the environment, where (as in Fluent
 * Bit) an empty variable counts as unset; HOSTNAME falls back to the host
 * name. `host` is scratch storage for that. NULL when undefined.
 */
static const char *var_value(const struct sl_conf *conf, const char *name,
			     size_t len, char *host, size_t host_size)
{
	const char *v = var_lookup(conf, name, len);
	char *tmp;

	if (v)
		return v;
	tmp = strndup(name, len);
	if (!tmp)
		return NULL;
	v = getenv(tmp);
	if (v && !*v)
		v = NULL;
	if (!v && strcmp(tmp, "HOSTNAME") == 0 &&
	    gethostname(host, host_size - 1) == 0) {
		host[host_size - 1] = '\0';
		v = host;
	}
	free(tmp);
	return v;
}

char *sl_conf_expand(const struct sl_conf *conf, const char *in)
{
	return sl_conf_expand_report(conf, in, NULL, NULL);
}

char *sl_conf_expand_report(const struct sl_conf *conf, const char *in,
			    sl_conf_undefined_fn undefined, void *arg)
{
	struct sl_buf b = {0};
	const char *p = in;
	char host[256];

	for (;;) {
		const char *start = strstr(p, "${"), *end, *name, *dash, *v;
		size_t name_len;

		if (!start)
			break;
		end = strchr(start + 2, '}');
		if (!end)
			break; /* an unterminated ${ is kept as written */
		name = start + 2;
		dash = memmem(name, (size_t)(end - name), ":-", 2);
		name_len = (size_t)((dash ? dash : end) - name);
		if (name_len == 0 || strcspn(name, " \t${}:") < name_len) {
			/* "${}" or "${ x" is not a variable: keep the "${" */
			if (sl_buf_append(&b, p, (size_t)(name - p)) < 0)
				goto oom;
			p = name;
			continue;
		}
		if (sl_buf_append(&b, p, (size_t)(start - p)) < 0)
			goto oom;
		v = var_value(conf, name, name_len, host, sizeof(host));
		if (v) {
			if (sl_buf_append(&b, v, strlen(v)) < 0)
				goto oom;
		} else if (dash) {
			if (sl_buf_append(&b, dash + 2,
					  (size_t)(end - dash - 2)) < 0)
				goto oom;
		} else if (undefined) {
			undefined(arg, name, name_len);
		}
		/* undefined without default: "" as in Fluent Bit */
		p = end + 1;
	}
	if (sl_buf_append(&b, p, strlen(p)) < 0)
		goto oom;
	return b.data;
oom:
	sl_buf_destroy(&b);
	return NULL;
}

/* Fluent Bit warns too ("variable ... is used but not assigned"). */
static void warn_undefined(void *arg, const char *name, size_t len)
{
	const struct sl_conf_entry *e = arg;

	sl_log(SL_LOG_WARN, "config",
	       "%s:%d: variable ${%.*s} in option '%s' is neither @SET nor "
	       "in the environment: it expands to an empty value",
	       e->file ? e->file : "-", e->line, (int)len, name, e->key);
}

/* Expands the values of sections [from, conf->n). 0 or -SL_ENOMEM. */
static int expand_from(struct sl_conf *conf, size_t from)
{
	for (size_t i = from; i < conf->n; i++) {
		struct sl_conf_section *sec = &conf->sections[i];

		for (size_t j = 0; j < sec->n; j++) {
			char *v;

			if (!strstr(sec->entries[j].value, "${"))
				continue;
			v = sl_conf_expand_report(conf, sec->entries[j].value,
						  warn_undefined,
						  &sec->entries[j]);
			if (!v)
				return -SL_ENOMEM;
			free(sec->entries[j].value);
			sec->entries[j].value = v;
		}
	}
	return 0;
}

/* ---- loading --------------------------------------------------------------
 */

static bool is_yaml_name(const char *path)
{
	size_t n = strlen(path);

	return (n >= 5 && strcasecmp(path + n - 5, ".yaml") == 0) ||
	       (n >= 4 && strcasecmp(path + n - 4, ".yml") == 0);
}

static const char *mode_name(enum load_mode mode)
{
	return mode == MODE_PARSERS ? "a Parsers_File" : "a Plugins_File";
}

/* Is a section of `kind` allowed in a file loaded in `mode`? */
static bool kind_allowed(enum load_mode mode, enum sl_section_kind kind)
{
	switch (mode) {
	case MODE_MAIN:
		return kind != SL_SEC_PARSER && kind != SL_SEC_MULTILINE_PARSER;
	case MODE_PARSERS:
		return kind == SL_SEC_PARSER || kind == SL_SEC_MULTILINE_PARSER;
	case MODE_PLUGINS:
		return kind == SL_SEC_PLUGINS;
	}
	return false;
}

static int check_kinds(const struct sl_conf *conf, size_t from,
		       enum load_mode mode, bool yaml, struct sl_diag *diag)
{
	int rc = 0;

	for (size_t i = from; i < conf->n; i++) {
		const struct sl_conf_section *sec = &conf->sections[i];

		if (kind_allowed(mode, sec->kind))
			continue;
		/* Fluent Bit's YAML main file may define parsers inline */
		if (mode == MODE_MAIN && yaml)
			continue;
		if (mode == MODE_MAIN)
			sl_diag_add(diag, sec->file, sec->line,
				    "[%s] sections belong in a Parsers_File, "
				    "not in the main configuration",
				    sec->header);
		else
			sl_diag_add(diag, sec->file, sec->line,
				    "[%s] is not allowed in %s", sec->header,
				    mode_name(mode));
		rc = -SL_ECONFIG;
	}
	return rc;
}

/* `path` made relative to base_dir when it is relative. Caller frees. */
static char *resolve(const char *path, const char *base_dir)
{
	char *out;

	if (!base_dir || !*base_dir || path[0] == '/')
		return strdup(path);
	if (asprintf(&out, "%s%s%s", base_dir,
		     base_dir[strlen(base_dir) - 1] == '/' ? "" : "/",
		     path) < 0)
		return NULL;
	return out;
}

static int load(struct sl_conf *conf, const char *path, const char *base_dir,
		enum load_mode mode, struct sl_diag *diag)
{
	size_t from = conf->n;
	char *full = resolve(path, base_dir);
	bool yaml;
	int rc;

	if (!full) {
		sl_diag_add(diag, path, 0, "out of memory");
		return -SL_ECONFIG;
	}
	if (!conf->main_file && mode == MODE_MAIN)
		conf->main_file = sl_conf_intern_file(conf, full);
	yaml = is_yaml_name(full);
	if (yaml) {
		rc = sl_conf_yaml_load(conf, full, diag);
	} else {
		rc = sl_conf_classic_load(conf, full, NULL, 0, 0, diag);
	}
	free(full);
	if (check_kinds(conf, from, mode, yaml, diag) < 0)
		rc = -SL_ECONFIG;
	if (expand_from(conf, from) < 0) {
		sl_diag_add(diag, path, 0, "out of memory");
		rc = -SL_ECONFIG;
	}
	return rc < 0 ? -SL_ECONFIG : 0;
}

int sl_conf_load(struct sl_conf *conf, const char *path, struct sl_diag *diag)
{
	return load(conf, path, NULL, MODE_MAIN, diag);
}

int sl_conf_load_parsers(struct sl_conf *conf, const char *path,
			 const char *base_dir, struct sl_diag *diag)
{
	return load(conf, path, base_dir, MODE_PARSERS, diag);
}

int sl_conf_load_plugins(struct sl_conf *conf, const char *path,
			 const char *base_dir, struct sl_diag *diag)
{
	return load(conf, path, base_dir, MODE_PLUGINS, diag);
}
