/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sl_cli.h - the command line: options, Fluent Bit style one-liners
 * (-i/-F/-o with -p/-m/-t), and the embedded demo pipeline used when no
 * pipeline is given. Everything ends up as sections of a struct sl_conf.
 */
#ifndef SL_CLI_H
#define SL_CLI_H

#include "sl_common.h"
#include "sl_conf.h"

#include <stdbool.h>

struct sl_cli {
	const char *config_file; /* -c */
	bool dry_run;		 /* -D, --dry-run */
	bool show_help;		 /* -h */
	bool show_help_json;	 /* -J, --help-json */
	bool show_version;	 /* -V */
	bool demo;		 /* no -c and no -i: embedded defaults */
	const char *log_file;	 /* -l */
	int verbosity;		 /* -v (+1 each), -q (-1) */
};

/*
 * Parses argv into `cli` and appends the one-liner sections (and -R parsers
 * files, -f flush) to `conf`, after loading -c FILE when given. Problems go
 * to `diag` ("sluice: ..." for usage errors). Returns 0 or -SL_ECONFIG.
 */
int sl_cli_parse(int argc, char **argv, struct sl_cli *cli,
		 struct sl_conf *conf, struct sl_diag *diag);
/* Adds the embedded demo pipeline to `conf`. 0 or -SL_ENOMEM. */
int sl_cli_demo(struct sl_conf *conf);
void sl_cli_usage(FILE *out);
/*
 * `sluice -J`: one JSON document {name, version, options: [{short, long,
 * argument, description, alias, service_key}], refused_options: [{short,
 * long, reason}], config: ...}; `config_maps` writes the config value
 * (the engine's maps: sl_engine_help_json), `extra` (may be NULL) more
 * members, each starting with a comma (Fluent Bit's schema:
 * sl_engine_help_schema), keeping this file free of the engine.
 */
void sl_cli_help_json(FILE *out, void (*config_maps)(FILE *out),
		      void (*extra)(FILE *out));

#endif
