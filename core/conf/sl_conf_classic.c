/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_conf_classic.c - Fluent Bit's classic configuration format (.conf):
 * [SECTION] headers, indented "Key Value" lines, # comments, @INCLUDE (globs,
 * relative to the including file) and @SET. Produces sl_conf sections with
 * values as written; sl_conf.c expands ${VAR} and checks which section kinds
 * a file may hold. Every error goes to the diag and parsing goes on.
 */
#include "sl_common.h"
#include "sl_conf_classic.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* As Fluent Bit: at most this many files in one load. */
#define MAX_FILES 1000
/* A config file larger than this is refused rather than read. */
#define MAX_FILE_SIZE (64u << 20)
/* After this many errors in one file the rest of it is skipped. */
#define MAX_ERRORS 50

struct file_id {
	dev_t dev;
	ino_t ino;
};

/* One load: the files seen so far (to refuse reading one twice). */
struct reader {
	struct sl_conf *conf;
	struct sl_diag *diag;
	unsigned flags;
	struct file_id *seen;
	size_t n_seen;
	int rc;
};

/* The state of one file being parsed. */
struct file_state {
	const char *name;   /* interned */
	const char *indent; /* the file's indent (points into its buffer) */
	size_t indent_len;  /* 0 while not fixed yet */
	size_t sec;	    /* current section index + 1, 0 for none */
	bool bad_section;   /* keys after a broken header are dropped */
	bool in_group;	    /* inside an unsupported [GROUP] */
	int errors;
};

static const struct {
	const char *name;
	enum sl_section_kind kind;
} section_kinds[] = {
    {"SERVICE", SL_SEC_SERVICE},
    {"INPUT", SL_SEC_INPUT},
    {"INPUTS", SL_SEC_INPUT},
    {"FILTER", SL_SEC_FILTER},
    {"FILTERS", SL_SEC_FILTER},
    {"OUTPUT", SL_SEC_OUTPUT},
    {"OUTPUTS", SL_SEC_OUTPUT},
    {"PARSER", SL_SEC_PARSER},
    {"MULTILINE_PARSER", SL_SEC_MULTILINE_PARSER},
    {"PLUGINS", SL_SEC_PLUGINS},
    {"UPSTREAM", SL_SEC_UPSTREAM},
    {"NODE", SL_SEC_NODE},
    {"CUSTOM", SL_SEC_CUSTOM},
    {"CUSTOMS", SL_SEC_CUSTOM},
};

static enum sl_section_kind section_kind(const char *name)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(section_kinds); i++)
		if (strcasecmp(name, section_kinds[i].name) == 0)
			return section_kinds[i].kind;
	return SL_SEC_OTHER;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
}

static char *skip_blanks(char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

static int parse_file(struct reader *r, const char *path, const char *from,
		      int from_line);

static void error_at(struct reader *r, struct file_state *fs, int line,
		     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void error_at(struct reader *r, struct file_state *fs, int line,
		     const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sl_diag_add(r->diag, fs->name, line, "%s", msg);
	fs->errors++;
	r->rc = -SL_ECONFIG;
}

/* ---- reading files --------------------------------------------------------
 */

/*
 * Reads a whole regular file into a malloc'd NUL-terminated buffer. On
 * failure returns an errno value (EFBIG for an oversized file).
 */
static int read_all(const char *path, char **out, size_t *out_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int err;

	if (fd < 0)
		return errno;
	if (fstat(fd, &st) < 0) {
		err = errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err = EISDIR;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		/* a FIFO or device could block or never end */
		err = EINVAL;
		goto fail;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *p;

			if (ncap > MAX_FILE_SIZE + 8192) {
				err = EFBIG;
				goto fail;
			}
			p = realloc(buf, ncap);
			if (!p) {
				err = ENOMEM;
				goto fail;
			}
			buf = p;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > MAX_FILE_SIZE) {
			err = EFBIG;
			goto fail;
		}
	}
	close(fd);
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return ENOMEM;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
fail:
	close(fd);
	free(buf);
	return err;
}

static const char *read_error(int err)
{
	if (err == EFBIG)
		return "file is larger than 64 MiB";
	if (err == EINVAL)
		return "not a regular file";
	return strerror(err);
}

/* The folder part of `path` with its trailing '/', or "" (malloc'd). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? strndup(path, (size_t)(slash - path + 1)) : strdup("");
}

/* `name` relative to the folder of `file` when relative (malloc'd). */
static char *relative_to(const char *file, const char *name)
{
	char *dir, *out;

	if (name[0] == '/' || !file)
		return strdup(name);
	dir = dir_of(file);
	if (!dir)
		return NULL;
	if (asprintf(&out, "%s%s", dir, name) < 0)
		out = NULL;
	free(dir);
	return out;
}

/* ---- directives -----------------------------------------------------------
 */

static void include_glob(struct reader *r, struct file_state *fs, int line,
			 const char *pattern)
{
	char *full = relative_to(fs->name, pattern);
	glob_t g;
	int grc;

	if (!full) {
		error_at(r, fs, line, "out of memory");
		return;
	}
	memset(&g, 0, sizeof(g));
	grc = glob(full, 0, NULL, &g);
	if (grc == GLOB_NOMATCH && pattern[0] != '/' && r->conf->main_file &&
	    strcmp(fs->name, r->conf->main_file) != 0) {
		/* Fluent Bit resolves includes against the main file's folder
		 */
		char *alt = relative_to(r->conf->main_file, pattern);

		globfree(&g);
		memset(&g, 0, sizeof(g));
		if (alt) {
			grc = glob(alt, 0, NULL, &g);
			free(alt);
		}
	}
	if (grc == GLOB_NOMATCH) {
		error_at(r, fs, line, "@INCLUDE %s: no file matches", pattern);
	} else if (grc != 0) {
		error_at(r, fs, line, "@INCLUDE %s: cannot list files",
			 pattern);
	} else {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			struct stat st;

			if (stat(g.gl_pathv[i], &st) == 0 &&
			    S_ISDIR(st.st_mode))
				continue;
			if (parse_file(r, g.gl_pathv[i], fs->name, line) < 0 &&
			    r->n_seen >= MAX_FILES)
				break;
		}
	}
	globfree(&g);
	free(full);
}

static void include_one(struct reader *r, struct file_state *fs, int line,
			const char *name)
{
	char *full = relative_to(fs->name, name);
	struct stat st;

	if (!full) {
		error_at(r, fs, line, "out of memory");
		return;
	}
	if (stat(full, &st) < 0 && errno == ENOENT && name[0] != '/' &&
	    r->conf->main_file && strcmp(fs->name, r->conf->main_file) != 0) {
		/* Fluent Bit resolves includes against the main file's folder
		 */
		char *alt = relative_to(r->conf->main_file, name);

		if (alt && stat(alt, &st) == 0) {
			free(full);
			full = alt;
		} else {
			free(alt);
		}
	}
	parse_file(r, full, fs->name, line);
	free(full);
}

static void directive(struct reader *r, struct file_state *fs, int line,
		      char *s)
{
	char *arg;

	if (strncasecmp(s, "@INCLUDE", 8) == 0 && (!s[8] || is_blank(s[8]))) {
		arg = skip_blanks(s + 8);
		rtrim(arg);
		if (!*arg)
			error_at(r, fs, line, "@INCLUDE needs a file name");
		else if (r->flags & SL_CONF_CLASSIC_NO_INCLUDE)
			error_at(r, fs, line, "@INCLUDE is not allowed here");
		else if (strchr(arg, '*'))
			include_glob(r, fs, line, arg);
		else
			include_one(r, fs, line, arg);
		return;
	}
	if (strncasecmp(s, "@SET", 4) == 0 && (!s[4] || is_blank(s[4]))) {
		char *eq, *name, *value, *var, **vars;

		arg = skip_blanks(s + 4);
		eq = strchr(arg, '=');
		if (!eq) {
			error_at(r, fs, line, "@SET needs NAME=VALUE");
			return;
		}
		*eq = '\0';
		name = arg;
		rtrim(name);
		value = skip_blanks(eq + 1);
		rtrim(value);
		if (!*name) {
			error_at(r, fs, line, "@SET needs NAME=VALUE");
			return;
		}
		if (asprintf(&var, "%s=%s", name, value) < 0) {
			error_at(r, fs, line, "out of memory");
			return;
		}
		vars = realloc(r->conf->vars,
			       (r->conf->n_vars + 1) * sizeof(*vars));
		if (!vars) {
			free(var);
			error_at(r, fs, line, "out of memory");
			return;
		}
		r->conf->vars = vars;
		vars[r->conf->n_vars++] = var;
		return;
	}
	arg = s;
	while (*arg && !is_blank(*arg))
		arg++;
	error_at(r, fs, line,
		 "unknown directive '%.*s' (expected @INCLUDE or @SET)",
		 (int)(arg - s), s);
}

/* ---- lines ----------------------------------------------------------------
 */

static void header(struct reader *r, struct file_state *fs, int line, char *s)
{
	char *end = strchr(s, ']'), *name;
	struct sl_conf_section *sec;

	fs->sec = 0;
	fs->in_group = false;
	fs->bad_section = true;
	if (!end) {
		error_at(r, fs, line, "bad section header: missing ']'");
		return;
	}
	/* text after ']' is ignored, as in Fluent Bit */
	*end = '\0';
	name = skip_blanks(s + 1);
	rtrim(name);
	if (!*name) {
		error_at(r, fs, line, "empty section header '[]'");
		return;
	}
	sec = sl_conf_add_section(r->conf, section_kind(name), name, fs->name,
				  line);
	if (!sec) {
		error_at(r, fs, line, "out of memory");
		return;
	}
	fs->sec = r->conf->n;
	fs->bad_section = false;
}

/*
 * Checks the indentation of `s` (which starts with a blank) against the
 * file's indent, fixing it on the first indented line. Returns the body
 * after the indent, or NULL after reporting an error. *twice is set for a
 * line indented two levels (Fluent Bit's group content).
 */
static char *check_indent(struct reader *r, struct file_state *fs, int line,
			  char *s, bool *twice)
{
	size_t w = 0, extra = 0;

	*twice = false;
	if (!fs->indent_len) {
		while (is_blank(s[w]))
			w++;
		fs->indent = s;
		fs->indent_len = w;
		return s + w;
	}
	while (w < fs->indent_len && s[w] == fs->indent[w])
		w++;
	if (w < fs->indent_len) {
		if (is_blank(s[w]))
			error_at(r, fs, line,
				 "invalid indentation level: inconsistent use "
				 "of tab and space");
		else
			error_at(r, fs, line,
				 "invalid indentation level: less indented "
				 "than the file's first indented line");
		return NULL;
	}
	while (is_blank(s[w + extra]))
		extra++;
	if (extra == 0)
		return s + w;
	if (extra == fs->indent_len) {
		*twice = true;
		return s + w + extra;
	}
	error_at(r, fs, line,
		 "invalid indentation level: extra indentation level found "
		 "(this file is indented by %zu)",
		 fs->indent_len);
	return NULL;
}

static void key_line(struct reader *r, struct file_state *fs, int line, char *s)
{
	char *body, *key_end, *value;
	bool twice;

	if (!is_blank(s[0])) {
		error_at(r, fs, line,
			 "invalid indentation level: '%.40s' must be indented "
			 "under a section header",
			 s);
		return;
	}
	body = skip_blanks(s);
	if (body[0] == '[' &&
	    (!fs->indent_len || (size_t)(body - s) != fs->indent_len)) {
		/*
		 * Fluent Bit fails on it ("undefined value"); reading it as the
		 * header it was meant to be avoids an error on every next line.
		 */
		error_at(r, fs, line,
			 "section header '%.40s' must not be indented", body);
		header(r, fs, line, body);
		return;
	}
	body = check_indent(r, fs, line, s, &twice);
	if (!body)
		return;
	if (body[0] == '[') {
		error_at(r, fs, line,
			 "groups ('%.40s' inside a section) are not supported",
			 body);
		fs->in_group = true;
		return;
	}
	if (twice && fs->in_group)
		return; /* content of the group already reported */
	fs->in_group = false;
	key_end = body;
	while (*key_end && !is_blank(*key_end))
		key_end++;
	value = skip_blanks(key_end);
	rtrim(value);
	*key_end = '\0';
	if (!*value) {
		error_at(r, fs, line, "key '%.80s' has no value", body);
		return;
	}
	if (!fs->sec) {
		if (!fs->bad_section)
			error_at(r, fs, line,
				 "'%.80s' is outside of any section", body);
		return;
	}
	if (sl_conf_add_entry(r->conf, &r->conf->sections[fs->sec - 1], body,
			      value, fs->name, line) < 0)
		error_at(r, fs, line, "out of memory");
}

static void parse_buffer(struct reader *r, struct file_state *fs, char *buf,
			 size_t len)
{
	char *p = buf, *end = buf + len;
	int line = 0;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *eol = nl ? nl : end, *s;
		size_t n = (size_t)(eol - p);

		line++;
		if (fs->errors >= MAX_ERRORS) {
			sl_diag_add(r->diag, fs->name, line,
				    "too many errors, skipping the rest of "
				    "this file");
			return;
		}
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (memchr(p, '\0', n)) {
			error_at(r, fs, line, "NUL byte in configuration line");
			p = nl ? nl + 1 : end;
			continue;
		}
		p[n] = '\0';
		s = p;
		p = nl ? nl + 1 : end;

		if (!*skip_blanks(s) || *skip_blanks(s) == '#')
			continue; /* blank or comment, at any indentation */
		if (s[0] == '@')
			directive(r, fs, line, s);
		else if (s[0] == '[')
			header(r, fs, line, s);
		else
			key_line(r, fs, line, s);
	}
}

/*
 * Reads one file (the top one when `from` is NULL, else included from
 * from:from_line) and parses it. Returns 0 or -SL_ECONFIG.
 */
static int parse_file(struct reader *r, const char *path, const char *from,
		      int from_line)
{
	struct file_state fs = {0};
	struct stat st;
	struct file_id *seen;
	char *buf = NULL;
	size_t len = 0;
	int err;

	if (stat(path, &st) < 0) {
		err = errno;
		if (from)
			sl_diag_add(r->diag, from, from_line,
				    "cannot include '%s': %s", path,
				    strerror(err));
		else
			sl_diag_add(r->diag, path, 0,
				    "cannot open configuration file: %s",
				    strerror(err));
		r->rc = -SL_ECONFIG;
		return -SL_ECONFIG;
	}
	for (size_t i = 0; i < r->n_seen; i++) {
		if (r->seen[i].dev == st.st_dev &&
		    r->seen[i].ino == st.st_ino) {
			sl_diag_add(r->diag, from ? from : path, from_line,
				    "'%s' is included twice (recursive "
				    "@INCLUDE?)",
				    path);
			r->rc = -SL_ECONFIG;
			return -SL_ECONFIG;
		}
	}
	if (r->n_seen >= MAX_FILES) {
		sl_diag_add(r->diag, from ? from : path, from_line,
			    "too many configuration files (limit %d)",
			    MAX_FILES);
		r->rc = -SL_ECONFIG;
		return -SL_ECONFIG;
	}
	seen = realloc(r->seen, (r->n_seen + 1) * sizeof(*seen));
	if (!seen)
		goto oom;
	r->seen = seen;
	r->seen[r->n_seen].dev = st.st_dev;
	r->seen[r->n_seen].ino = st.st_ino;
	r->n_seen++;

	err = read_all(path, &buf, &len);
	if (err) {
		if (from)
			sl_diag_add(r->diag, from, from_line,
				    "cannot include '%s': %s", path,
				    read_error(err));
		else
			sl_diag_add(r->diag, path, 0,
				    "cannot read configuration file: %s",
				    read_error(err));
		r->rc = -SL_ECONFIG;
		return -SL_ECONFIG;
	}
	fs.name = sl_conf_intern_file(r->conf, path);
	if (!fs.name) {
		free(buf);
		goto oom;
	}
	parse_buffer(r, &fs, buf, len);
	free(buf);
	return fs.errors ? -SL_ECONFIG : 0;
oom:
	sl_diag_add(r->diag, path, 0, "out of memory");
	r->rc = -SL_ECONFIG;
	return -SL_ECONFIG;
}

int sl_conf_classic_load(struct sl_conf *conf, const char *path,
			 const char *data, size_t len, unsigned flags,
			 struct sl_diag *diag)
{
	struct reader r = {.conf = conf, .diag = diag, .flags = flags};

	if (data) {
		struct file_state fs = {0};
		char *copy = malloc(len + 1);

		fs.name = sl_conf_intern_file(conf, path);
		if (!copy || !fs.name) {
			free(copy);
			sl_diag_add(diag, path, 0, "out of memory");
			return -SL_ECONFIG;
		}
		memcpy(copy, data, len);
		copy[len] = '\0';
		parse_buffer(&r, &fs, copy, len);
		free(copy);
	} else {
		parse_file(&r, path, NULL, 0);
	}
	free(r.seen);
	return r.rc;
}
