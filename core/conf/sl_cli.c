/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_cli.c - command-line parsing. One-liners follow Fluent Bit: -i, -F and
 * -o start a section, -p key=value, -m and -t apply to the section started
 * last. A -p before any plugin, or -m after an input, is a usage error.
 */
#include "sl_cli.h"
#include "sl_cfgmap.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The options, once: -h renders them as text, -J as JSON (and from that
 * the sluice(1) man page), so the three cannot list different options.
 */
struct cli_option {
	char short_name; /* 0: long only */
	const char *long_name;
	const char *arg; /* NULL: takes no value */
	const char *desc;
};

static const struct cli_option cli_options[] = {
    {'c', "config", "FILE",
     "run the pipeline of FILE (.conf classic or .yaml)"},
    {'R', "parser", "FILE", "load a parsers file"},
    {0, "dry-run", NULL, "validate the configuration and exit"},
    {'i', "input", "NAME", "add an input"},
    {'F', "filter", "NAME", "add a filter"},
    {'o', "output", "NAME", "add an output"},
    {'p', "prop", "KEY=VALUE", "set an option of the last plugin added"},
    {'m', "match", "PATTERN", "Match of the last filter or output"},
    {'t', "tag", "TAG", "Tag of the last input"},
    {'f', "flush", "SECONDS", "flush interval"},
    {'l', "log_file", "FILE", "write logs to FILE"},
    {'v', "verbose", NULL, "more logging (repeat for trace)"},
    {'q', "quiet", NULL, "less logging"},
    {'V', "version", NULL, "print the version"},
    {'h', "help", NULL, "this help, with every plugin and its options"},
    {'J', "help-json", NULL, "the options and every plugin's options as JSON"},
};

void sl_cli_usage(FILE *out)
{
	fprintf(out, "Usage: sluice [OPTION]...\n\n");
	for (size_t i = 0; i < SL_ARRAY_LEN(cli_options); i++) {
		const struct cli_option *o = &cli_options[i];
		char name[64];

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
		"\nWithout -c or -i, sluice runs an embedded demo pipeline.\n");
}

void sl_cli_help_json(FILE *out, void (*config_maps)(FILE *out))
{
	fprintf(out, "{\"name\":\"sluice\",\"version\":");
	sl_cfgmap_json_string(out, SLUICE_VERSION);
	fputs(",\"options\":[", out);
	for (size_t i = 0; i < SL_ARRAY_LEN(cli_options); i++) {
		const struct cli_option *o = &cli_options[i];
		char short_name[2] = {o->short_name, 0};

		fputs(i ? ",{\"short\":" : "{\"short\":", out);
		if (o->short_name)
			sl_cfgmap_json_string(out, short_name);
		else
			fputs("null", out);
		fputs(",\"long\":", out);
		sl_cfgmap_json_string(out, o->long_name);
		fputs(",\"argument\":", out);
		if (o->arg)
			sl_cfgmap_json_string(out, o->arg);
		else
			fputs("null", out);
		fputs(",\"description\":", out);
		sl_cfgmap_json_string(out, o->desc);
		fputc('}', out);
	}
	fputs("],\"config\":", out);
	config_maps(out);
	fputs("}\n", out);
}

static const struct option long_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"parser", required_argument, NULL, 'R'},
    {"dry-run", no_argument, NULL, 'D'},
    {"input", required_argument, NULL, 'i'},
    {"filter", required_argument, NULL, 'F'},
    {"output", required_argument, NULL, 'o'},
    {"prop", required_argument, NULL, 'p'},
    {"match", required_argument, NULL, 'm'},
    {"tag", required_argument, NULL, 't'},
    {"flush", required_argument, NULL, 'f'},
    {"log_file", required_argument, NULL, 'l'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {"help-json", no_argument, NULL, 'J'},
    {NULL, 0, NULL, 0},
};

int sl_cli_parse(int argc, char **argv, struct sl_cli *cli,
		 struct sl_conf *conf, struct sl_diag *diag)
{
	const char *parsers[16];
	const char *flush = NULL;
	size_t n_parsers = 0;
	struct sl_conf_section *last = NULL, *svc = NULL;
	const char *cli_file;
	int opt, rc = 0, have_plugins = 0;

	memset(cli, 0, sizeof(*cli));
	cli_file = sl_conf_intern_file(conf, "<command line>");
	if (!cli_file)
		return -SL_ENOMEM;
	optind = 1;
	opterr = 0;
	/* First pass: -c must be loaded before the one-liner sections. */
	while ((opt = getopt_long(argc, argv, ":c:R:i:F:o:p:m:t:f:l:vqVhJ",
				  long_opts, NULL)) != -1) {
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
		case 'f':
			flush = optarg;
			break;
		case 'i':
		case 'F':
		case 'o':
			have_plugins = 1;
			break;
		case 'p':
		case 'm':
		case 't':
			break; /* second pass */
		case 'R':
			if (n_parsers == SL_ARRAY_LEN(parsers)) {
				sl_diag_add(diag, NULL, 0,
					    "at most %zu -R options",
					    SL_ARRAY_LEN(parsers));
				rc = -SL_ECONFIG;
				break;
			}
			parsers[n_parsers++] = optarg;
			break;
		case ':':
			sl_diag_add(diag, NULL, 0, "option '%s' needs a value",
				    argv[optind - 1]);
			rc = -SL_ECONFIG;
			break;
		case '?':
		default:
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
		}
	}
	if (optind < argc) {
		sl_diag_add(diag, NULL, 0, "unexpected argument '%s' (see -h)",
			    argv[optind]);
		rc = -SL_ECONFIG;
	}
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
	while ((opt = getopt_long(argc, argv, ":c:R:i:F:o:p:m:t:f:l:vqVhJ",
				  long_opts, NULL)) != -1) {
		const char *eq;
		char *key;

		switch (opt) {
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
	if (flush) {
		svc = sl_conf_add_section(conf, SL_SEC_SERVICE, "SERVICE",
					  cli_file, 0);
		if (!svc || sl_conf_add_entry(conf, svc, "flush", flush,
					      cli_file, 0) < 0)
			return -SL_ENOMEM;
	}
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
