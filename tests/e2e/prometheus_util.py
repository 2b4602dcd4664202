# SPDX-License-Identifier: Apache-2.0
"""A real Prometheus server and promtool for end-to-end tests (stdlib only).

`Prometheus(targets)` starts Debian's `prometheus` on a free 127.0.0.1 port
with a temporary config that scrapes the given targets every second and a
temporary TSDB, waits for /-/ready, and offers the HTTP API: instant
queries, target health, waiting helpers. `promtool_check_metrics(text)`
lints an exposition. Skips the test (exit 77) only when the binaries are
not installed (packaging/deps.sh installs the `prometheus` package).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

def find_tool(name):
    """Path of `name` on PATH or in /usr/bin, else None."""
    path = shutil.which(name)
    if path:
        return path
    for d in ("/usr/bin", "/usr/local/bin"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return None


def require_tools():
    """Returns (prometheus, promtool). Their absence fails the test: the
    suite's own packaging/deps.sh installs them, so a missing tool is a
    broken setup, never a reason to pass."""
    prom, tool = find_tool("prometheus"), find_tool("promtool")
    if not prom or not tool:
        print("FAIL: prometheus/promtool not installed (packaging/deps.sh "
              "installs the Debian 'prometheus' package)")
        sys.exit(1)
    return prom, tool


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    """(status, headers dict, body bytes); errors with a status are returned."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def promtool_check_metrics(text, promtool=None):
    """Runs `promtool check metrics` on an exposition.

    Returns (exit code, problems text). promtool prints nothing and exits 0
    when it finds no problem.
    """
    promtool = promtool or require_tools()[1]
    if isinstance(text, str):
        text = text.encode("utf-8")
    r = subprocess.run([promtool, "check", "metrics"], input=text,
                       capture_output=True, timeout=60)
    return r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace").strip()


def _yaml_str(s):
    return json.dumps(s)  # a JSON string is a valid YAML double-quoted scalar


class Prometheus:
    """A Prometheus server scraping `targets` every second.

    targets: list of (job, "host:port", metrics_path). Use as a context
    manager, or call stop(). Data lives in a temporary directory removed on
    stop (kept when $SLUICE_E2E_KEEP is set).
    """

    def __init__(self, targets, interval="1s", rule_files=()):
        self.binary, self.promtool = require_tools()
        self.dir = tempfile.mkdtemp(prefix="sluice-prom-")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        lines = ["global:",
                 "  scrape_interval: %s" % interval,
                 "  scrape_timeout: %s" % interval,
                 "  evaluation_interval: %s" % interval,
                 "rule_files: [%s]" % ", ".join(_yaml_str(os.path.abspath(r))
                                                 for r in rule_files),
                 "scrape_configs:"]
        for job, target, path in targets:
            lines += ["  - job_name: %s" % _yaml_str(job),
                      "    metrics_path: %s" % _yaml_str(path),
                      "    static_configs:",
                      "      - targets: [%s]" % _yaml_str(target)]
        self.config = os.path.join(self.dir, "prometheus.yml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "--config.file=" + self.config,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port,
             "--log.level=warn"],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=self.dir)
        try:
            self._wait_ready(60)
        except Exception:
            self.stop()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("prometheus exited with %d:\n%s"
                                   % (self.proc.returncode, self.log()[-4000:]))
            try:
                if http_get(self.url + "/-/ready", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError("prometheus not ready after %ss:\n%s"
                           % (timeout, self.log()[-4000:]))

    def api(self, path, **params):
        """GET /api/v1/<path>; returns the decoded "data" of a success."""
        url = self.url + "/api/v1/" + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        status, _, body = http_get(url, timeout=10)
        doc = json.loads(body)
        if status != 200 or doc.get("status") != "success":
            raise RuntimeError("prometheus %s: %d %s" % (path, status, body[:500]))
        return doc["data"]

    def query(self, expr):
        """Instant query: [(labels dict, float value)] for a vector result."""
        data = self.api("query", query=expr)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def alerts(self):
        """Active alerts: [{"name", "state" (pending|firing), "labels"}]."""
        return [{"name": a["labels"].get("alertname"), "state": a["state"],
                 "labels": a["labels"]} for a in self.api("alerts")["alerts"]]

    def targets(self):
        """Active targets: [{"job", "url", "health", "lastError"}]."""
        out = []
        for t in self.api("targets", state="active")["activeTargets"]:
            out.append({"job": t["labels"].get("job"), "url": t["scrapeUrl"],
                        "health": t["health"], "lastError": t["lastError"]})
        return out

    def wait_targets_up(self, timeout=30):
        """Waits until every target was scraped with health "up" and no
        error; returns the targets, or raises with their last state."""
        deadline = time.monotonic() + timeout
        last = []
        while time.monotonic() < deadline:
            last = self.targets()
            if last and all(t["health"] == "up" and not t["lastError"] for t in last):
                return last
            time.sleep(0.2)
        raise TimeoutError("targets not all up after %ss: %r" % (timeout, last))

    def wait_query(self, expr, pred=lambda res: len(res) > 0, timeout=30):
        """Polls an instant query until pred(result) holds; returns it."""
        deadline = time.monotonic() + timeout
        res = None
        while time.monotonic() < deadline:
            res = self.query(expr)
            if pred(res):
                return res
            time.sleep(0.2)
        raise TimeoutError("query %r: condition not met after %ss; last %r"
                           % (expr, timeout, res))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None
        if os.environ.get("SLUICE_E2E_KEEP"):
            print("kept " + self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
