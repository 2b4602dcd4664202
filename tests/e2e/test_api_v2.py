# SPDX-License-Identifier: Apache-2.0
"""The service API paths Fluent Bit's Helm chart, operator and dashboards
use, with Fluent Bit's shapes: /api/v2/metrics/prometheus,
/api/v2/metrics (cmetrics text), /api/v1/metrics (JSON), /api/v1/uptime,
/api/v2/health (JSON, 200/500 by the Health_Check rule), /api/v2/reload
(GET count; POST/PUT reload only with Hot_Reload On), and
[SERVICE] metrics.names fluentbit|both: Fluent Bit's metric and label
names, checked by promtool and scraped by a real Prometheus with the
queries a Fluent Bit dashboard runs."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prometheus_util as pu  # noqa: E402
import sluice_e2e as e2e  # noqa: E402


def conf(port, out_port, **svc):
    kv = dict(Flush="0.2", Grace="1", Log_Level="info", HTTP_Server="On",
              HTTP_Listen="127.0.0.1", HTTP_Port=port)
    kv.update(svc)
    # an http output to a closed port: errors and retries to count
    return (e2e.section("SERVICE", **kv)
            + e2e.section("INPUT", Name="dummy", Tag="app.one", Rate="20")
            + e2e.section("OUTPUT", Name="null", Match="*")
            + e2e.section("OUTPUT", Name="http", Match="*", Host="127.0.0.1",
                          Port=out_port, Retry_Limit="1"))


def get(port, path, method="GET"):
    return e2e.http_request(port, method, path, body=b"" if method != "GET" else None)


def samples(text):
    """{(name, frozenset(labels)): value} of a Prometheus exposition."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$", line)
        if m:
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def started(c, d, port):
    try:
        e2e.wait_port(port, d.p, 30)
        return True
    except Exception as e:  # noqa: BLE001
        c.check(False, "sluice did not start: %s\n%s" % (e, d.output()[-2000:]))
        return False


def check_paths(c, tmp):
    port, dead = e2e.free_port(), e2e.free_port()
    path = e2e.write(os.path.join(tmp, "paths.conf"),
                     conf(port, dead, Health_Check="On", HC_Errors_Count="0",
                          HC_Period="60"))
    d = e2e.Daemon(path, os.path.join(tmp, "paths.log"))
    try:
        if not started(c, d, port):
            return
        e2e.wait_for(lambda: (e2e.metric_value(port, "sluice_output_errors_total",
                                               {"name": "http.1"}) or 0) > 0,
                     60, what="an output error")
        v1 = get(port, "/api/v1/metrics/prometheus")
        v2 = get(port, "/api/v2/metrics/prometheus")
        c.equal(v2 and v2[0], 200, "/api/v2/metrics/prometheus status")
        c.check(v2 and v2[1].get("content-type", "").startswith("text/plain; version=0.0.4"),
                "v2 prometheus content type")
        c.equal(v2 and set(k for k, _ in samples(v2[2].decode())),
                v1 and set(k for k, _ in samples(v1[2].decode())),
                "v1 and v2 prometheus list the same families")
        c.check(v2 and "fluentbit_" not in v2[2].decode(),
                "default names: no fluentbit_ families")

        text = get(port, "/api/v2/metrics")
        c.equal(text and text[0], 200, "/api/v2/metrics status")
        line = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z "
                          r"([a-z_]+)(\{[^}]*\})? = (\S+)$")
        lines = text[2].decode().splitlines() if text else []
        c.check(lines and all(line.match(ln) for ln in lines),
                "/api/v2/metrics: every line is 'TIME NAME{labels} = VALUE': %r"
                % [ln for ln in lines if not line.match(ln)][:3])
        c.check(any(ln.split(" ")[1].startswith('sluice_input_records_total{name="dummy.0"}')
                    for ln in lines), "/api/v2/metrics has the input's records")

        js = get(port, "/api/v1/metrics")
        c.equal(js and js[0], 200, "/api/v1/metrics status")
        doc = json.loads(js[2]) if js else {}
        c.check(doc.get("input", {}).get("dummy.0", {}).get("records", 0) > 0,
                "/api/v1/metrics input records > 0: %r" % doc.get("input"))
        out = doc.get("output", {}).get("http.1", {})
        c.equal(sorted(out), sorted(["proc_records", "proc_bytes", "errors", "retries",
                                     "retries_failed", "dropped_records",
                                     "retried_records"]),
                "/api/v1/metrics output keys (Fluent Bit's)")
        c.check(out.get("errors", 0) > 0, "/api/v1/metrics output errors counted")

        up = get(port, "/api/v1/uptime")
        c.equal(up and up[0], 200, "/api/v1/uptime status")
        udoc = json.loads(up[2]) if up else {}
        c.check(isinstance(udoc.get("uptime_sec"), int) and "uptime_hr" in udoc,
                "/api/v1/uptime shape: %r" % udoc)

        h = get(port, "/api/v2/health")
        hdoc = json.loads(h[2]) if h else {}
        c.equal(h and h[0], 500, "/api/v2/health is 500 once errors exceed HC_Errors_Count 0")
        c.equal(hdoc.get("status"), "error", "/api/v2/health status")
        c.check(hdoc.get("errors", 0) > 0, "/api/v2/health errors in the period")
        c.equal([hdoc.get(k) for k in ("error_limit", "retry_failure_limit", "period_limit")],
                [0, 5, 60], "/api/v2/health limits")
        v1h = get(port, "/api/v1/health")
        c.equal(v1h and v1h[0], 500, "/api/v1/health agrees")

        r = get(port, "/api/v2/reload")
        c.equal(r and json.loads(r[2]), {"hot_reload_count": 0}, "GET /api/v2/reload")
        r = get(port, "/api/v2/reload", "POST")
        c.equal(r and (r[0], json.loads(r[2])),
                (200, {"reload": "not enabled", "status": -1}),
                "POST /api/v2/reload without Hot_Reload")
        r = get(port, "/api/v2/reload", "DELETE")
        c.equal(r and r[0], 405, "DELETE /api/v2/reload")
        c.check(d.p.poll() is None, "still running")
    finally:
        d.stop()


def check_reload(c, tmp):
    port, dead = e2e.free_port(), e2e.free_port()
    path = e2e.write(os.path.join(tmp, "reload.conf"),
                     conf(port, dead, Hot_Reload="On"))
    d = e2e.Daemon(path, os.path.join(tmp, "reload.log"))
    try:
        if not started(c, d, port):
            return
        for method, n in (("POST", 1), ("PUT", 2)):
            r = get(port, "/api/v2/reload", method)
            c.equal(r and (r[0], json.loads(r[2])),
                    (200, {"reload": "done", "status": 0}),
                    "%s /api/v2/reload with Hot_Reload On" % method)

            def count(want=n):
                g = get(port, "/api/v2/reload")
                return g and g[0] == 200 and json.loads(g[2]) == {"hot_reload_count": want}
            try:
                e2e.wait_for(count, 30, what="hot_reload_count %d" % n)
            except Exception as e:  # noqa: BLE001
                c.check(False, "%s\n%s" % (e, d.output()[-2000:]))
        c.check(d.output().count("configuration reloaded") == 2,
                "two reloads logged")
        c.check(d.p.poll() is None, "still running after reloads")
    finally:
        d.stop()


FLUENTBIT_FAMILIES = ["fluentbit_input_records_total", "fluentbit_input_bytes_total",
                      "fluentbit_output_proc_records_total",
                      "fluentbit_output_proc_bytes_total", "fluentbit_output_errors_total",
                      "fluentbit_output_retries_total",
                      "fluentbit_output_retries_failed_total",
                      "fluentbit_output_dropped_records_total", "fluentbit_uptime",
                      "fluentbit_process_start_time_seconds", "fluentbit_build_info",
                      "fluentbit_hot_reloaded_times"]


def check_names(c, tmp, names):
    port, dead = e2e.free_port(), e2e.free_port()
    path = e2e.write(os.path.join(tmp, names + ".conf"),
                     conf(port, dead, **{"metrics.names": names}))
    d = e2e.Daemon(path, os.path.join(tmp, names + ".log"))
    try:
        if not started(c, d, port):
            return
        e2e.wait_for(lambda: (e2e.metric_value(port, "fluentbit_output_retries_failed_total",
                                               {"name": "http.1"}) or 0) > 0,
                     60, what="a chunk given up (Retry_Limit 1)")
        body = get(port, "/api/v2/metrics/prometheus")[2].decode()
        s = samples(body)
        fams = set(k for k, _ in s)
        for f in FLUENTBIT_FAMILIES:
            c.check(f in fams, "%s: %s present" % (names, f))
        c.equal("sluice_input_records_total" in fams, names == "both",
                "%s: sluice_input_records_total present" % names)
        c.check("sluice_http_connections" in fams,
                "%s: sluice-only families keep their names" % names)
        dropped = [(lb, v) for (k, lb), v in s.items()
                   if k == "fluentbit_output_dropped_records_total"
                   and dict(lb).get("name") == "http.1"]
        c.check(len(dropped) == 1 and dict(dropped[0][0]) == {"name": "http.1"},
                "%s: dropped records by name only (Fluent Bit's labels): %r" % (names, dropped))
        c.check(dropped and dropped[0][1] > 0, "%s: dropped records counted" % names)
        info = [dict(lb) for (k, lb) in s if k == "fluentbit_build_info"]
        c.check(info and sorted(info[0]) == ["hostname", "os", "version"],
                "%s: build_info labels: %r" % (names, info))
        rc, problems = pu.promtool_check_metrics(body)
        c.check(rc == 0, "%s: promtool check metrics: %s" % (names, problems))
        if names != "fluentbit":
            return
        targets = [("fluent-bit", "127.0.0.1:%d" % port, "/api/v2/metrics/prometheus")]
        with pu.Prometheus(targets) as prom:
            try:
                prom.wait_targets_up(60)
                # queries of Fluent Bit's own dashboard and alert examples
                res = prom.wait_query('sum(rate(fluentbit_input_records_total[1m]))'
                                      ' by (name)', lambda r: r and r[0][1] > 0)
                c.equal(res[0][0].get("name"), "dummy.0", "rate by input name")
                res = prom.wait_query('fluentbit_output_retries_failed_total{name="http.1"}',
                                      lambda r: r and r[0][1] > 0)
                c.check(res[0][1] > 0, "retries_failed alert expression")
                res = prom.wait_query("time() - fluentbit_process_start_time_seconds")
                c.check(0 <= res[0][1] < 3600, "process start time is now: %r" % res)
            except Exception as e:  # noqa: BLE001
                c.check(False, "prometheus: %s\n%s" % (e, prom.log()[-2000:]))
    finally:
        d.stop()


def check_bad_names(c, tmp):
    path = e2e.write(os.path.join(tmp, "bad.conf"),
                     e2e.section("SERVICE", **{"metrics.names": "prometheus"})
                     + e2e.section("INPUT", Name="dummy")
                     + e2e.section("OUTPUT", Name="null", Match="*"))
    r = e2e.run_to_exit(["--dry-run", "-c", path])
    c.equal(r.rc, 1, "metrics.names prometheus is a config error")
    c.check(re.search(r"bad\.conf:2: .*metrics\.names 'prometheus' must be sluice, "
                      r"fluentbit or both", r.log()), "error names FILE:LINE: %r" % r.log())


def main():
    pu.require_tools()
    c = e2e.Checker()
    with e2e.TempDir("api-v2") as tmp:
        check_paths(c, tmp)
        check_reload(c, tmp)
        check_names(c, tmp, "fluentbit")
        check_names(c, tmp, "both")
        check_bad_names(c, tmp)
    c.finish()


if __name__ == "__main__":
    main()
