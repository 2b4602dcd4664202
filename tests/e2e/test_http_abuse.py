# SPDX-License-Identifier: Apache-2.0
"""Hostile clients against every HTTP port of sluice (issues 8, 9): witness
and in_http, plain and TLS, the service API (HTTP_Server On) and a
prometheus_exporter, which share one server (core/http/sl_httpd.c): NUL bytes in the request line and in headers, bare LF and bare CR
are answered 400 and the collector lives on; a client that pipelines without
reading its answers costs bounded memory (VmHWM < 64 MB) and other clients
are still served; 1,100 idle connections from one address are cut at the
per-client limit while another address is served; at the descriptor limit
(EMFILE) accept() backs off instead of spinning and the server recovers once
connections close; chunked bodies are accepted, and refused (400, 413, 501)
when malformed, too large or in an unknown coding (on the GET-only ports
a body is read under the same limits and ignored). Every good record is
delivered exactly once and every refusal is counted in
/api/v1/metrics/prometheus."""
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

MAX_HWM_KB = 64 * 1024


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sluice:
    def __init__(self, tmp, name, text, nofile=None):
        self.conf = e2e.write(os.path.join(tmp, name + ".conf"), text)
        self.log_path = os.path.join(tmp, name + ".log")
        self.log = open(self.log_path, "wb")

        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        # the memory bound is sluice's: in the sanitizer build, ASan's
        # quarantine of freed blocks (256 MB by default) would count too
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "")
                               + ":quarantine_size_mb=8").lstrip(":")
        self.p = subprocess.Popen([e2e.binary(), "-c", self.conf],
                                  stdout=self.log, stderr=subprocess.STDOUT,
                                  preexec_fn=limit, env=env)

    def alive(self):
        return self.p.poll() is None

    def status(self, key):
        """A /proc/<pid>/status value in kB."""
        with open("/proc/%d/status" % self.p.pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return None

    def cpu_s(self):
        with open("/proc/%d/stat" % self.p.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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

    def log_size(self):
        return os.path.getsize(self.log_path)

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def wait_listening(port, proc, timeout=20):
    def up():
        if not proc.alive():
            raise RuntimeError("sluice exited: " + proc.output()[-2000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    e2e.wait_for(up, timeout, what="listening on %d" % port)


def connect(port, tls_ctx=None, source=None, timeout=10):
    sk = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                  source_address=(source, 0) if source else None)
    if tls_ctx:
        sk = tls_ctx.wrap_socket(sk, server_hostname="localhost")
    return sk


def raw(port, data, tls_ctx=None, source=None):
    """Sends bytes, returns the status of the first answer (None if none)."""
    try:
        sk = connect(port, tls_ctx, source)
    except OSError as e:
        print("connect error: %r" % e)
        return None
    got = b""
    try:
        sk.sendall(data)
        while b"\r\n" not in got:
            b = sk.recv(4096)
            if not b:
                break
            got += b
    except OSError as e:
        print("raw request error: %r" % e)
    finally:
        sk.close()
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", got)
    return int(m.group(1)) if m else None


def post(port, path, body, tls_ctx=None, headers=None, source=None,
         method="POST"):
    """A well-formed request with a body; returns the status or None."""
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    head = "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % (method,
                                                                     path)
    for k, v in h.items():
        head += "%s: %s\r\n" % (k, v)
    if "Transfer-Encoding" not in h:
        head += "Content-Length: %d\r\n" % len(body)
    return raw(port, head.encode() + b"\r\n" + body, tls_ctx, source)


def chunked(body, pieces=3, ext=b"", trailer=b""):
    out, step = b"", max(1, len(body) // pieces)
    for i in range(0, len(body), step):
        part = body[i:i + step]
        out += b"%x%s\r\n%s\r\n" % (len(part), ext, part)
    return out + b"0\r\n" + trailer + b"\r\n"


def get(port, path, source=None):
    """A well-formed GET; returns the status or None."""
    return raw(port, b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close"
               b"\r\n\r\n" % path.encode(), None, source)


def metrics(api):
    # from an address of its own: the per-client limit of the service API
    # port is under test from 127.0.0.1 and 127.0.0.2
    c = http.client.HTTPConnection("127.0.0.1", api, timeout=5,
                                   source_address=("127.0.0.3", 0))
    try:
        c.request("GET", "/api/v1/metrics/prometheus")
        return c.getresponse().read().decode()
    except OSError:
        return ""
    finally:
        c.close()


def metric(api, family, **labels):
    for line in metrics(api).splitlines():
        m = re.match(r"^%s\{([^}]*)\} (\S+)$" % re.escape(family), line)
        if m and all('%s="%s"' % kv in m.group(1) for kv in labels.items()):
            return float(m.group(2))
    return None


def ids(path):
    try:
        return [r.get("id") for r in e2e.read_plain(path)]
    except FileNotFoundError:
        return []


class Ports:
    """witness and in_http, each plain and TLS, the service API and a
    prometheus_exporter, in one collector."""

    def __init__(self):
        self.w, self.wt, self.h, self.ht, self.api, self.prom = (
            free_port() for _ in range(6))


class Target:
    """One port: where a good request goes, what it gets, its metrics name.
    Record ports take a POST whose record must be delivered; the GET-only
    ports (service API, exporter) answer a GET and deliver nothing."""

    def __init__(self, name, port, label, path, want, tls=None,
                 method="POST"):
        self.name, self.port, self.label = name, port, label
        self.path, self.want, self.tls, self.method = path, want, tls, method

    def good(self, c, good, what, **kw):
        if self.method == "POST":
            send_good(c, good, self.port, self.path, self.want, self.tls,
                      what, **kw)
        else:
            c.equal(get(self.port, self.path, kw.get("source")), self.want,
                    "%s: good request served" % what)


def record_targets(p, ctxs):
    return [Target("witness", p.w, "w", "/api/events", 202),
            Target("witness tls", p.wt, "wt", "/api/events", 202, ctxs),
            Target("http", p.h, "h", "/app", 201),
            Target("http tls", p.ht, "ht", "/app", 201, ctxs)]


def get_targets(p):
    return [Target("service api", p.api, "http_server", "/api/v1/health",
                   200, method="GET"),
            Target("prometheus_exporter", p.prom, "p", "/metrics", 200,
                   method="GET")]


def all_targets(p, ctxs):
    return record_targets(p, ctxs) + get_targets(p)


def config(p, out, crt, key, extra_service=None):
    tls = {"tls": "On", "tls.crt_file": crt, "tls.key_file": key}
    svc = dict(Flush="0.2", Grace="2", Log_Level="warn", HTTP_Server="On",
               HTTP_Listen="127.0.0.1", HTTP_Port=p.api)
    svc.update(extra_service or {})
    return (e2e.section("SERVICE", **svc)
            + e2e.section("INPUT", Name="witness", Alias="w", Listen="127.0.0.1",
                          Port=p.w, Auth="Off", Tag="w", Buffer_Max_Size="64K")
            + e2e.section("INPUT", Name="witness", Alias="wt",
                          Listen="127.0.0.1", Port=p.wt, Auth="Off", Tag="w",
                          Buffer_Max_Size="64K", **tls)
            + e2e.section("INPUT", Name="http", Alias="h", Listen="127.0.0.1",
                          Port=p.h, Buffer_Max_Size="64K",
                          **{"http_server.max_connections": 8})
            + e2e.section("INPUT", Name="http", Alias="ht", Listen="127.0.0.1",
                          Port=p.ht, Buffer_Max_Size="64K", **tls)
            + e2e.section("OUTPUT", Name="file", Match="*", Path=out,
                          File="events", Format="plain")
            + e2e.section("OUTPUT", Name="prometheus_exporter", Alias="p",
                          Match="nothing", Host="127.0.0.1", Port=p.prom))


class Good:
    """Good records sent, by id, to check exactly-once delivery."""

    def __init__(self):
        self.n = 0
        self.sent = []

    def body(self, prefix):
        self.n += 1
        rid = "%s-%d" % (prefix, self.n)
        return rid, json.dumps({"id": rid, "event": "ok"}).encode()


def send_good(c, good, port, path, want, tls_ctx, what, **kw):
    rid, body = good.body(what)
    st = post(port, path, body, tls_ctx, **kw)
    c.equal(st, want, "%s: good record accepted" % what)
    if st == want:
        good.sent.append(rid)


def head_abuse(c, s, p, ctxs, good):
    """NUL, bare LF, bare CR: 400 each, on every port; then a good record."""
    cases = {
        "NUL in a header": b"POST /api/events HTTP/1.1\r\nHost: x\r\n"
                           b"X-A: a\x00b\r\n\r\n",
        "NUL in the request line": b"POST /api/ev\x00ents HTTP/1.1\r\n"
                                   b"Host: x\r\n\r\n",
        "bare LF": b"POST /api/events HTTP/1.1\nHost: x\r\n\r\n",
        "bare LF only": b"GET / HTTP/1.1\nHost: x\n\n",
        "bare CR": b"POST /api/events HTTP/1.1\r\nHost: x\rX: y\r\n\r\n",
        "obs-fold": b"POST /api/events HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n",
    }
    refused = 0
    for t in all_targets(p, ctxs):
        for what, data in cases.items():
            c.equal(raw(t.port, data, t.tls), 400,
                    "%s: %s: 400" % (t.name, what))
            refused += 1
            c.check(s.alive(), "%s: %s: sluice alive" % (t.name, what))
        t.good(c, good, t.name + " after bad heads")
    return refused


def chunked_bodies(c, s, p, ctxs, good):
    """Accepted chunked bodies (with extensions and trailers), and refusals."""
    te = {"Transfer-Encoding": "chunked"}
    refused = {"400": 0, "413": 0, "501": 0}
    for t in all_targets(p, ctxs):
        name, port, path, want, ctx = t.name, t.port, t.path, t.want, t.tls
        records = t.method == "POST"

        def send(body, headers):
            return post(port, path, body, ctx, headers, method=t.method)
        # a GET's body is read under the same limits, then ignored
        rid, body = good.body(name + " chunked")
        st = send(chunked(body), te)
        c.equal(st, want, "%s: chunked body accepted" % name)
        if st == want and records:
            good.sent.append(rid)
        rid, body = good.body(name + " chunked+ext")
        st = send(chunked(body, 2, b";a=\"b;c\"", b"X-Trailer: t\r\n"), te)
        c.equal(st, want, "%s: chunk extensions and trailers" % name)
        if st == want and records:
            good.sent.append(rid)
        big = json.dumps({"id": "big", "pad": "x" * 70000}).encode()
        c.equal(send(chunked(big, 8), te), 413,
                "%s: chunked body over Buffer_Max_Size: 413" % name)
        refused["413"] += 1
        c.equal(send(b"5\r\nhello\n0\r\n\r\n", te), 400,
                "%s: malformed chunk framing: 400" % name)
        c.equal(send(b"zz\r\n", te), 400, "%s: bad chunk size: 400" % name)
        c.equal(send(chunked(b"{}"), dict(te, **{"Content-Length": "9"})),
                400, "%s: Content-Length and chunked: 400" % name)
        refused["400"] += 3
        c.equal(send(b"{}", {"Transfer-Encoding": "gzip, chunked"}), 501,
                "%s: unknown transfer coding: 501" % name)
        refused["501"] += 1
        c.check(s.alive(), "%s: alive after chunked bodies" % name)
    return refused


def pipelining(c, s, p, good):
    """One connection pipelines requests and never reads: memory stays
    bounded, the collector serves another client meanwhile."""
    print("VmHWM before pipelining: %s kB" % s.status("VmHWM"))
    for t in [record_targets(p, None)[0], record_targets(p, None)[2]] \
            + get_targets(p):
        name, port = t.name, t.port
        req = b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
        batch = req * 2048
        sk = connect(port)
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sk.settimeout(1.0)
        sent, t0 = 0, time.monotonic()
        stalled = False
        # bounded: 20 s or 400 MB, whichever first; stops once sends stall
        while time.monotonic() - t0 < 20 and sent < 400 << 20:
            try:
                sent += sk.send(batch)
            except socket.timeout:
                stalled = True
                break
            except OSError as e:
                print("pipelining send: %r" % e)
                break
        hwm = s.status("VmHWM")
        print("%s: pipelined %d bytes (stalled: %s), VmHWM %s kB"
              % (name, sent, stalled, hwm))
        c.check(stalled, "%s: a client that does not read is not read "
                "either (its sends stall)" % name)
        c.check(s.alive(), "%s: alive while a client pipelines" % name)
        c.check(hwm is not None and hwm < MAX_HWM_KB,
                "%s: VmHWM %s kB < 64 MB while pipelining" % (name, hwm))
        t.good(c, good, name + " while another pipelines")
        sk.close()


def idle_connections(c, s, p, good):
    """1,100 idle connections from 127.0.0.1: beyond 64 they are refused;
    127.0.0.2 is served meanwhile. On the witness port, the service API's
    and the exporter's."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1300:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    for t in [record_targets(p, None)[0]] + get_targets(p):
        idle_on(c, s, p, good, t)


def idle_on(c, s, p, good, t):
    name, label = t.name, t.label
    # the metrics query itself is open on the service API's port
    own = 1 if t.port == p.api else 0
    # the pipelining connections are gone first: the count below is exact
    e2e.wait_for(lambda: metric(p.api, "sluice_http_connections", name=label)
                 == own, 30, what="no connection open on the %s port" % name)
    socks = []
    try:
        for _ in range(1100):
            try:
                socks.append(socket.create_connection(("127.0.0.1", t.port),
                                                      timeout=5))
            except OSError as e:
                print("idle connect: %r" % e)
                break
        c.equal(len(socks), 1100, "%s: 1100 connections made" % name)
        want = len(socks) - 64
        e2e.wait_for(lambda: (metric(p.api, "sluice_http_connections_refused_total",
                                     name=label, reason="client_limit") or 0)
                     >= want, 20, what="client_limit refusals counted")
        got = metric(p.api, "sluice_http_connections_refused_total",
                     name=label, reason="client_limit")
        c.equal(got, float(want),
                "%s: refusals beyond 64 per client counted" % name)
        c.check(s.alive(), "%s: alive with 1100 connections from one client"
                % name)
        t.good(c, good, "%s: another address while one holds 64" % name,
               source="127.0.0.2")
        open_now = metric(p.api, "sluice_http_connections", name=label)
        c.check(open_now is not None and open_now <= 64 + own,
                "%s: open connections gauge <= 64 (%s)" % (name, open_now))
    finally:
        for sk in socks:
            sk.close()
    t.good(c, good, "%s: the same address once its connections closed" % name)


def total_limit(c, s, p, good):
    """http_server.max_connections 8 on the http input: a ninth connection
    is refused and counted; once they close, requests are served."""
    e2e.wait_for(lambda: metric(p.api, "sluice_http_connections", name="h")
                 == 0, 30, what="no connection open on the http port")
    socks = [socket.create_connection(("127.0.0.1", p.h), timeout=5)
             for _ in range(8)]
    try:
        e2e.wait_for(lambda: metric(p.api, "sluice_http_connections",
                                    name="h") == 8, 20,
                     what="8 connections open")
        c.equal(raw(p.h, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 503,
                "http_server.max_connections: the ninth is answered 503")
        c.equal(metric(p.api, "sluice_http_connections_refused_total",
                       name="h", reason="total_limit"), 1.0,
                "http_server.max_connections: refusal counted")
    finally:
        for sk in socks:
            sk.close()
    e2e.wait_for(lambda: metric(p.api, "sluice_http_connections", name="h")
                 == 0, 30, what="the 8 connections closed")
    send_good(c, good, p.h, "/app", 201, None, "http after the total limit")


def emfile(c, tmp, which):
    """sluice with RLIMIT_NOFILE 64: connections beyond it make accept()
    fail with EMFILE; the collector must not spin nor flood its log, and
    must serve again once connections close. `which` port is the target:
    the witness, the service API or the exporter."""
    p = Ports()
    port, api = p.w, p.api
    t = {tg.name: tg for tg in [record_targets(p, None)[0]]
         + get_targets(p)}[which]
    out = os.path.join(tmp, "out_emfile_" + t.label)
    os.mkdir(out)
    text = (e2e.section("SERVICE", Flush="0.2", Grace="2", Log_Level="info",
                        HTTP_Server="On", HTTP_Listen="127.0.0.1",
                        HTTP_Port=api)
            + e2e.section("INPUT", Name="witness", Alias="w",
                          Listen="127.0.0.1", Port=port, Auth="Off", Tag="w")
            + e2e.section("OUTPUT", Name="file", Match="*", Path=out,
                          File="events", Format="plain")
            + e2e.section("OUTPUT", Name="prometheus_exporter", Alias="p",
                          Match="nothing", Host="127.0.0.1", Port=p.prom))
    s = Sluice(tmp, "emfile_" + t.label, text, nofile=64)
    socks = []
    try:
        for lp in (port, api, p.prom):
            wait_listening(lp, s)
        log0 = s.log_size()
        for _ in range(120):
            try:
                socks.append(socket.create_connection(("127.0.0.1", t.port),
                                                      timeout=2))
            except OSError:
                break
        print("emfile %s: %d connections made" % (which, len(socks)))
        # CPU over a few seconds while accept() keeps failing
        cpu0, t0 = s.cpu_s(), time.monotonic()
        time.sleep(4)
        cpu = (s.cpu_s() - cpu0) / (time.monotonic() - t0)
        grown = s.log_size() - log0
        print("emfile %s: CPU %.1f%% of wall, log grew %d bytes"
              % (which, cpu * 100, grown))
        c.check(cpu < 0.5, "emfile %s: no spin (CPU %.0f%% of wall)"
                % (which, cpu * 100))
        c.check(grown < 64 * 1024, "emfile %s: log bounded (%d bytes)"
                % (which, grown))
        c.check(s.alive(), "emfile %s: alive at the descriptor limit" % which)
        for sk in socks:
            sk.close()
        socks = []
        rid = "emfile-1"
        st = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if t.method == "POST":
                st = post(t.port, t.path, json.dumps({"id": rid}).encode())
            else:
                st = get(t.port, t.path)
            if st == t.want:
                break
            time.sleep(0.5)
        c.equal(st, t.want, "emfile %s: served again once connections "
                "closed" % which)
        errs = metric(api, "sluice_http_accept_errors_total", name=t.label)
        c.check(errs is not None and errs >= 1,
                "emfile %s: accept errors counted (%s)" % (which, errs))
        if t.method == "POST":
            e2e.wait_for(lambda: ids(os.path.join(out, "events")) == [rid],
                         20, what="the record sent after EMFILE")
    finally:
        for sk in socks:
            sk.close()
        c.equal(s.stop(), 0, "emfile %s: clean stop" % which)


def main():
    e2e.require_plugins("witness", "http", "file", "prometheus_exporter")
    if not shutil.which("openssl"):
        raise SystemExit("test_http_abuse: the openssl command is needed")
    c = e2e.Checker()
    with e2e.TempDir("sluice-http-abuse-") as tmp:
        crt, key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", crt, "-days", "1",
                        "-subj", "/CN=localhost"], check=True,
                       capture_output=True)
        ctx = ssl.create_default_context(cafile=crt)
        p = Ports()
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        s = Sluice(tmp, "abuse", config(p, out, crt, key))
        good = Good()
        try:
            for port in (p.w, p.wt, p.h, p.ht, p.api, p.prom):
                wait_listening(port, s)
            n400 = head_abuse(c, s, p, ctx, good)
            refused = chunked_bodies(c, s, p, ctx, good)
            refused["400"] += n400
            pipelining(c, s, p, good)
            idle_connections(c, s, p, good)
            total_limit(c, s, p, good)
            # every refusal counted, by code, over the six servers
            for code, n in sorted(refused.items()):
                got = sum(metric(p.api, "sluice_http_requests_refused_total",
                                 name=t.label, code=code) or 0
                          for t in all_targets(p, ctx))
                c.equal(got, float(n), "refusals with %s counted" % code)
            path = os.path.join(out, "events")
            e2e.wait_for(lambda: sorted(ids(path)) == sorted(good.sent), 30,
                         what="every good record")
            got = ids(path)
            c.equal(sorted(got), sorted(good.sent),
                    "every good record delivered exactly once")
            c.check(s.alive(), "alive at the end")
        finally:
            c.equal(s.stop(), 0, "clean stop")
        for which in ("witness", "service api", "prometheus_exporter"):
            emfile(c, tmp, which)
    c.finish()


if __name__ == "__main__":
    main()
