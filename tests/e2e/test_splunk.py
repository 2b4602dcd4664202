#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tail -> parser(json) -> splunk against a HEC receiver (hec_receiver.py).

Run 1 (the envelope): HEC first answers 503 code 9 (busy), then 429 with
Retry-After, then 403 code 4 and 401 code 3 (a token being rotated), then
500 code 8: all retried. Then it
judges each batch as Splunk does: an event with "bad" is "Invalid data
format" (400 code 6) and one with index "forbidden" is "Incorrect index"
(400 code 7), both naming the event's position; sluice drops that event
(counted as rejected, logged with HEC's text) and sends the rest again.
Checks: every other record is accepted exactly once, with the envelope
exact (time, host from the record, source from the tag, sourcetype and
index from the record or their fixed values, fields from Event_Field, the
record as "event"), gzip'd, with "Authorization: Splunk TOKEN".

Run 2: Splunk_Send_Raw (the record itself is the event, one per line) and
Event_Key with basic auth, Channel, auto_extract_timestamp, against a HEC
that does not name the bad event: sluice halves the request until the bad
event is alone, drops it, delivers every other record once.

Run 3: HEC over TLS with a verified certificate.
"""
import collections
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402
import hec_receiver  # noqa: E402

TOKEN = "1b2c3d4e-aaaa-bbbb-cccc-0123456789ab"
N = 60


def record(s):
    r = {"seq": s, "t": 1_700_000_000 + s, "hostname": "fw%d" % (s % 3),
         "msg": "m%d" % s, "lvl": ["info", "warn"][s % 2]}
    if s % 6 != 1:
        r["svc"] = {"name": "auth", "n": s}
    if s % 4 == 0:
        r["st"] = "fw:json"
    if s % 10 == 3:
        r["bad"] = True                 # HEC: Invalid data format
    if s % 10 == 7:
        r["idx"] = "forbidden"          # HEC: Incorrect index
    if s % 10 == 5:
        r["idx"] = "security"
    return r


def write(path, recs):
    with open(path, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")


def metric(port, name, out):
    return e2e.metric_value(port, name, {"name": out, "reason": "rejected"})


def run_envelope(ck):
    script = [hec_receiver.busy(),
              hec_receiver.answer(429, 9, "Server is busy") | {"headers": {"Retry-After": "1"}},
              hec_receiver.answer(403, 4, "Invalid token"),
              hec_receiver.answer(401, 3, "Invalid authorization"),
              hec_receiver.answer(500, 8, "Internal server error")]
    expect_ok = [s for s in range(N) if s % 10 not in (3, 7)]
    with e2e.TempDir("sluice-splunk-") as tmp, \
            hec_receiver.HecReceiver(tokens=[TOKEN], indexes=["main", "security"],
                                     script=script) as hec:
        data = os.path.join(tmp, "fw.log")
        write(data, [record(s) for s in range(N)])
        api = e2e.free_port()
        parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"), [
            {"Name": "j", "Format": "json", "Time_Key": "t", "Time_Format": "epoch"}])
        text = e2e.section("SERVICE", Flush="0.2", Grace="5", Parsers_File=parsers,
                           HTTP_Server="On", HTTP_Listen="127.0.0.1", HTTP_Port=api,
                           **{"scheduler.base": "0.1", "scheduler.cap": "2"})
        text += e2e.section("INPUT", Name="tail", Path=data, Tag="siem.fw",
                            Read_from_Head="On", Refresh_Interval="1")
        text += e2e.section("FILTER", Name="parser", Match="*", Key_Name="log", Parser="j")
        text += e2e.section("OUTPUT", Name="splunk", Match="*", Host="127.0.0.1",
                            Port=hec.port, Splunk_Token=TOKEN, Compress="gzip",
                            Event_Host="$hostname", Event_Source="$TAG",
                            Event_Sourcetype="sluice:json", Event_Sourcetype_Key="$st",
                            Event_Index="main", Event_Index_Key="$idx",
                            Event_Field=["service $svc['name']", "level $lvl"])
        conf = e2e.write(os.path.join(tmp, "sluice.conf"), text)
        d = e2e.Daemon(conf, os.path.join(tmp, "sluice.log"))
        try:
            hec.wait_for(lambda evs: len(evs) >= len(expect_ok), 60, "the good events")
            e2e.wait_for(
                lambda: (metric(api, "sluice_output_dropped_records_total", "splunk.0")
                         or 0) >= N - len(expect_ok), 30, what="the rejected counter")
            dropped = metric(api, "sluice_output_dropped_records_total", "splunk.0")
        finally:
            rc = d.stop()  # judged after exit: nothing can arrive later
        log = d.output()
        events = hec.events()
        reqs = hec.requests()

    ck.equal(rc, 0, "exit code")
    ck.equal([r.status for r in reqs][:5], [503, 429, 403, 401, 500],
             "busy, 429, refused tokens, server error: each retried")
    got = collections.Counter(ev["event"]["seq"] for _, ev in events)
    ck.equal(sorted(got), expect_ok, "accepted events")
    ck.equal([s for s, c in got.items() if c > 1], [], "events accepted twice")
    ck.equal(dropped, float(N - len(expect_ok)),
             "sluice_output_dropped_records_total{reason=rejected}")
    ck.check("Invalid data format" in log, "HEC's text for code 6 logged")
    ck.check("Incorrect index" in log, "HEC's text for code 7 logged")
    for r in reqs:
        ck.equal(r.path, hec_receiver.EVENT_PATH, "path")
        ck.check(r.gzip, "gzip body")
        ck.equal(r.headers.get("authorization"), "Splunk " + TOKEN, "Authorization")
    for _, ev in events:
        s = ev["event"]["seq"]
        want = record(s)
        del want["t"]  # the parser took it as the time
        ck.equal(ev["event"], want, "event %d is the record" % s)
        ck.equal(ev["time"], 1_700_000_000 + s, "time of %d" % s)
        ck.equal(ev["host"], "fw%d" % (s % 3), "host of %d" % s)
        ck.equal(ev["source"], "siem.fw", "source of %d" % s)
        ck.equal(ev["sourcetype"], "fw:json" if s % 4 == 0 else "sluice:json",
                 "sourcetype of %d" % s)
        ck.equal(ev["index"], "security" if s % 10 == 5 else "main", "index of %d" % s)
        fields = {"level": want["lvl"]}
        if "svc" in want:
            fields["service"] = "auth"
        ck.equal(ev["fields"], fields, "fields of %d" % s)
        ck.equal(list(ev), ["time", "host", "source", "sourcetype", "index", "fields",
                            "event"], "envelope member order of %d" % s)


def run_raw_and_event_key(ck):
    raw = [{"event": {"n": s, "msg": "r%d" % s}, "sourcetype": "raw:st",
            "time": 1_700_000_100 + s} for s in range(20)]
    msgs = [{"n": s, "msg": "hello %d" % s} for s in range(30)]
    msgs[4] = {"n": 4, "bad": True}      # no msg: the record is the event
    with e2e.TempDir("sluice-splunk2-") as tmp, \
            hec_receiver.HecReceiver(tokens=["raw-tok"], users=[("u", "p")],
                                     name_events=False) as hec:
        raw_path, msg_path = os.path.join(tmp, "raw.log"), os.path.join(tmp, "msg.log")
        write(raw_path, raw)
        write(msg_path, msgs)
        api = e2e.free_port()
        parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"), [
            {"Name": "j", "Format": "json"}])
        text = e2e.section("SERVICE", Flush="0.2", Grace="5", Parsers_File=parsers,
                           HTTP_Server="On", HTTP_Listen="127.0.0.1", HTTP_Port=api,
                           **{"scheduler.base": "0.1", "scheduler.cap": "2"})
        for path, tag in ((raw_path, "raw.a"), (msg_path, "msg.a")):
            text += e2e.section("INPUT", Name="tail", Path=path, Tag=tag,
                                Read_from_Head="On", Refresh_Interval="1")
        text += e2e.section("FILTER", Name="parser", Match="*", Key_Name="log", Parser="j")
        text += e2e.section("OUTPUT", Name="splunk", Match="raw.*", Host="127.0.0.1",
                            Port=hec.port, Splunk_Token="raw-tok", Splunk_Send_Raw="On")
        text += e2e.section("OUTPUT", Name="splunk", Match="msg.*", Host="127.0.0.1",
                            Port=hec.port, HTTP_User="u", HTTP_Passwd="p",
                            Event_Key="$msg", Event_Host="edge-1", Channel="chan-1",
                            Auto_Extract_Timestamp="On")
        conf = e2e.write(os.path.join(tmp, "sluice.conf"), text)
        d = e2e.Daemon(conf, os.path.join(tmp, "sluice.log"))
        try:
            hec.wait_for(lambda evs: len(evs) >= len(raw) + len(msgs) - 1, 60,
                         "the raw and event_key events")
            dropped = e2e.wait_for(
                lambda: metric(api, "sluice_output_dropped_records_total", "splunk.1"),
                30, what="the rejected counter")
        finally:
            rc = d.stop()
        events = hec.events()
        log = d.output()

    ck.equal(rc, 0, "raw: exit code")
    raw_got = [(r, ev) for r, ev in events if r.headers.get("authorization") == "Splunk raw-tok"]
    msg_got = [(r, ev) for r, ev in events if r.headers.get("authorization", "").startswith("Basic")]
    ck.equal(sorted((ev for _, ev in raw_got), key=lambda e: e["event"]["n"]), raw,
             "raw: each record sent as it is, once")
    for r, _ in raw_got:
        lines = r.body.decode().splitlines()
        ck.check(all(json.loads(l) in raw for l in lines) and r.body.endswith(b"\n"),
                 "raw: one record per line")
        ck.equal(r.path, hec_receiver.EVENT_PATH, "raw: the event endpoint")
    ck.equal(sorted(ev["event"] for _, ev in msg_got),
             sorted("hello %d" % s for s in range(30) if s != 4),
             "event_key: the value as the event, once each")
    for r, ev in msg_got:
        ck.equal(r.path, hec_receiver.EVENT_PATH + "?auto_extract_timestamp=true",
                 "auto_extract_timestamp endpoint")
        ck.equal(r.headers.get("x-splunk-request-channel"), "chan-1", "channel header")
        ck.check("time" not in ev, "no time with auto_extract_timestamp")
        ck.equal(ev["host"], "edge-1", "fixed host")
    ck.equal(dropped, 1.0, "event_key: the bad event alone rejected (found by halving)")
    ck.check("two halves" in log, "halving logged")


def run_tls(ck):
    with e2e.TempDir("sluice-splunk3-") as tmp:
        crt, key = os.path.join(tmp, "crt.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost"],
                       check=True, capture_output=True)
        with hec_receiver.HecReceiver(tokens=[TOKEN], tls=(crt, key)) as hec:
            text = e2e.section("SERVICE", Flush="0.2", Grace="5")
            text += e2e.section("INPUT", Name="dummy", Tag="tls.a",
                                Dummy='{"msg":"over tls"}', Rate="20")
            text += e2e.section("OUTPUT", Name="splunk", Match="*", Host="localhost",
                                Port=hec.port, Splunk_Token=TOKEN, tls="On",
                                **{"tls.verify": "On", "tls.ca_file": crt})
            conf = e2e.write(os.path.join(tmp, "sluice.conf"), text)
            d = e2e.Daemon(conf, os.path.join(tmp, "sluice.log"))
            try:
                hec.wait_for(lambda evs: len(evs) >= 5, 60, "events over TLS")
            finally:
                rc = d.stop()
            events = hec.events()
    ck.equal(rc, 0, "tls: exit code")
    ck.check(len(events) >= 5 and all(ev["event"] == {"msg": "over tls"} for _, ev in events),
             "tls: events arrive over a verified TLS connection")


def main():
    e2e.require_plugins("tail", "parser", "dummy", "splunk")
    ck = e2e.Checker()
    run_envelope(ck)
    run_raw_and_event_key(ck)
    run_tls(ck)
    ck.finish()


if __name__ == "__main__":
    main()
