# SPDX-License-Identifier: Apache-2.0
"""A fake Kubernetes API server (and kubelet) for the kubernetes filter's
e2e tests, in the standard library: HTTPS with a CA and server certificate
made by `openssl` at test time, a bearer token, pods and namespaces in the
real API's JSON shape, 404 for unknown objects, 401 for a bad token, and
knobs for slow answers and 500s. Every request served is logged as a
"METHOD PATH" line, so tests can count them and check each against the
ClusterRole (rbac_allows)."""
import http.server
import json
import os
import re
import socketserver
import ssl
import subprocess
import threading
import time
import urllib.parse


def make_ca(tmp):
    """A test CA and a server certificate for 127.0.0.1/localhost signed by
    it. Returns (ca_cert, server_cert, server_key) paths."""
    ca_key, ca_crt = os.path.join(tmp, "ca.key"), os.path.join(tmp, "ca.crt")
    key, csr, crt = (os.path.join(tmp, n) for n in ("srv.key", "srv.csr", "srv.crt"))
    ext = os.path.join(tmp, "srv.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")

    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt,
        "-days", "2", "-subj", "/CN=sluice-test-ca")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", "2", "-extfile", ext)
    return ca_crt, crt, key


def pod(ns, name, uid, labels=None, annotations=None, node="node-1", ip="10.0.0.7",
        containers=(), owner=None):
    """A pod object shaped like the API's (only what a kubelet-made pod has
    and the filter may read, plus some it must ignore)."""
    statuses = [{"name": c, "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}},
                 "ready": True, "restartCount": 0,
                 "image": "registry.example/%s:1.2" % c,
                 "imageID": "docker-pullable://registry.example/%s@sha256:%s" % (c, "ab" * 32),
                 "containerID": "containerd://%s" % cid}
                for c, cid in containers]
    meta = {"name": name, "namespace": ns, "uid": uid, "resourceVersion": "123",
            "creationTimestamp": "2024-01-01T00:00:00Z",
            "managedFields": [{"manager": "kubelet", "operation": "Update"}]}
    if labels is not None:
        meta["labels"] = labels
    if annotations is not None:
        meta["annotations"] = annotations
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                    "name": owner, "uid": "rs-uid", "controller": True}]
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta,
            "spec": {"nodeName": node, "containers": [{"name": c, "image": "x"} for c, _ in containers]},
            "status": {"phase": "Running", "podIP": ip, "hostIP": "192.0.2.1",
                       "containerStatuses": statuses}}


def namespace(name, labels=None, annotations=None):
    meta = {"name": name, "uid": "ns-" + name, "resourceVersion": "1"}
    if labels is not None:
        meta["labels"] = labels
    if annotations is not None:
        meta["annotations"] = annotations
    return {"kind": "Namespace", "apiVersion": "v1", "metadata": meta,
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class FakeKubeApi:
    """Start with start(); tokens, pods, namespaces, slow and fail are plain
    attributes the test may change while it runs (under self.lock)."""

    def __init__(self, tmp, tokens=("token-1",)):
        self.ca, self.cert, self.key = make_ca(tmp)
        self.tokens = set(tokens)
        self.pods = {}        # (ns, name) -> pod object
        self.namespaces = {}  # name -> namespace object
        self.slow = {}        # path prefix -> seconds to wait before answering
        self.fail = {}        # path prefix -> HTTP code to answer instead
        self.log = []         # "METHOD PATH" per request served
        self.auth_seen = []   # (path, token) per request
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.rv = 100         # the cluster's resourceVersion
        self.events = []      # (rv, type, pod) for watches
        self.closing = False
        self.server = None

    # ---- data ----
    def add_pod(self, p):
        """Adds or replaces a pod; watches see ADDED or MODIFIED."""
        with self.cond:
            key = (p["metadata"]["namespace"], p["metadata"]["name"])
            self.rv += 1
            p["metadata"]["resourceVersion"] = str(self.rv)
            self.events.append((self.rv, "MODIFIED" if key in self.pods else "ADDED", p))
            self.pods[key] = p
            self.cond.notify_all()

    def add_namespace(self, n):
        with self.lock:
            self.namespaces[n["metadata"]["name"]] = n

    def requests(self, path=None, watch=False):
        """Requests served (for path, without its query), lists and
        watches apart."""
        with self.lock:
            return [l for l in self.log
                    if (path is None or l.split(" ", 1)[1].split("?")[0] == path)
                    and (path is None or ("watch=1" in l) == watch)]

    # ---- server ----
    def start(self):
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def answer(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                path = self.path
                auth = self.headers.get("Authorization", "")
                token = auth[7:] if auth.startswith("Bearer ") else None
                with api.lock:
                    api.log.append("GET " + path)
                    api.auth_seen.append((path, token))
                    ok = token in api.tokens
                    delay = max([s for p, s in api.slow.items() if path.startswith(p)] or [0])
                    fail = [c for p, c in api.fail.items() if path.startswith(p)]
                if delay:
                    time.sleep(delay)
                if not ok:
                    return self.answer(401, status(401, "Unauthorized", "Unauthorized"))
                if fail:
                    return self.answer(fail[0], status(fail[0], "InternalError", "injected"))
                self.route(path)

            def chunk(self, obj):
                data = (json.dumps(obj) + "\n").encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            def watch(self, node, q):
                """A watch from resourceVersion: the events after it, as
                they happen, until timeoutSeconds (chunked, one per line)."""
                rv = int(q.get("resourceVersion", ["0"])[0] or 0)
                end = time.monotonic() + float(q.get("timeoutSeconds", ["60"])[0])
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    while True:
                        with api.cond:
                            new = [e for e in api.events if e[0] > rv]
                            if not new and not api.closing:
                                api.cond.wait(max(0.0, min(1.0, end - time.monotonic())))
                                new = [e for e in api.events if e[0] > rv]
                            closing = api.closing
                        for erv, typ, p in new:
                            rv = erv
                            if p["spec"].get("nodeName") == node:
                                self.chunk({"type": typ, "object": p})
                        if closing or time.monotonic() >= end:
                            break
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass

            def route(self, path):
                u = urllib.parse.urlsplit(path)
                q = urllib.parse.parse_qs(u.query)
                if u.path == "/api/v1/pods" and q.get("watch", [""])[0] in ("1", "true"):
                    sel = q.get("fieldSelector", [""])[0]
                    return self.watch(sel.split("=", 1)[1] if "=" in sel else None, q)
                m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods/([^/]+)", u.path)
                with api.lock:
                    if m:
                        key = (urllib.parse.unquote(m.group(1)), urllib.parse.unquote(m.group(2)))
                        p = api.pods.get(key)
                        if p:
                            return self.answer(200, p)
                        return self.answer(404, status(404, "NotFound",
                                                       'pods "%s" not found' % key[1]))
                    m = re.fullmatch(r"/api/v1/namespaces/([^/]+)", u.path)
                    if m:
                        n = api.namespaces.get(urllib.parse.unquote(m.group(1)))
                        if n:
                            return self.answer(200, n)
                        return self.answer(404, status(404, "NotFound", "namespace not found"))
                    if u.path in ("/api/v1/pods", "/pods"):
                        items = list(api.pods.values())
                        sel = q.get("fieldSelector", [""])[0]
                        if sel.startswith("spec.nodeName="):
                            node = sel.split("=", 1)[1]
                            items = [p for p in items if p["spec"].get("nodeName") == node]
                        return self.answer(200, {"kind": "PodList", "apiVersion": "v1",
                                                 "metadata": {"resourceVersion": str(api.rv)},
                                                 "items": items})
                return self.answer(404, status(404, "NotFound", "no route"))

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = "https://127.0.0.1:%d" % self.port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        with self.cond:
            self.closing = True
            self.cond.notify_all()
        if self.server:
            self.server.shutdown()
            self.server.server_close()


# ---- RBAC ------------------------------------------------------------------

def request_needs(line):
    """(resource, verb) that a "GET PATH" line needs from a ClusterRole."""
    method, path = line.split(" ", 1)
    u = urllib.parse.urlsplit(path)
    verb = {"GET": "get"}.get(method, method.lower())
    if re.fullmatch(r"/api/v1/namespaces/[^/]+/pods/[^/]+", u.path):
        return ("pods", verb)
    if re.fullmatch(r"/api/v1/namespaces/[^/]+", u.path):
        return ("namespaces", verb)
    if u.path == "/api/v1/pods":
        q = urllib.parse.parse_qs(u.query)
        return ("pods", "watch" if q.get("watch", [""])[0] in ("1", "true") else "list")
    if u.path == "/pods":  # the kubelet's: authorised as nodes/proxy
        return ("nodes/proxy", verb)
    return ("?" + u.path, verb)


def rbac_allows(role_docs, line):
    """Does a ClusterRole among role_docs (parsed YAML) allow the request?"""
    res, verb = request_needs(line)
    for doc in role_docs:
        if not doc or doc.get("kind") != "ClusterRole":
            continue
        for rule in doc.get("rules") or []:
            if "" not in (rule.get("apiGroups") or []):
                continue
            if res in (rule.get("resources") or []) and verb in (rule.get("verbs") or []):
                return True
    return False
