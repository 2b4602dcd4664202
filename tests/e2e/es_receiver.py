# SPDX-License-Identifier: Apache-2.0
"""A small Elasticsearch _bulk peer for end-to-end tests (standard library).

`EsReceiver()` serves POST /_bulk and /<index>/_bulk on a free 127.0.0.1
port with Elasticsearch's real formats: an NDJSON body (gzip when
Content-Encoding says so) of action/metadata lines and source lines, and a
response {"took","errors","items":[{"<op>":{"_index","_id","status",
"error":{"type","reason"}}}]}. Documents are kept by (index, _id);
`create` of an existing _id answers 409 version_conflict_engine_exception,
as Elasticsearch does.

Failure injection, all counted so tests can compare:
  - whole_request: a list of (status, retry_after or None) answered to the
    first requests, in order, without looking at them (429, 500, ...);
  - lose_responses: request numbers (1-based) that are applied (documents
    stored) but answered 500, as if the response were lost on the way;
  - item_429_first: a predicate on the source document; a matching document
    fails with 429 es_rejected_execution_exception the first time its
    (index, _id) is seen, and is accepted afterwards;
  - poison_field: a document holding this key fails with 400
    mapper_parsing_exception, every time;
  - max_body: a request whose (decompressed) body is larger gets 413, as a
    proxy's client_max_body_size or http.max_content_length would;
  - delay: seconds each _bulk request waits before it is applied, so that a
    test can kill the client while requests are in flight.
Counted besides: items received (every action of every parsed request),
the largest bulk, and `create`s of an existing _id (409, `conflicts`).
GET /_dump returns everything stored and the counters as JSON; the same
data is available in-process through the attributes.

Run alone (`python3 es_receiver.py [PORT]`) it serves until interrupted.
"""
import gzip
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class EsReceiver:
    def __init__(self, whole_request=(), lose_responses=(), item_429_first=None,
                 poison_field=None, max_body=None, delay=0, port=0):
        self.whole_request = list(whole_request)
        self.lose_responses = set(lose_responses)
        self.item_429_first = item_429_first
        self.poison_field = poison_field
        self.max_body = max_body
        self.delay = delay
        self.items_received = 0   # actions in parsed requests, all attempts
        self.max_bulk = 0         # most actions in one request
        self.lock = threading.Lock()
        self.docs = {}            # (index, _id) -> source document
        self.requests = 0         # POSTs to _bulk
        self.request_statuses = []
        self.item_statuses = {}   # status -> count, in answered responses
        self.seen_429 = set()     # (index, _id) already failed once
        self.conflicts = 0        # 409 answered to create
        self.rejected = 0         # 400 items answered (poison)
        self.gzip_requests = 0
        self.paths = []
        self.bad_requests = []    # protocol problems found in requests
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_GET(self):
                if self.path != "/_dump":
                    return self._send(404, {"error": "not found"})
                return self._send(200, owner.dump())

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                path = self.path.split("?", 1)[0]
                if not (path == "/_bulk" or path.endswith("/_bulk")):
                    return self._send(404, {"error": "no handler for " + path})
                if self.headers.get("Content-Encoding", "") == "gzip":
                    body = gzip.decompress(body)
                    with owner.lock:
                        owner.gzip_requests += 1
                if owner.delay:
                    time.sleep(owner.delay)
                status, resp, retry_after = owner.bulk(path, body)
                headers = {}
                if retry_after is not None:
                    headers["Retry-After"] = str(retry_after)
                self._send(status, resp, headers)

            def _send(self, status, obj, headers=None):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client was killed: tests do that

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def dump(self):
        with self.lock:
            return {
                "docs": [{"_index": k[0], "_id": k[1], "_source": v}
                         for k, v in self.docs.items()],
                "requests": self.requests,
                "request_statuses": list(self.request_statuses),
                "item_statuses": dict(self.item_statuses),
                "conflicts": self.conflicts,
                "rejected": self.rejected,
                "gzip_requests": self.gzip_requests,
                "bad_requests": list(self.bad_requests),
                "too_large": self.request_statuses.count(413),
                "items_received": self.items_received,
                "max_bulk": self.max_bulk,
            }

    # ---- the _bulk API ------------------------------------------------------
    def bulk(self, path, body):
        with self.lock:
            self.requests += 1
            nreq = self.requests
            self.paths.append(path)
            if self.whole_request:
                status, retry_after = self.whole_request.pop(0)
                self.request_statuses.append(status)
                return (status, {"error": {"type": "injected",
                                           "reason": "injected %d" % status},
                                 "status": status}, retry_after)
            if self.max_body is not None and len(body) > self.max_body:
                self.request_statuses.append(413)
                return (413, {"error": {"type": "content_too_long",
                                        "reason": "request body too large"},
                              "status": 413}, None)
            default_index = None
            if path != "/_bulk":
                default_index = path[:-len("/_bulk")].strip("/") or None
            try:
                pairs = self.parse(body)
            except ValueError as e:
                self.bad_requests.append(str(e))
                self.request_statuses.append(400)
                return (400, {"error": {"type": "parse_exception",
                                        "reason": str(e)}, "status": 400}, None)
            self.items_received += len(pairs)
            self.max_bulk = max(self.max_bulk, len(pairs))
            items = [self.item(op, meta, src, default_index)
                     for op, meta, src in pairs]
            errors = any(it[next(iter(it))]["status"] >= 300 for it in items)
            if nreq in self.lose_responses:
                self.request_statuses.append(500)
                return (500, {"error": {"type": "injected",
                                        "reason": "response lost"},
                              "status": 500}, None)
            self.request_statuses.append(200)
            # counted only when the response reaches the client
            for it in items:
                st = it[next(iter(it))]["status"]
                self.item_statuses[st] = self.item_statuses.get(st, 0) + 1
                if st == 400:
                    self.rejected += 1
            return (200, {"took": 1, "errors": errors, "items": items}, None)

    @staticmethod
    def parse(body):
        """[(op, meta, source)] from an NDJSON bulk body; ValueError if bad."""
        text = body.decode("utf-8")
        if text and not text.endswith("\n"):
            raise ValueError("the bulk request must be terminated by a newline")
        lines = text.split("\n")[:-1] if text else []
        out, i = [], 0
        while i < len(lines):
            action = json.loads(lines[i])
            if not isinstance(action, dict) or len(action) != 1:
                raise ValueError("malformed action/metadata line [%d]" % (i + 1))
            op, meta = next(iter(action.items()))
            if op not in ("create", "index", "update", "delete"):
                raise ValueError("unknown action [%s]" % op)
            if op == "delete":
                out.append((op, meta, None))
                i += 1
                continue
            if i + 1 >= len(lines):
                raise ValueError("missing source line after [%d]" % (i + 1))
            src = json.loads(lines[i + 1])
            if not isinstance(src, dict):
                raise ValueError("source line [%d] is not an object" % (i + 2))
            out.append((op, meta, src))
            i += 2
        return out

    def item(self, op, meta, src, default_index):
        index = meta.get("_index") or default_index or "default"
        _id = meta.get("_id")

        def result(status, error=None, **extra):
            r = {"_index": index, "_id": _id, "status": status}
            if error:
                r["error"] = {"type": error[0], "reason": error[1],
                              "index": index}
            r.update(extra)
            return {op: r}

        doc = src.get("doc") if op == "update" else src
        key = (index, _id if _id is not None else json.dumps(doc, sort_keys=True))
        if self.poison_field and isinstance(doc, dict) and self.poison_field in doc:
            return result(400, ("mapper_parsing_exception",
                                "failed to parse field [%s] of type [long] in "
                                "document with id '%s'" % (self.poison_field, _id)))
        if self.item_429_first and self.item_429_first(doc) and key not in self.seen_429:
            self.seen_429.add(key)
            return result(429, ("es_rejected_execution_exception",
                                "rejected execution of coordinating operation"))
        if _id is None:
            _id = uuid.uuid4().hex
        if op == "create":
            if (index, _id) in self.docs:
                self.conflicts += 1
                return result(409, ("version_conflict_engine_exception",
                                    "[%s]: version conflict, document already "
                                    "exists (current version [1])" % _id))
            self.docs[(index, _id)] = src
            return result(201, result="created")
        if op == "index":
            created = (index, _id) not in self.docs
            self.docs[(index, _id)] = src
            return result(201 if created else 200,
                          result="created" if created else "updated")
        if op == "update":
            cur = self.docs.get((index, _id))
            if cur is None and not src.get("doc_as_upsert"):
                return result(404, ("document_missing_exception",
                                    "[%s]: document missing" % _id))
            merged = dict(cur or {})
            merged.update(src.get("doc") or {})
            self.docs[(index, _id)] = merged
            return result(201 if cur is None else 200)
        return result(400, ("illegal_argument_exception", "unsupported " + op))


if __name__ == "__main__":
    r = EsReceiver(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0).start()
    print("listening on 127.0.0.1:%d" % r.port, flush=True)
    try:
        r.thread.join()
    except KeyboardInterrupt:
        r.stop()
