# SPDX-License-Identifier: Apache-2.0
"""conf/security-counters.conf end to end: fixtures of the five styles are
generated (with malformed lines), sluice tails them and serves the counters,
a real Prometheus scrapes the exporter, and every counter read back through
Prometheus' query API equals the expected value exactly (computed here from
the generated files by the README's counting rules, and checked against the
generator's expected.json). `promtool check metrics` finds nothing wrong in
/metrics; `promtool check rules` and `promtool test rules` pass on
conf/prometheus/."""
import glob
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prometheus_util as pu  # noqa: E402
import sluice_e2e as e2e  # noqa: E402

STEMS = ["agent-backend", "streaming-proxy", "webrtc-mesh", "agent-mesh",
         "awareness-network"]
SECURITY = ["security_auth_failures_total", "guardrail_violations_total",
            "signature_verification_failures_total", "circuit_breaker_trips_total"]
failures = []


def check(name, cond, detail=""):
    print(("ok    " if cond else "FAIL  ") + name + ("" if cond else ": " + detail))
    if not cond:
        failures.append(name)


def count_by_rules(path, stem):
    """The README's counting rules applied to one generated file:
    {(metric, frozenset(labels)): value}."""
    out = {}

    def inc(metric, **labels):
        key = (metric, frozenset(labels.items()))
        out[key] = out.get(key, 0) + 1

    with open(path, "rb") as f:
        for raw in f:
            try:
                rec = json.loads(raw.decode("utf-8", "replace"))
            except ValueError:
                continue
            if not isinstance(rec, dict):
                continue
            svc = rec["service"] if isinstance(rec.get("service"), str) else stem
            ev = rec.get("event")
            if (rec.get("audit_event") == "AUTH_GATEWAY_VALIDATION"
                    and rec.get("status") == "failure") or \
                    ev in ("auth_failed", "auth_failure", "login_failed"):
                inc("security_auth_failures_total", service=svc)
            if rec.get("audit_event") == "GUARDRAIL_VIOLATION_DETECTED" or \
                    ev == "guardrail_violation":
                inc("guardrail_violations_total", service=svc)
            if ev in ("signature_verification_failed", "message_signature_invalid"):
                inc("signature_verification_failures_total", source=svc)
            if ev == "circuit_breaker_state_changed" and rec.get("to") == "open":
                inc("circuit_breaker_trips_total", service=svc,
                    breaker=rec.get("breaker", ""))
    return out


def generator_expected(path):
    with open(path) as f:
        doc = json.load(f)
    out = {}
    for stem, sysdoc in doc.items():
        for d in sysdoc["derived"]:
            if d["metric"] in SECURITY:
                out[(d["metric"], frozenset(d["labels"].items()))] = d["value"]
    return out


def prometheus_values(prom):
    got = {}
    for metric in SECURITY:
        for labels, value in prom.query(metric):
            labels = {k: v for k, v in labels.items()
                      if k not in ("__name__", "job", "instance")}
            got[(metric, frozenset(labels.items()))] = value
    return got


def fmt(d):
    return sorted((m, sorted(l), v) for (m, l), v in d.items())


def promtool_rules(root, promtool):
    rules = sorted(glob.glob(os.path.join(root, "conf", "prometheus", "*rules.yml")))
    tests = sorted(glob.glob(os.path.join(root, "conf", "prometheus", "*_test.yml")))
    check("alert rule files shipped", len(rules) > 0 and len(tests) > 0,
          "rules=%r tests=%r" % (rules, tests))
    if rules:
        r = subprocess.run([promtool, "check", "rules"] + rules,
                           capture_output=True, timeout=60)
        check("promtool check rules", r.returncode == 0,
              (r.stdout + r.stderr).decode()[-2000:])
    if tests:
        r = subprocess.run([promtool, "test", "rules"] + tests,
                           capture_output=True, timeout=120,
                           cwd=os.path.join(root, "conf", "prometheus"))
        check("promtool test rules", r.returncode == 0,
              (r.stdout + r.stderr).decode()[-3000:])


def dashboard(root):
    """The Grafana dashboard is valid JSON and graphs the four counters."""
    path = os.path.join(root, "conf", "grafana", "sluice-security.json")
    with open(path) as f:
        doc = json.load(f)
    exprs = " ".join(t.get("expr", "") for p in doc.get("panels", [])
                     for t in p.get("targets", []))
    missing = [m for m in SECURITY if m not in exprs]
    check("dashboard graphs every security counter", not missing, repr(missing))


def main():
    pu.require_tools()
    e2e.require_plugins("tail", "parser", "modify", "log_to_metrics",
                        "prometheus_exporter", "null")
    root = e2e.source_root()
    promtool = pu.find_tool("promtool")
    promtool_rules(root, promtool)
    dashboard(root)

    with e2e.TempDir("sluice-sec-") as tmp:
        logs = os.path.join(tmp, "logs")
        subprocess.run([sys.executable,
                        os.path.join(e2e.e2e_dir(), "fixtures", "gen_fixtures.py"),
                        logs, "--seed", "7", "--lines", "3000", "--malformed"],
                       check=True, timeout=120)
        want = {}
        for stem in STEMS:
            want.update(count_by_rules(os.path.join(logs, stem + ".log"), stem))
        gen = generator_expected(os.path.join(logs, "expected.json"))
        check("counting rules agree with the generator", want == gen,
              "mine %r\ngenerator %r" % (fmt(want), fmt(gen)))
        check("every style has a security counter",
              all(any(s in dict(l).values() for (_, l) in want) for s in STEMS),
              repr(fmt(want)))

        port = pu.free_port()
        env = dict(os.environ, LOG_DIR=logs, READ_FROM_HEAD="On",
                   EXIT_ON_EOF="Off", METRICS_HOST="127.0.0.1",
                   METRICS_PORT=str(port), SLUICE_LOG_LEVEL="warn")
        errlog = open(os.path.join(tmp, "sluice.log"), "wb")
        proc = subprocess.Popen([e2e.binary(), "-c",
                                 os.path.join(root, "conf", "security-counters.conf")],
                                env=env, stdout=errlog, stderr=subprocess.STDOUT,
                                cwd=tmp)
        try:
            url = "http://127.0.0.1:%d/metrics" % port

            def exporter_up():
                try:
                    return pu.http_get(url, timeout=2)[0] == 200
                except OSError:
                    return proc.poll() is not None  # fail fast below
            e2e.wait_for(exporter_up, 30, what="the exporter")
            check("sluice is running", proc.poll() is None,
                  "exited %r" % proc.poll())

            # the exporter's own text settles at the expected values
            def exposition_done():
                text = pu.http_get(url)[2].decode()
                return text if all(m in text for m in SECURITY) and \
                    _parse(text) == want else None
            try:
                text = e2e.wait_for(exposition_done, 60, interval=0.2,
                                    what="all counters in /metrics")
            except TimeoutError:
                text = pu.http_get(url)[2].decode()
            check("/metrics holds exactly the expected counters",
                  _parse(text) == want,
                  "got %r\nwant %r" % (fmt(_parse(text)), fmt(want)))
            rc, problems = pu.promtool_check_metrics(text, promtool)
            check("promtool check metrics reports nothing", rc == 0 and not problems,
                  "rc=%d %s" % (rc, problems))

            with pu.Prometheus([("sluice", "127.0.0.1:%d" % port, "/metrics")]) as prom:
                prom.wait_targets_up(60)
                try:
                    prom.wait_query(SECURITY[0],
                                    pred=lambda _: prometheus_values(prom) == want,
                                    timeout=60)
                except TimeoutError:
                    pass
                got = prometheus_values(prom)
                check("Prometheus reads back every counter exactly", got == want,
                      "got %r\nwant %r" % (fmt(got), fmt(want)))
                for t in prom.targets():
                    check("scrape healthy", t["health"] == "up" and not t["lastError"],
                          repr(t))
            # a while later the counters have not moved (nothing counted twice)
            time.sleep(1.5)
            check("counters stable after the files were read",
                  _parse(pu.http_get(url)[2].decode()) == want)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            errlog.close()
        with open(os.path.join(tmp, "sluice.log"), "rb") as f:
            log = f.read().decode("utf-8", "replace")
        check("sluice exited cleanly", proc.returncode == 0,
              "rc=%r log=%s" % (proc.returncode, log[-2000:]))

    if failures:
        print("%d failure(s): %s" % (len(failures), ", ".join(failures)))
        sys.exit(1)
    print("all ok")


def _parse(text):
    """The security samples of an exposition: {(metric, labels): value}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, _, value = line.rpartition(" ")
        name, _, rest = name_labels.partition("{")
        if name not in SECURITY:
            continue
        labels = {}
        rest = rest.rstrip("}")
        for part in filter(None, _split_labels(rest)):
            k, _, v = part.partition("=")
            labels[k] = json.loads(v)
        out[(name, frozenset(labels.items()))] = float(value)
    return out


def _split_labels(s):
    """Splits `a="x",b="y"` at commas outside quotes."""
    parts, cur, quoted, esc = [], "", False, False
    for c in s:
        if esc:
            cur += c
            esc = False
        elif c == "\\":
            cur += c
            esc = True
        elif c == '"':
            cur += c
            quoted = not quoted
        elif c == "," and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    parts.append(cur)
    return parts


if __name__ == "__main__":
    main()
