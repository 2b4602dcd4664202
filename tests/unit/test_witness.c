/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_witness.c - the witness input's parts: body splitting (object,
 * array, NDJSON, the index of the first bad event, empty bodies, nesting,
 * UTF-8 repair), bearer tokens and X-Witness-Signature checks, and, through
 * the real engine and a client thread speaking HTTP over loopback, the
 * all-or-nothing rule: a body with one bad event emits nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../inputs/witness/witness_auth.h"
#include "sl_engine_int.h"
#include "sl_http_body.h"
#include "sl_test.h"

/* ---- body splitting ------------------------------------------------------ */

static struct sl_http_body body;

static int split(const char *text, enum sl_http_body_format fmt)
{
	return sl_http_body_split(&body, text, strlen(text), fmt);
}

static char *item(const char *text, size_t i)
{
	return strndup(text + body.items[i].off, body.items[i].len);
}

static int setup_body(void **state)
{
	(void)state;
	sl_http_body_init(&body);
	return 0;
}

static int teardown_body(void **state)
{
	(void)state;
	sl_http_body_destroy(&body);
	return 0;
}

static void split_object(void **state)
{
	const char *t = "  {\"event\":\"a\",\"metadata\":{\"k\":[1,2]}}\r\n";
	char *s;

	(void)state;
	assert_int_equal(split(t, SL_BODY_AUTO), 0);
	assert_int_equal(body.n, 1);
	s = item(t, 0);
	assert_string_equal(s, "{\"event\":\"a\",\"metadata\":{\"k\":[1,2]}}");
	free(s);
	/* a pretty-printed object spanning lines is one event, not NDJSON */
	assert_int_equal(
	    split("{\n \"a\": 1,\n \"b\": {\"c\": 2}\n}\n", SL_BODY_AUTO), 0);
	assert_int_equal(body.n, 1);
}

static void split_array(void **state)
{
	const char *t = "[ {\"a\":\"x]}\"} , {\"b\":[{}]},{} ]";
	char *s;

	(void)state;
	assert_int_equal(split(t, SL_BODY_AUTO), 0);
	assert_int_equal(body.n, 3);
	s = item(t, 0);
	assert_string_equal(s, "{\"a\":\"x]}\"}");
	free(s);
	s = item(t, 1);
	assert_string_equal(s, "{\"b\":[{}]}");
	free(s);
	assert_int_equal(split("[]", SL_BODY_AUTO), 0);
	assert_int_equal(body.n, 0);
}

static void split_ndjson(void **state)
{
	const char *t = "{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":3}";

	(void)state;
	assert_int_equal(split(t, SL_BODY_AUTO), 0);
	assert_int_equal(body.n, 3);
	/* announced by Content-Type: one object per line, strictly */
	assert_int_equal(split(t, SL_BODY_NDJSON), 0);
	assert_int_equal(body.n, 3);
	assert_int_equal(sl_http_body_format_of("application/x-ndjson; x=y"),
			 SL_BODY_NDJSON);
	assert_int_equal(sl_http_body_format_of("application/json"),
			 SL_BODY_AUTO);
	assert_int_equal(sl_http_body_format_of(NULL), SL_BODY_AUTO);
}

static void split_bad_index(void **state)
{
	(void)state;
	assert_int_equal(
	    split("[{\"a\":1},{\"b\":2},\"str\",{}]", SL_BODY_AUTO),
	    -SL_EPARSE);
	assert_int_equal(body.index, 2);
	assert_int_equal(body.n, 0);
	assert_string_equal(body.error, "event is not a JSON object");
	assert_int_equal(split("[{\"a\":1},{\"b\":}]", SL_BODY_AUTO),
			 -SL_EPARSE);
	assert_int_equal(body.index, 1);
	assert_int_equal(split("[{\"a\":1},{\"b\":2}", SL_BODY_AUTO),
			 -SL_EPARSE);
	assert_int_equal(body.index, 2);
	assert_int_equal(split("[{\"a\":1}] x", SL_BODY_AUTO), -SL_EPARSE);
	assert_int_equal(split("[{\"a\":1},]", SL_BODY_AUTO), -SL_EPARSE);
	assert_int_equal(body.index, 1);
	/* NDJSON: the index is the line, blank lines counted */
	assert_int_equal(
	    split("{\"a\":1}\n\n{\"b\":2}\n{bad}\n{}", SL_BODY_AUTO),
	    -SL_EPARSE);
	assert_int_equal(body.index, 3);
	assert_int_equal(body.n, 0);
	assert_int_equal(split("{\"a\":1} {\"b\":2}", SL_BODY_AUTO),
			 -SL_EPARSE);
	assert_int_equal(body.index, 0);
	assert_int_equal(split("{\"a\":\"unterminated}", SL_BODY_AUTO),
			 -SL_EPARSE);
	assert_int_equal(split("42", SL_BODY_AUTO), -SL_EPARSE);
	assert_int_equal(body.index, 0);
}

static void split_empty(void **state)
{
	(void)state;
	assert_int_equal(split("", SL_BODY_AUTO), -SL_EPARSE);
	assert_string_equal(body.error, "empty body");
	assert_int_equal(body.index, 0);
	assert_int_equal(split(" \r\n\t", SL_BODY_AUTO), -SL_EPARSE);
	assert_int_equal(split("\n\n", SL_BODY_NDJSON), -SL_EPARSE);
	assert_string_equal(body.error, "empty body");
}

static char *nested(int depth)
{
	char *s = malloc((size_t)depth * 6 + 16);
	size_t n = 0;

	for (int i = 0; i < depth; i++)
		n += (size_t)sprintf(s + n, "{\"a\":");
	n += (size_t)sprintf(s + n, "1");
	for (int i = 0; i < depth; i++)
		s[n++] = '}';
	s[n] = '\0';
	return s;
}

static void split_depth(void **state)
{
	char *ok = nested(64), *deep = nested(65), *arr;

	(void)state;
	assert_int_equal(split(ok, SL_BODY_AUTO), 0);
	assert_int_equal(split(deep, SL_BODY_AUTO), -SL_ETOOBIG);
	assert_int_equal(body.index, 0);
	/* inside an array the event's own depth counts, and its index */
	arr = malloc(strlen(deep) + 16);
	sprintf(arr, "[{},%s]", deep);
	assert_int_equal(split(arr, SL_BODY_AUTO), -SL_ETOOBIG);
	assert_int_equal(body.index, 1);
	free(ok);
	free(deep);
	free(arr);
}

static void split_utf8_repaired(void **state)
{
	/* invalid UTF-8 inside strings is repairable: the event is kept */
	const char *t = "[{\"m\":\"a\xC0\xAF"
			"b\"},{\"n\":\"\xED\xA0\x80\"}]";

	(void)state;
	assert_int_equal(split(t, SL_BODY_AUTO), 0);
	assert_int_equal(body.n, 2);
}

static void split_no_stack_or_overflow(void **state)
{
	/* a million brackets: lexical scan, no recursion, clean refusal */
	size_t n = 1000000;
	char *t = malloc(n + 1);

	(void)state;
	memset(t, '[', n);
	t[n] = '\0';
	assert_int_equal(split(t, SL_BODY_AUTO), -SL_EPARSE);
	memset(t, '{', n);
	assert_int_equal(split(t, SL_BODY_AUTO), -SL_EPARSE);
	t[n - 1] = '\\';
	t[0] = '"';
	assert_int_equal(split(t, SL_BODY_AUTO), -SL_EPARSE);
	free(t);
}

/* ---- tokens and signatures ----------------------------------------------- */

static void tokens(void **state)
{
	struct sl_witness_tokens t;
	char *path = sl_test_write_temp("  alpha \n\n\tbeta\r\n");

	(void)state;
	sl_witness_tokens_init(&t);
	assert_false(sl_witness_token_ok(&t, "Bearer alpha")); /* none yet */
	assert_int_equal(sl_witness_tokens_add(&t, "gamma", 5), 0);
	assert_int_equal(sl_witness_tokens_add(&t, "", 0), -SL_EINVAL);
	assert_int_equal(sl_witness_tokens_load(&t, path), 0);
	assert_int_equal(t.n, 3);
	assert_true(sl_witness_token_ok(&t, "Bearer alpha"));
	assert_true(sl_witness_token_ok(&t, "bearer beta"));
	assert_true(sl_witness_token_ok(&t, "Bearer gamma"));
	assert_false(sl_witness_token_ok(&t, "Bearer alph"));
	assert_false(sl_witness_token_ok(&t, "Bearer alphaa"));
	assert_false(sl_witness_token_ok(&t, "Basic alpha"));
	assert_false(sl_witness_token_ok(&t, "alpha"));
	assert_false(sl_witness_token_ok(&t, "Bearer "));
	assert_false(sl_witness_token_ok(&t, NULL));
	assert_int_equal(sl_witness_tokens_load(&t, "/nonexistent/x"), -SL_EIO);
	sl_witness_tokens_destroy(&t);
	sl_witness_tokens_destroy(&t); /* idempotent */
	unlink(path);
	free(path);
}

static void sign(const char *secret, const char *b, char out[72])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	HMAC(EVP_sha256(), secret, (int)strlen(secret),
	     (const unsigned char *)b, strlen(b), md, &n);
	strcpy(out, "sha256=");
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

static void signatures(void **state)
{
	const char *b = "{\"event\":\"signature_verification_failed\"}";
	char sig[72], upper[72];

	(void)state;
	sign("k3y", b, sig);
	assert_int_equal(
	    sl_witness_signature_check("k3y", 3, sig, b, strlen(b)),
	    SL_WITNESS_SIG_OK);
	/* hex digits in either case */
	for (size_t i = 0; i < sizeof(upper); i++)
		upper[i] = (char)(i >= 7 && sig[i] >= 'a' && sig[i] <= 'f'
				      ? sig[i] - 32
				      : sig[i]);
	assert_int_equal(
	    sl_witness_signature_check("k3y", 3, upper, b, strlen(b)),
	    SL_WITNESS_SIG_OK);
	assert_int_equal(
	    sl_witness_signature_check("k3y", 3, NULL, b, strlen(b)),
	    SL_WITNESS_SIG_MISSING);
	/* another key, another body, truncated, not hex, no prefix */
	assert_int_equal(
	    sl_witness_signature_check("k3z", 3, sig, b, strlen(b)),
	    SL_WITNESS_SIG_BAD);
	assert_int_equal(
	    sl_witness_signature_check("k3y", 3, sig, b, strlen(b) - 1),
	    SL_WITNESS_SIG_BAD);
	sig[strlen(sig) - 1] = '\0';
	assert_int_equal(
	    sl_witness_signature_check("k3y", 3, sig, b, strlen(b)),
	    SL_WITNESS_SIG_BAD);
	assert_int_equal(
	    sl_witness_signature_check("k3y", 3, "sha256=zz", b, strlen(b)),
	    SL_WITNESS_SIG_BAD);
	assert_int_equal(
	    sl_witness_signature_check("k3y", 3, upper + 7, b, strlen(b)),
	    SL_WITNESS_SIG_BAD);
	/* an empty body has a signature too */
	sign("k3y", "", sig);
	assert_int_equal(sl_witness_signature_check("k3y", 3, sig, "", 0),
			 SL_WITNESS_SIG_OK);
	assert_string_equal(sl_witness_sig_reason(SL_WITNESS_SIG_MISSING),
			    "missing signature");
}

static void secret_file(void **state)
{
	char *path = sl_test_write_temp("top secret\n\n"), *s = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(sl_witness_read_secret(path, &s, &len), 0);
	assert_string_equal(s, "top secret");
	assert_int_equal(len, 10);
	free(s);
	assert_int_equal(sl_witness_read_secret("/nonexistent/x", &s, &len),
			 -SL_EIO);
	unlink(path);
	free(path);
}

/* ---- through the engine: all or nothing ---------------------------------- */

static pthread_mutex_t got_lock = PTHREAD_MUTEX_INITIALIZER;
static char *got_body[64];
static int64_t got_ts[64];
static size_t got_n;

static void keep_flush(void *ctx, void *worker, struct sl_flush *fl)
{
	struct sl_chunk_iter it;
	const char *b;
	size_t len;
	int64_t ts;

	(void)ctx;
	(void)worker;
	pthread_mutex_lock(&got_lock);
	sl_chunk_iter_init(&it, sl_flush_chunk(fl));
	while (sl_chunk_next(&it, &ts, &b, &len) > 0 && got_n < 64) {
		got_body[got_n] = strndup(b, len);
		got_ts[got_n++] = ts;
	}
	pthread_mutex_unlock(&got_lock);
	sl_flush_done(fl, SL_FLUSH_OK);
}

static const struct sl_cfg_option keep_map[] = {SL_CFG_END};
static const struct sl_output_plugin keep_output = {
    .name = "keep",
    .description = "test output",
    .config_map = keep_map,
    .flush = keep_flush,
};
static const struct sl_output_plugin *const extra_out[] = {&keep_output, NULL};

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* One request on a fresh connection; returns the status, copies the body. */
static int post(int port, const char *hdrs, const char *b, char *resp,
		size_t cap)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};
	char head[1024];
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
	const char *p;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 200; i++) { /* the engine may not listen yet */
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		close(fd);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		usleep(10000);
	}
	snprintf(head, sizeof(head),
		 "POST /api/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 "%sContent-Length: %zu\r\n\r\n",
		 hdrs, strlen(b));
	if (write(fd, head, strlen(head)) < 0 || write(fd, b, strlen(b)) < 0)
		goto out;
	while (got + 1 < cap && (n = read(fd, resp + got, cap - got - 1)) > 0)
		got += (size_t)n;
	resp[got] = '\0';
	if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		status = -1;
	p = strstr(resp, "\r\n\r\n");
	if (p)
		memmove(resp, p + 4, strlen(p + 4) + 1);
out:
	close(fd);
	return status;
}

struct client {
	struct sl_engine *eng;
	int port;
	int status[4];
	char resp[4][512];
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	const char *auth = "Authorization: Bearer tok\r\n";
	char hdrs[256], sig[72];
	const char *bad = "[{\"event\":\"one\"},{\"event\":\"two\"},{\"x\":}]";
	const char *good = "[{\"event\":\"a\",\"timestamp\":"
			   "\"2026-11-21T08:00:00.250Z\"},{\"event\":\"b\"}]";
	const char *unsigned_body = "{\"event\":\"c\"}";

	/* a bad third event: 400 at index 2, nothing of it emitted */
	sign("k", bad, sig);
	snprintf(hdrs, sizeof(hdrs), "%sX-Witness-Signature: %s\r\n", auth,
		 sig);
	c->status[0] = post(c->port, hdrs, bad, c->resp[0], sizeof(c->resp[0]));
	/* signed and valid: 202 with the count */
	sign("k", good, sig);
	snprintf(hdrs, sizeof(hdrs), "%sX-Witness-Signature: %s\r\n", auth,
		 sig);
	c->status[1] =
	    post(c->port, hdrs, good, c->resp[1], sizeof(c->resp[1]));
	/* a wrong signature with Unsigned_Action reject: 403, nothing */
	c->status[2] =
	    post(c->port, hdrs, unsigned_body, c->resp[2], sizeof(c->resp[2]));
	/* no token: 401 */
	c->status[3] = post(c->port, "", good, c->resp[3], sizeof(c->resp[3]));
	sl_engine_stop(c->eng);
	return NULL;
}

static void all_or_nothing(void **state)
{
	char port_text[16];
	const char *svc[] = {"flush",	  "0.01",  "grace", "5",
			     "log_level", "error", NULL};
	const char *in[] = {"name",	   "witness", "listen",	  "127.0.0.1",
			    "port",	   port_text, "auth_key", "tok",
			    "hmac_secret", "k",	      NULL};
	const char *out[] = {"name", "keep", "match", "*", NULL};
	const char *const *kvs[] = {svc, in, out};
	static const enum sl_section_kind kinds[] = {
	    SL_SEC_SERVICE, SL_SEC_INPUT, SL_SEC_OUTPUT};
	static const char *const hdr[] = {"SERVICE", "INPUT", "OUTPUT"};
	struct sl_conf conf;
	struct sl_diag diag = {0};
	struct sl_engine *eng;
	struct client c = {0};
	pthread_t th;
	const char *file;
	int line = 1;

	(void)state;
	c.port = free_port();
	snprintf(port_text, sizeof(port_text), "%d", c.port);
	sl_conf_init(&conf);
	file = sl_conf_intern_file(&conf, "witness-test.conf");
	conf.main_file = file;
	for (int s = 0; s < 3; s++) {
		struct sl_conf_section *sec =
		    sl_conf_add_section(&conf, kinds[s], hdr[s], file, line++);

		assert_non_null(sec);
		for (size_t i = 0; kvs[s][i]; i += 2)
			assert_int_equal(
			    sl_conf_add_entry(&conf, sec, kvs[s][i],
					      kvs[s][i + 1], file, line++),
			    0);
	}
	eng = sl_engine_create_with(&conf, &diag, NULL, extra_out);
	assert_non_null(eng);
	assert_int_equal(sl_engine_start(eng), 0);
	c.eng = eng;
	assert_int_equal(pthread_create(&th, NULL, client_main, &c), 0);
	assert_int_equal(sl_engine_run(eng), 0);
	pthread_join(th, NULL);

	assert_int_equal(c.status[0], 400);
	assert_non_null(strstr(c.resp[0], "\"index\":2"));
	assert_int_equal(c.status[1], 202);
	assert_string_equal(c.resp[1], "{\"accepted\":2}\n");
	assert_int_equal(c.status[2], 403);
	assert_int_equal(c.status[3], 401);
	/* exactly the two events of the good body, in order, nothing else */
	assert_int_equal(got_n, 2);
	assert_non_null(strstr(got_body[0], "\"event\":\"a\""));
	assert_non_null(strstr(got_body[1], "\"event\":\"b\""));
	/* the event's own ISO 8601 time */
	assert_true(got_ts[0] == INT64_C(1795248000250000000));
	for (size_t i = 0; i < got_n; i++)
		free(got_body[i]);
	got_n = 0;
	sl_engine_destroy(eng);
	sl_conf_destroy(&conf);
	sl_diag_destroy(&diag);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(split_object, setup_body,
					    teardown_body),
	    cmocka_unit_test_setup_teardown(split_array, setup_body,
					    teardown_body),
	    cmocka_unit_test_setup_teardown(split_ndjson, setup_body,
					    teardown_body),
	    cmocka_unit_test_setup_teardown(split_bad_index, setup_body,
					    teardown_body),
	    cmocka_unit_test_setup_teardown(split_empty, setup_body,
					    teardown_body),
	    cmocka_unit_test_setup_teardown(split_depth, setup_body,
					    teardown_body),
	    cmocka_unit_test_setup_teardown(split_utf8_repaired, setup_body,
					    teardown_body),
	    cmocka_unit_test_setup_teardown(split_no_stack_or_overflow,
					    setup_body, teardown_body),
	    cmocka_unit_test(tokens),
	    cmocka_unit_test(signatures),
	    cmocka_unit_test(secret_file),
	    cmocka_unit_test(all_or_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
