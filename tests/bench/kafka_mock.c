/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_mock.c - a Kafka cluster for the output benchmarks: librdkafka's
 * mock cluster (real TCP, in this process) with one broker and the topic
 * "bench" (partition count: argv[1], default 4). Prints
 * "BOOTSTRAP <servers>" and runs until its standard input closes.
 *
 * A line "HWM" on standard input is answered with "HWM <n>": the sum of
 * the topic's high watermarks, i.e. every message ever appended. The mock
 * keeps only ~5 MB (or 100000 messages) per partition and drops the
 * oldest, but the high watermark still counts the dropped ones, so this
 * is how a benchmark verifies that a producer delivered every record.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sums the high watermarks through a client of its own; -1 on error. */
static long long high_watermarks(rd_kafka_t *client, int partitions)
{
	long long sum = 0;
	int64_t lo, hi;
	int p;

	for (p = 0; p < partitions; p++) {
		if (rd_kafka_query_watermark_offsets(client, "bench", p, &lo,
						     &hi, 10000))
			return -1;
		sum += hi;
	}
	return sum;
}

int main(int argc, char **argv)
{
	char err[256], line[64];
	int partitions = argc > 1 ? atoi(argv[1]) : 4;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_t *cconf;
	rd_kafka_t *rk, *client = NULL;
	rd_kafka_mock_cluster_t *mc;
	const char *servers;

	if (partitions < 1)
		partitions = 1;
	/* this client only hosts the cluster: its "no bootstrap.servers"
	 * notice is noise in the benchmark's output */
	rd_kafka_conf_set(conf, "log_level", "4", err, sizeof(err));
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
	rd_kafka_mock_topic_create(mc, "bench", partitions, 1);
	servers = rd_kafka_mock_cluster_bootstraps(mc);
	printf("BOOTSTRAP %s\n", servers);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "HWM", 3))
			continue;
		/* created on first use: run_outputs.sh never asks */
		if (!client) {
			cconf = rd_kafka_conf_new();
			if (rd_kafka_conf_set(cconf, "bootstrap.servers",
					      servers, err, sizeof(err)) ||
			    !(client = rd_kafka_new(RD_KAFKA_PRODUCER, cconf,
						    err, sizeof(err)))) {
				fprintf(stderr, "%s\n", err);
				return 1;
			}
		}
		printf("HWM %lld\n", high_watermarks(client, partitions));
		fflush(stdout);
	}
	if (client)
		rd_kafka_destroy(client);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
