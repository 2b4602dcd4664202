# SPDX-License-Identifier: Apache-2.0
"""A scripted HTTP receiver for e2e tests (standard library only).

`Receiver` listens on 127.0.0.1 (a free port), takes POST/PUT requests on
any path, gunzips bodies sent with `Content-Encoding: gzip`, and answers each
request with the next step of its script (then with `default`). A step is a
dict {"status": 429, "headers": {...}, "body": "..."} or a callable
step(req) -> such a dict, so protocol receivers (loki_receiver.py) can judge
the body. Every request is kept as a `Request` (headers, raw and decoded
body, answer) for the test to inspect; `wait_for` polls with a deadline.

Run alone (`python3 http_receiver.py [PORT]`) it answers 200 to everything
and prints each body: handy to watch sluice's http output.
"""
import gzip
import http.server
import json
import socket
import sys
import threading
import time
import zlib


class Request:
    """One request as received, and how it was answered."""

    def __init__(self, method, path, headers, raw):
        self.method = method
        self.path = path
        self.headers = headers          # {lower-case name: value}; repeated names joined by ", "
        self.header_list = []           # [(name, value)] in order, repeats kept
        self.raw = raw                  # bytes as sent (maybe gzip)
        self.gzip = headers.get("content-encoding", "").lower() == "gzip"
        self.body = raw
        self.decode_error = None
        if self.gzip:
            try:
                self.body = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error) as e:
                self.decode_error = "bad gzip: %s" % e
        self.status = None
        self.answer_body = b""
        self.note = None                # what a protocol step decided

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as sluice's client expects

    def log_message(self, fmt, *args):  # quiet
        pass

    def _handle(self):
        rcv = self.server.receiver
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        headers = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = headers[k] + ", " + v if k in headers else v
        req = Request(self.command, self.path, headers, raw)
        req.header_list = list(self.headers.items())
        step = rcv._next_step()
        ans = step(req) if callable(step) else dict(step)
        if req.decode_error:
            ans = {"status": 400, "body": req.decode_error}
        status = int(ans.get("status", 200))
        body = ans.get("body", "")
        if isinstance(body, str):
            body = body.encode("utf-8")
        req.status, req.answer_body = status, body
        with rcv.lock:
            rcv.requests.append(req)
        self.send_response(status)
        for k, v in (ans.get("headers") or {}).items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    do_POST = _handle
    do_PUT = _handle

    def do_GET(self):
        # A read-only view of what arrived, for humans and other tools.
        rcv = self.server.receiver
        with rcv.lock:
            data = [{"path": r.path, "status": r.status,
                     "body": r.body.decode("utf-8", "replace")} for r in rcv.requests]
        body = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Receiver:
    """A scripted receiver; use as a context manager or call close()."""

    def __init__(self, script=None, default=None, port=0):
        self.lock = threading.Lock()
        self.requests = []
        self.script = list(script or [])
        self.default = default if default is not None else {"status": 200}
        self.server = _Server(("127.0.0.1", port), _Handler)
        self.server.receiver = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def _next_step(self):
        with self.lock:
            if self.script:
                return self.script.pop(0)
        return self.default

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def wait_for(self, pred, timeout, what="requests"):
        """Polls pred(requests) until true; returns its value or raises."""
        deadline = time.monotonic() + timeout
        while True:
            v = pred(self.snapshot())
            if v:
                return v
            if time.monotonic() >= deadline:
                raise TimeoutError("timed out after %.1fs waiting for %s" % (timeout, what))
            time.sleep(0.05)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def free_port():
    """A TCP port that was free a moment ago on 127.0.0.1."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def prometheus_value(text, name, labels):
    """The value of series `name{labels...}` in a text exposition, or None."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        head, _, value = line.rpartition(" ")
        if all('%s="%s"' % (k, v) in head for k, v in labels.items()):
            try:
                return float(value)
            except ValueError:
                return None
    return None


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0

    def show(req):
        print(req.method, req.path, len(req.body), "bytes")
        print(req.body.decode("utf-8", "replace")[:2000])
        return {"status": 200}

    r = Receiver(default=show, port=port)
    print("listening on 127.0.0.1:%d" % r.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        r.close()
