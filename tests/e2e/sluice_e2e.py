# SPDX-License-Identifier: Apache-2.0
"""Shared helpers for sluice's end-to-end scripts (standard library only).

Each e2e script is run by meson as `python3 script.py SLUICE_BINARY` with
SLUICE_SOURCE_ROOT set. These helpers start the binary on a generated
config, wait for things with a deadline (never a bare sleep as an
assertion), and read what the file output wrote. They do not judge results:
the scripts do.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time



def binary():
    """The sluice binary: argv[1], else $SLUICE_BIN, else build/sluice."""
    if len(sys.argv) > 1:
        return os.path.abspath(sys.argv[1])
    if os.environ.get("SLUICE_BIN"):
        return os.path.abspath(os.environ["SLUICE_BIN"])
    return os.path.join(source_root(), "build", "sluice")


def source_root():
    root = os.environ.get("SLUICE_SOURCE_ROOT")
    if root:
        return root
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def e2e_dir():
    return os.path.dirname(os.path.abspath(__file__))


def skip(reason):
    """A test that cannot run fails: every plugin, tool and corpus it needs
    is part of the build or installed by packaging/deps.sh, so a missing one
    is a broken setup that must not pass as green."""
    print("FAIL (cannot run): " + reason)
    sys.exit(1)


def require_plugins(*names):
    """Fails the test unless `sluice -h` lists every plugin."""
    try:
        out = subprocess.run([binary(), "-h"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        skip("cannot run %s -h: %s" % (binary(), e))
    text = (out.stdout + out.stderr).decode("utf-8", "replace")
    # `sluice -h` lists "  input tail - ...", "  filter grep - ...".
    listed = set(re.findall(r"^\s*(?:input|filter|output)\s+([\w.-]+)\s+-", text, re.M))
    missing = [n for n in names if n not in listed]
    if missing:
        skip("plugins not compiled in: " + ", ".join(missing))


def wait_for(pred, timeout, interval=0.05, what="condition"):
    """Polls pred() until it returns a true value; raises on the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class TempDir:
    """A temporary directory kept when $SLUICE_E2E_KEEP is set (for debugging)."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        if os.environ.get("SLUICE_E2E_KEEP"):
            print("kept " + self.path)
        else:
            shutil.rmtree(self.path, ignore_errors=True)


def section(name, **kv):
    """One classic-format section; values are written as given."""
    lines = ["[%s]" % name]
    for k, v in kv.items():
        if isinstance(v, (list, tuple)):
            lines += ["    %s %s" % (k, x) for x in v]
        else:
            lines.append("    %s %s" % (k, v))
    return "\n".join(lines) + "\n"


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


class Run:
    """A finished run: exit code, stdout, stderr (bytes) and wall time."""

    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds

    def log(self):
        return self.err.decode("utf-8", "replace")


def run_to_exit(args, timeout=120, cwd=None):
    """Runs sluice with args until it exits (Exit_On_Eof pipelines).

    On the deadline the process gets SIGTERM, then SIGKILL, and TimeoutError
    is raised with its stderr.
    """
    t0 = time.monotonic()
    p = subprocess.Popen([binary()] + list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=cwd)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        raise TimeoutError("sluice did not exit within %ss; stderr:\n%s"
                           % (timeout, err.decode("utf-8", "replace")[-4000:]))
    return Run(p.returncode, out, err, time.monotonic() - t0)


def run_until(args, done, timeout=60, cwd=None):
    """Runs sluice with args until done() is true (or sluice exits), then
    stops it with SIGTERM and returns the Run. For pipelines that stop
    producing but keep running, as dummy with Samples does in Fluent Bit.
    On the deadline sluice is stopped and TimeoutError raised with its
    stderr."""
    t0 = time.monotonic()
    p = subprocess.Popen([binary()] + list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=cwd)
    deadline = t0 + timeout
    while p.poll() is None and not done() and time.monotonic() < deadline:
        time.sleep(0.05)
    timed_out = p.poll() is None and not done()
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    if timed_out:
        raise TimeoutError("sluice did not get there within %ss; stderr:\n%s"
                           % (timeout, err.decode("utf-8", "replace")[-4000:]))
    return Run(p.returncode, out, err, time.monotonic() - t0)


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def wait_for_lines(path, n, timeout=30):
    """Waits until `path` holds at least n lines; returns the count."""
    return wait_for(lambda: count_lines(path) >= n and count_lines(path),
                    timeout, what="%d lines in %s" % (n, path))


def parse_out_file_line(line):
    """Fluent Bit's out_file line "<tag>: [<sec>.<nsec>, {json}]".

    Returns (tag, ts_ns, record). The record is decoded with strict JSON;
    the timestamp is exact (integer nanoseconds from the text).
    """
    if isinstance(line, bytes):
        line = line.decode("utf-8")
    line = line.rstrip("\n")
    i = line.index(": [")
    tag = line[:i]
    rest = line[i + 3:]
    j = rest.index(", ")
    ts_text = rest[:j]
    if not rest.endswith("]"):
        raise ValueError("no closing bracket: %r" % line[:200])
    record = json.loads(rest[j + 2:-1])
    sec, _, frac = ts_text.partition(".")
    ts_ns = int(sec) * 1_000_000_000 + int((frac + "000000000")[:9])
    return tag, ts_ns, record


def complete_lines(path):
    """The lines of a file sluice may still be writing: a last line without
    its newline is a write in progress, not a record yet."""
    with open(path, "rb") as f:
        return [l for l in f if l.endswith(b"\n") and l.strip()]


def read_out_file(path):
    """All records of an out_file-format file: [(tag, ts_ns, record)]."""
    return [parse_out_file_line(l) for l in complete_lines(path)]


def read_plain(path):
    """All records of a plain (JSON lines) file."""
    return [json.loads(l) for l in complete_lines(path)]


def parsers_file(path, parsers):
    """Writes a Parsers_File from [{Name:..., Format:..., ...}]."""
    return write(path, "\n".join(section("PARSER", **p) for p in parsers))


class Checker:
    """Collects failures so one run reports every problem, then exits."""

    def __init__(self):
        self.failures = []
        self.checks = 0

    def check(self, ok, msg):
        self.checks += 1
        if not ok:
            self.failures.append(msg)
            if len(self.failures) <= 50:
                print("FAIL: " + msg)
        return ok

    def equal(self, got, want, msg):
        return self.check(got == want, "%s: got %r, want %r" % (msg, got, want))

    def finish(self):
        if self.failures:
            print("%d of %d checks failed" % (len(self.failures), self.checks))
            sys.exit(1)
        print("ok: %d checks" % self.checks)
        sys.exit(0)


# ---- helpers for storage, HTTP-ingest and crash tests ----------------------

def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_request(port, method, path, body=None, headers=None, timeout=10):
    """(status, headers dict lower-cased, body bytes), or None when nothing
    answered (refused, reset, timed out)."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=dict(headers or {}))
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except OSError:
        return None
    finally:
        c.close()


def wait_port(port, proc=None, timeout=20):
    """Waits until 127.0.0.1:port accepts; fails early if proc exited."""
    import socket

    def up():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("sluice exited with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    wait_for(up, timeout, what="port %d listening" % port)


def metric_value(port, name, labels=None):
    """The value of one series of the service API's Prometheus text
    (labels: a dict that must all match), or None when absent."""
    r = http_request(port, "GET", "/api/v1/metrics/prometheus", timeout=5)
    if not r or r[0] != 200:
        return None
    for line in r[2].decode("utf-8", "replace").splitlines():
        m = re.match(r"^%s(?:\{([^}]*)\})? (\S+)$" % re.escape(name), line)
        if m and all('%s="%s"' % kv in (m.group(1) or "")
                     for kv in (labels or {}).items()):
            return float(m.group(2))
    return None


def metric_sum(port, name):
    """The sum of every series of a family (0 when absent)."""
    r = http_request(port, "GET", "/api/v1/metrics/prometheus", timeout=5)
    if not r or r[0] != 200:
        return 0.0
    total = 0.0
    for line in r[2].decode("utf-8", "replace").splitlines():
        m = re.match(r"^%s(?:\{[^}]*\})? (\S+)$" % re.escape(name), line)
        if m:
            total += float(m.group(1))
    return total


def vm_hwm_kb(pid):
    """Peak resident memory (VmHWM) of a live process, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Daemon:
    """sluice running on a config file, its log in a file (stdout+stderr)."""

    def __init__(self, conf, log_path, extra_args=(), preexec_fn=None):
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.p = subprocess.Popen([binary(), "-c", conf] + list(extra_args),
                                  stdout=self.log, stderr=subprocess.STDOUT,
                                  preexec_fn=preexec_fn)

    @property
    def pid(self):
        return self.p.pid

    def kill(self):
        """SIGKILL: the crash case."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
        self.p.wait(timeout=10)
        self.log.close()
        return self.p.returncode

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        return self.p.returncode

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")
