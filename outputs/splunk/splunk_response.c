/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splunk_response.c - HEC's answers. HEC answers for the whole request
 * ({"text":"Invalid data format","code":6,"invalid-event-number":3}); when
 * one event is at fault it names its position (0-based), so that event is
 * dropped and the others are sent again. Which class a status falls in is
 * sl_output_http_class's decision; HEC's code only refines a 400.
 */
#include "splunk.h"
#include "sl_json.h"
#include "sl_output_error.h"

#include <stdlib.h>
#include <string.h>

/* A JSON integer node as a long long; false when it is not one. */
static bool node_integer(const char *text, const struct sl_view_node *n,
			 long long *out)
{
	char num[24];
	char *end;
	long long v;

	if (n->type != SL_VAL_NUMBER || n->val_len == 0 ||
	    n->val_len >= sizeof(num))
		return false;
	memcpy(num, text + n->val_off, n->val_len);
	num[n->val_len] = '\0';
	v = strtoll(num, &end, 10);
	if (*end != '\0') /* 1.5, 1e3: not an event number or code */
		return false;
	*out = v;
	return true;
}

void splunk_answer_parse(const char *body, size_t len, struct splunk_answer *a)
{
	struct sl_view v = {0};
	uint32_t i;
	long long x;

	*a = (struct splunk_answer){.code = -1, .bad_event = -1};
	if (!body || !len || sl_view_build(&v, body, len) < 0) {
		sl_view_destroy(&v);
		return;
	}
	a->parsed = true;
	i = sl_view_find_key(&v, body, 0, "code", 4);
	if (i != UINT32_MAX && node_integer(body, &v.nodes[i], &x) && x >= 0 &&
	    x <= 1000000)
		a->code = (long)x;
	i = sl_view_find_key(&v, body, 0, "invalid-event-number", 20);
	if (i != UINT32_MAX && node_integer(body, &v.nodes[i], &x) && x >= 0)
		a->bad_event = x;
	i = sl_view_find_key(&v, body, 0, "text", 4);
	if (i != UINT32_MAX && v.nodes[i].type == SL_VAL_STRING &&
	    v.nodes[i].val_len >= 2) {
		a->text = body + v.nodes[i].val_off + 1;
		a->text_len = v.nodes[i].val_len - 2;
	}
	sl_view_destroy(&v);
}

/* Codes that HEC gives for one event of the batch, not for the request. */
static bool code_is_per_event(long code)
{
	switch (code) {
	case 6:	 /* Invalid data format */
	case 7:	 /* Incorrect index */
	case 12: /* Event field is required */
	case 13: /* Event field cannot be blank */
	case 15: /* Error in handling indexed fields */
		return true;
	default:
		return false;
	}
}

enum splunk_verdict splunk_verdict(long status, const struct splunk_answer *a,
				   size_t n)
{
	switch (sl_output_http_class(status)) {
	case SL_HTTP_DELIVERED:
		return SPLUNK_DELIVERED;
	case SL_HTTP_AUTH:
		return SPLUNK_AUTH;
	case SL_HTTP_TOO_LARGE:
		return SPLUNK_TOO_LARGE;
	case SL_HTTP_REJECTED:
		break;
	case SL_HTTP_RETRY:
	default:
		return SPLUNK_RETRY;
	}
	if (status != 400 || n <= 1)
		return SPLUNK_REJECT_ALL;
	/*
	 * A 400 that is not HEC's (no code: a proxy, an older server) may
	 * still be about one event: look for it rather than drop the batch.
	 */
	if (a->code >= 0 && !code_is_per_event(a->code))
		return SPLUNK_REJECT_ALL; /* no data, channel, ACK, ... */
	if (a->bad_event >= 0 && (unsigned long long)a->bad_event < n)
		return SPLUNK_DROP_ONE;
	return SPLUNK_SPLIT;
}

const char *splunk_code_text(long code)
{
	static const char *const texts[] = {
	    "Success",
	    "Token disabled",
	    "Token is required",
	    "Invalid authorization",
	    "Invalid token",
	    "No data",
	    "Invalid data format",
	    "Incorrect index",
	    "Internal server error",
	    "Server is busy",
	    "Data channel is missing",
	    "Invalid data channel",
	    "Event field is required",
	    "Event field cannot be blank",
	    "ACK is disabled",
	    "Error in handling indexed fields",
	    "Query string authorization is not enabled",
	};

	if (code < 0 || (size_t)code >= sizeof(texts) / sizeof(texts[0]))
		return NULL;
	return texts[code];
}
