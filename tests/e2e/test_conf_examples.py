# SPDX-License-Identifier: Apache-2.0
"""The shipped configurations: every file in conf/ passes --dry-run, and the
metric examples run on the fixture logs and serve exactly the series that
fixtures/expected.json says a correct pipeline derives."""
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

c = e2e.Checker()
ROOT = e2e.source_root()
FIXTURES = os.path.join(e2e.e2e_dir(), "fixtures")
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    """{(name, frozenset(labels)): value} from a /metrics page."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m:
            labels = frozenset(LABEL.findall(m.group(2) or ""))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def expected(system, metric):
    with open(os.path.join(FIXTURES, "expected.json")) as f:
        derived = json.load(f)[system]["derived"]
    return {(d["metric"], frozenset(d["labels"].items())): float(d["value"])
            for d in derived if d["metric"] == metric}


def run_example(conf, system, metric):
    port = free_port()
    env = dict(os.environ, LOG_DIR=FIXTURES, METRICS_HOST="127.0.0.1",
               METRICS_PORT=str(port), READ_FROM_HEAD="On", EXIT_ON_EOF="Off")
    p = subprocess.Popen([e2e.binary(), "-c", conf], env=env, stderr=subprocess.PIPE)
    want = expected(system, metric)
    got = {}
    try:
        def matches():
            nonlocal got
            try:
                page = scrape(port)
            except OSError:
                return False
            got = {k: v for k, v in page.items() if k[0] == metric}
            return got == want
        try:
            e2e.wait_for(matches, 30, interval=0.2, what=metric)
        except TimeoutError:
            pass
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=15)
    c.check(len(want) > 0, "%s: expected.json has %s series" % (system, metric))
    c.equal(got, want, "%s: %s from %s" % (system, metric, os.path.basename(conf)))
    c.equal(rc, 0, "%s exits 0 on SIGTERM" % os.path.basename(conf))


def main():
    with e2e.TempDir("sluice-conf-") as tmp:
        env = dict(os.environ, LOG_DIR=FIXTURES, FIXTURE_DIR=FIXTURES, OUT_DIR=tmp,
                   SHARED_LOG_DIR=tmp, SLUICE_DB=os.path.join(tmp, "db"))
        confs = sorted(glob.glob(os.path.join(ROOT, "conf", "*.conf")) +
                       glob.glob(os.path.join(ROOT, "conf", "examples", "*.conf")))
        c.check(len(confs) >= 8, "conf/ ships its configurations: %r" % confs)
        for conf in confs:
            if os.path.basename(conf) == "parsers.conf":
                r = subprocess.run([e2e.binary(), "--dry-run", "-R", conf], env=env,
                                   capture_output=True, text=True, timeout=30)
            else:
                r = subprocess.run([e2e.binary(), "--dry-run", "-c", conf], env=env,
                                   capture_output=True, text=True, timeout=30)
            c.check(r.returncode == 0 and "configuration test is successful" in r.stdout,
                    "%s validates: %s" % (os.path.relpath(conf, ROOT), r.stderr[-500:]))
    run_example(os.path.join(ROOT, "conf", "examples", "http-requests.conf"),
                "awareness-network", "http_requests_total")
    run_example(os.path.join(ROOT, "conf", "examples", "tunnel-errors.conf"),
                "streaming-proxy", "tunnel_errors_total")
    c.finish()


if __name__ == "__main__":
    main()
