/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kafka_record.h - one Kafka message as a sluice record, in Fluent Bit's
 * in_kafka shape: {"topic","partition","offset","error","key","payload"}.
 * With Format json a payload that is one JSON value is kept as that value,
 * anything else is a string (invalid UTF-8 repaired and counted). Pure:
 * no librdkafka, testable on its own.
 */
#ifndef SL_IN_KAFKA_RECORD_H
#define SL_IN_KAFKA_RECORD_H

#include "sl_record.h"

#include <stdbool.h>

/* The parts of a message the record is made of; pointers are borrowed. */
struct kafka_msg {
	const char *topic; /* NULL: null */
	int32_t partition;
	int64_t offset;
	const void *key; /* NULL: null */
	size_t key_len;
	const void *payload; /* NULL: null */
	size_t len;
};

/*
 * Makes `rec` the record of message `m` at time ts_ns, its body built in
 * `buf` (which must stay untouched until the record is emitted). The record
 * carries an origin from (topic, partition, offset), so a message consumed
 * again after a crash gets the same record id (es Generate_ID, the kafka
 * output's sluice-id). 0 or -SL_ENOMEM.
 */
int kafka_record_build(struct sl_record *rec, struct sl_buf *buf,
		       const struct kafka_msg *m, bool json, int64_t ts_ns);

#endif
