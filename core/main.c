/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - the sluice binary: command line, then validate (exit 1 on any
 * configuration error, every error listed), start (exit 2 on a runtime
 * failure such as a port in use), run until stopped (exit 0). A SIGHUP
 * builds a new pipeline from the same command line and, when it is valid,
 * swaps it in, handing it the records the running one still holds.
 */
#include "sl_cli.h"
#include "sl_engine_int.h"
#include "sl_engine_metrics.h"
#include "sl_log.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

/* A pipeline and the configuration it borrows. */
struct pipeline {
	struct sl_conf conf;
	struct sl_engine *eng;
};

struct program {
	int argc;
	char **argv;
	struct sl_cli cli;
	struct pipeline *next; /* built by a SIGHUP, started by main */
};

static void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	sl_engine_destroy(p->eng);
	sl_conf_destroy(&p->conf);
	free(p);
}

/* Adds the demo when asked and builds the engine. 0 or -1 (see diag). */
static int pipeline_finish(struct pipeline *p, const struct sl_cli *cli,
			   struct sl_diag *diag)
{
	if (cli->demo && sl_cli_demo(&p->conf) < 0) {
		sl_diag_add(diag, NULL, 0, "out of memory");
		return -1;
	}
	p->eng = sl_engine_create(&p->conf, diag);
	return p->eng && !sl_diag_count(diag) ? 0 : -1;
}

/* Reads the command line's configuration again (a reload). NULL on error. */
static struct pipeline *pipeline_build(struct program *prog,
				       struct sl_diag *diag)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	struct sl_cli cli;

	if (!p) {
		sl_diag_add(diag, NULL, 0, "out of memory");
		return NULL;
	}
	sl_conf_init(&p->conf);
	if (sl_cli_parse(prog->argc, prog->argv, &cli, &p->conf, diag) < 0 ||
	    sl_diag_count(diag) || pipeline_finish(p, &cli, diag) < 0) {
		pipeline_free(p);
		return NULL;
	}
	return p;
}

static struct sl_engine *reload(void *arg)
{
	struct program *prog = arg;
	struct sl_diag diag = {0};
	struct pipeline *p = pipeline_build(prog, &diag);

	for (size_t i = 0; i < diag.n; i++)
		sl_log(SL_LOG_ERROR, "config", "%s", diag.msgs[i]);
	sl_diag_destroy(&diag);
	if (!p)
		return NULL;
	pipeline_free(prog->next); /* cannot happen: one reload at a time */
	prog->next = p;
	return p->eng;
}

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

/* Log level and file of a pipeline about to start. 0 or 2 (exit code). */
static int start(struct program *prog, struct pipeline *p)
{
	const char *log_file;

	apply_logging(&prog->cli, p->eng);
	log_file =
	    prog->cli.log_file ? prog->cli.log_file : p->eng->service.log_file;
	if (log_file && sl_log_set_file(log_file) < 0) {
		fprintf(stderr, "sluice: cannot open log file '%s': %s\n",
			log_file, strerror(errno));
		return 2;
	}
	sl_engine_on_reload(p->eng, reload, prog);
	/* what failed was logged where it failed, in one line */
	return sl_engine_start(p->eng) < 0 ? 2 : 0;
}

/*
 * glibc raises its mmap threshold to the size of each large block freed
 * (up to 32 MB), after which 2 MB chunks and request bodies come from the
 * heap and their freed space stays resident (the trim threshold follows,
 * at twice as much). A fixed threshold keeps them in their own mappings,
 * returned to the system on free: peak RSS behind a busy output drops by
 * about the size of a chunk, at the cost of an mmap per large buffer.
 *
 * Fastbins off: a Kafka message is three small blocks (librdkafka's
 * headers) and one larger one, malloc'd by the worker and freed by the
 * delivery-report thread, so the worker's tcache never refills and every
 * malloc reached an arena whose fastbins needed consolidating first.
 * Without fastbins a free coalesces at once:
 * tail -> kafka 15% less CPU, other pipelines and peak RSS unchanged
 * (tests/bench/run_sidebyside.sh, core/README.md "Memory").
 */
static void tune_malloc(void)
{
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_MXFAST, 0);
}

int main(int argc, char **argv)
{
	tune_malloc();
	struct program prog = {.argc = argc, .argv = argv};
	struct sl_diag diag = {0};
	struct pipeline *p = calloc(1, sizeof(*p));
	int rc = 1;

	if (!p) {
		fprintf(stderr, "sluice: out of memory\n");
		return 1;
	}
	sl_conf_init(&p->conf);
	/* -h and -V return before any configuration is read */
	if (sl_cli_parse(argc, argv, &prog.cli, &p->conf, &diag) < 0 ||
	    sl_diag_count(&diag)) {
		sl_diag_print(&diag, stderr);
		goto out;
	}
	if (prog.cli.show_version) {
		printf("sluice v%s\n", SLUICE_VERSION);
		rc = 0;
		goto out;
	}
	if (prog.cli.show_help_json) {
		sl_cli_help_json(stdout, sl_engine_help_json,
				 sl_engine_help_schema);
		rc = 0;
		goto out;
	}
	if (prog.cli.show_help) {
		sl_cli_usage(stdout);
		sl_engine_help(stdout);
		rc = 0;
		goto out;
	}
	/* errors are printed once, from diag; warnings (an unset ${VAR}, a
	 * filter without Match) are shown as they come, as Fluent Bit's -D */
	if (prog.cli.dry_run)
		sl_log_set_level(SL_LOG_WARN);
	if (pipeline_finish(p, &prog.cli, &diag) < 0) {
		sl_diag_print(&diag, stderr);
		goto out;
	}
	if (prog.cli.dry_run) {
		printf("configuration test is successful\n");
		rc = 0;
		goto out;
	}
	while ((rc = start(&prog, p)) == 0) {
		rc = sl_engine_run(p->eng) < 0 ? 2 : 0;
		if (rc != 0 || !sl_engine_take_next(p->eng))
			break;
		/* a reload: what the old pipeline holds goes to its successor,
		 * then the old one goes and the successor starts */
		/* counted first: the handover adds the old count to it */
		sl_engine_count_reload(prog.next->eng);
		sl_engine_handover(p->eng, prog.next->eng);
		pipeline_free(p);
		p = prog.next;
		prog.next = NULL;
		sl_log(SL_LOG_INFO, "engine", "configuration reloaded");
	}
out:
	pipeline_free(prog.next);
	pipeline_free(p);
	sl_diag_destroy(&diag);
	return rc;
}
