/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - the sluice binary: command line, then validate (exit 1 on any
 * configuration error, every error listed), start (exit 2 on a runtime
 * failure such as a port in use), run until stopped (exit 0).
 */
#include "sl_cli.h"
#include "sl_engine_int.h"
#include "sl_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

static void apply_logging(const struct sl_cli *cli, struct sl_engine *eng)
{
	enum sl_log_level lvl = SL_LOG_INFO;

	if (eng->service.log_level)
		sl_log_parse_level(eng->service.log_level, &lvl);
	lvl = (enum sl_log_level)((int)lvl + cli->verbosity);
	if ((int)lvl < SL_LOG_OFF)
		lvl = SL_LOG_OFF;
	if (lvl > SL_LOG_TRACE)
		lvl = SL_LOG_TRACE;
	sl_log_set_level(lvl);
}

int main(int argc, char **argv)
{
	struct sl_conf conf;
	struct sl_diag diag = {0};
	struct sl_engine *eng = NULL;
	struct sl_cli cli;
	const char *log_file;
	int rc = 1;

	sl_conf_init(&conf);
	if (sl_cli_parse(argc, argv, &cli, &conf, &diag) < 0 ||
	    sl_diag_count(&diag)) {
		sl_diag_print(&diag, stderr);
		goto out;
	}
	if (cli.show_version) {
		printf("sluice v%s\n", SLUICE_VERSION);
		rc = 0;
		goto out;
	}
	if (cli.show_help) {
		sl_cli_usage(stdout);
		sl_engine_help(stdout);
		rc = 0;
		goto out;
	}
	if (cli.demo && sl_cli_demo(&conf) < 0) {
		fprintf(stderr, "sluice: out of memory\n");
		goto out;
	}
	/* quiet while validating: errors are printed once, from diag */
	if (cli.dry_run)
		sl_log_set_level(SL_LOG_ERROR);
	eng = sl_engine_create(&conf, &diag);
	if (!eng || sl_diag_count(&diag)) {
		sl_diag_print(&diag, stderr);
		goto out;
	}
	if (cli.dry_run) {
		printf("configuration test is successful\n");
		rc = 0;
		goto out;
	}
	apply_logging(&cli, eng);
	log_file = cli.log_file ? cli.log_file : eng->service.log_file;
	if (log_file && sl_log_set_file(log_file) < 0) {
		fprintf(stderr, "sluice: cannot open log file '%s': %s\n",
			log_file, strerror(errno));
		rc = 2;
		goto out;
	}
	if (sl_engine_start(eng) < 0) {
		rc = 2; /* what failed was logged where it failed, in one line */
		goto out;
	}
	rc = sl_engine_run(eng) < 0 ? 2 : 0;
out:
	sl_engine_destroy(eng);
	sl_conf_destroy(&conf);
	sl_diag_destroy(&diag);
	return rc;
}
