# SPDX-License-Identifier: Apache-2.0
"""The es output against a local _bulk peer (es_receiver.py) that fails the
way Elasticsearch does: whole requests answered 429 (Retry-After) and 500, a
response lost after the documents were stored, documents rejected with 429
the first time, documents rejected for good with 400 mapper_parsing_exception,
and 413 for bodies over a limit; and bulks of ~22k records whose
responses are far larger than Buffer_Size, 10% of their items answered 429.

Checked: every record that should arrive is stored exactly once (Generate_ID
makes re-sent documents 409s, counted as delivered), poisoned ones are absent
and counted in sluice_output_dropped_records_total{reason="rejected"}, the
whole-request failures were retried, and 413 halves a bulk (a single record
still too large is dropped, reason "oversize")."""
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import es_receiver  # noqa: E402
import prometheus_util as pu  # noqa: E402
import sluice_e2e as e2e  # noqa: E402

DEADLINE = 60


class Sluice:
    """sluice running on a generated config until stop()."""

    def __init__(self, tmp, name, text):
        self.conf = e2e.write(os.path.join(tmp, name + ".conf"), text)
        self.log_path = os.path.join(tmp, name + ".log")
        self.log = open(self.log_path, "wb")
        self.p = subprocess.Popen([e2e.binary(), "-c", self.conf],
                                  stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        return self.p.returncode

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def metrics(port):
    """{(name, frozenset(labels)): value} from /api/v1/metrics/prometheus."""
    url = "http://127.0.0.1:%d/api/v1/metrics/prometheus" % port
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        m = re.match(r'^(\w+)(?:\{(.*)\})?\s+(\S+)', line)
        if not m or line.startswith("#"):
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric(port, family, **labels):
    m = metrics(port) or {}
    return m.get((family, frozenset(labels.items())), 0.0)


def conf(tmp, log_path, es_port, api_port, **es):
    parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"),
                               [{"Name": "json", "Format": "json"}])
    out = dict(Name="es", Match="*", Host="127.0.0.1", Port=es_port,
               Generate_ID="On", Suppress_Type_Name="On")
    out.update(es)
    return (e2e.section("SERVICE", Flush="0.2", Grace="2", Log_Level="info",
                        Parsers_File=parsers, HTTP_Server="On",
                        HTTP_Listen="127.0.0.1", HTTP_Port=api_port,
                        **{"scheduler.base": "0.05", "scheduler.cap": "0.5"})
            + e2e.section("INPUT", Name="tail", Path=log_path, Tag="sec",
                          Read_from_Head="On", Parser="json")
            + e2e.section("OUTPUT", **out))


def write_records(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def by_seq(receiver):
    seen = {}
    for d in receiver.dump()["docs"]:
        seen.setdefault(d["_source"].get("seq"), []).append(d)
    return seen


def scenario_failures(c, tmp):
    n, poison_every = 400, 25
    records = []
    for i in range(n):
        r = {"seq": i, "event": "signature_verification_failed",
             "agent_id": "agent-%d" % (i % 7), "n": i}
        if i % poison_every == 7:
            r["poison"] = "not-a-long"
        records.append(r)
    poisoned = {r["seq"] for r in records if "poison" in r}
    want = {r["seq"] for r in records} - poisoned
    log = os.path.join(tmp, "events.log")
    write_records(log, records)

    rcv = es_receiver.EsReceiver(
        whole_request=[(429, 1), (500, None)], lose_responses={4},
        item_429_first=lambda d: isinstance(d, dict) and d.get("seq", 0) % 10 == 3,
        poison_field="poison").start()
    api = pu.free_port()
    s = Sluice(tmp, "failures", conf(tmp, log, rcv.port, api, Compress="gzip",
                                     Logstash_Format="On",
                                     Logstash_Prefix="witness"))
    try:
        def all_in():
            seen = by_seq(rcv)
            return want <= set(seen) and \
                metric(api, "sluice_output_dropped_records_total",
                       name="es.0", reason="rejected") >= len(poisoned) and \
                metric(api, "sluice_output_proc_records_total",
                       name="es.0") >= len(want)
        try:
            e2e.wait_for(all_in, DEADLINE, interval=0.1,
                         what="every good record stored and acknowledged, "
                         "poison counted")
        except TimeoutError as e:
            c.check(False, str(e))
        dropped = metric(api, "sluice_output_dropped_records_total",
                         name="es.0", reason="rejected")
        retries = metric(api, "sluice_output_retries_total", name="es.0")
        proc = metric(api, "sluice_output_proc_records_total", name="es.0")
    finally:
        rc = s.stop()
        rcv.stop()
    dump = rcv.dump()
    seen = by_seq(rcv)
    c.equal(rc, 0, "sluice exit code")
    c.equal(sorted(set(seen) - want), [], "stored records that should not be")
    c.equal(sorted(want - set(seen)), [], "records missing")
    dups = sorted(k for k, v in seen.items() if len(v) != 1)
    c.equal(dups, [], "records stored more than once")
    c.equal(len(dump["docs"]), len(want), "documents stored")
    c.equal(dropped, float(len(poisoned)),
            'dropped_records_total{reason="rejected"} = poisoned records')
    c.equal(dump["rejected"], len(poisoned),
            "receiver answered 400 once per poisoned record (never re-sent "
            "once the answer arrived)")
    c.equal(proc, float(len(want)), "proc_records_total = delivered records")
    c.check(retries >= 3, "retries counted (got %s)" % retries)
    c.equal(dump["request_statuses"][:2], [429, 500],
            "injected whole-request failures answered first")
    c.check(len(dump["request_statuses"]) >= 4 and
            dump["request_statuses"][2:4] == [200, 500],
            "sent again after 429 and 500, then the lost response, then ok: %r"
            % dump["request_statuses"][:6])
    c.check(dump["conflicts"] > 0,
            "the lost response's documents came back as 409 (%d)" % dump["conflicts"])
    c.check(dump["item_statuses"].get(429, 0) > 0, "items failed with 429")
    c.equal(dump["gzip_requests"], dump["requests"], "every request gzip")
    for d in dump["docs"][:50]:
        src = d["_source"]
        c.check(re.match(r"^witness-\d{4}\.\d{2}\.\d{2}$", d["_index"]),
                "logstash index name %r" % d["_index"])
        c.check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$",
                         src.get("@timestamp", "")),
                "@timestamp %r" % src.get("@timestamp"))
        c.check(re.match(r"^[0-9a-f]{32}$", d["_id"]), "generated _id %r" % d["_id"])
    out = s.output()
    lines = [l for l in out.splitlines() if "document rejected (400)" in l]
    c.check(lines and "mapper_parsing_exception" in lines[0] and
            "witness-" in lines[0],
            "rejected documents logged with index, type and reason")
    c.check(len(lines) <= 20, "rejection lines are rate-limited (%d)" % len(lines))
    c.check("will retry" in out, "whole-request failures logged")


def scenario_big_bulks(c, tmp):
    """22k-record bulks (responses of ~3 MB, far past Buffer_Size's 512K),
    10% of items answered 429 on their first attempt, 1 in 1000 rejected
    for good: every item of every response is read, so only the 429s are
    sent again and nothing is re-sent into a 409."""
    n, poison_every = 50000, 1000
    records = []
    for i in range(n):
        r = {"seq": i, "event": "connection_state_changed",
             "agent_id": "agent-%04d" % (i % 1000)}
        if i % poison_every == 11:
            r["poison"] = "not-a-long"
        records.append(r)
    poisoned = {r["seq"] for r in records if "poison" in r}
    want = set(range(n)) - poisoned
    log = os.path.join(tmp, "bulk.log")
    write_records(log, records)
    rcv = es_receiver.EsReceiver(
        item_429_first=lambda d: isinstance(d, dict) and d.get("seq", 0) % 10 == 3,
        poison_field="poison").start()
    api = pu.free_port()
    s = Sluice(tmp, "big_bulks", conf(tmp, log, rcv.port, api, Index="bulk"))
    try:
        def all_in():
            with rcv.lock:
                stored = len(rcv.docs)
            return stored >= len(want) and \
                metric(api, "sluice_output_proc_records_total",
                       name="es.0") >= len(want) and \
                metric(api, "sluice_output_dropped_records_total",
                       name="es.0", reason="rejected") >= len(poisoned)
        try:
            e2e.wait_for(all_in, 3 * DEADLINE, interval=0.25,
                         what="50000 records stored, poison counted")
        except TimeoutError as e:
            c.check(False, str(e))
        dropped = metric(api, "sluice_output_dropped_records_total",
                         name="es.0", reason="rejected")
    finally:
        s.stop()
        rcv.stop()
    dump = rcv.dump()
    seen = by_seq(rcv)
    n429 = dump["item_statuses"].get(429, 0)
    print("big bulks: %d records, largest bulk %d items, %d items sent, "
          "%d answered 429, %d answered 409, %d rejected, %d requests"
          % (n, dump["max_bulk"], dump["items_received"], n429,
             dump["conflicts"], dump["rejected"], dump["requests"]))
    c.check(dump["max_bulk"] >= 20000,
            "bulks of ~22k records were sent (largest %d)" % dump["max_bulk"])
    c.equal(sorted(want - set(seen)), [], "big bulks: records missing")
    c.equal(sorted(k for k, v in seen.items() if len(v) != 1), [],
            "big bulks: records stored more than once")
    c.equal(sorted(set(seen) & poisoned), [], "big bulks: poison not stored")
    c.equal(dropped, float(dump["rejected"]),
            "dropped_records_total{rejected} = the receiver's permanent "
            "rejections")
    c.equal(dump["rejected"], len(poisoned),
            "each poisoned record answered 400 once (never re-sent)")
    c.check(n429 >= n // 10 - len(poisoned),
            "about 10%% of the items got a 429 (%d)" % n429)
    c.check(dump["items_received"] <= 1.1 * (n + n429),
            "items sent %d within 10%% of records + 429s (%d)"
            % (dump["items_received"], n + n429))
    c.equal(dump["conflicts"], 0, "no 409: nothing already stored was re-sent")


def scenario_too_large(c, tmp):
    """413: halve the bulk; a record too large alone is dropped (oversize)."""
    records = [{"seq": i, "pad": "x" * 80} for i in range(40)]
    records.append({"seq": 1000, "pad": "y" * 3000})
    log = os.path.join(tmp, "big.log")
    write_records(log, records)
    rcv = es_receiver.EsReceiver(max_body=1500).start()
    api = pu.free_port()
    s = Sluice(tmp, "too_large", conf(tmp, log, rcv.port, api, Index="big"))
    try:
        def done():
            return len(by_seq(rcv)) >= 40 and metric(
                api, "sluice_output_dropped_records_total", name="es.0",
                reason="oversize") >= 1
        try:
            e2e.wait_for(done, DEADLINE, interval=0.1, what="40 records, 1 oversize")
        except TimeoutError as e:
            c.check(False, str(e))
        oversize = metric(api, "sluice_output_dropped_records_total",
                          name="es.0", reason="oversize")
    finally:
        s.stop()
        rcv.stop()
    seen = by_seq(rcv)
    c.equal(sorted(seen), list(range(40)), "413: every small record stored")
    c.check(all(len(v) == 1 for v in seen.values()), "413: no duplicates")
    c.equal(oversize, 1.0, 'dropped_records_total{reason="oversize"}')
    c.check(rcv.dump()["too_large"] > 0, "413 was answered")
    c.check(all(d["_index"] == "big" for d in rcv.dump()["docs"]), "Index used")


def scenario_rejected_request(c, tmp):
    """A permanent 4xx on the whole request drops its records, counted."""
    records = [{"seq": i} for i in range(10)]
    log = os.path.join(tmp, "rej.log")
    write_records(log, records)
    rcv = es_receiver.EsReceiver(whole_request=[(400, None)] * 1000).start()
    api = pu.free_port()
    s = Sluice(tmp, "rejected", conf(tmp, log, rcv.port, api))
    try:
        try:
            e2e.wait_for(lambda: metric(api, "sluice_output_dropped_records_total",
                                        name="es.0", reason="rejected") >= 10,
                         DEADLINE, interval=0.1, what="10 records rejected")
        except TimeoutError as e:
            c.check(False, str(e))
        dropped = metric(api, "sluice_output_dropped_records_total",
                         name="es.0", reason="rejected")
        requests = rcv.dump()["requests"]
    finally:
        s.stop()
        rcv.stop()
    c.equal(dropped, 10.0, "whole-request 400: every record counted rejected")
    c.check(requests >= 1, "sent")
    c.check("rejected for good" in s.output(), "whole-request 400 logged")


def main():
    e2e.require_plugins("tail", "es")
    c = e2e.Checker()
    with e2e.TempDir("sluice-es-") as tmp:
        scenario_failures(c, tmp)
        scenario_big_bulks(c, tmp)
        scenario_too_large(c, tmp)
        scenario_rejected_request(c, tmp)
    c.finish()


if __name__ == "__main__":
    main()
