#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Hostile tags and poison records (SPEC §7, §6): what a sender controls
must not reach a header, a file path, a Loki label or sluice's own log as
anything but plain text, and a record no output can ever write must be
dropped and counted, not retried forever.

Run 1: in_http (Tag_Key, and a hostile request path) -> out_http
(Header_Tag), out_file (the tag is the file name) and loki (a label read
from the record). Tags carry CR/LF with a whole smuggled request, NUL,
`../` steps and a 300-byte name. Checks: the receiver sees only requests
to the configured URI, no injected header, one X-Tag per request holding a
sanitised tag, every record exactly once; every file out_file made is a
plain name directly inside Path and nothing was written outside it (the
300-byte tag too, under a shortened name); Loki's label values have no
control bytes; every in_http refusal is counted by reason.

Run 2: poison records. in_http -> out_file with storage.type filesystem,
Retry_Limit no_limits (the default) and a small Mem_Buf_Limit. A tag whose
target is a directory (EISDIR) and a tag whose path is over PATH_MAX under
a deep Path (ENAMETOOLONG) are dropped as `rejected` and counted, the good
records keep flowing, in_http keeps answering 201, and again after a
restart on the same storage.

Run 3: sluice's own log. A tail file whose name holds a newline and a fake
log line becomes a tag that an output failure prints; the log has no line
that sluice did not write.
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402
import http_receiver  # noqa: E402
from loki_receiver import LokiReceiver  # noqa: E402

SMUGGLE = ("evil\r\nX-Injected: yes\r\nContent-Length: 0\r\n\r\n"
           "POST /smuggled HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
FORGED = "[2026-01-01T00:00:00.000Z] [error] [forged] pwned"
LOG_LINE = re.compile(r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] "
                      r"\[(error|warn|info|debug|trace)\] \[[^\]]*\] ")
SAFE_NAME = re.compile(r"^[A-Za-z0-9._~-]{1,255}$")
SAFE_TAG = re.compile(r"^[A-Za-z0-9._]+$")


def post(port, path, body, ctype="application/json", method="POST"):
    h = {"Content-Type": ctype} if ctype else {}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        r.read()
        return r.status
    except OSError as e:
        print("request error: %r" % e)
        return None
    finally:
        c.close()


def metric(api_port, name, labels):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/metrics/prometheus"
                                    % api_port, timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return None
    return http_receiver.prometheus_value(text, name, labels)


class Sluice:
    def __init__(self, conf, log_path, port=None):
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.p = subprocess.Popen([e2e.binary(), "-c", conf], stdout=self.log,
                                  stderr=subprocess.STDOUT)
        if port:
            e2e.wait_for(lambda: self._up(port), 20, what="port %d" % port)

    def _up(self, port):
        if self.p.poll() is not None:
            raise RuntimeError("sluice exited %d" % self.p.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

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

    def lines(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()


def check_log(ck, lines, what):
    bad = [l for l in lines if not LOG_LINE.match(l)]
    ck.equal(bad[:3], [], "%s: lines sluice did not write" % what)
    ck.check(not any(l.startswith(FORGED[:27]) for l in lines),
             "%s: no forged line" % what)


def files_under(root):
    out = []
    for d, _dirs, files in os.walk(root):
        out += [os.path.relpath(os.path.join(d, f), root) for f in files]
    return sorted(out)


def run_sinks(ck, tmp):
    port, api = http_receiver.free_port(), http_receiver.free_port()
    outdir = os.path.join(tmp, "files")
    os.mkdir(outdir)
    long_tag = "L" * 300
    tags = [SMUGGLE, "../../../../" + os.path.basename(tmp) + "-escaped",
            "a\u0000b/../c", "x\n" + FORGED, long_tag, "plain.tag"]
    with http_receiver.Receiver() as rcv, LokiReceiver() as loki:
        text = (e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="info",
                            HTTP_Server="On", HTTP_Listen="127.0.0.1", HTTP_Port=api)
                + e2e.section("INPUT", Name="http", Alias="in", Listen="127.0.0.1",
                              Port=port, Tag_Key="tag", Buffer_Max_Size="64K")
                + e2e.section("OUTPUT", Name="http", Alias="hook", Match="*",
                              Host="127.0.0.1", Port=rcv.port, URI="/hook",
                              Format="json_lines", Header_Tag="X-Tag")
                + e2e.section("OUTPUT", Name="file", Alias="files", Match="*",
                              Path=outdir, Format="plain")
                + e2e.section("OUTPUT", Name="loki", Alias="loki", Match="*",
                              Host="127.0.0.1", Port=loki.port,
                              Labels="job=abuse, $tag"))
        conf = e2e.write(os.path.join(tmp, "sinks.conf"), text)
        s = Sluice(conf, os.path.join(tmp, "sinks.log"), port)
        try:
            body = [{"tag": t, "n": i} for i, t in enumerate(tags)]
            ck.equal(post(port, "/", json.dumps(body).encode()), 201, "hostile tags: 201")
            # the path is a tag too: %-decoded, then sanitised
            ck.equal(post(port, "/..%2F..%2Fetc%0D%0AX-Injected:%20yes",
                          json.dumps({"n": 100}).encode()), 201, "hostile path: 201")
            # refusals, each counted
            ck.equal(post(port, "/", b'{"n": ', ), 400, "invalid JSON: 400")
            ck.equal(post(port, "/", b'{"n": 1}', ctype="text/plain"), 400,
                     "text/plain: 400")
            ck.equal(post(port, "/", b"", method="GET"), 400, "GET: 400")
            ck.equal(post(port, "/", json.dumps({"pad": "x" * 70000}).encode()), 413,
                     "over Buffer_Max_Size: 413")
            n = len(tags) + 1
            rcv.wait_for(lambda r: sum(len(x.body.splitlines()) for x in r) >= n,
                         30, "%d records at the hook" % n)
            loki.wait_for(lambda _: len(loki.accepted()) >= n, 30, "%d Loki entries" % n)
            e2e.wait_for(lambda: len(files_under(outdir)) >= n - 1, 30, what="files")
            refused = {r: metric(api, "sluice_http_rejected_total",
                                 {"name": "in", "reason": r})
                       for r in ("malformed", "too_large", "busy")}
        finally:
            rc = s.stop()
        reqs = rcv.snapshot()
        entries = loki.accepted()
    ck.equal(rc, 0, "run 1 exit code")
    ck.equal(sorted(set(r.path for r in reqs)), ["/hook"], "request paths at the receiver")
    ck.check(not any(k.lower() == "x-injected" for r in reqs for k, _ in r.header_list),
             "no injected header")
    for r in reqs:
        xt = [v for k, v in r.header_list if k.lower() == "x-tag"]
        if not ck.equal(len(xt), 1, "one X-Tag per request"):
            break
        ck.check(SAFE_TAG.match(xt[0]) is not None, "X-Tag sanitised: %r" % xt[0][:80])
    got = sorted(json.loads(l)["n"] for r in reqs for l in r.body.splitlines() if l.strip())
    ck.equal(got, sorted(list(range(len(tags))) + [100]), "each record once at the hook")
    files = files_under(outdir)
    ck.check(all("/" not in f and SAFE_NAME.match(f) for f in files),
             "file names are plain names in Path: %r" % [f[:60] for f in files])
    ck.check(any(f.startswith("L" * 200) for f in files), "300-byte tag written, shortened")
    ck.equal(sorted(os.listdir(os.path.dirname(tmp) or "/")).count(
        os.path.basename(tmp) + "-escaped"), 0, "nothing written outside Path")
    ck.equal(sorted(os.listdir(tmp)), sorted(["files", "sinks.conf", "sinks.log"]),
             "nothing else in the test directory")
    delivered = sorted(x["n"] for f in files for x in e2e.read_plain(os.path.join(outdir, f)))
    ck.equal(delivered, got, "each record once in the files")
    for e in entries:
        for k, v in e.labels.items():
            ck.check(not any(ord(ch) < 32 or ord(ch) == 127 for ch in v),
                     "Loki label %s has no control bytes: %r" % (k, v[:60]))
    ck.equal(refused, {"malformed": 3.0, "too_large": 1.0, "busy": 0.0},
             "sluice_http_rejected_total by reason")
    check_log(ck, s.lines(), "run 1")


def deep_path(root, total):
    """A directory under root whose path is exactly `total` bytes long."""
    d = root
    while total - len(d) - 1 > 255:
        d = os.path.join(d, "d" * 200)
    d = os.path.join(d, "e" * (total - len(d) - 1))
    os.makedirs(d)
    return d


def run_poison(ck, tmp):
    port, api = http_receiver.free_port(), http_receiver.free_port()
    store = os.path.join(tmp, "store")
    outdir = deep_path(os.path.join(tmp, "deep"), 3900)
    os.mkdir(os.path.join(outdir, "isdir"))  # tag "isdir": EISDIR
    long_tag = "n" * 250                     # 3900 + 1 + 250 > PATH_MAX
    text = (e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="info",
                        HTTP_Server="On", HTTP_Listen="127.0.0.1", HTTP_Port=api,
                        **{"storage.path": store, "scheduler.base": "0.1",
                           "scheduler.cap": "1"})
            + e2e.section("INPUT", Name="http", Alias="in", Listen="127.0.0.1",
                          Port=port, Tag_Key="tag", Mem_Buf_Limit="256K",
                          **{"storage.type": "filesystem"})
            + e2e.section("OUTPUT", Name="file", Alias="files", Match="*",
                          Path=outdir, Format="plain"))
    conf = e2e.write(os.path.join(tmp, "poison.conf"), text)
    good_path = os.path.join(outdir, "good")
    log_path = os.path.join(tmp, "poison.log")
    poison = 0
    statuses = []

    def batch(start):
        nonlocal poison
        for i in range(start, start + 20):
            recs = [{"tag": "good", "n": i, "pad": "p" * 2000},
                    {"tag": "isdir", "n": i, "pad": "p" * 2000},
                    {"tag": long_tag, "n": i, "pad": "p" * 2000}]
            for r in recs:
                statuses.append(post(port, "/", json.dumps(r).encode()))
            poison += 2

    def good():
        try:
            return sorted(x["n"] for x in e2e.read_plain(good_path))
        except FileNotFoundError:
            return []

    s = Sluice(conf, log_path, port)
    try:
        batch(0)
        e2e.wait_for(lambda: len(good()) >= 20, 30, what="good records, run 1")
        dropped = e2e.wait_for(
            lambda: (metric(api, "sluice_output_dropped_records_total",
                            {"name": "files", "reason": "rejected"}) or 0) >= poison and
            metric(api, "sluice_output_dropped_records_total",
                   {"name": "files", "reason": "rejected"}), 30,
            what="poison records counted")
    finally:
        rc = s.stop()
    ck.equal(rc, 0, "poison run 1 exit code")
    ck.equal(dropped, float(poison), "poison records dropped as rejected")
    # a restart on the same storage: nothing left to wedge the input
    s = Sluice(conf, log_path, port)
    try:
        batch(20)
        e2e.wait_for(lambda: len(good()) >= 40, 30, what="good records, run 2")
        dropped2 = e2e.wait_for(
            lambda: (metric(api, "sluice_output_dropped_records_total",
                            {"name": "files", "reason": "rejected"}) or 0) >= 40 and
            metric(api, "sluice_output_dropped_records_total",
                   {"name": "files", "reason": "rejected"}), 30,
            what="poison records counted after the restart")
    finally:
        rc = s.stop()
    ck.equal(rc, 0, "poison run 2 exit code")
    ck.equal(dropped2, 40.0, "run 2: its own poison counted, nothing replayed")
    ck.equal(set(statuses), {201}, "in_http answered 201 to every request")
    ck.equal(good(), list(range(40)), "good records each once")
    lines = []
    with open(log_path, "rb") as f:
        lines = f.read().decode("utf-8", "replace").splitlines()
    causes = [l for l in lines if "not retried" in l]
    ck.check(any("Is a directory" in l for l in causes), "EISDIR named in the log")
    ck.check(any("File name too long" in l for l in causes), "ENAMETOOLONG named in the log")
    ck.check(not any("will retry" in l for l in lines), "no write was retried")
    check_log(ck, lines, "poison runs")


def run_log_forging(ck, tmp):
    d = os.path.join(tmp, "logs")
    os.mkdir(d)
    name = os.path.join(d, "app\n" + FORGED + ".log")
    with open(name, "w") as f:
        f.write('{"msg": "hello"}\n')
    dead = http_receiver.free_port()  # nobody listens: the output fails
    with http_receiver.Receiver() as rcv:
        text = (e2e.section("SERVICE", Flush="0.2", Grace="2", Log_Level="info")
                + e2e.section("INPUT", Name="tail", Path=os.path.join(d, "*.log"),
                              Tag="t.*", Read_from_Head="On", Refresh_Interval="1")
                + e2e.section("OUTPUT", Name="http", Match="*", Host="127.0.0.1",
                              Port=dead, Retry_Limit="no_retries")
                # tail does not sanitise tags: the sink must
                + e2e.section("OUTPUT", Name="http", Match="*", Host="127.0.0.1",
                              Port=rcv.port, Header_Tag="X-Tag")
                # the out_file format starts each line with the tag
                + e2e.section("OUTPUT", Name="file", Match="*", Path=tmp, File="lines"))
        conf = e2e.write(os.path.join(tmp, "forge.conf"), text)
        s = Sluice(conf, os.path.join(tmp, "forge.log"))
        try:
            e2e.wait_for(lambda: any("records dropped" in l for l in s.lines()), 30,
                         what="the give-up line naming the tag")
            reqs = rcv.wait_for(lambda r: r, 30, "the tag's request")
            e2e.wait_for(lambda: os.path.exists(os.path.join(tmp, "lines")), 30,
                         what="out_file's line")
        finally:
            rc = s.stop()
    lines = s.lines()
    ck.equal(rc, 0, "run 3 exit code")
    ck.check(any("app\\n[2026-01-01T" in l for l in lines), "the newline is shown escaped")
    check_log(ck, lines, "run 3")
    got = e2e.read_out_file(os.path.join(tmp, "lines"))
    ck.equal([(("\\n[2026-01-01T" in t), r) for t, _, r in got], [(True, {"log": '{"msg": "hello"}'})],
             "run 3: one out_file line, its tag escaped")
    xt = [v for k, v in reqs[0].header_list if k.lower() == "x-tag"]
    ck.equal(len(xt), 1, "run 3: one X-Tag")
    ck.check(xt and "forged" in xt[0] and not any(ord(ch) < 32 for ch in xt[0]),
             "run 3: X-Tag holds the tag without control bytes: %r" % xt[:1])
    ck.equal(len(reqs[0].header_list), len(set(k.lower() for k, _ in reqs[0].header_list)),
             "run 3: no header twice")
    ck.check(not any("forged" in k for k, _ in reqs[0].header_list),
             "run 3: no header made of the tag")


def main():
    e2e.require_plugins("http", "file", "loki", "tail")
    ck = e2e.Checker()
    with e2e.TempDir("sluice-tag-abuse-") as tmp:
        for name, run in (("sinks", run_sinks), ("poison", run_poison),
                          ("forging", run_log_forging)):
            sub = os.path.join(tmp, name)
            os.mkdir(sub)
            run(ck, sub)
    ck.finish()


if __name__ == "__main__":
    main()
