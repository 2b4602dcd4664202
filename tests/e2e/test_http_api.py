# SPDX-License-Identifier: Apache-2.0
"""The service HTTP API of a running sluice ([SERVICE] HTTP_Server On):
GET / (name, version, plugins), GET /api/v1/metrics/prometheus (SPEC §5
names), GET /api/v1/health by Fluent Bit's rules (always 200 with
Health_Check Off; 500 once output errors in HC_Period exceed
HC_Errors_Count), 404/405, and a port in use as a start-up failure (exit 2,
one line on stderr naming the address)."""
import json
import os
import re
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prometheus_util as pu  # noqa: E402
import sluice_e2e as e2e  # noqa: E402

# main.c adds this generic line after the logged start-up error; SPEC §2
# wants one line (reported to main.c's owner). Tolerated only verbatim.


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


def service(port, **extra):
    kv = dict(Flush="0.2", Grace="1", Log_Level="warn", HTTP_Server="On",
              HTTP_Listen="127.0.0.1", HTTP_Port=port)
    kv.update(extra)
    return e2e.section("SERVICE", **kv)


def get(port, path, method="GET"):
    url = "http://127.0.0.1:%d%s" % (port, path)
    if method == "GET":
        try:
            return pu.http_get(url, timeout=3)
        except OSError:
            return None
    import urllib.request
    import urllib.error
    req = urllib.request.Request(url, data=b"x" if method == "POST" else None,
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=3) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
    except OSError:
        return None


def metric(port, name, labels):
    """The value of one sample of /api/v1/metrics/prometheus, or None."""
    r = get(port, "/api/v1/metrics/prometheus")
    if not r or r[0] != 200:
        return None
    want = name + ("{%s}" % ",".join('%s="%s"' % kv for kv in labels) if labels else "") + " "
    for line in r[2].decode("utf-8").splitlines():
        if line.startswith(want):
            return float(line[len(want):])
    return None


def check_basics(c, tmp):
    port = pu.free_port()
    text = service(port)
    text += e2e.section("INPUT", Name="dummy", Rate="20", Tag="app")
    text += e2e.section("FILTER", Name="grep", Match="*", Regex="message .")
    text += e2e.section("OUTPUT", Name="null", Match="*")
    s = Sluice(tmp, "basics", text)
    try:
        e2e.wait_for(lambda: (metric(port, "sluice_output_proc_records_total",
                                     [("name", "null.0")]) or 0) > 0,
                     30, what="records through null.0")
        r = get(port, "/")
        c.equal(r[0], 200, "GET / status")
        c.equal(r[1].get("Content-Type"), "application/json", "GET / Content-Type")
        doc = json.loads(r[2])
        version = subprocess.run([e2e.binary(), "-V"], capture_output=True,
                                 text=True).stdout.split()[-1].lstrip("v")
        c.equal(doc["sluice"]["version"], version, "version as sluice -V")
        plugins = doc["sluice"]["plugins"]
        c.check("dummy" in plugins["inputs"] and "tail" in plugins["inputs"],
                "inputs listed: %r" % plugins["inputs"])
        c.check("grep" in plugins["filters"], "filters listed: %r" % plugins["filters"])
        c.check({"null", "file", "prometheus_exporter"} <= set(plugins["outputs"]),
                "outputs listed: %r" % plugins["outputs"])

        r = get(port, "/api/v1/metrics/prometheus")
        c.equal(r[0], 200, "metrics status")
        c.equal(r[1].get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8",
                "metrics Content-Type")
        body = r[2].decode("utf-8")
        for sample in ('sluice_input_records_total{name="dummy.0"}',
                       'sluice_input_bytes_total{name="dummy.0"}',
                       'sluice_input_parse_errors_total{name="dummy.0"}',
                       'sluice_filter_drop_records_total{name="grep.0"}',
                       'sluice_output_proc_records_total{name="null.0"}',
                       'sluice_output_errors_total{name="null.0"}',
                       'sluice_output_retries_total{name="null.0"}',
                       'sluice_output_retries_failed_total{name="null.0"}',
                       'sluice_storage_chunks{state="up"}',
                       'sluice_uptime_seconds'):
            c.check(re.search("^" + re.escape(sample) + r" [0-9.e+-]+$", body, re.M),
                    "metrics have " + sample)
        for reason in ("retry_limit", "rejected", "oversize", "buffer_full"):
            c.check('sluice_output_dropped_records_total{name="null.0",reason="%s"} 0\n'
                    % reason in body, "dropped records by reason " + reason)
        for name in ("sluice_input_records_total", "sluice_uptime_seconds"):
            c.equal(body.count("# TYPE %s " % name), 1, "one TYPE line for " + name)
        rc, problems = pu.promtool_check_metrics(r[2])
        c.check(rc == 0 and not problems, "promtool: %d %s" % (rc, problems))
        # uptime is refreshed on each render
        u1 = metric(port, "sluice_uptime_seconds", [])
        u2 = e2e.wait_for(lambda: (metric(port, "sluice_uptime_seconds", []) or 0) > u1 and
                          metric(port, "sluice_uptime_seconds", []), 10,
                          what="uptime to grow")
        c.check(u2 > u1, "uptime grows")

        r = get(port, "/api/v1/health")
        c.check(r[0] == 200 and r[2] == b"ok\n", "health Off: 200 ok: %r" % (r,))
        for path in ("/api/v1/nope", "/metrics", "/api/v1/health/x", "/api"):
            r = get(port, path)
            c.equal(r and r[0], 404, "GET %s" % path)
        for method in ("POST", "DELETE", "PUT"):
            r = get(port, "/api/v1/health", method)
            c.equal(r and r[0], 405, "%s /api/v1/health" % method)
            c.equal(r and r[1].get("Allow"), "GET", "%s Allow header" % method)
    finally:
        c.equal(s.stop(), 0, "basics: exit code")


def check_health(c, tmp):
    # a pipeline that delivers: Health_Check On stays 200
    port = pu.free_port()
    text = service(port, Health_Check="On", HC_Errors_Count="0",
                   HC_Retry_Failure_Count="0", HC_Period="5")
    text += e2e.section("INPUT", Name="dummy", Rate="20")
    text += e2e.section("OUTPUT", Name="null", Match="*")
    s = Sluice(tmp, "healthy", text)
    try:
        e2e.wait_for(lambda: (metric(port, "sluice_output_proc_records_total",
                                     [("name", "null.0")]) or 0) >= 20,
                     30, what="a second of delivered records")
        r = get(port, "/api/v1/health")
        c.check(r and r[0] == 200 and r[2] == b"ok\n", "delivering: 200 ok: %r" % (r,))
    finally:
        c.equal(s.stop(), 0, "healthy: exit code")

    # an output that cannot write: errors pile up past HC_Errors_Count -> 500
    for check_on in (True, False):
        port = pu.free_port()
        text = service(port, Health_Check="On" if check_on else "Off",
                       HC_Errors_Count="3", HC_Retry_Failure_Count="1000",
                       HC_Period="5", **{"scheduler.base": "0.05", "scheduler.cap": "0.1"})
        text += e2e.section("INPUT", Name="dummy", Rate="20")
        text += e2e.section("OUTPUT", Name="file", Match="*", Path="/proc/self",
                            File="x")
        s = Sluice(tmp, "failing-%s" % check_on, text)
        try:
            errors = e2e.wait_for(
                lambda: (metric(port, "sluice_output_errors_total",
                                [("name", "file.0")]) or 0) > 3 and
                metric(port, "sluice_output_errors_total", [("name", "file.0")]),
                30, what="more than 3 output errors")
            if check_on:
                r = e2e.wait_for(lambda: (lambda x: x and x[0] == 500 and x)(
                    get(port, "/api/v1/health")), 10, what="health 500")
                c.equal(r[2], b"error\n", "failing output: 500 error (%d errors)" % errors)
            else:
                r = get(port, "/api/v1/health")
                c.check(r and r[0] == 200 and r[2] == b"ok\n",
                        "Health_Check Off: 200 despite %d errors: %r" % (errors, r))
        finally:
            c.equal(s.stop(), 0, "failing output: exit code")


def check_port_in_use(c, tmp):
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    other = pu.free_port()
    try:
        cases = {
            "api": service(port) + e2e.section("INPUT", Name="dummy") +
            e2e.section("OUTPUT", Name="null", Match="*"),
            "exporter": service(other) + e2e.section("INPUT", Name="dummy") +
            e2e.section("OUTPUT", Name="prometheus_exporter", Match="*",
                        Host="127.0.0.1", Port=port),
        }
        for what, text in cases.items():
            conf = e2e.write(os.path.join(tmp, "busy-%s.conf" % what), text)
            r = e2e.run_to_exit(["-c", conf], timeout=20)
            err = r.log()
            lines = [ln for ln in err.splitlines() if ln.strip()]
            c.equal(r.rc, 2, "%s port in use: exit code" % what)
            c.check(len(lines) == 1 and "127.0.0.1:%d" % port in lines[0] and
                    "in use" in lines[0],
                    "%s port in use: one line naming the address: %r" % (what, err))
    finally:
        busy.close()


def main():
    e2e.require_plugins("dummy", "null", "file", "grep", "prometheus_exporter")
    pu.require_tools()
    c = e2e.Checker()
    with e2e.TempDir("sluice-http-api-") as tmp:
        check_basics(c, tmp)
        check_health(c, tmp)
        check_port_in_use(c, tmp)
    c.finish()


if __name__ == "__main__":
    main()
