/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_cli.c - command-line parsing. One-liners follow Fluent Bit: -i, -F and
 * -o start a section, -p key=value, -m and -t apply to the section started
 * last. A -p before any plugin, or -m after an input, is a usage error.
 */
#include "sl_cli.h"
#include "sl_cfgmap.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/*
 * The options, once: -h renders them as text, -J as JSON (and from that
 * the sluice(1) man page), and the getopt tables are built from them, so
 * the three cannot list different options. Fluent Bit's flags are all
 * here: those that set a [SERVICE] key do it through `svc_key` (as a
 * command-line [SERVICE] entry that wins over the file's), those sluice
 * cannot honour are refused with `refused` as the reason.
 */
struct cli_option {
	char short_name; /* 0: long only */
	const char *long_name;
	const char *arg; /* NULL: takes no value */
	const char *desc;
	const char *alias;     /* a second long name (Fluent Bit has two) */
	const char *svc_key;   /* sets this [SERVICE] key */
	const char *svc_value; /* to this, or to the option's value */
	const char *refused;   /* a Fluent Bit flag sluice refuses: why */
};

static const struct cli_option cli_options[] = {
    {.short_name = 'c',
     .long_name = "config",
     .arg = "FILE",
     .desc = "run the pipeline of FILE (.conf classic or .yaml)"},
    {.short_name = 'R',
     .long_name = "parser",
     .arg = "FILE",
     .desc = "load a parsers file"},
    {.short_name = 'D',
     .long_name = "dry-run",
     .arg = NULL,
     .desc = "validate the configuration and exit"},
    {.short_name = 'i',
     .long_name = "input",
     .arg = "NAME",
     .desc = "add an input"},
    {.short_name = 'F',
     .long_name = "filter",
     .arg = "NAME",
     .desc = "add a filter"},
    {.short_name = 'o',
     .long_name = "output",
     .arg = "NAME",
     .desc = "add an output"},
    {.short_name = 'p',
     .long_name = "prop",
     .arg = "KEY=VALUE",
     .desc = "set an option of the last plugin added"},
    {.short_name = 'm',
     .long_name = "match",
     .arg = "PATTERN",
     .desc = "Match of the last filter or output"},
    {.short_name = 't',
     .long_name = "tag",
     .arg = "TAG",
     .desc = "Tag of the last input"},
    {.short_name = 'f',
     .long_name = "flush",
     .arg = "SECONDS",
     .desc = "flush interval",
     .svc_key = "flush"},
    {.short_name = 'l',
     .long_name = "log_file",
     .arg = "FILE",
     .desc = "write logs to FILE"},
    {.short_name = 'b',
     .long_name = "storage_path",
     .arg = "PATH",
     .desc = "[SERVICE] storage.path",
     .svc_key = "storage.path"},
    {.short_name = 'H',
     .long_name = "http",
     .arg = NULL,
     .desc = "serve the HTTP API ([SERVICE] HTTP_Server On)",
     .alias = "http_server",
     .svc_key = "http_server",
     .svc_value = "on"},
    {.short_name = 'L',
     .long_name = "http_listen",
     .arg = "ADDRESS",
     .desc = "HTTP API address",
     .svc_key = "http_listen"},
    {.short_name = 'P',
     .long_name = "port",
     .arg = "PORT",
     .desc = "HTTP API port",
     .alias = "http_port",
     .svc_key = "http_port"},
    {.short_name = 'Y',
     .long_name = "enable-hot-reload",
     .arg = NULL,
     .desc = "allow reloads over HTTP (PUT/POST /api/v2/reload)",
     .svc_key = "hot_reload",
     .svc_value = "on"},
    {.short_name = 'W',
     .long_name = "disable-thread-safety-on-hot-reload",
     .arg = NULL,
     .desc = "accepted (Fluent Bit's; no effect in sluice)",
     .svc_key = "hot_reload.ensure_thread_safety",
     .svc_value = "off"},
    {.short_name = 's',
     .long_name = "coro_stack_size",
     .arg = "SIZE",
     .desc = "accepted (Fluent Bit's; sluice has no coroutines)",
     .svc_key = "coro_stack_size"},
    {.short_name = 'e',
     .long_name = "plugin",
     .arg = "FILE",
     .desc = "load a filter plugin shared object (as a Plugins_File Path)"},
    {.short_name = 'w',
     .long_name = "workdir",
     .arg = "DIR",
     .desc = "change to DIR before reading the configuration"},
    {.short_name = 'v',
     .long_name = "verbose",
     .arg = NULL,
     .desc = "more logging (repeat for trace)"},
    {.short_name = 'q',
     .long_name = "quiet",
     .arg = NULL,
     .desc = "less logging"},
    {.short_name = 'V',
     .long_name = "version",
     .arg = NULL,
     .desc = "print the version"},
    {.short_name = 'h',
     .long_name = "help",
     .arg = NULL,
     .desc = "this help, with every plugin and its options"},
    {.short_name = 'J',
     .long_name = "help-json",
     .arg = NULL,
     .desc = "the options and every plugin's options as JSON"},
    {.short_name = 'd',
     .long_name = "daemon",
     .arg = NULL,
     .desc = "refused",
     .refused = "sluice does not fork into the background; run it under "
		"systemd (Type=simple) or a container runtime"},
    {.short_name = 0,
     .long_name = "supervisor",
     .arg = NULL,
     .desc = "refused",
     .refused = "sluice has no supervisor process; let systemd "
		"(Restart=on-failure) or Kubernetes restart it"},
    {.short_name = 'C',
     .long_name = "custom",
     .arg = "NAME",
     .desc = "refused",
     .refused = "sluice has no custom plugins"},
    {.short_name = 'r',
     .long_name = "processor",
     .arg = "NAME",
     .desc = "refused",
     .refused = "processors cannot be given on the command line; use -F "
		"(filters) or a YAML configuration"},
    {.short_name = 'T',
     .long_name = "sp-task",
     .arg = "SQL",
     .desc = "refused",
     .refused = "sluice has no stream processor"},
    {.short_name = 'S',
     .long_name = "sosreport",
     .arg = NULL,
     .desc = "refused",
     .refused = "sluice has no support report; --dry-run and -J describe "
		"a setup"},
    {.short_name = 'Z',
     .long_name = "enable-chunk-trace",
     .arg = NULL,
     .desc = "refused",
     .refused = "sluice has no chunk trace"},
    {.short_name = 0,
     .long_name = "trace",
     .arg = "PIPELINE",
     .desc = "refused",
     .refused = "sluice has no chunk trace"},
    {.short_name = 0,
     .long_name = "trace-input",
     .arg = "NAME",
     .desc = "refused",
     .refused = "sluice has no chunk trace"},
    {.short_name = 0,
     .long_name = "trace-output",
     .arg = "NAME",
     .desc = "refused",
     .refused = "sluice has no chunk trace"},
    {.short_name = 0,
     .long_name = "trace-output-property",
     .arg = "KEY=VALUE",
     .desc = "refused",
     .refused = "sluice has no chunk trace"},
    {.short_name = 0,
     .long_name = "enable-fips",
     .arg = NULL,
     .desc = "refused",
     .refused = "sluice has no FIPS switch; the system OpenSSL's "
		"configuration decides"},
};

/* getopt's value for option i: its letter, or 256 + i when long only. */
static int opt_code(size_t i)
{
	return cli_options[i].short_name ? cli_options[i].short_name
					 : 256 + (int)i;
}

static const struct cli_option *option_of(int code)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(cli_options); i++)
		if (opt_code(i) == code)
			return &cli_options[i];
	return NULL;
}

void sl_cli_usage(FILE *out)
{
	fprintf(out, "Usage: sluice [OPTION]...\n\n");
	for (size_t i = 0; i < SL_ARRAY_LEN(cli_options); i++) {
		const struct cli_option *o = &cli_options[i];
		char name[64];

		if (o->refused)
			continue; /* listed below */
		if (o->short_name)
			snprintf(name, sizeof(name), "-%c, --%s%s%s",
				 o->short_name, o->long_name, o->arg ? "=" : "",
				 o->arg ? o->arg : "");
		else
			snprintf(name, sizeof(name), "    --%s%s%s",
				 o->long_name, o->arg ? "=" : "",
				 o->arg ? o->arg : "");
		fprintf(out, "  %-21s  %s\n", name, o->desc);
	}
	fprintf(out,
		"\nFluent Bit options sluice refuses (exit 1, saying why):");
	for (size_t i = 0; i < SL_ARRAY_LEN(cli_options); i++) {
		const struct cli_option *o = &cli_options[i];

		if (!o->refused)
			continue;
		if (o->short_name)
			fprintf(out, " -%c", o->short_name);
		fprintf(out, " --%s", o->long_name);
	}
	fprintf(
	    out,
	    "\n\nWithout -c or -i, sluice runs an embedded demo pipeline.\n");
}

static void json_string_or_null(FILE *out, const char *s)
{
	if (s)
		sl_cfgmap_json_string(out, s);
	else
		fputs("null", out);
}

void sl_cli_help_json(FILE *out, void (*config_maps)(FILE *out),
		      void (*extra)(FILE *out))
{
	fprintf(out, "{\"name\":\"sluice\",\"version\":");
	sl_cfgmap_json_string(out, SLUICE_VERSION);
	fputs(",\"options\":[", out);
	for (size_t i = 0, n = 0; i < SL_ARRAY_LEN(cli_options); i++) {
		const struct cli_option *o = &cli_options[i];
		char short_name[2] = {o->short_name, 0};

		if (o->refused)
			continue;
		fputs(n++ ? ",{\"short\":" : "{\"short\":", out);
		json_string_or_null(out, o->short_name ? short_name : NULL);
		fputs(",\"long\":", out);
		sl_cfgmap_json_string(out, o->long_name);
		fputs(",\"argument\":", out);
		json_string_or_null(out, o->arg);
		fputs(",\"description\":", out);
		sl_cfgmap_json_string(out, o->desc);
		fputs(",\"alias\":", out);
		json_string_or_null(out, o->alias);
		fputs(",\"service_key\":", out);
		json_string_or_null(out, o->svc_key);
		fputc('}', out);
	}
	fputs("],\"refused_options\":[", out);
	for (size_t i = 0, n = 0; i < SL_ARRAY_LEN(cli_options); i++) {
		const struct cli_option *o = &cli_options[i];
		char short_name[2] = {o->short_name, 0};

		if (!o->refused)
			continue;
		fputs(n++ ? ",{\"short\":" : "{\"short\":", out);
		json_string_or_null(out, o->short_name ? short_name : NULL);
		fputs(",\"long\":", out);
		sl_cfgmap_json_string(out, o->long_name);
		fputs(",\"reason\":", out);
		sl_cfgmap_json_string(out, o->refused);
		fputc('}', out);
	}
	fputs("],\"config\":", out);
	config_maps(out);
	if (extra)
		extra(out);
	fputs("}\n", out);
}

/* getopt_long's tables, from cli_options (aliases included). */
struct getopt_tables {
	struct option longs[2 * SL_ARRAY_LEN(cli_options) + 1];
	char shorts[3 * SL_ARRAY_LEN(cli_options) + 2];
};

static void build_getopt(struct getopt_tables *t)
{
	size_t nl = 0, ns = 0;

	memset(t, 0, sizeof(*t));
	t->shorts[ns++] = ':';
	for (size_t i = 0; i < SL_ARRAY_LEN(cli_options); i++) {
		const struct cli_option *o = &cli_options[i];
		int has = o->arg ? required_argument : no_argument;

		t->longs[nl++] =
		    (struct option){o->long_name, has, NULL, opt_code(i)};
		if (o->alias)
			t->longs[nl++] =
			    (struct option){o->alias, has, NULL, opt_code(i)};
		if (o->short_name) {
			t->shorts[ns++] = o->short_name;
			if (o->arg)
				t->shorts[ns++] = ':';
		}
	}
}

/*
 * The process changes directory once (-w): a reload parses the same argv
 * again, and a relative DIR must not be taken from the new directory.
 */
static bool workdir_done;

/* A [SERVICE] key given on the command line wins over the files': the
 * files' entries of that key are taken out (Fluent Bit's -P, -H, ... are
 * used to override a packaged config). */
static void drop_file_service_key(struct sl_conf *conf,
				  const struct sl_conf_section *cli_svc,
				  const char *key)
{
	for (size_t i = 0; i < conf->n; i++) {
		struct sl_conf_section *s = &conf->sections[i];

		if (s->kind != SL_SEC_SERVICE || s == cli_svc)
			continue;
		for (size_t j = 0; j < s->n;) {
			if (strcasecmp(s->entries[j].key, key) != 0) {
				j++;
				continue;
			}
			free(s->entries[j].key);
			free(s->entries[j].value);
			memmove(&s->entries[j], &s->entries[j + 1],
				(s->n - j - 1) * sizeof(s->entries[0]));
			s->n--;
		}
	}
}

/* Adds `key value` to the command line's [SERVICE] section. */
static int add_service(struct sl_conf *conf, struct sl_conf_section **svc,
		       const char *file, const char *key, const char *value)
{
	if (!*svc)
		*svc = sl_conf_add_section(conf, SL_SEC_SERVICE, "SERVICE",
					   file, 0);
	if (!*svc || sl_conf_add_entry(conf, *svc, key, value, file, 0) < 0)
		return -SL_ENOMEM;
	return 0;
}

/* -e FILE: a Path entry of a [PLUGINS] section, as in a Plugins_File. A
 * bare name is taken from the working directory, not the library path. */
static int add_plugin(struct sl_conf *conf, const char *file, const char *path)
{
	struct sl_conf_section *sec =
	    sl_conf_add_section(conf, SL_SEC_PLUGINS, "PLUGINS", file, 0);
	char *full = NULL;
	int rc;

	if (!sec)
		return -SL_ENOMEM;
	if (!strchr(path, '/') && asprintf(&full, "./%s", path) < 0)
		return -SL_ENOMEM;
	rc = sl_conf_add_entry(conf, sec, "path", full ? full : path, file, 0);
	free(full);
	return rc;
}

/* First pass: flags, -c, -R, -w, refusals. */
static int first_pass(int argc, char **argv, const struct getopt_tables *t,
		      struct sl_cli *cli, const char **parsers,
		      size_t *n_parsers, size_t max_parsers,
		      struct sl_diag *diag, int *have_plugins)
{
	const char *workdir = NULL;
	int opt, rc = 0;

	while ((opt = getopt_long(argc, argv, t->shorts, t->longs, NULL)) !=
	       -1) {
		const struct cli_option *o = option_of(opt);

		if (o && o->refused) {
			sl_diag_add(diag, NULL, 0, "option '--%s': %s",
				    o->long_name, o->refused);
			rc = -SL_ECONFIG;
			continue;
		}
		switch (opt) {
		case 'c':
			cli->config_file = optarg;
			break;
		case 'D':
			cli->dry_run = true;
			break;
		case 'V':
			cli->show_version = true;
			break;
		case 'h':
			cli->show_help = true;
			break;
		case 'J':
			cli->show_help_json = true;
			break;
		case 'l':
			cli->log_file = optarg;
			break;
		case 'v':
			cli->verbosity++;
			break;
		case 'q':
			cli->verbosity--;
			break;
		case 'w':
			workdir = optarg;
			break;
		case 'i':
		case 'F':
		case 'o':
			*have_plugins = 1;
			break;
		case 'R':
			if (*n_parsers == max_parsers) {
				sl_diag_add(diag, NULL, 0,
					    "at most %zu -R options",
					    max_parsers);
				rc = -SL_ECONFIG;
				break;
			}
			parsers[(*n_parsers)++] = optarg;
			break;
		case ':':
			sl_diag_add(diag, NULL, 0, "option '%s' needs a value",
				    argv[optind - 1]);
			rc = -SL_ECONFIG;
			break;
		case '?':
			if (optopt)
				sl_diag_add(diag, NULL, 0,
					    "unknown option '-%c' (see -h)",
					    optopt);
			else
				sl_diag_add(diag, NULL, 0,
					    "unknown option '%s' (see -h)",
					    argv[optind - 1]);
			rc = -SL_ECONFIG;
			break;
		default:
			break; /* second pass */
		}
	}
	if (optind < argc) {
		sl_diag_add(diag, NULL, 0, "unexpected argument '%s' (see -h)",
			    argv[optind]);
		rc = -SL_ECONFIG;
	}
	/* as Fluent Bit: the directory changes before any file is read */
	if (rc == 0 && workdir && !workdir_done) {
		if (chdir(workdir) < 0) {
			sl_diag_add(diag, NULL, 0, "-w '%s': %s", workdir,
				    strerror(errno));
			rc = -SL_ECONFIG;
		} else {
			workdir_done = true;
		}
	}
	return rc;
}

int sl_cli_parse(int argc, char **argv, struct sl_cli *cli,
		 struct sl_conf *conf, struct sl_diag *diag)
{
	struct getopt_tables t;
	const char *parsers[16];
	size_t n_parsers = 0;
	struct sl_conf_section *last = NULL, *svc = NULL;
	const char *cli_file;
	int opt, rc = 0, have_plugins = 0;

	memset(cli, 0, sizeof(*cli));
	build_getopt(&t);
	cli_file = sl_conf_intern_file(conf, "<command line>");
	if (!cli_file)
		return -SL_ENOMEM;
	optind = 1;
	opterr = 0;
	/* First pass: -c must be loaded before the one-liner sections. */
	rc = first_pass(argc, argv, &t, cli, parsers, &n_parsers,
			SL_ARRAY_LEN(parsers), diag, &have_plugins);
	if (rc < 0 || cli->show_help || cli->show_help_json ||
	    cli->show_version)
		return rc;
	if (cli->config_file && sl_conf_load(conf, cli->config_file, diag) < 0)
		rc = -SL_ECONFIG;
	for (size_t i = 0; i < n_parsers; i++)
		if (sl_conf_load_parsers(conf, parsers[i], NULL, diag) < 0)
			rc = -SL_ECONFIG;
	if (!conf->main_file)
		conf->main_file = cli_file;

	/* Second pass: build the one-liner sections in order. */
	optind = 1;
	while ((opt = getopt_long(argc, argv, t.shorts, t.longs, NULL)) != -1) {
		const struct cli_option *o = option_of(opt);
		const char *eq;
		char *key;

		if (o && o->svc_key) {
			if (add_service(conf, &svc, cli_file, o->svc_key,
					o->svc_value ? o->svc_value : optarg) <
			    0)
				return -SL_ENOMEM;
			continue;
		}
		switch (opt) {
		case 'e':
			if (add_plugin(conf, cli_file, optarg) < 0)
				return -SL_ENOMEM;
			break;
		case 'i':
		case 'F':
		case 'o':
			last = sl_conf_add_section(conf,
						   opt == 'i'	? SL_SEC_INPUT
						   : opt == 'F' ? SL_SEC_FILTER
								: SL_SEC_OUTPUT,
						   opt == 'i'	? "INPUT"
						   : opt == 'F' ? "FILTER"
								: "OUTPUT",
						   cli_file, 0);
			if (!last || sl_conf_add_entry(conf, last, "name",
						       optarg, cli_file, 0) < 0)
				return -SL_ENOMEM;
			/* Fluent Bit's one-liners match everything by default
			 */
			if (opt != 'i' &&
			    sl_conf_add_entry(conf, last, "match", "*",
					      cli_file, 0) < 0)
				return -SL_ENOMEM;
			break;
		case 'p':
			eq = strchr(optarg, '=');
			if (!last || !eq || eq == optarg) {
				sl_diag_add(diag, NULL, 0,
					    !last ? "-p '%s' comes before any "
						    "-i, -F or -o"
						  : "-p '%s' is not key=value",
					    optarg);
				rc = -SL_ECONFIG;
				break;
			}
			key = strndup(optarg, (size_t)(eq - optarg));
			if (!key || sl_conf_add_entry(conf, last, key, eq + 1,
						      cli_file, 0) < 0) {
				free(key);
				return -SL_ENOMEM;
			}
			free(key);
			break;
		case 'm':
		case 't':
			if (!last ||
			    (opt == 'm') == (last->kind == SL_SEC_INPUT)) {
				sl_diag_add(diag, NULL, 0,
					    opt == 'm'
						? "-m must follow -F or -o"
						: "-t must follow -i");
				rc = -SL_ECONFIG;
				break;
			}
			if (opt == 'm') {
				/* replace the default Match "*" */
				for (size_t i = 0; i < last->n; i++)
					if (strcmp(last->entries[i].key,
						   "match") == 0) {
						char *v = strdup(optarg);

						if (!v)
							return -SL_ENOMEM;
						free(last->entries[i].value);
						last->entries[i].value = v;
					}
			} else if (sl_conf_add_entry(conf, last, "tag", optarg,
						     cli_file, 0) < 0) {
				return -SL_ENOMEM;
			}
			break;
		default:
			break;
		}
	}
	for (size_t i = 0; svc && i < svc->n; i++)
		drop_file_service_key(conf, svc, svc->entries[i].key);
	cli->demo = !cli->config_file && !have_plugins && n_parsers == 0;
	return rc;
}

/*
 * The demo: witness-style and audit-style events, tagged, a counter-like
 * field added, printed as JSON lines. Needs no file, port or server.
 */
int sl_cli_demo(struct sl_conf *conf)
{
	static const char *const demo[][2] = {
	    {"[INPUT]", NULL},
	    {"name", "dummy"},
	    {"tag", "demo.witness"},
	    {"rate", "2"},
	    {"dummy", "{\"timestamp\":\"2026-11-21T08:00:00.000Z\","
		      "\"event\":\"signature_verification_failed\","
		      "\"agent_id\":\"agent-1\",\"peer_id\":\"agent-7\","
		      "\"metadata\":{\"reason\":\"bad signature\"}}"},
	    {"[INPUT]", NULL},
	    {"name", "dummy"},
	    {"tag", "demo.audit"},
	    {"rate", "1"},
	    {"dummy", "{\"asctime\":\"2026-11-21 08:00:00,123\","
		      "\"levelname\":\"WARNING\",\"service\":"
		      "\"agent-backend\",\"audit_event\":"
		      "\"AUTH_GATEWAY_VALIDATION\",\"status\":\"failure\"}"},
	    {"[FILTER]", NULL},
	    {"name", "record_modifier"},
	    {"match", "demo.*"},
	    {"record", "collector sluice-demo"},
	    {"[OUTPUT]", NULL},
	    {"name", "stdout"},
	    {"match", "*"},
	    {"format", "json_lines"},
	};
	const char *file = sl_conf_intern_file(conf, "<embedded demo>");
	struct sl_conf_section *sec = NULL;

	if (!file)
		return -SL_ENOMEM;
	if (!conf->main_file)
		conf->main_file = file;
	for (size_t i = 0; i < SL_ARRAY_LEN(demo); i++) {
		if (!demo[i][1]) {
			enum sl_section_kind k =
			    demo[i][0][1] == 'I'   ? SL_SEC_INPUT
			    : demo[i][0][1] == 'F' ? SL_SEC_FILTER
						   : SL_SEC_OUTPUT;
			sec = sl_conf_add_section(conf, k, demo[i][0] + 1, file,
						  (int)i + 1);
			if (!sec)
				return -SL_ENOMEM;
			continue;
		}
		if (sl_conf_add_entry(conf, sec, demo[i][0], demo[i][1], file,
				      (int)i + 1) < 0)
			return -SL_ENOMEM;
	}
	return 0;
}
