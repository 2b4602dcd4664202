# SPDX-License-Identifier: Apache-2.0
"""prometheus_exporter and /api/v1/metrics/prometheus against the real tools:
`promtool check metrics` finds no problem in either exposition, and a real
Prometheus scrapes both with target health "up" and no scrape error; the
query API then returns sluice's internal counters and (when the
log_to_metrics filter is compiled in) the derived counter and histogram with
their escaped label values intact, Add_Label merged, and the histogram
consistent (cumulative buckets, +Inf == _count == the counter).

Self-monitoring: the shipped conf/prometheus/sluice-self.rules.yml loaded
into a real Prometheus that scrapes a sluice whose outputs fail: records
dropped, retries failing, an input paused and a witness token refused raise
their alerts, the others stay quiet; every query of the shipped dashboard
conf/grafana/sluice-self.json is valid and finds sluice's series."""
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prometheus_util as pu  # noqa: E402
import sluice_e2e as e2e  # noqa: E402

CT = "text/plain; version=0.0.4; charset=utf-8"
# the label value G"E\T goes through JSON, the registry, the exposition
# escaping and Prometheus' parser, and must come back unchanged
METHOD = 'G"E\\T'


def listed_plugins():
    out = subprocess.run([e2e.binary(), "-h"], capture_output=True, timeout=20)
    text = out.stdout.decode("utf-8", "replace")
    return set(re.findall(r"^\s*(?:input|filter|output)\s+([\w.-]+)\s+-", text, re.M))


def unescape(v):
    out, i = [], 0
    while i < len(v):
        if v[i] == "\\" and i + 1 < len(v):
            out.append({"n": "\n", "\\": "\\", '"': '"'}.get(v[i + 1], "\\" + v[i + 1]))
            i += 2
        else:
            out.append(v[i])
            i += 1
    return "".join(out)


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def parse_exposition(text):
    """[(name, labels dict, float)] from a text exposition; raises on a
    line that is neither a comment nor a sample without timestamp."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("not a sample line: %r" % line)
        labels = {}
        if m.group(2):
            pos = 0
            for lm in LABEL.finditer(m.group(2)):
                if lm.start() != pos:
                    raise ValueError("bad labels: %r" % line)
                labels[lm.group(1)] = unescape(lm.group(2))
                pos = lm.end()
            if pos != len(m.group(2)):
                raise ValueError("bad labels: %r" % line)
        samples.append((m.group(1), labels, float(m.group(3))))
    return samples


def config(api_port, prom_port, with_l2m):
    dummy = '{"method":"G\\"E\\\\T","status":"200","latency":0.25}'
    text = e2e.section("SERVICE", Flush="0.2", Grace="2", Log_Level="warn",
                       HTTP_Server="On", HTTP_Listen="127.0.0.1",
                       HTTP_Port=api_port)
    text += e2e.section("INPUT", Name="dummy", Tag="app.http", Rate="20",
                        Dummy=dummy)
    if with_l2m:
        text += e2e.section("FILTER", Name="log_to_metrics", Match="app.*",
                            Tag="metrics.app", Metric_mode="counter",
                            Metric_namespace="app", Metric_subsystem="http",
                            Metric_name="requests_total",
                            Metric_description="HTTP requests by method",
                            Label_field=["method", "status"])
        text += e2e.section("FILTER", Name="log_to_metrics", Match="app.*",
                            Tag="metrics.app", Metric_mode="histogram",
                            Metric_namespace="app", Metric_subsystem="http",
                            Metric_name="latency_seconds",
                            Metric_description="Request latency",
                            Value_field="latency",
                            Bucket=["0.1", "0.5", "1"], Label_field="method")
    text += e2e.section("OUTPUT", Name="prometheus_exporter", Match="metrics.*",
                        Host="127.0.0.1", Port=prom_port,
                        Add_Label="env e2e")
    text += e2e.section("OUTPUT", Name="null", Match="app.*")
    return text


# ---- self-monitoring: the shipped alert rules and dashboard on a running
# sluice whose outputs fail (records dropped, retries failing, an input
# paused at Mem_Buf_Limit) and whose witness input gets a bad token.
SELF_RULES = ("conf", "prometheus", "sluice-self.rules.yml")
SELF_DASHBOARD = ("conf", "grafana", "sluice-self.json")


def self_config(api_port, dead_port, witness_port):
    text = e2e.section("SERVICE", Flush="0.2", Grace="1", Log_Level="error",
                       HTTP_Server="On", HTTP_Listen="127.0.0.1",
                       HTTP_Port=api_port, **{"scheduler.base": "0.2",
                                              "scheduler.cap": "0.5"})
    text += e2e.section("INPUT", Name="dummy", Tag="drop.x", Rate="20")
    text += e2e.section("INPUT", Name="dummy", Tag="hold.x", Rate="200",
                        Mem_Buf_Limit="2K")
    text += e2e.section("INPUT", Name="witness", Listen="127.0.0.1",
                        Port=witness_port, Auth_Key="right-token")
    # nothing listens on dead_port: every attempt fails
    text += e2e.section("OUTPUT", Name="http", Match="drop.*", Host="127.0.0.1",
                        Port=dead_port, Retry_Limit="1")
    text += e2e.section("OUTPUT", Name="http", Match="hold.*", Host="127.0.0.1",
                        Port=dead_port, Retry_Limit="no_limits")
    text += e2e.section("OUTPUT", Name="null", Match="witness.*")
    return text


def dashboard_queries(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    out = []
    for p in doc["panels"]:
        for t in p.get("targets", []):
            expr = t["expr"].replace("$__rate_interval", "1m").replace(
                "$instance", ".*")
            out.append((p["title"], expr))
    return out


def self_monitoring(c):
    root = e2e.source_root()
    rules = os.path.join(root, *SELF_RULES)
    api_port, dead_port, witness_port = pu.free_port(), pu.free_port(), pu.free_port()
    while len({api_port, dead_port, witness_port}) < 3:
        dead_port, witness_port = pu.free_port(), pu.free_port()
    with e2e.TempDir("sluice-self-e2e-") as tmp:
        conf = e2e.write(os.path.join(tmp, "self.conf"),
                         self_config(api_port, dead_port, witness_port))
        log = open(os.path.join(tmp, "sluice.log"), "wb")
        p = subprocess.Popen([e2e.binary(), "-c", conf], stdout=log,
                             stderr=subprocess.STDOUT)
        try:
            api_url = "http://127.0.0.1:%d/api/v1/metrics/prometheus" % api_port

            def exposition():
                try:
                    r = pu.http_get(api_url, timeout=2)
                except OSError:
                    return None
                return r[0] == 200 and r[2].decode("utf-8")
            e2e.wait_for(exposition, 30, what=api_url)
            with pu.Prometheus([("sluice", "127.0.0.1:%d" % api_port,
                                 "/api/v1/metrics/prometheus")],
                               rule_files=[rules]) as prom:
                c.check(prom.wait_targets_up(60), "sluice target up")
                want = {("SluiceRecordsDropped", "name", "http.0"),
                        ("SluiceRetriesFailing", "name", "http.0"),
                        ("SluiceRetriesFailing", "name", "http.1"),
                        ("SluiceInputPaused", "name", "dummy.1"),
                        ("SluiceWitnessRejecting", "reason", "auth")}

                def bad_token():
                    # a request with a wrong token, counted as reason "auth";
                    # sent while Prometheus watches, so increase() sees it
                    req = urllib.request.Request(
                        "http://127.0.0.1:%d/api/events" % witness_port,
                        data=b'{"event":"x"}', method="POST",
                        headers={"Authorization": "Bearer wrong",
                                 "Content-Type": "application/json"})
                    try:
                        urllib.request.urlopen(req, timeout=5)
                        return 202
                    except urllib.error.HTTPError as e:
                        return e.code
                c.equal(bad_token(), 401, "witness answers 401 to a wrong token")

                def active():
                    bad_token()
                    got = set()
                    for a in prom.alerts():
                        for key in ("name", "reason"):
                            if key in a["labels"]:
                                got.add((a["name"], key, a["labels"][key]))
                    return got if want <= got else None
                try:
                    got = e2e.wait_for(active, 60, interval=0.5,
                                       what="the alerts to become active")
                except TimeoutError:
                    got = [(a["name"], a["state"], a["labels"]) for a in prom.alerts()]
                    c.check(False, "alerts active: want %r, got %r" % (want, got))
                    got = set()
                alerts = prom.alerts()
                names = {a["name"] for a in alerts}
                for quiet in ("SluiceStorageErrors", "SluiceNoRecords", "SluiceDown"):
                    c.check(quiet not in names, quiet + " stays quiet: %r" % alerts)
                dropped = [a for a in alerts if a["name"] == "SluiceRecordsDropped"]
                c.check(dropped and all(a["labels"].get("reason") == "retry_limit"
                                        and a["state"] == "firing" for a in dropped),
                        "drops fire with reason retry_limit: %r" % dropped)
                # every dashboard query is valid PromQL; those over metrics
                # sluice serves return series
                served = set(re.findall(r"^(sluice_\w+)", exposition(), re.M))
                queries = dashboard_queries(os.path.join(root, *SELF_DASHBOARD))
                c.check(len(queries) >= 10, "dashboard has its queries")
                for title, expr in queries:
                    used = set(re.findall(r"\b(sluice_\w+)", expr))
                    try:
                        res = prom.wait_query(
                            expr, (lambda r: len(r) > 0) if used <= served
                            else (lambda r: True), timeout=30)
                    except (TimeoutError, RuntimeError) as e:
                        c.check(False, "dashboard %r: %s" % (title, e))
                        continue
                    c.check(res is not None, "dashboard %r answers" % title)
                with open(rules, encoding="utf-8") as f:
                    alert_metrics = set(re.findall(r"\b(sluice_\w+)", f.read()))
                in_dash = {m for _, e in queries for m in re.findall(r"\b(sluice_\w+)", e)}
                c.check(alert_metrics <= in_dash,
                        "dashboard graphs every alerted metric: missing %r"
                        % (alert_metrics - in_dash))
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log.close()
        if c.failures:
            with open(os.path.join(tmp, "sluice.log"), "rb") as f:
                print(f.read().decode("utf-8", "replace")[-3000:])


def main():
    e2e.require_plugins("dummy", "null", "prometheus_exporter")
    pu.require_tools()
    with_l2m = "log_to_metrics" in listed_plugins()
    c = e2e.Checker()
    api_port, prom_port = pu.free_port(), pu.free_port()
    while prom_port == api_port:
        prom_port = pu.free_port()
    api_url = "http://127.0.0.1:%d/api/v1/metrics/prometheus" % api_port
    exp_url = "http://127.0.0.1:%d/metrics" % prom_port

    with e2e.TempDir("sluice-prom-e2e-") as tmp:
        conf = e2e.write(os.path.join(tmp, "sluice.conf"),
                         config(api_port, prom_port, with_l2m))
        log = open(os.path.join(tmp, "sluice.log"), "wb")
        p = subprocess.Popen([e2e.binary(), "-c", conf], stdout=log,
                             stderr=subprocess.STDOUT)
        try:
            def fetch(url):
                try:
                    return pu.http_get(url, timeout=2)
                except OSError:
                    return None

            def records_seen():
                r = fetch(api_url)
                return r and r[0] == 200 and \
                    re.search(rb'sluice_input_records_total\{name="dummy.0"\} [1-9]', r[2]) and r

            api = e2e.wait_for(records_seen, 30, what="records in " + api_url)

            def exporter_ready():
                r = fetch(exp_url)
                if not r or r[0] != 200:
                    return None
                if with_l2m and b"app_http_latency_seconds_count" not in r[2]:
                    return None
                return r

            exp = e2e.wait_for(exporter_ready, 30, what="metrics in " + exp_url)
            api_text = api[2].decode("utf-8")
            exp_text = exp[2].decode("utf-8")

            # content types and promtool, on both endpoints
            for what, (status, headers, body) in (("api", api), ("exporter", exp)):
                c.equal(status, 200, what + " status")
                c.equal(headers.get("Content-Type"), CT, what + " Content-Type")
                rc, problems = pu.promtool_check_metrics(body)
                c.check(rc == 0 and problems == "",
                        "promtool check metrics on %s: rc %d: %s" % (what, rc, problems))

            # internal metrics only on the API, routed metrics only on /metrics
            api_samples = parse_exposition(api_text)
            exp_samples = parse_exposition(exp_text)
            c.check(all(n.startswith("sluice_") for n, _, _ in api_samples),
                    "the API serves sluice_* only: %r" % sorted({n for n, _, _ in api_samples}))
            c.check(not any(n.startswith("sluice_") for n, _, _ in exp_samples),
                    "the exporter serves no internal metric")
            names = ["sluice_input_records_total", "sluice_input_bytes_total",
                     "sluice_input_parse_errors_total",
                     "sluice_output_proc_records_total", "sluice_output_errors_total",
                     "sluice_output_retries_total", "sluice_output_retries_failed_total",
                     "sluice_output_dropped_records_total", "sluice_uptime_seconds",
                     "sluice_storage_chunks"]
            if with_l2m:
                names.append("sluice_filter_drop_records_total")
            for name in names:
                c.check(any(n == name for n, _, _ in api_samples), "API has " + name)
            c.check(not re.search(r"\} \S+ \S+$", api_text + exp_text, re.M),
                    "no sample timestamps")

            if with_l2m:
                hist = [(n, l, v) for n, l, v in exp_samples
                        if n.startswith("app_http_latency_seconds")]
                buckets = [(l["le"], v) for n, l, v in hist if n.endswith("_bucket")]
                c.equal([le for le, _ in buckets], ["0.1", "0.5", "1", "+Inf"],
                        "histogram le values")
                vals = [v for _, v in buckets]
                c.check(vals == sorted(vals), "buckets are cumulative: %r" % vals)
                count = [v for n, _, v in hist if n.endswith("_count")]
                c.check(count and vals and vals[-1] == count[0] and vals[0] == 0,
                        "+Inf bucket == _count, le=0.1 empty: %r %r" % (vals, count))
                total = [(l, v) for n, l, v in exp_samples if n == "app_http_requests_total"]
                c.check(len(total) == 1 and total[0][0] ==
                        {"method": METHOD, "status": "200", "env": "e2e"},
                        "counter labels after unescaping: %r" % total)
                c.check(total and count and total[0][1] == count[0],
                        "counter == histogram count in one render")

            # a real Prometheus scrapes both endpoints
            targets = [("sluice_api", "127.0.0.1:%d" % api_port, "/api/v1/metrics/prometheus"),
                       ("sluice_exporter", "127.0.0.1:%d" % prom_port, "/metrics")]
            with pu.Prometheus(targets) as prom:
                try:
                    up = prom.wait_targets_up(60)
                    c.equal(sorted(t["job"] for t in up), ["sluice_api", "sluice_exporter"],
                            "targets up")
                except TimeoutError as e:
                    c.check(False, str(e))
                res = prom.wait_query('sluice_input_records_total{name="dummy.0"}',
                                      lambda r: r and r[0][1] > 0)
                c.check(res[0][1] > 0, "query sluice_input_records_total > 0")
                c.equal(res[0][0].get("job"), "sluice_api", "internal metrics job")
                res = prom.wait_query("sluice_uptime_seconds")
                c.check(res[0][1] > 0, "uptime > 0")
                if with_l2m:
                    res = prom.wait_query("app_http_requests_total",
                                          lambda r: r and r[0][1] > 0)
                    c.equal(res[0][0].get("method"), METHOD, "escaped label round trip")
                    c.equal(res[0][0].get("env"), "e2e", "Add_Label")
                    c.equal(res[0][0].get("job"), "sluice_exporter", "derived metrics job")
                    # one scrape holds both: +Inf bucket == count == counter
                    res = prom.query('app_http_latency_seconds_bucket{le="+Inf"} - '
                                     'ignoring(le) app_http_latency_seconds_count')
                    c.check(len(res) == 1 and res[0][1] == 0, "+Inf - count == 0: %r" % res)
                    res = prom.query("app_http_requests_total - ignoring(status) "
                                     "app_http_latency_seconds_count")
                    c.check(len(res) == 1 and res[0][1] == 0,
                            "counter - histogram count == 0: %r" % res)
                    res = prom.query('app_http_latency_seconds_bucket{le="0.5"}')
                    c.check(len(res) == 1 and res[0][1] > 0, "le=0.5 bucket > 0")
                # no scrape problem anywhere after several scrapes
                res = prom.wait_query("scrape_samples_scraped", lambda r: len(r) == 2)
                c.check(all(v > 0 for _, v in res), "samples scraped: %r" % res)
                for t in prom.targets():
                    c.check(t["health"] == "up" and not t["lastError"],
                            "target %s healthy: %r" % (t["job"], t))
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
            log.close()
        c.equal(rc, 0, "sluice exit code after SIGTERM")
        if c.failures:
            with open(os.path.join(tmp, "sluice.log"), "rb") as f:
                print(f.read().decode("utf-8", "replace")[-3000:])
    if not with_l2m:
        print("note: log_to_metrics not compiled in; derived metrics not checked")
    e2e.require_plugins("http", "witness")
    self_monitoring(c)
    c.finish()


if __name__ == "__main__":
    main()
