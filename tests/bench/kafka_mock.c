/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_mock.c - a Kafka cluster for the output benchmark: librdkafka's
 * mock cluster (real TCP, in this process) with one broker. Prints
 * "BOOTSTRAP <servers>" and runs until its standard input closes.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>

int main(void)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;

	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, 1);
	if (!mc) {
		fprintf(stderr, "cannot start the mock cluster\n");
		return 1;
	}
	rd_kafka_mock_topic_create(mc, "bench", 4, 1);
	printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	while (getchar() != EOF)
		;
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
