# SPDX-License-Identifier: Apache-2.0
"""A fast local receiver for the output benchmarks: answers Elasticsearch
_bulk (one successful item per document), Loki push (204) and the http
output's json_lines (200) as quickly as
it can, counting what it received, so that sluice's own cost is measured.
It checks nothing beyond counts: tests/e2e has the real protocol peers.
Prints "PORT <n>" on start; GET /count returns {"docs": n, "requests": n}.
"""
import gzip
import http.server
import json
import sys
import threading

lock = threading.Lock()
counts = {"docs": 0, "requests": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        with lock:
            self._reply(200, json.dumps(counts).encode())

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path.endswith("/_bulk"):
            n = body.count(b"\n") // 2
            items = b'{"create":{"status":201}},' * n
            out = b'{"took":1,"errors":false,"items":[' + items[:-1] + b"]}"
            with lock:
                counts["docs"] += n
                counts["requests"] += 1
            self._reply(200, out)
        elif self.path.startswith("/loki/"):
            n = sum(len(st["values"]) for st in json.loads(body)["streams"])
            with lock:
                counts["docs"] += n
                counts["requests"] += 1
            self._reply(204)
        else:
            # the http output with Format json_lines: one record a line
            n = body.count(b"\n")
            with lock:
                counts["docs"] += n
                counts["requests"] += 1
            self._reply(200)


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
