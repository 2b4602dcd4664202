#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The loki output's Format protobuf (Loki's native push: logproto.PushRequest,
snappy block, Content-Type application/x-protobuf) against the Loki peer of
loki_receiver.py, which decodes it with its own snappy and protobuf readers.

Run 1 (same records, both formats): one tail feeds two loki outputs, one
JSON and one protobuf, each to its own receiver. Both receive the same
streams and entries: labels (values with quotes, backslashes, a tab,
non-ASCII), timestamps to the nanosecond (epoch_ns), lines (quotes,
backslashes, newlines, U+2028, emoji) and structured metadata (fixed,
accessor and map pairs). Every protobuf push is application/x-protobuf
without Content-Encoding, on /loki/api/v1/push.

Run 2 (answers): the protobuf receiver answers 429 (Retry-After 1), then
500, then a 400 that ignores the 3 oldest entries; a later push is
answered 404: the retries are counted, the 3 entries and the 404's are
counted as rejected and never re-sent, everything else arrives once.

Run 3 (a gateway limit): pushes over 1500 bytes on the wire are answered
413; sluice halves them until they fit, every record arrives once, and one
record whose entry alone is over the limit is dropped as `oversize`.

Run 4 (configuration): Compress gzip with Format protobuf, and an unknown
Format, are errors at the Format line (exit 1); Format protobuf alone
passes --dry-run.

Run 5 (the peer itself): a hand-built push is read as written, and a
corrupt snappy block and a truncated message are answered 400, so the
checks above would see a malformed push.
"""
import collections
import json
import os
import sys
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402
import http_receiver  # noqa: E402
import loki_receiver  # noqa: E402
from loki_receiver import LokiReceiver  # noqa: E402

BASE_NS = 1_700_000_000_123_456_789
PROTO = "application/x-protobuf"


def record(seq):
    # nanosecond times, backwards in blocks of 10: the streams need sorting
    ts = BASE_NS + (seq // 10) * 1_000_003 + (9 - seq % 10)
    r = {"seq": seq, "ts": ts,
         "app": ["web", 'we"ird\\ \t\u00e9'][seq % 2],
         "msg": 'say "%d" \\ back\nnext \u2028 \U0001F600 \u00e9' % seq,
         "k": {"labels": {"team": "t%d" % (seq % 3)}}}
    if seq % 3:
        r["trace"] = "tr-%d" % seq
    return r


def write_records(path, seqs):
    with open(path, "a", encoding="utf-8") as f:
        for s in seqs:
            f.write(json.dumps(record(s), ensure_ascii=False) + "\n")


def config(tmp, data, api_port, outputs):
    parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"), [
        {"Name": "j", "Format": "json", "Time_Key": "ts", "Time_Format": "epoch_ns"}])
    text = e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="info",
                       Parsers_File=parsers, HTTP_Server="On",
                       HTTP_Listen="127.0.0.1", HTTP_Port=api_port,
                       **{"scheduler.base": "0.1", "scheduler.cap": "2"})
    text += e2e.section("INPUT", Name="tail", Path=data, Tag="app",
                        Read_from_Head="On", Refresh_Interval="1")
    text += e2e.section("FILTER", Name="parser", Match="app", Key_Name="log", Parser="j")
    for port, extra in outputs:
        out = {"Name": "loki", "Match": "app", "Host": "127.0.0.1", "Port": port}
        out.update(extra)
        text += e2e.section("OUTPUT", **out)
    return e2e.write(os.path.join(tmp, "sluice.conf"), text)


class Sluice:
    def __init__(self, conf, log_path):
        import subprocess
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.p = subprocess.Popen([e2e.binary(), "-c", conf], stdout=self.log,
                                  stderr=subprocess.STDOUT)

    def stop(self):
        import signal
        import subprocess
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


def entry_key(e):
    return (tuple(sorted(e.labels.items())), e.ts, e.line,
            tuple(sorted((e.meta or {}).items())))


def seq_of(e):
    return json.loads(e.line)["seq"]


LOKI_OPTS = {"Labels": "job=proto, $app",
             "Structured_metadata": "env=prod, trace=$trace",
             "Structured_metadata_map_keys": "$k['labels']"}


def run_same_as_json(ck, tmp):
    n = 300
    data = os.path.join(tmp, "app1.log")
    write_records(data, range(n))
    api_port = http_receiver.free_port()
    with LokiReceiver() as rj, LokiReceiver() as rp:
        conf = config(tmp, data, api_port, [
            (rj.port, dict(LOKI_OPTS)),
            (rp.port, dict(LOKI_OPTS, Format="protobuf"))])
        s = Sluice(conf, os.path.join(tmp, "sluice1.log"))
        try:
            rj.wait_for(lambda _: len(rj.accepted()) >= n, 60, "%d JSON entries" % n)
            rp.wait_for(lambda _: len(rp.accepted()) >= n, 60, "%d protobuf entries" % n)
        finally:
            rc = s.stop()
        jreqs, preqs = rj.snapshot(), rp.snapshot()
        jok, pok = rj.accepted(), rp.accepted()
    ck.equal(rc, 0, "run 1 exit code")
    ck.equal(rj.malformed + rp.malformed, [], "malformed push bodies")
    ck.equal(rp.violations, 0, "per-stream order violations (protobuf)")
    ck.check(all(r.headers.get("content-type") == "application/json" for r in jreqs),
             "JSON pushes are application/json")
    ck.check(preqs and all(r.headers.get("content-type") == PROTO for r in preqs),
             "protobuf pushes are %s" % PROTO)
    ck.check(all("content-encoding" not in r.headers for r in preqs),
             "no Content-Encoding on protobuf pushes")
    ck.check(all(r.path == loki_receiver.PUSH_PATH for r in preqs), "push path")
    ck.equal(sorted(seq_of(e) for e in pok), list(range(n)), "every record once (protobuf)")
    jkeys = collections.Counter(entry_key(e) for e in jok)
    pkeys = collections.Counter(entry_key(e) for e in pok)
    ck.equal(len(jkeys), n, "distinct JSON entries")
    ck.check(jkeys == pkeys, "JSON and protobuf entries differ: only JSON %r, only "
             "protobuf %r" % (list((jkeys - pkeys).items())[:2],
                              list((pkeys - jkeys).items())[:2]))
    for e in pok:
        seq = seq_of(e)
        r = record(seq)
        if not ck.equal(e.ts, r["ts"], "nanosecond timestamp of seq %d" % seq):
            break
        # the encoder makes a control byte in a label value '_' (both formats)
        app = r["app"].replace("\t", "_")
        if not ck.equal(e.labels, {"job": "proto", "app": app}, "labels of seq %d" % seq):
            break
        want_meta = {"env": "prod", "team": "t%d" % (seq % 3)}
        if "trace" in r:
            want_meta["trace"] = r["trace"]
        if not ck.equal(e.meta, want_meta, "structured metadata of seq %d" % seq):
            break
        if not ck.equal(json.loads(e.line)["msg"], r["msg"], "msg of seq %d" % seq):
            break
    # the protobuf body is smaller than the JSON one (snappy)
    ck.check(sum(len(r.raw) for r in preqs) < sum(len(r.raw) for r in jreqs),
             "protobuf+snappy smaller than JSON on the wire")


def run_answers(ck, tmp):
    n = 200
    data = os.path.join(tmp, "app2.log")
    write_records(data, range(n))
    api_port = http_receiver.free_port()
    script = [{"status": 429, "headers": {"Retry-After": "1"}, "body": "rate limited"},
              {"status": 500, "body": "internal error"},
              {"loki_reject": 3},
              {"status": 404, "body": "404 page not found"}]
    rejected = {"name": "loki.0", "reason": "rejected"}
    with LokiReceiver(script) as rcv:
        conf = config(tmp, data, api_port, [
            (rcv.port, {"Labels": "job=answers", "Format": "protobuf"})])
        s = Sluice(conf, os.path.join(tmp, "sluice2.log"))
        try:
            rcv.wait_for(lambda _: len(rcv.accepted()) + len(rcv.rejected_entries()) >= n,
                         60, "all %d entries" % n)
            # the next push meets the 404, the ones after it are stored
            write_records(data, range(n, n + 50))
            rcv.wait_for(lambda reqs: any(r.status == 404 for r in reqs), 30, "the 404")
            write_records(data, range(n + 50, n + 100))
            rcv.wait_for(lambda _: any(seq_of(e) >= n + 50 for e in rcv.accepted())
                         and len({seq_of(e) for e in rcv.accepted()
                                  if seq_of(e) >= n + 50}) == 50, 30, "the last 50")
            retries = e2e.metric_value(api_port, "sluice_output_retries_total",
                                       {"name": "loki.0"})
            reqs = rcv.snapshot()
            lost = []
            for r in reqs:
                if r.status == 404:
                    doc = loki_receiver.decode_push_protobuf(r.raw)
                    lost += [json.loads(v[1])["seq"] for st in doc["streams"]
                             for v in st["values"]]
            dropped = e2e.wait_for(
                lambda: e2e.metric_value(api_port, "sluice_output_dropped_records_total",
                                         rejected) == 3 + len(lost) and 3 + len(lost),
                20, what="dropped counter")
        finally:
            rc = s.stop()
        ok, rej = rcv.accepted(), rcv.rejected_entries()
    log = s.text()
    ck.equal(rc, 0, "run 2 exit code")
    ck.equal([r.status for r in reqs][:3], [429, 500, 400], "answers in script order")
    ck.equal(rcv.malformed, [], "malformed push bodies (run 2)")
    ck.equal(len(rej), 3, "entries rejected by the receiver")
    ck.check(len(lost) > 0, "the 404 push carried entries")
    seen = collections.Counter(seq_of(e) for e in ok)
    rseq = {seq_of(e) for e in rej}
    ck.equal([q for q, c in seen.items() if c > 1], [], "records delivered twice")
    ck.equal(set(seen) & (rseq | set(lost)), set(), "rejected or dropped records re-sent")
    ck.equal(set(seen) | rseq | set(lost), set(range(n + 100)), "every record accounted for")
    ck.equal(dropped, 3 + len(lost), "sluice_output_dropped_records_total{reason=rejected}")
    ck.check(retries is not None and retries >= 2, "retries counted: %r" % retries)
    ck.check("total ignored: 3 out of" in log, "Loki's 400 message logged")
    ck.check(all(r.headers.get("content-type") == PROTO for r in reqs), "content type")


def run_split(ck, tmp):
    n, big = 120, 77
    data = os.path.join(tmp, "app3.log")
    with open(data, "w", encoding="utf-8") as f:
        for seq in range(n):
            r = {"seq": seq, "msg": "m%d" % seq}
            if seq == big:  # random hex: snappy cannot shrink it below the limit
                r["blob"] = os.urandom(2000).hex()
            f.write(json.dumps(r) + "\n")
    api_port = http_receiver.free_port()
    with LokiReceiver(max_body=1500) as rcv:
        conf = config(tmp, data, api_port, [
            (rcv.port, {"Labels": "job=split", "Format": "protobuf"})])
        s = Sluice(conf, os.path.join(tmp, "sluice3.log"))
        try:
            rcv.wait_for(lambda _: len(rcv.accepted()) >= n - 1, 60, "%d entries" % (n - 1))
            oversize = e2e.wait_for(
                lambda: e2e.metric_value(api_port, "sluice_output_dropped_records_total",
                                         {"name": "loki.0", "reason": "oversize"}),
                20, what="oversize counter")
        finally:
            rc = s.stop()
        ok = rcv.accepted()
    ck.equal(rc, 0, "run 3 exit code")
    ck.check(rcv.too_large > 0, "some pushes answered 413")
    ck.equal(sorted(seq_of(e) for e in ok), [q for q in range(n) if q != big],
             "every record once but the oversized one")
    ck.equal(oversize, 1.0, "the oversized entry counted as oversize")
    ck.check("sending them in two halves" in s.text(), "split logged")


def run_config_errors(ck, tmp):
    d = os.path.join(tmp, "conf")
    os.makedirs(d, exist_ok=True)
    for name, opts, want in [
            ("gzip", {"Compress": "gzip", "Format": "protobuf"}, "compress gzip"),
            ("unknown", {"Format": "xml"}, "not json or protobuf"),
            ("ok", {"Format": "protobuf"}, None)]:
        text = e2e.section("INPUT", Name="dummy")
        out = {"Name": "loki", "Match": "*"}
        out.update(opts)
        text += e2e.section("OUTPUT", **out)
        path = e2e.write(os.path.join(d, name + ".conf"), text)
        line = text.splitlines().index("    Format %s" % opts["Format"]) + 1
        r = e2e.run_to_exit(["-c", path, "--dry-run"], timeout=30)
        if want is None:
            ck.equal(r.rc, 0, "Format protobuf --dry-run: %s" % r.log())
            continue
        ck.equal(r.rc, 1, "%s: exit code" % name)
        ck.check("%s:%d:" % (path, line) in r.log() and want in r.log(),
                 "%s: error at the Format line %d: %r" % (name, line, r.log()))


def snappy_literal(data):
    """A snappy block holding `data` (< 60 bytes) as one literal."""
    assert 0 < len(data) < 60
    return bytes([len(data)]) + bytes([(len(data) - 1) << 2]) + data


def pb(num, payload):
    """A length-delimited protobuf field (payload < 128 bytes)."""
    assert len(payload) < 128
    return bytes([num << 3 | 2, len(payload)]) + payload


def post(port, body):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, loki_receiver.PUSH_PATH),
                                 data=body, headers={"Content-Type": PROTO})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def run_peer_checks(ck):
    stamp = bytes([0x08, 0x01, 0x10, 0x05])  # seconds 1, nanos 5
    entry = pb(1, stamp) + pb(2, b"hi") + pb(3, pb(1, b"a") + pb(2, b"b"))
    good = pb(1, pb(1, b'{job="x\\"y"}') + pb(2, entry))
    with LokiReceiver() as rcv:
        ck.equal(post(rcv.port, snappy_literal(good)), 204, "hand-built push accepted")
        ck.equal(post(rcv.port, b"\x20\x00abc"), 400, "corrupt snappy answered 400")
        ck.equal(post(rcv.port, snappy_literal(b"\x0a\x10\x0a")), 400,
                 "truncated protobuf answered 400")
        ok = rcv.accepted()
        ck.equal(len(rcv.malformed), 2, "malformed bodies counted")
    ck.equal([(e.labels, e.ts, e.line, e.meta) for e in ok],
             [({"job": 'x"y'}, 1_000_000_005, "hi", {"a": "b"})], "hand-built push read")


def main():
    e2e.require_plugins("tail", "parser", "loki", "dummy")
    ck = e2e.Checker()
    run_peer_checks(ck)
    with e2e.TempDir("sluice-lokipb-") as tmp:
        run_config_errors(ck, tmp)
        run_same_as_json(ck, tmp)
        run_answers(ck, tmp)
        run_split(ck, tmp)
    ck.finish()


if __name__ == "__main__":
    main()
