#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tail -> parser(json) -> loki against a local Loki push API peer.

Run 1 (gzip, tenant, labels from values and accessors, Label_keys,
Remove_keys): the receiver answers 429 (Retry-After 1), then 500, then a
400 that ignores the 3 oldest entries of the request, then 204. Checks:
every record arrives exactly once or is among the rejected ones (never
both, never re-sent), each stream's entries are in time order in every
request although the file is not, labels and lines are as configured, all
bodies were gzip with X-Scope-OrgID, and sluice's
sluice_output_dropped_records_total{reason="rejected"} (service API) and its
log both say 3, the receiver's count.

Run 2 (key_value, no gzip): the first request is answered 404; its records
are dropped and counted, the records written after it arrive.

Run 3 (a gateway limit, rotating credentials): the first two pushes are
answered 401 then 403 and retried (as es does); then every push over 4 KiB
is answered 413: sluice halves the request until each half fits, every
record arrives exactly once, and the one record whose single entry is over
the limit is dropped and counted as `oversize` (nothing as `rejected`).

Run 4 (Structured_metadata, Structured_metadata_map_keys, Label_map_path,
written the Fluent Bit way): every entry carries exactly the metadata its record gives
(fixed pairs, accessor pairs, an accessor named by its path, the members of
a map; nothing for an absent or empty field, an explicit pair overriding a
map member), and the fields read leave the line.

Run 5 (Tenant_ID_Key, with Tenant_ID as the fallback for records whose
field is absent or not a string): every push carries one tenant, each
record arrives once in a push of its own tenant, and a failed push of one
tenant is retried without re-sending the others.
"""
import collections
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402
import http_receiver  # noqa: E402
from loki_receiver import LokiReceiver  # noqa: E402

BASE_MS = 1_700_000_000_000


def record(seq):
    # Timestamps go backwards in blocks of 10 so the file is out of order.
    ts = BASE_MS + (seq // 10) * 10 + (9 - seq % 10)
    return {"seq": seq, "stream": "out" if seq % 3 else "err", "ts": ts,
            "secret": "s%d" % seq, "msg": 'say "hi" \u00e9 %d' % seq,
            "kubernetes": {"pod_name": "pod-%d" % (seq % 2), "namespace_name": "ns"}}


def write_records(path, seqs):
    with open(path, "a", encoding="utf-8") as f:
        for s in seqs:
            f.write(json.dumps(record(s), ensure_ascii=False) + "\n")


def config(tmp, data, loki_port, api_port, output):
    parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"), [
        {"Name": "j", "Format": "json", "Time_Key": "ts", "Time_Format": "epoch_ms"}])
    text = e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="info",
                       Parsers_File=parsers, HTTP_Server="On",
                       HTTP_Listen="127.0.0.1", HTTP_Port=api_port,
                       **{"scheduler.base": "0.1", "scheduler.cap": "2"})
    text += e2e.section("INPUT", Name="tail", Path=data, Tag="app",
                        Read_from_Head="On", Refresh_Interval="1")
    text += e2e.section("FILTER", Name="parser", Match="app", Key_Name="log", Parser="j")
    out = {"Name": "loki", "Match": "app", "Host": "127.0.0.1", "Port": loki_port}
    out.update(output)
    text += e2e.section("OUTPUT", **out)
    return e2e.write(os.path.join(tmp, "sluice.conf"), text)


def metric(api_port, name, labels):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/metrics/prometheus"
                                    % api_port, timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return None
    return http_receiver.prometheus_value(text, name, labels)


class Sluice:
    def __init__(self, conf, log_path):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.p = subprocess.Popen([e2e.binary(), "-c", conf], stdout=self.log,
                                  stderr=subprocess.STDOUT)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        return self.p.returncode

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def expected_line(seq):
    r = record(seq)
    for k in ("stream", "secret", "ts"):
        del r[k]
    del r["kubernetes"]["pod_name"]
    return r


def run_retry_and_partial(ck, tmp):
    n = 200
    data = os.path.join(tmp, "app.log")
    write_records(data, range(n))
    api_port = http_receiver.free_port()
    script = [{"status": 429, "headers": {"Retry-After": "1"}, "body": "rate limited"},
              {"status": 500, "body": "internal error"},
              {"loki_reject": 3}]
    with LokiReceiver(script) as rcv:
        conf = config(tmp, data, rcv.port, api_port, {
            "Labels": "job=sluice, $stream", "Label_keys": "$kubernetes['pod_name']",
            "Remove_keys": "secret", "Compress": "gzip", "Tenant_ID": "team-a"})
        s = Sluice(conf, os.path.join(tmp, "sluice1.log"))
        try:
            rcv.wait_for(lambda _: len(rcv.accepted()) + len(rcv.rejected_entries()) >= n,
                         60, "all %d entries" % n)
            dropped = e2e.wait_for(
                lambda: (metric(api_port, "sluice_output_dropped_records_total",
                                {"name": "loki.0", "reason": "rejected"}) or 0) >= 3 and
                metric(api_port, "sluice_output_dropped_records_total",
                       {"name": "loki.0", "reason": "rejected"}), 20, what="dropped counter")
            retries = metric(api_port, "sluice_output_retries_total", {"name": "loki.0"})
        finally:
            # judged after sluice has exited: nothing can arrive later
            rc = s.stop()
        reqs = rcv.snapshot()
        ok = rcv.accepted()
        rej = rcv.rejected_entries()
    log = s.text()
    ck.equal(rc, 0, "run 1 exit code")
    ck.equal([r.status for r in reqs][:4], [429, 500, 400, 204][:len(reqs[:4])],
             "answers in script order")
    seen = collections.Counter(json.loads(e.line)["seq"] for e in ok)
    rseq = collections.Counter(json.loads(e.line)["seq"] for e in rej)
    ck.equal(len(rej), 3, "entries rejected by the receiver")
    ck.equal([s for s, c in seen.items() if c > 1], [], "records delivered twice")
    ck.equal(set(seen) & set(rseq), set(), "rejected records re-sent and accepted")
    ck.equal(set(seen) | set(rseq), set(range(n)), "every record accounted for")
    ck.equal(rcv.violations, 0, "per-stream order violations within a request")
    ck.equal(rcv.malformed, [], "malformed push bodies")
    ck.equal(dropped, 3.0, "sluice_output_dropped_records_total{reason=rejected}")
    ck.check(retries is not None and retries >= 2, "retries counted: %r" % retries)
    logged = sum(int(m) for m in re.findall(r"Loki rejected (\d+) of \d+ entries", log))
    ck.equal(logged, 3, "rejected count in sluice's log")
    ck.check("total ignored: 3 out of" in log, "Loki's message logged")
    ck.check(all(r.gzip for r in reqs), "every body gzip")
    ck.check(all(r.headers.get("x-scope-orgid") == "team-a" for r in reqs), "tenant header")
    ck.check(all(r.headers.get("content-type") == "application/json" for r in reqs),
             "content type")
    for e in ok:
        rec = json.loads(e.line)
        seq = rec["seq"]
        want_labels = {"job": "sluice", "stream": record(seq)["stream"],
                       "kubernetes_pod_name": "pod-%d" % (seq % 2)}
        if not ck.equal(e.labels, want_labels, "labels of seq %d" % seq):
            break
        if not ck.equal(rec, expected_line(seq), "line of seq %d" % seq):
            break
        if not ck.equal(e.ts, (record(seq)["ts"]) * 1_000_000, "timestamp of seq %d" % seq):
            break
        if not ck.equal(e.meta, None, "no structured metadata unless asked"):
            break
    # the file is out of order inside streams: the sort did real work
    by_stream = collections.defaultdict(list)
    for seq in range(n):
        by_stream[record(seq)["stream"]].append(record(seq)["ts"])
    ck.check(any(v != sorted(v) for v in by_stream.values()), "input not already sorted")


def run_not_found(ck, tmp):
    data = os.path.join(tmp, "app2.log")
    write_records(data, range(50))
    api_port = http_receiver.free_port()
    with LokiReceiver([{"status": 404, "body": "404 page not found"}]) as rcv:
        conf = config(tmp, data, rcv.port, api_port, {
            "Labels": "job=kv", "Line_Format": "key_value", "Remove_keys": "kubernetes, msg, secret"})
        s = Sluice(conf, os.path.join(tmp, "sluice2.log"))
        try:
            first = rcv.wait_for(lambda r: [x for x in r if x.status == 404], 30, "the 404")
            first_n = sum(len(v) for _, v in rcv._parse(first[0]))
            write_records(data, range(50, 80))
            rcv.wait_for(lambda _: len(rcv.accepted()) >= 80 - first_n, 30, "later records")
            dropped = e2e.wait_for(
                lambda: metric(api_port, "sluice_output_dropped_records_total",
                               {"name": "loki.0", "reason": "rejected"}), 20,
                what="dropped counter")
        finally:
            rc = s.stop()
        ok = rcv.accepted()
    ck.equal(rc, 0, "run 2 exit code")
    ck.equal(dropped, float(first_n), "404: the request's records counted as rejected")
    got = sorted(int(re.search(r"seq=(\d+)", e.line).group(1)) for e in ok)
    ck.equal(got, list(range(first_n, 80)), "records after the 404 delivered once")
    e = ok[0]
    seq = int(re.search(r"seq=(\d+)", e.line).group(1))
    ck.equal(e.line, "seq=%d stream=%s" % (seq, record(seq)["stream"]), "key_value line")
    ck.check(not any(r.gzip for r in rcv.snapshot()), "no gzip unless asked")


def run_split_and_auth(ck, tmp):
    n, big = 120, 77
    data = os.path.join(tmp, "app3.log")
    with open(data, "w", encoding="utf-8") as f:
        for seq in range(n):
            r = record(seq)
            if seq == big:
                r["msg"] = "x" * 6000  # alone over the 4 KiB limit
            f.write(json.dumps(r) + "\n")
    api_port = http_receiver.free_port()
    script = [{"status": 401, "body": "unauthorized"},
              {"status": 403, "body": "forbidden"}]
    with LokiReceiver(script, max_body=4096) as rcv:
        conf = config(tmp, data, rcv.port, api_port, {"Labels": "job=split"})
        s = Sluice(conf, os.path.join(tmp, "sluice3.log"))
        try:
            rcv.wait_for(lambda _: len(rcv.accepted()) >= n - 1, 60,
                         "all %d small entries" % (n - 1))
            oversize = e2e.wait_for(
                lambda: metric(api_port, "sluice_output_dropped_records_total",
                               {"name": "loki.0", "reason": "oversize"}), 20,
                what="oversize counter")
            rejected = metric(api_port, "sluice_output_dropped_records_total",
                              {"name": "loki.0", "reason": "rejected"})
        finally:
            rc = s.stop()
        reqs = rcv.snapshot()
        ok = rcv.accepted()
    log = s.text()
    ck.equal(rc, 0, "run 3 exit code")
    ck.equal([r.status for r in reqs][:2], [401, 403], "auth answers first")
    ck.check(rcv.too_large >= 2, "413 answered and split again: %d" % rcv.too_large)
    ck.check(all(r.status != 413 or len(r.raw) > 4096 for r in reqs), "413 only above the limit")
    seen = collections.Counter(json.loads(e.line)["seq"] for e in ok)
    ck.equal([q for q, c in seen.items() if c > 1], [], "records delivered twice")
    ck.equal(set(seen), set(range(n)) - {big}, "every small record delivered")
    ck.equal(oversize, 1.0, "dropped{reason=oversize}")
    ck.check(not rejected, "nothing rejected: %r" % rejected)
    ck.check("credentials refused" in log, "401/403 logged as retried")
    ck.check("sending them in two halves" in log, "split logged")


def meta_record(seq):
    r = {"seq": seq, "msg": "m%d" % seq, "level": "warn" if seq % 5 else "info",
         "kubernetes": {"pod_name": "pod-%d" % (seq % 2), "namespace_name": "ns"}}
    if seq % 3:
        r["trace_id"] = "t-%d" % seq if seq % 3 == 1 else ""
    if seq % 4:
        r["kubernetes"]["labels"] = {"app": "a%d" % (seq % 4), "tier.name": "web",
                                     "rev": seq}
    return r


def run_structured_metadata(ck, tmp):
    n = 40
    data = os.path.join(tmp, "app4.log")
    with open(data, "w", encoding="utf-8") as f:
        for seq in range(n):
            f.write(json.dumps(meta_record(seq)) + "\n")
    label_map = e2e.write(os.path.join(tmp, "labels.json"), '{"level": "severity"}')
    api_port = http_receiver.free_port()
    with LokiReceiver() as rcv:
        conf = config(tmp, data, rcv.port, api_port, {
            "Labels": "job=meta", "Label_map_path": label_map,
            "Structured_metadata": "env=prod, trace=$trace_id, $kubernetes['pod_name'], "
                                   "app=$kubernetes['namespace_name']",
            "Structured_metadata_map_keys": "$kubernetes['labels']"})
        s = Sluice(conf, os.path.join(tmp, "sluice4.log"))
        try:
            rcv.wait_for(lambda _: len(rcv.accepted()) >= n, 60, "all %d entries" % n)
        finally:
            rc = s.stop()
        ok = rcv.accepted()
    ck.equal(rc, 0, "run 4 exit code")
    ck.equal(rcv.malformed, [], "malformed push bodies (run 4)")
    ck.equal(sorted(json.loads(e.line)["seq"] for e in ok), list(range(n)),
             "every record once (run 4)")
    for e in ok:
        line = json.loads(e.line)
        seq = line["seq"]
        r = meta_record(seq)
        want = {}
        if seq % 4:
            want = {"tier_name": "web", "rev": str(seq)}
        want["env"] = "prod"
        if seq % 3 == 1:
            want["trace"] = "t-%d" % seq
        want["kubernetes_pod_name"] = "pod-%d" % (seq % 2)
        want["app"] = "ns"  # overrides the map's app
        if not ck.equal(e.meta, want, "structured metadata of seq %d" % seq):
            break
        r.pop("trace_id", None)
        level = r.pop("level")
        r["kubernetes"] = {}
        if not ck.equal(line, r, "line of seq %d without the metadata fields" % seq):
            break
        if not ck.equal(e.labels, {"job": "meta", "severity": level},
                        "labels of seq %d (Label_map_path)" % seq):
            break


def tenant_of(seq):
    """The record's tenant field: a string for most, absent or a number
    (not a tenant: Tenant_ID applies) for some."""
    if seq % 7 == 0:
        return None
    if seq % 7 == 1:
        return 42
    return "team-%s" % "abc"[seq % 3]


def run_tenant_id_key(ck, tmp):
    n = 60
    data = os.path.join(tmp, "app5.log")
    with open(data, "w", encoding="utf-8") as f:
        for seq in range(n):
            r = {"seq": seq, "msg": "m%d" % seq}
            if tenant_of(seq) is not None:
                r["org"] = {"id": tenant_of(seq)}
            f.write(json.dumps(r) + "\n")
    api_port = http_receiver.free_port()
    # the first tenant's first push fails: only its records are sent again
    with LokiReceiver([{"status": 500, "body": "try later"}]) as rcv:
        conf = config(tmp, data, rcv.port, api_port, {
            "Labels": "job=tenants", "Tenant_ID": "fallback",
            "Tenant_ID_Key": "$org['id']",
            "Tenant_ID_Key_Error_Handling": "partial_error"})
        s = Sluice(conf, os.path.join(tmp, "sluice5.log"))
        try:
            rcv.wait_for(lambda _: len(rcv.accepted()) >= n, 60, "all %d entries" % n)
        finally:
            rc = s.stop()
        reqs = rcv.snapshot()
        ok = rcv.accepted()
    ck.equal(rc, 0, "run 5 exit code")
    ck.equal(reqs[0].status if reqs else None, 500, "first push answered 500")
    seen = collections.Counter(json.loads(e.line)["seq"] for e in ok)
    ck.equal(sorted(seen), list(range(n)), "every record delivered (run 5)")
    ck.equal([q for q, c in seen.items() if c > 1], [], "records delivered twice (run 5)")
    for e in ok:
        seq = json.loads(e.line)["seq"]
        t = tenant_of(seq)
        want = t if isinstance(t, str) else "fallback"
        got = reqs[e.request].headers.get("x-scope-orgid")
        if not ck.equal(got, want, "X-Scope-OrgID of seq %d's push" % seq):
            break
    ck.check(len({r.headers.get("x-scope-orgid") for r in reqs}) == 4,
             "one push per tenant (3 named + the fallback)")


def main():
    e2e.require_plugins("tail", "parser", "loki")
    ck = e2e.Checker()
    with e2e.TempDir("sluice-loki-") as tmp:
        run_retry_and_partial(ck, tmp)
        run_not_found(ck, tmp)
        run_split_and_auth(ck, tmp)
        run_structured_metadata(ck, tmp)
        run_tenant_id_key(ck, tmp)
    ck.finish()


if __name__ == "__main__":
    main()
