#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tail -> parser(json) -> http against a scripted HTTP receiver.

Script: 429 (Retry-After 1), then 400, then 503, then 200 for the rest.
Records 0-39 are written first: their request gets 429, is re-sent, gets
400 and is dropped (counted as rejected, logged, never re-sent). Records
40-79 are written once the 400 has been answered: their request gets 503,
is re-sent and delivered. Checks: each of 40-79 arrives exactly once in a
2xx request, none of 0-39 does, the rejected counter equals the records
answered 400, bodies are gzip'd JSON lines with the date key, and the
configured headers (Header, Header_Tag, basic auth) are sent.

Second run (a gateway limit, rotating credentials): 401 then 403 are
retried; then every body over 4 KiB is answered 413 and sluice halves the
request until each part fits: every record arrives exactly once, the one
record alone over the limit is dropped as `oversize`, nothing as `rejected`.

Third run: Proxy sends every request to the proxy with the target's
absolute URI and Host.
"""
import base64
import collections
import json
import os
import signal
import subprocess
import sys
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402
import http_receiver  # noqa: E402


def write_records(path, seqs):
    with open(path, "a", encoding="utf-8") as f:
        for s in seqs:
            f.write(json.dumps({"seq": s, "t": 1_700_000_000 + s, "msg": "m%d" % s}) + "\n")


def metric(api_port, name, labels):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/metrics/prometheus"
                                    % api_port, timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return None
    return http_receiver.prometheus_value(text, name, labels)


def records_of(req):
    return [json.loads(l) for l in req.body.decode("utf-8").splitlines() if l.strip()]


def main():
    e2e.require_plugins("tail", "parser", "http", "dummy")
    ck = e2e.Checker()
    script = [{"status": 429, "headers": {"Retry-After": "1"}, "body": "slow down"},
              {"status": 400, "body": '{"error":"schema mismatch"}'},
              {"status": 503, "body": "unavailable"}]
    with e2e.TempDir("sluice-http-") as tmp, http_receiver.Receiver(script) as rcv:
        data = os.path.join(tmp, "app.log")
        write_records(data, range(40))
        api_port = http_receiver.free_port()
        parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"), [
            {"Name": "j", "Format": "json", "Time_Key": "t", "Time_Format": "epoch"}])
        text = e2e.section("SERVICE", Flush="0.2", Grace="5", Parsers_File=parsers,
                           HTTP_Server="On", HTTP_Listen="127.0.0.1", HTTP_Port=api_port,
                           **{"scheduler.base": "0.1", "scheduler.cap": "2"})
        text += e2e.section("INPUT", Name="tail", Path=data, Tag="siem.events",
                            Read_from_Head="On", Refresh_Interval="1")
        text += e2e.section("FILTER", Name="parser", Match="*", Key_Name="log", Parser="j")
        text += e2e.section("OUTPUT", Name="http", Match="*", Host="127.0.0.1", Port=rcv.port,
                            URI="/ingest?src=sluice", Format="json_lines", Compress="gzip",
                            Header=["X-Api-Key k1", "X-Env prod"], Header_Tag="X-Tag",
                            HTTP_User="u", HTTP_Passwd="p", json_date_key="@t",
                            json_date_format="epoch")
        conf = e2e.write(os.path.join(tmp, "sluice.conf"), text)
        log_path = os.path.join(tmp, "sluice.log")
        with open(log_path, "wb") as log:
            p = subprocess.Popen([e2e.binary(), "-c", conf], stdout=log,
                                 stderr=subprocess.STDOUT)
            try:
                rcv.wait_for(lambda r: any(x.status == 400 for x in r), 30, "the 400")
                write_records(data, range(40, 80))
                rcv.wait_for(lambda r: sum(len(records_of(x)) for x in r
                                           if 200 <= x.status < 300) >= 40, 30,
                             "records 40-79")
                dropped = e2e.wait_for(
                    lambda: metric(api_port, "sluice_output_dropped_records_total",
                                   {"name": "http.0", "reason": "rejected"}), 20,
                    what="dropped counter")
            finally:
                # judged after sluice has exited: nothing can arrive later
                p.send_signal(signal.SIGTERM)
                try:
                    rc = p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    rc = p.wait()
        with open(log_path, "rb") as f:
            logtext = f.read().decode("utf-8", "replace")
        reqs = rcv.snapshot()

    ck.equal(rc, 0, "exit code")
    ck.equal([r.status for r in reqs][:4], [429, 400, 503, 200], "answers in script order")
    rejected = [s["seq"] for r in reqs if r.status == 400 for s in records_of(r)]
    delivered = collections.Counter(s["seq"] for r in reqs if 200 <= r.status < 300
                                    for s in records_of(r))
    ck.equal(sorted(rejected), list(range(40)), "records answered 400")
    ck.equal(sorted(delivered), list(range(40, 80)), "records delivered")
    ck.equal([s for s, c in delivered.items() if c > 1], [], "records delivered twice")
    ck.equal(dropped, float(len(rejected)), "sluice_output_dropped_records_total{reason=rejected}")
    ck.check("HTTP status=400" in logtext and "schema mismatch" in logtext,
             "the 400 and its body logged")
    auth = "Basic " + base64.b64encode(b"u:p").decode()
    for r in reqs:
        ck.equal(r.path, "/ingest?src=sluice", "path")
        ck.check(r.gzip, "gzip body")
        ck.equal(r.headers.get("content-type"), "application/x-ndjson", "content type")
        ck.equal(r.headers.get("x-api-key"), "k1", "Header X-Api-Key")
        ck.equal(r.headers.get("x-env"), "prod", "Header X-Env")
        ck.equal(r.headers.get("x-tag"), "siem.events", "Header_Tag")
        ck.equal(r.headers.get("authorization"), auth, "basic auth")
    first = [s for r in reqs if r.status == 200 for s in records_of(r)][0]
    ck.equal(list(first)[0], "@t", "date key first")
    ck.equal(first["@t"], 1_700_000_000 + first["seq"], "date value (epoch)")
    run_split_and_auth(ck)
    run_proxy(ck)
    ck.finish()


def run_split_and_auth(ck):
    n, big, limit = 100, 37, 4096

    def gate(req):
        if len(req.raw) > limit:
            return {"status": 413, "body": "too large"}
        return {"status": 200}
    script = [{"status": 401, "body": "no"}, {"status": 403, "body": "no"}]
    with e2e.TempDir("sluice-http2-") as tmp, \
            http_receiver.Receiver(script, default=gate) as rcv:
        data = os.path.join(tmp, "app.log")
        with open(data, "w", encoding="utf-8") as f:
            for seq in range(n):
                msg = "x" * 6000 if seq == big else "m%d" % seq
                f.write(json.dumps({"seq": seq, "msg": msg}) + "\n")
        api_port = http_receiver.free_port()
        parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"), [
            {"Name": "j", "Format": "json"}])
        text = e2e.section("SERVICE", Flush="0.2", Grace="5", Parsers_File=parsers,
                           HTTP_Server="On", HTTP_Listen="127.0.0.1", HTTP_Port=api_port,
                           **{"scheduler.base": "0.1", "scheduler.cap": "1"})
        text += e2e.section("INPUT", Name="tail", Path=data, Tag="split",
                            Read_from_Head="On", Refresh_Interval="1")
        text += e2e.section("FILTER", Name="parser", Match="*", Key_Name="log", Parser="j")
        text += e2e.section("OUTPUT", Name="http", Match="*", Host="127.0.0.1",
                            Port=rcv.port, URI="/in", Format="json_lines")
        conf = e2e.write(os.path.join(tmp, "sluice.conf"), text)
        log_path = os.path.join(tmp, "sluice.log")
        with open(log_path, "wb") as log:
            p = subprocess.Popen([e2e.binary(), "-c", conf], stdout=log,
                                 stderr=subprocess.STDOUT)
            try:
                rcv.wait_for(lambda r: sum(len(records_of(x)) for x in r
                                           if x.status == 200) >= n - 1, 30,
                             "the %d small records" % (n - 1))
                oversize = e2e.wait_for(
                    lambda: metric(api_port, "sluice_output_dropped_records_total",
                                   {"name": "http.0", "reason": "oversize"}), 20,
                    what="oversize counter")
                rejected = metric(api_port, "sluice_output_dropped_records_total",
                                  {"name": "http.0", "reason": "rejected"})
            finally:
                p.send_signal(signal.SIGTERM)
                try:
                    rc = p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    rc = p.wait()
        reqs = rcv.snapshot()
    ck.equal(rc, 0, "split: exit code")
    ck.equal([r.status for r in reqs][:2], [401, 403], "split: auth answers first")
    ck.check(sum(r.status == 413 for r in reqs) >= 2, "split: 413 answered, split again")
    got = collections.Counter(s["seq"] for r in reqs if r.status == 200
                              for s in records_of(r))
    ck.equal([q for q, c in got.items() if c > 1], [], "split: records delivered twice")
    ck.equal(set(got), set(range(n)) - {big}, "split: every small record delivered")
    ck.equal(oversize, 1.0, "split: dropped{reason=oversize}")
    ck.check(not rejected, "split: nothing rejected: %r" % rejected)


def run_proxy(ck):
    """Proxy (Fluent Bit's http://HOST:PORT): requests go to the proxy with
    the target's absolute URI; the target's name is never resolved here."""
    with e2e.TempDir("sluice-http3-") as tmp, http_receiver.Receiver() as proxy:
        text = e2e.section("SERVICE", Flush="0.2", Grace="5")
        # no Samples: an input that finishes would race our SIGTERM
        text += e2e.section("INPUT", Name="dummy", Tag="p", Dummy='{"seq":1}', Rate=20)
        text += e2e.section("OUTPUT", Name="http", Match="*", Host="collector.invalid",
                            Port="8088", URI="/in", Format="json_lines",
                            Proxy="http://127.0.0.1:%d" % proxy.port)
        conf = e2e.write(os.path.join(tmp, "sluice.conf"), text)
        with open(os.path.join(tmp, "sluice.log"), "wb") as log:
            p = subprocess.Popen([e2e.binary(), "-c", conf], stdout=log,
                                 stderr=subprocess.STDOUT)
            try:
                proxy.wait_for(lambda r: sum(len(records_of(x)) for x in r) >= 3, 30,
                               "3 records through the proxy")
            finally:
                p.send_signal(signal.SIGTERM)
                try:
                    rc = p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    rc = p.wait()
        reqs = proxy.snapshot()
    ck.equal(rc, 0, "proxy: exit code")
    ck.check(reqs and all(r.path == "http://collector.invalid:8088/in" for r in reqs),
             "proxy: absolute URI of the target: %r" % [r.path for r in reqs])
    ck.check(all(r.headers.get("host") == "collector.invalid:8088" for r in reqs),
             "proxy: Host is the target")


if __name__ == "__main__":
    main()
