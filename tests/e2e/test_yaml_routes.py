#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""YAML processors and conditional routes (Fluent Bit 4.x semantics).

One in_http input with input processors (a grep that applies only to the
records its condition takes, then a modify) and three routes (two
conditional ones and a default one) to file outputs; one output has its own
processors, and an output with Match '*' stands beside them. Checked, per
output, by count and content:
  - a record goes to every conditional route that takes it, with the route's
    name as its tag; the default route gets only what no other took;
  - an input with routes ignores the outputs' Match (the '*' output gets
    nothing);
  - a processor's condition: records it does not take pass unchanged;
  - output processors change (and drop from) that output's copy only;
  - sluice_output_proc_records_total counts only the records routed to
    each output;
  - after SIGHUP (hot reload) the same pipeline routes the same way, and
    routed, processed copies held behind a dead output when the reload
    comes are delivered once each by the new pipeline;
  - records on disk (storage.type filesystem) are routed after a crash
    exactly as they would have been live: routing happens at dispatch.
"""
import http.client
import json
import os
import signal
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402
import http_receiver  # noqa: E402

CONF = """\
service:
  flush: 0.2
  grace: 5
  log_level: info
  http_server: on
  http_listen: 127.0.0.1
  http_port: {api}
pipeline:
  inputs:
    - name: http
      listen: 127.0.0.1
      port: {port}
      tag: app
      processors:
        logs:
          # debug records are dropped, but only those of the noisy service
          - name: grep
            exclude: level ^debug$
            condition:
              op: and
              rules:
                - field: $svc
                  op: eq
                  value: noisy
          - name: modify
            add: stage input
      routes:
        logs:
          - name: errors
            condition:
              op: or
              rules:
                - field: $level
                  op: eq
                  value: error
                - field: $http['status']
                  op: gte
                  value: 500
            to:
              outputs:
                - errors_out
                - name: audit
          - name: slow
            condition:
              rules:
                - field: $ms
                  op: gt
                  value: 1000
            to:
              outputs: [slow_out]
          - name: rest
            condition:
              default: true
            to:
              outputs: [rest_out]
          # no condition: every record, under the input's own tag
          - name: everything
            to:
              outputs: [all_out]
  outputs:
    - name: file
      alias: errors_out
      path: {work}
      file: errors.log
    - name: file
      alias: audit
      path: {work}
      file: audit.log
      format: plain
      processors:
        logs:
          - name: modify
            add: audited yes
          - name: grep
            regex:
              - svc ^api$
    - name: file
      alias: slow_out
      path: {work}
      file: slow.log
      format: plain
    - name: file
      alias: rest_out
      path: {work}
      file: rest.log
      format: plain
    - name: file
      alias: all_out
      path: {work}
      file: all.log
    - name: file
      alias: legacy
      match: '*'
      path: {work}
      file: legacy.log
      format: plain
"""

RECORDS = [
    {"n": 1, "svc": "api", "level": "error", "ms": 10},
    {"n": 2, "svc": "web", "level": "info", "ms": 2000},
    {"n": 3, "svc": "web", "level": "error", "ms": 5000},
    {"n": 4, "svc": "noisy", "level": "debug", "ms": 1},
    {"n": 5, "svc": "web", "level": "debug", "ms": 1},
    {"n": 6, "svc": "api", "level": "info", "http": {"status": 503}, "ms": 5},
    {"n": 7, "svc": "api", "level": "info", "ms": 5},
    {"n": 8, "svc": "noisy", "level": "info", "ms": 5},
    # a string compares by its number, as Fluent Bit's atof()
    {"n": 9, "svc": "web", "level": "warn", "ms": "1500"},
]
# which records each output holds after one batch (by "n")
WANT = {"errors.log": [1, 3, 6], "audit.log": [1, 6], "slow.log": [2, 3, 9],
        "rest.log": [5, 7, 8], "all.log": [1, 2, 3, 5, 6, 7, 8, 9],
        "legacy.log": []}
ALIAS = {"errors.log": "errors_out", "audit.log": "audit", "slow.log": "slow_out",
         "rest.log": "rest_out", "all.log": "all_out", "legacy.log": "legacy"}

c = e2e.Checker()


def post(port, records):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/app", body=json.dumps(records).encode(),
                     headers={"Content-Type": "application/json"})
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def records_of(work, name):
    path = os.path.join(work, name)
    if not os.path.exists(path):
        return []
    if name in ("errors.log", "all.log"):
        return e2e.read_out_file(path)
    return [("", 0, r) for r in e2e.read_plain(path)]


def expected_counts(batches):
    return {name: len(ns) * batches for name, ns in WANT.items()}


def check_batch(work, api, batches):
    want = expected_counts(batches)
    for name in ("errors.log", "audit.log", "slow.log", "rest.log", "all.log"):
        e2e.wait_for(lambda: len(records_of(work, name)) >= want[name], 30,
                     what="%d records in %s" % (want[name], name))
    for name in WANT:
        e2e.wait_for(lambda: e2e.metric_value(api, "sluice_output_proc_records_total",
                                              {"name": ALIAS[name]}) == want[name],
                     20, what="proc_records of %s == %d" % (ALIAS[name], want[name]))


BROKEN = [
    # (what, YAML pipeline part, line the error names, text it contains)
    ("a route to an unknown output", """\
  inputs:
    - name: dummy
      routes:
        logs:
          - name: r
            condition:
              rules:
                - {field: $a, op: eq, value: b}
            to:
              outputs:
                - nowhere
  outputs:
    - name: null
      alias: somewhere
""", 12, "no output named 'nowhere'"),
    ("a Fluent Bit processor sluice lacks", """\
  inputs:
    - name: dummy
      processors:
        logs:
          - name: content_modifier
            action: insert
  outputs:
    - name: null
      match: '*'
""", 6, "is a Fluent Bit processor sluice does not have"),
    ("metrics processors", """\
  inputs:
    - name: dummy
      processors:
        metrics:
          - name: grep
  outputs:
    - name: null
      match: '*'
""", 5, "sluice carries logs only"),
    ("a bad rule operator", """\
  inputs:
    - name: dummy
      processors:
        logs:
          - name: grep
            regex: a b
            condition:
              rules:
                - field: $a
                  op: like
                  value: b
  outputs:
    - name: null
      match: '*'
""", 11, "op 'like' is not"),
    ("a numeric operator on text", """\
  inputs:
    - name: dummy
      routes:
        logs:
          - name: r
            condition:
              rules:
                - field: $a
                  op: gt
                  value: many
            to:
              outputs: [o]
  outputs:
    - name: null
      alias: o
""", 11, "needs a number"),
]


def config_errors(work):
    """Broken processors and routes: refused at FILE:LINE, exit 1."""
    for what, body, line, text in BROKEN:
        path = e2e.write(os.path.join(work, "broken.yaml"), "pipeline:\n" + body)
        run = e2e.run_to_exit(["--dry-run", "-c", path], timeout=60)
        c.equal(run.rc, 1, "%s is refused" % what)
        c.check("%s:%d: " % (path, line) in run.log() and text in run.log(),
                "%s: the error names %s:%d and says %r: %s"
                % (what, path, line, text, run.log()[-600:]))


HANDOVER = """\
service:
  flush: 0.2
  grace: 2
  log_level: info
  http_server: on
  http_listen: 127.0.0.1
  http_port: {api}
  scheduler.base: 0.2
  scheduler.cap: 0.5
pipeline:
  inputs:
    - name: http
      listen: 127.0.0.1
      port: {port}
      routes:
        logs:
          - name: odd
            condition:
              rules:
                - {{field: $odd, op: eq, value: "true"}}
            to:
              outputs: [down]
  outputs:
    - name: http
      alias: down
      host: 127.0.0.1
      port: {out}
      uri: /in
      format: json_lines
      processors:
        logs:
          - name: modify
            add: via down
"""


def handover(work):
    """Routed copies buffered behind a dead output survive a reload."""
    port, api = e2e.free_port(), e2e.free_port()
    with http_receiver.Receiver(default={"status": 503}) as rcv:
        conf = e2e.write(os.path.join(work, "handover.yaml"),
                         HANDOVER.format(port=port, out=rcv.port, api=api))
        d = e2e.Daemon(conf, os.path.join(work, "handover.log"))
        try:
            e2e.wait_port(port, d.p)
            c.check(post(port, [{"id": i, "odd": i % 2 == 1} for i in range(20)])
                    in (200, 201), "in_http accepts 20 records")
            rcv.wait_for(lambda rs: len(rs) >= 2, 30, what="retried requests")
            # the even records match no route, and there is no default one
            e2e.wait_for(lambda: e2e.metric_value(
                api, "sluice_route_unmatched_records_total", {"name": "http.0"}) == 10,
                20, what="10 records counted as taken by no route")
            d.p.send_signal(signal.SIGHUP)
            e2e.wait_for(lambda: "configuration reloaded" in d.output(), 30,
                         what="the reload")
            rcv.default = {"status": 200}

            def delivered():
                out = []
                for req in rcv.snapshot():
                    if req.status == 200:
                        out += [json.loads(ln) for ln in req.body.splitlines()
                                if ln.strip()]
                return out
            e2e.wait_for(lambda: len(delivered()) >= 10, 30, what="10 records delivered")
        finally:
            rc = d.stop()
        got = delivered()
        c.equal(rc, 0, "clean exit after the hand-over")
        c.equal(sorted(r["id"] for r in got), list(range(1, 20, 2)),
                "the odd records, each once, after the reload")
        c.check(all(r.get("via") == "down" for r in got),
                "the copies carried are the processed ones")
        c.check("handed to the new pipeline" in d.output(), "the reload logged the hand-over")


def recovery(work):
    """A routed input's chunks on disk, recovered after SIGKILL, go where
    their routes send them (and through the output's processors)."""
    port, api = e2e.free_port(), e2e.free_port()
    store = os.path.join(work, "store")
    conf_text = HANDOVER.replace("service:\n", "service:\n  storage.path: %s\n" % store, 1) \
        .replace("      port: {port}\n", "      port: {port}\n      storage.type: filesystem\n", 1)
    with http_receiver.Receiver(default={"status": 503}) as rcv:
        conf = e2e.write(os.path.join(work, "recovery.yaml"),
                         conf_text.format(port=port, out=rcv.port, api=api))
        d = e2e.Daemon(conf, os.path.join(work, "recovery1.log"))
        try:
            e2e.wait_port(port, d.p)
            # a 2xx means the records are on disk
            c.check(post(port, [{"id": i, "odd": i % 2 == 1} for i in range(30)])
                    in (200, 201), "in_http accepts 30 records (on disk)")
            rcv.wait_for(lambda rs: len(rs) >= 1, 30, what="a refused delivery")
        finally:
            d.kill()
        rcv.default = {"status": 200}
        d = e2e.Daemon(conf, os.path.join(work, "recovery2.log"))

        def delivered():
            out = []
            for req in rcv.snapshot():
                if req.status == 200:
                    out += [json.loads(ln) for ln in req.body.splitlines() if ln.strip()]
            return out
        try:
            e2e.wait_for(lambda: len(delivered()) >= 15, 30, what="15 records after restart")
        finally:
            rc = d.stop()
        got = delivered()
        c.equal(rc, 0, "clean exit after recovery")
        c.equal(sorted(r["id"] for r in got), list(range(1, 30, 2)),
                "after the crash the odd records, each once, by their route")
        c.check(all(r.get("via") == "down" for r in got),
                "recovered records went through the output's processors")


def main():
    e2e.require_plugins("http", "file", "grep", "modify")
    with e2e.TempDir("sluice-yroutes-rec-") as work:
        recovery(work)
    with e2e.TempDir("sluice-yroutes-ho-") as work:
        handover(work)
    with e2e.TempDir("sluice-yroutes-bad-") as work:
        config_errors(work)
    with e2e.TempDir("sluice-yroutes-") as work:
        port, api = e2e.free_port(), e2e.free_port()
        conf = e2e.write(os.path.join(work, "pipeline.yaml"),
                         CONF.format(port=port, api=api, work=work))
        dry = e2e.run_to_exit(["--dry-run", "-c", conf], timeout=60)
        c.equal(dry.rc, 0, "the pipeline passes --dry-run: " + dry.log()[-500:])
        d = e2e.Daemon(conf, os.path.join(work, "sluice.log"))
        try:
            e2e.wait_port(port, d.p)
            e2e.wait_port(api, d.p)
            c.check(post(port, [dict(r, b=1) for r in RECORDS]) in (200, 201),
                    "in_http accepts batch 1")
            check_batch(work, api, 1)

            d.p.send_signal(signal.SIGHUP)
            e2e.wait_for(lambda: "configuration reloaded" in d.output(), 30,
                         what="the reload")
            e2e.wait_port(port, d.p)
            c.check(post(port, [dict(r, b=2) for r in RECORDS]) in (200, 201),
                    "in_http accepts batch 2 after the reload")
            check_batch(work, api, 2)
        finally:
            rc = d.stop()
        c.equal(rc, 0, "clean exit")
        log = d.output()
        c.check("[error]" not in log, "no error logged: " + log[-1500:])

        for name, ns in WANT.items():
            got = records_of(work, name)
            c.equal(sorted((r["b"], r["n"]) for _, _, r in got),
                    sorted((b, n) for b in (1, 2) for n in ns),
                    "%s holds exactly the records its routes take, once each" % name)
            for tag, _, r in got:
                c.equal(r.get("stage"), "input", "%s: input processors ran on record %d"
                        % (name, r["n"]))
                c.equal("audited" in r, name == "audit.log",
                        "%s: only audit's copy has audit's processor field (record %d)"
                        % (name, r["n"]))
                if name == "errors.log":
                    c.equal(tag, "errors", "a routed record carries the route's name as tag")
                if name == "all.log":
                    c.equal(tag, "app", "a route without condition keeps the input's tag")
        c.check(not any(r["n"] == 4 for n in WANT for _, _, r in records_of(work, n)),
                "the conditional grep dropped the noisy debug record everywhere")
    c.finish()


if __name__ == "__main__":
    main()
