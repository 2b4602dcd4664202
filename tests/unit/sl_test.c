/* SPDX-License-Identifier: Apache-2.0 */
/* sl_test.c - see sl_test.h. */
#include "sl_test.h"
#include "sl_cfgmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *join_diag(const struct sl_diag *d)
{
	struct sl_buf b = {0};

	for (size_t i = 0; i < d->n; i++) {
		sl_buf_append(&b, d->msgs[i], strlen(d->msgs[i]));
		sl_buf_append(&b, "\n", 1);
	}
	if (!b.data)
		return strdup("");
	return b.data;
}

struct sl_test_filter *sl_test_filter_create(const struct sl_filter_plugin *p,
					     const char *const *kv,
					     const char *parsers_file,
					     char **diag_out)
{
	struct sl_test_filter *tf = calloc(1, sizeof(*tf));
	struct sl_conf_section *sec;
	const char *file;
	int line = 1;

	if (!tf)
		return NULL;
	tf->plugin = p;
	sl_conf_init(&tf->conf);
	sl_record_init(&tf->rec);
	file = sl_conf_intern_file(&tf->conf, "test.conf");
	if (parsers_file &&
	    sl_conf_load_parsers(&tf->conf, parsers_file, NULL, &tf->diag) < 0)
		goto fail;
	if (sl_parsers_build(&tf->conf, &tf->diag, &tf->parsers) < 0)
		goto fail;
	sec =
	    sl_conf_add_section(&tf->conf, SL_SEC_FILTER, "FILTER", file, line);
	for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
		sl_conf_add_entry(&tf->conf, sec, kv[i], kv[i + 1], file,
				  ++line);
	sl_instance_init(&tf->ins, p->name, p->name, file, 1);
	tf->ins.diag = &tf->diag;
	tf->ins.parsers = tf->parsers;
	tf->ctx = calloc(1, p->ctx_size ? p->ctx_size : 1);
	{
		struct sl_cfgmap_target t = {p->config_map, tf->ctx};
		static const char *const skip[] = {
		    "name", "match", "match_regex", "alias", "log_level", NULL};
		if (sl_cfgmap_apply(&t, 1, sec, skip, p->name, &tf->diag) < 0)
			goto fail;
	}
	tf->init_rc = p->init ? p->init(tf->ctx, &tf->ins) : 0;
	if (tf->init_rc < 0 || sl_diag_count(&tf->diag))
		goto fail;
	return tf;
fail:
	if (diag_out)
		*diag_out = join_diag(&tf->diag);
	sl_test_filter_destroy(tf);
	return NULL;
}

enum sl_filter_verdict sl_test_filter_run(struct sl_test_filter *tf,
					  const char *json)
{
	enum sl_filter_verdict v;
	const char *body;
	size_t len;

	free(tf->out);
	tf->out = NULL;
	if (sl_record_reset_json(&tf->rec, 1000000000, json, strlen(json)) < 0)
		sl_record_reset_line(&tf->rec, 1000000000, "log", 3, json,
				     strlen(json));
	v = tf->plugin->filter(tf->ctx, &tf->rec, "test", 4);
	if (v == SL_FILTER_KEEP) {
		body = sl_record_body(&tf->rec, &len);
		tf->out = strndup(body, len);
	}
	return v;
}

void sl_test_filter_destroy(struct sl_test_filter *tf)
{
	if (!tf)
		return;
	if (tf->ctx) {
		if (tf->plugin->destroy)
			tf->plugin->destroy(tf->ctx);
		sl_cfgmap_release(tf->plugin->config_map, tf->ctx);
		free(tf->ctx);
	}
	sl_instance_destroy(&tf->ins);
	sl_parsers_destroy(tf->parsers);
	sl_record_destroy(&tf->rec);
	sl_conf_destroy(&tf->conf);
	sl_diag_destroy(&tf->diag);
	free(tf->out);
	free(tf);
}

char *sl_test_write_temp(const char *text)
{
	char path[] = "/tmp/sluice-test-XXXXXX";
	int fd = mkstemp(path);
	size_t len = strlen(text);

	if (fd < 0)
		return NULL;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return NULL;
	}
	close(fd);
	return strdup(path);
}
