/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_mock_cluster.c - a Kafka cluster for the kafka input's e2e test:
 * librdkafka's mock cluster (real TCP, in this process) with N brokers, and
 * a small line protocol on stdin so the test can act on it:
 *
 *   topic NAME PARTITIONS          -> "ok"
 *   produce TOPIC FROM COUNT       -> "ok N" once every message is acked;
 *                                     payload {"seq":I,"msg":"event I"},
 *                                     key "k<I mod 7>"
 *   committed GROUP TOPIC          -> "ok P:OFFSET ..." (the group's
 *                                     committed offsets, -1 when none)
 *   watermarks TOPIC               -> "ok P:HIGH ..."
 *
 * Prints "BOOTSTRAP <servers>" first; exits when stdin closes. Errors are
 * answered "err <text>".
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOPICS 16

struct topic {
	char name[128];
	int partitions;
};

static struct topic topics[MAX_TOPICS];
static int n_topics;
static char bootstraps[512];
static rd_kafka_t *producer;

static int partitions_of(const char *name)
{
	for (int i = 0; i < n_topics; i++)
		if (!strcmp(topics[i].name, name))
			return topics[i].partitions;
	return -1;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *group)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;

	rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err,
			  sizeof(err));
	if (group)
		rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err));
	if (type == RD_KAFKA_PRODUCER)
		rd_kafka_conf_set(conf, "enable.idempotence", "true", err,
				  sizeof(err));
	rk = rd_kafka_new(type, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "%s\n", err);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

static void cmd_produce(const char *topic, long from, long count)
{
	char payload[128], key[16];
	long failed = 0;
	rd_kafka_topic_t *rkt;

	if (!producer && !(producer = client(RD_KAFKA_PRODUCER, NULL))) {
		printf("err no producer\n");
		return;
	}
	rkt = rd_kafka_topic_new(producer, topic, NULL);
	if (!rkt) {
		printf("err no topic handle\n");
		return;
	}
	for (long i = from; i < from + count; i++) {
		int n = snprintf(payload, sizeof(payload),
				 "{\"seq\":%ld,\"msg\":\"event %ld\"}", i, i);
		int k = snprintf(key, sizeof(key), "k%ld", i % 7);
		rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;

		/* rd_kafka_produce, not producev: its macros are GNU
		 * statement expressions, which clang's -Wpedantic refuses */
		for (;;) {
			if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA,
					     RD_KAFKA_MSG_F_COPY, payload,
					     (size_t)n, key, (size_t)k,
					     NULL) == 0) {
				err = RD_KAFKA_RESP_ERR_NO_ERROR;
				break;
			}
			err = rd_kafka_last_error();
			if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
				break;
			rd_kafka_poll(producer, 10);
		}
		if (err)
			failed++;
	}
	rd_kafka_topic_destroy(rkt);
	if (rd_kafka_flush(producer, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    failed)
		printf("err %ld not produced, %d not flushed\n", failed,
		       rd_kafka_outq_len(producer));
	else
		printf("ok %ld\n", count);
}

static void cmd_committed(const char *group, const char *topic)
{
	int n = partitions_of(topic);
	rd_kafka_t *rk;
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t err;

	if (n < 0) {
		printf("err unknown topic\n");
		return;
	}
	rk = client(RD_KAFKA_CONSUMER, group);
	if (!rk) {
		printf("err no consumer\n");
		return;
	}
	l = rd_kafka_topic_partition_list_new(n);
	for (int p = 0; p < n; p++)
		rd_kafka_topic_partition_list_add(l, topic, p);
	/* an OffsetFetch only: no subscription, the group is not joined */
	err = rd_kafka_committed(rk, l, 20000);
	if (err) {
		printf("err %s\n", rd_kafka_err2str(err));
	} else {
		printf("ok");
		for (int i = 0; i < l->cnt; i++)
			printf(" %d:%lld", (int)l->elems[i].partition,
			       l->elems[i].offset < 0
				   ? -1LL
				   : (long long)l->elems[i].offset);
		printf("\n");
	}
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_destroy(rk);
}

static void cmd_watermarks(const char *topic)
{
	int n = partitions_of(topic);
	rd_kafka_t *rk;

	if (n < 0) {
		printf("err unknown topic\n");
		return;
	}
	rk = client(RD_KAFKA_CONSUMER, "watermarks");
	if (!rk) {
		printf("err no consumer\n");
		return;
	}
	printf("ok");
	for (int p = 0; p < n; p++) {
		int64_t lo = -1, hi = -1;

		rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 20000);
		printf(" %d:%lld", p, (long long)hi);
	}
	printf("\n");
	rd_kafka_destroy(rk);
}

int main(int argc, char **argv)
{
	char err[256], line[512], a[128], b[128];
	long x, y;
	int brokers = argc > 1 ? atoi(argv[1]) : 3;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;

	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc) {
		fprintf(stderr, "cannot start the mock cluster\n");
		return 1;
	}
	snprintf(bootstraps, sizeof(bootstraps), "%s",
		 rd_kafka_mock_cluster_bootstraps(mc));
	printf("BOOTSTRAP %s\n", bootstraps);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "topic %127s %ld", a, &x) == 2) {
			if (n_topics == MAX_TOPICS ||
			    rd_kafka_mock_topic_create(
				mc, a, (int)x, brokers < 3 ? brokers : 3)) {
				printf("err cannot create\n");
			} else {
				snprintf(topics[n_topics].name,
					 sizeof(topics[n_topics].name), "%s",
					 a);
				topics[n_topics++].partitions = (int)x;
				/* spread the leaders over the brokers */
				for (int p = 0; p < x; p++)
					rd_kafka_mock_partition_set_leader(
					    mc, a, p, 1 + p % brokers);
				printf("ok\n");
			}
		} else if (sscanf(line, "produce %127s %ld %ld", a, &x, &y) ==
			   3) {
			cmd_produce(a, x, y);
		} else if (sscanf(line, "committed %127s %127s", a, b) == 2) {
			cmd_committed(a, b);
		} else if (sscanf(line, "watermarks %127s", a) == 1) {
			cmd_watermarks(a);
		} else {
			printf("err unknown command\n");
		}
		fflush(stdout);
	}
	if (producer)
		rd_kafka_destroy(producer);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
