# SPDX-License-Identifier: Apache-2.0
"""A Splunk HTTP Event Collector for e2e tests (standard library only).

It answers as HEC does (Splunk's "Troubleshoot HTTP Event Collector" codes):
a JSON body {"text": ..., "code": N} and, for an event at fault,
"invalid-event-number" (its 0-based position in the request). The body is a
batch of concatenated JSON objects (gzip'd with Content-Encoding: gzip).

  wrong path                      404 code 404 "The requested URL was not found"
  no Authorization                401 code 2  "Token is required"
  not "Splunk <token>"/basic      401 code 3  "Invalid authorization"
  unknown token                   403 code 4  "Invalid token"
  empty body                      400 code 5  "No data"
  not JSON / "bad": true event    400 code 6  "Invalid data format"
  index not allowed               400 code 7  "Incorrect index"
  no "event" / empty "event"      400 code 12 / 13
  otherwise                       200 code 0  "Success": its events accepted

As Splunk, a request with an event at fault is refused as a whole (nothing
of it is kept here: the sender must send the others again). With
name_events False the position is left out (an older or proxied HEC), so
the sender must find the bad event itself. Scripted answers (busy 503 code
9, 429 with Retry-After, ...) come first, as with http_receiver.Receiver.
"""
import base64
import json
import os
import ssl
import sys
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import http_receiver  # noqa: E402

EVENT_PATH = "/services/collector/event"


def answer(status, code, text, **extra):
    body = {"text": text, "code": code}
    body.update(extra)
    return {"status": status, "body": json.dumps(body),
            "headers": {"Content-Type": "application/json"}}


def busy():
    return answer(503, 9, "Server is busy")


def split_batch(text):
    """The concatenated JSON objects of a HEC body; raises ValueError."""
    dec = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            return out
        obj, i = dec.raw_decode(text, i)
        out.append(obj)


class HecReceiver:
    """HEC on a free port; `accepted` holds (request, event) for each event
    taken with a 200, in order."""

    def __init__(self, tokens=("t0k3n",), users=(), indexes=("main",),
                 script=None, name_events=True, tls=None):
        self.tokens = set(tokens)
        self.users = set(users)           # {("user", "pass")}
        self.indexes = set(indexes)
        self.name_events = name_events
        self.lock = threading.Lock()
        self.accepted = []
        self.rcv = http_receiver.Receiver(script, default=self._judge)
        self.port = self.rcv.port
        if tls:  # (cert file, key file): HTTPS, as HEC with enableSSL
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            srv = self.rcv.server
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)

    def _auth(self, req):
        h = req.headers.get("authorization")
        if h is None:
            return answer(401, 2, "Token is required")
        kind, _, cred = h.partition(" ")
        if kind == "Splunk":
            return None if cred in self.tokens else answer(403, 4, "Invalid token")
        if kind == "Basic":
            try:
                user, _, pw = base64.b64decode(cred).decode().partition(":")
            except ValueError:
                return answer(401, 3, "Invalid authorization")
            return None if (user, pw) in self.users else answer(403, 4, "Invalid token")
        return answer(401, 3, "Invalid authorization")

    def _bad(self, code, text, i):
        extra = {"invalid-event-number": i} if self.name_events else {}
        return answer(400, code, text, **extra)

    def _judge(self, req):
        if req.path.split("?")[0] != EVENT_PATH:
            return answer(404, 404, "The requested URL was not found on this server.")
        refused = self._auth(req)
        if refused:
            return refused
        text = req.body.decode("utf-8", "replace")
        if not text.strip():
            return answer(400, 5, "No data")
        try:
            events = split_batch(text)
        except ValueError:
            return answer(400, 6, "Invalid data format")
        for i, ev in enumerate(events):
            if not isinstance(ev, dict):
                return self._bad(6, "Invalid data format", i)
            if "event" not in ev:
                return self._bad(12, "Event field is required", i)
            if ev["event"] in ("", None, {}):
                return self._bad(13, "Event field cannot be blank", i)
            if isinstance(ev["event"], dict) and ev["event"].get("bad"):
                return self._bad(6, "Invalid data format", i)
            if ev.get("index", "main") not in self.indexes:
                return self._bad(7, "Incorrect index", i)
        with self.lock:
            self.accepted.extend((req, ev) for ev in events)
        return answer(200, 0, "Success")

    def events(self):
        with self.lock:
            return list(self.accepted)

    def requests(self):
        return self.rcv.snapshot()

    def wait_for(self, pred, timeout, what):
        return self.rcv.wait_for(lambda _reqs: pred(self.events()), timeout, what)

    def close(self):
        self.rcv.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
