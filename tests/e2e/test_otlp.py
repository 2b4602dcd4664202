#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The opentelemetry output and input against OTLP peers written here.

1. Output: dummy -> opentelemetry (protobuf, gzip, batch_size 1) to a
   receiver that answers 429 + Retry-After first, then a 200 whose
   ExportLogsServiceResponse rejects 1 record, then 200. Every mapped field
   of a delivered LogRecord is checked from the protobuf field numbers
   (body, severity from `level`, times, trace/span id and flags from the
   traceparent, resource attributes from add_label); the 429 is retried;
   the partial success and a 400 are counted as rejected and not
   re-sent. A second
   output with Format json sends OTLP/JSON with the same mapping.
2. Input: protobuf (plain and gzip) and OTLP/JSON bodies as an SDK sends
   them become records with Fluent Bit's shape (kvlist body at the root,
   other bodies under "log", the OTLP fields under "otlp"); a bad body is
   400 and counted, a body over Buffer_Max_Size 413.
3. Hop: sluice (dummy -> opentelemetry) -> sluice (opentelemetry -> file)
   loses no record and no field, in protobuf and in OTLP/JSON.
"""
import gzip
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402
import http_receiver  # noqa: E402
import otlp_receiver as otlp  # noqa: E402

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
RECORD = {"message": "payment failed", "level": "warn", "user": {"id": 7},
          "traceparent": "00-%s-%s-01" % (TRACE, SPAN), "ok": False, "ratio": 0.5}


def ok_2xx(reqs):
    return [r for r in reqs if r.status and 200 <= r.status < 300]


def check_record(ck, r, what, t0):
    ck.equal(r["body"], RECORD, what + " body is the record")
    ck.equal(r["severity_text"], "warn", what + " severity_text from level")
    ck.equal(r["severity_number"], 13, what + " severity_number of warn")
    ck.equal(r["trace_id"], bytes.fromhex(TRACE), what + " trace_id from traceparent")
    ck.equal(r["span_id"], bytes.fromhex(SPAN), what + " span_id from traceparent")
    ck.equal(r["flags"], 1, what + " flags from traceparent")
    ck.check(t0 <= r["time_unix_nano"] <= time.time_ns(), what + " time_unix_nano is the record time")
    ck.check(r["observed_time_unix_nano"] >= r["time_unix_nano"], what + " observed time set")


def output_run(ck, tmp):
    partial = otlp.partial_success(1, "one record too old")
    seen = []  # monotonic times of the first two requests

    def timed(ans):
        def step(req):
            seen.append(time.monotonic())
            return ans
        return step
    # scheduler.base 0.1 would retry within 0.2 s; Retry-After asks for 2
    script = [timed({"status": 429, "headers": {"Retry-After": "2"}, "body": "slow down"}),
              timed({"status": 200, "headers": {"Content-Type": "application/x-protobuf"},
                     "body": partial}),
              {"status": 400, "body": "bad attribute"}]
    jscript = [{"status": 200, "headers": {"Content-Type": "application/json"},
                "body": json.dumps({"partialSuccess": {"rejectedLogRecords": "1",
                                                       "errorMessage": "bad"}})}]
    with http_receiver.Receiver(script) as rcv, http_receiver.Receiver(jscript) as jrcv:
        api = e2e.free_port()
        t0 = time.time_ns()
        text = e2e.section("SERVICE", Flush="0.2", Grace="5", HTTP_Server="On",
                           HTTP_Listen="127.0.0.1", HTTP_Port=api,
                           **{"scheduler.base": "0.1", "scheduler.cap": "5"})
        text += e2e.section("INPUT", Name="dummy", Tag="app", Samples="3", Rate="20",
                            Dummy=json.dumps(RECORD))
        text += e2e.section("OUTPUT", Name="opentelemetry", Match="*", Host="127.0.0.1",
                            Port=rcv.port, Compress="gzip", batch_size="1",
                            add_label=["service.name checkout", "deployment.environment prod"])
        text += e2e.section("OUTPUT", Name="opentelemetry", Match="*", Host="127.0.0.1",
                            Port=jrcv.port, Format="json", logs_uri="/otlp/v1/logs")
        conf = e2e.write(os.path.join(tmp, "out.conf"), text)
        d = e2e.Daemon(conf, os.path.join(tmp, "out.log"))
        try:
            # 3 records, one a request: the first answer is 429 (re-sent),
            # the second rejects 1 record, the third is 400: 4 requests
            rcv.wait_for(lambda rs: len(ok_2xx(rs)) >= 2, 60, "2 delivered requests")
            jrcv.wait_for(lambda rs: sum(len(otlp.records(otlp.decode_json_request(r.json())))
                                         for r in ok_2xx(rs)) >= 3, 60, "json records")
            e2e.wait_for(lambda: e2e.metric_value(api, "sluice_output_dropped_records_total",
                                                  {"name": "opentelemetry.0",
                                                   "reason": "rejected"}) == 2.0, 30,
                         what="2 rejected")
            # OTLP/JSON's partialSuccess (rejectedLogRecords as a string)
            e2e.wait_for(lambda: e2e.metric_value(api, "sluice_output_dropped_records_total",
                                                  {"name": "opentelemetry.1",
                                                   "reason": "rejected"}) == 1.0, 30,
                         what="1 rejected by the JSON receiver")
        finally:
            rc = d.stop()
        ck.equal(rc, 0, "output run exits cleanly")
        if rc:
            print(d.output()[-3000:])
        reqs = rcv.snapshot()
        ck.equal(reqs[0].status, 429, "first answer 429")
        ck.check(len(seen) == 2 and seen[1] - seen[0] >= 1.9,
                 "the retry waited for Retry-After: %r" % seen)
        for r in reqs:
            ck.equal(r.path, "/v1/logs", "Logs_uri default")
            ck.equal(r.headers.get("content-type"), "application/x-protobuf", "protobuf")
            ck.check(r.gzip, "Compress gzip")
        recs = [otlp.decode_request(r.body) for r in reqs]
        delivered = [x for r, p in zip(reqs, recs) if 200 <= r.status < 300
                     for x in otlp.records(p)]
        ck.equal(len(delivered), 2, "records answered 2xx")
        ck.equal(sorted(r.status for r in reqs), [200, 200, 400, 429],
                 "429 retried; partial success and 400 not re-sent")
        for i, x in enumerate(delivered):
            check_record(ck, x, "protobuf record %d" % i, t0)
        ck.equal(recs[1]["resource_logs"][0]["resource"],
                 {"service.name": "checkout", "deployment.environment": "prod"},
                 "resource attributes from add_label")
        jreqs = ok_2xx(jrcv.snapshot())
        ck.equal(jreqs[0].path, "/otlp/v1/logs", "Logs_uri")
        ck.equal(jreqs[0].headers.get("content-type"), "application/json", "json type")
        doc = jreqs[0].json()
        lr = doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
        ck.equal(lr.get("traceId"), TRACE, "OTLP/JSON traceId is hex")
        ck.check(isinstance(lr.get("timeUnixNano"), str), "OTLP/JSON timeUnixNano is a string")
        for x in otlp.records(otlp.decode_json_request(doc)):
            check_record(ck, x, "json record", t0)


def sdk_request(n0, count):
    recs = []
    for i in range(n0, n0 + count):
        recs.append({"time_unix_nano": 1_700_000_000_000_000_000 + i,
                     "observed_time_unix_nano": 1_700_000_000_500_000_000 + i,
                     "severity_number": 17, "severity_text": "ERROR",
                     "body": {"msg": "kv body", "seq": i} if i % 2 else "line %d" % i,
                     "attributes": {"http.status": 500, "retry": True, "seq": i},
                     "trace_id": bytes.fromhex(TRACE), "span_id": bytes.fromhex(SPAN),
                     "flags": 1})
    return {"resource_logs": [{"resource": {"service.name": "shop", "host.id": 3},
                               "scope_logs": [{"scope": {"name": "io.otel.sdk",
                                                         "version": "1.2",
                                                         "attributes": {"a": "b"}},
                                               "log_records": recs}]}]}


def check_input_record(ck, rec, i):
    what = "input record %d" % i
    if i % 2:
        ck.equal(rec.get("msg"), "kv body", what + " kvlist body at the root")
        ck.equal(rec.get("seq"), i, what + " kvlist body seq")
    else:
        ck.equal(rec.get("log"), "line %d" % i, what + " string body under log")
    m = rec.get("otlp", {})
    ck.equal(m.get("timestamp"), 1_700_000_000_000_000_000 + i, what + " timestamp")
    ck.equal(m.get("observed_timestamp"), 1_700_000_000_500_000_000 + i, what + " observed")
    ck.equal(m.get("severity_number"), 17, what + " severity_number")
    ck.equal(m.get("severity_text"), "ERROR", what + " severity_text")
    ck.equal(m.get("attributes"), {"http.status": 500, "retry": True, "seq": i}, what + " attrs")
    ck.equal(m.get("trace_id"), TRACE, what + " trace_id hex")
    ck.equal(m.get("span_id"), SPAN, what + " span_id hex")
    ck.equal(m.get("trace_flags"), 1, what + " trace_flags")
    ck.equal(m.get("resource"), {"attributes": {"service.name": "shop", "host.id": 3}},
             what + " resource kept")
    ck.equal(m.get("scope"), {"name": "io.otel.sdk", "version": "1.2", "attributes": {"a": "b"}},
             what + " scope kept")


def input_and_hop_run(ck, tmp):
    port, api = e2e.free_port(), e2e.free_port()
    out = os.path.join(tmp, "in.jsonl")
    text = e2e.section("SERVICE", Flush="0.2", Grace="5", HTTP_Server="On",
                       HTTP_Listen="127.0.0.1", HTTP_Port=api)
    text += e2e.section("INPUT", Name="opentelemetry", Listen="127.0.0.1", Port=port,
                        Buffer_Max_Size="64K")
    text += e2e.section("OUTPUT", Name="file", Match="v1_logs", Path=tmp, File="in.jsonl",
                        Format="plain")
    conf = e2e.write(os.path.join(tmp, "in.conf"), text)
    d = e2e.Daemon(conf, os.path.join(tmp, "in.log"))
    hop = None
    try:
        e2e.wait_port(port, d.p)
        pb = otlp.encode_request(sdk_request(0, 4))
        r = e2e.http_request(port, "POST", "/v1/logs", pb,
                             {"Content-Type": "application/x-protobuf"})
        ck.equal(r and r[0], 201, "protobuf accepted (Fluent Bit's 201)")
        ck.equal(r and r[1].get("content-type"), "application/x-protobuf", "protobuf answer")
        r = e2e.http_request(port, "POST", "/v1/logs",
                             gzip.compress(otlp.encode_request(sdk_request(4, 4))),
                             {"Content-Type": "application/x-protobuf",
                              "Content-Encoding": "gzip"})
        ck.equal(r and r[0], 201, "gzip protobuf accepted")
        body = json.dumps(otlp.json_request(sdk_request(8, 4))).encode()
        r = e2e.http_request(port, "POST", "/v1/logs", body, {"Content-Type": "application/json"})
        ck.equal(r and r[0], 201, "OTLP/JSON accepted")
        ck.equal(r and r[2], b"{}", "JSON ExportLogsServiceResponse")
        r = e2e.http_request(port, "POST", "/v1/logs", b"\x0a\xff\xff\xff",
                             {"Content-Type": "application/x-protobuf"})
        ck.equal(r and r[0], 400, "truncated protobuf is 400")
        r = e2e.http_request(port, "POST", "/v1/logs", b'{"resourceLogs": 5}',
                             {"Content-Type": "application/json"})
        ck.equal(r and r[0], 400, "bad OTLP/JSON is 400")
        r = e2e.http_request(port, "POST", "/v1/logs", gzip.compress(b"\0" * 200000),
                             {"Content-Type": "application/x-protobuf",
                              "Content-Encoding": "gzip"})
        ck.equal(r and r[0], 413, "inflated body over Buffer_Max_Size is 413")
        r = e2e.http_request(port, "POST", "/v1/metrics", b"", {"Content-Type": "application/json"})
        ck.equal(r and r[0], 404, "metrics are not served")
        e2e.wait_for(lambda: os.path.exists(out) and len(e2e.read_plain(out)) >= 12, 30,
                     what="12 input records")
        ck.equal(e2e.metric_value(api, "sluice_http_rejected_total",
                                  {"reason": "malformed"}), 2.0, "bad bodies counted")
        ck.equal(e2e.metric_value(api, "sluice_http_rejected_total",
                                  {"reason": "too_large"}), 1.0, "too large counted")
        recs = e2e.read_plain(out)
        for i, rec in enumerate(recs[:12]):
            check_input_record(ck, rec, i)

        # hop: another sluice sends 50 records to this input
        src = dict(RECORD, seq=1)
        htext = e2e.section("SERVICE", Flush="0.2", Grace="5")
        htext += e2e.section("INPUT", Name="dummy", Tag="hop", Samples="50", Rate="100",
                             Dummy=json.dumps(src))
        htext += e2e.section("OUTPUT", Name="opentelemetry", Match="*", Host="127.0.0.1",
                             Port=port, Compress="gzip")
        hconf = e2e.write(os.path.join(tmp, "hop.conf"), htext)
        hop = e2e.Daemon(hconf, os.path.join(tmp, "hop.log"))
        e2e.wait_for(lambda: len(e2e.read_plain(out)) >= 62, 60, what="50 hop records")
        ck.equal(hop.stop(), 0, "hop sender exits cleanly")
        hop = None
        time.sleep(0.5)  # not an assert: lets a duplicate show up if one were sent
        hopped = e2e.read_plain(out)[12:]
        ck.equal(len(hopped), 50, "hop: every record arrives once")
        for rec in hopped:
            body = {k: v for k, v in rec.items() if k != "otlp"}
            ck.equal(body, src, "hop: record body unchanged")
            ck.equal(rec["otlp"].get("severity_text"), "warn", "hop: severity")
            ck.equal(rec["otlp"].get("trace_id"), TRACE, "hop: trace_id")

        # the same hop in OTLP/JSON
        jsrc = dict(RECORD, seq=2, nested={"a": [1, 2.5, None, "x"]})
        jtext = e2e.section("SERVICE", Flush="0.2", Grace="5")
        jtext += e2e.section("INPUT", Name="dummy", Tag="hop", Samples="20", Rate="100",
                             Dummy=json.dumps(jsrc))
        jtext += e2e.section("OUTPUT", Name="opentelemetry", Match="*", Host="127.0.0.1",
                             Port=port, Format="json")
        hop = e2e.Daemon(e2e.write(os.path.join(tmp, "jhop.conf"), jtext),
                         os.path.join(tmp, "jhop.log"))
        e2e.wait_for(lambda: len(e2e.read_plain(out)) >= 82, 60, what="20 JSON hop records")
        ck.equal(hop.stop(), 0, "JSON hop sender exits cleanly")
        hop = None
        jhopped = e2e.read_plain(out)[62:]
        ck.equal(len(jhopped), 20, "JSON hop: every record arrives once")
        for rec in jhopped:
            ck.equal({k: v for k, v in rec.items() if k != "otlp"}, jsrc,
                     "JSON hop: record body unchanged")
    finally:
        if hop:
            hop.stop()
        rc = d.stop()
    ck.equal(rc, 0, "input run exits cleanly")
    if rc:
        print(d.output()[-3000:])


def main():
    e2e.require_plugins("dummy", "opentelemetry", "file")
    ck = e2e.Checker()
    with e2e.TempDir("sluice-otlp-") as tmp:
        output_run(ck, tmp)
        input_and_hop_run(ck, tmp)
    ck.finish()


if __name__ == "__main__":
    main()
