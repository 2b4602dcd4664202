/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_mock_dump.c - a Kafka cluster for e2e tests: librdkafka's mock
 * cluster (one broker, real TCP, in this process) with one topic, and a
 * consumer that prints every message of it as it arrives, so a Python test
 * can check message values byte for byte.
 *   kafka_mock_dump TOPIC PARTITIONS
 * prints "BOOTSTRAP <servers>", then one line per message:
 *   "MSG <partition> <key hex, or - when none> <value hex>"
 * and exits when its standard input closes.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void hex(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

/* True once standard input is at its end (the test is done with us). */
static int stdin_closed(void)
{
	struct pollfd pfd = {.fd = 0, .events = POLLIN};
	char buf[64];

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	return read(0, buf, sizeof(buf)) <= 0;
}

static rd_kafka_t *consumer(const char *servers, const char *topic,
			    int partitions)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *parts;
	rd_kafka_t *rk;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", servers, err,
			      sizeof(err)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "group.id", "dump", err, sizeof(err)) !=
		RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
			      sizeof(err)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "%s\n", err);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	parts = rd_kafka_topic_partition_list_new(partitions);
	for (int p = 0; p < partitions; p++)
		rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
		    RD_KAFKA_OFFSET_BEGINNING;
	if (rd_kafka_assign(rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "cannot assign the partitions\n");
		rd_kafka_topic_partition_list_destroy(parts);
		rd_kafka_destroy(rk);
		return NULL;
	}
	rd_kafka_topic_partition_list_destroy(parts);
	return rk;
}

int main(int argc, char **argv)
{
	char err[256];
	rd_kafka_conf_t *conf;
	rd_kafka_mock_cluster_t *mc;
	rd_kafka_t *rk, *cons;
	int partitions;

	if (argc != 3 || (partitions = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: kafka_mock_dump TOPIC PARTITIONS\n");
		return 2;
	}
	conf = rd_kafka_conf_new();
	/* this handle has no brokers on purpose: no warning about it */
	rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, 1);
	if (!mc || rd_kafka_mock_topic_create(mc, argv[1], partitions, 1) !=
		       RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "cannot start the mock cluster\n");
		return 1;
	}
	cons =
	    consumer(rd_kafka_mock_cluster_bootstraps(mc), argv[1], partitions);
	if (!cons)
		return 1;
	printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	while (!stdin_closed()) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 100);

		if (!m)
			continue;
		if (!m->err) {
			printf("MSG %d ", (int)m->partition);
			if (m->key)
				hex(m->key, m->key_len);
			else
				printf("-");
			printf(" ");
			hex(m->payload, m->len);
			printf("\n");
			fflush(stdout);
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(cons);
	rd_kafka_destroy(cons);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
