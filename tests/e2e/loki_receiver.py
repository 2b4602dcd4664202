# SPDX-License-Identifier: Apache-2.0
"""A Loki push API peer for e2e tests (standard library only).

POST /loki/api/v1/push takes Loki's JSON push body
  {"streams":[{"stream":{label: value, ...},"values":[["<ns>","<line>"],...]}]}
(gunzipped when Content-Encoding is gzip), validates its shape as Loki does
(labels are strings, at least one; timestamps are decimal nanosecond
strings; lines are strings; a third element, structured metadata, is an
object of strings), checks that each stream's entries are in time
order within the request, stores what it accepts and answers 204.

Failures are injected by a script of steps, one per request (see
http_receiver.Receiver): plain answers such as
  {"status": 429, "headers": {"Retry-After": "1"}} or {"status": 500}
store nothing; {"loki_reject": N} behaves as Loki with entries too old: it
stores the request's entries except the N oldest, and answers 400 with
Loki's text, one line per ignored entry and "total ignored: N out of M".
An order violation is answered the same way (Loki before out-of-order
support), and counted in `violations`, which a test expects to stay 0.

`max_body` (bytes on the wire) makes it a Loki behind a gateway with a
request size limit: a larger push is answered 413 and stores nothing
(counted in `too_large`). Label values are checked as Loki does: a value
over 2048 bytes (max_label_value_length) is a 400 for the whole push.
"""
import json
import re
import threading

import http_receiver

PUSH_PATH = "/loki/api/v1/push"
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class Entry:
    __slots__ = ("labels", "ts", "line", "request", "meta")

    def __init__(self, labels, ts, line, request, meta=None):
        self.labels, self.ts, self.line, self.request = labels, ts, line, request
        self.meta = meta  # the structured metadata object, None when absent

    def key(self):
        return (tuple(sorted(self.labels.items())), self.ts, self.line)


def _stream_text(labels):
    return "{" + ", ".join('%s="%s"' % (k, v.replace('"', '\\"'))
                           for k, v in sorted(labels.items())) + "}"


def _utc(ts):
    import datetime
    d = datetime.datetime.fromtimestamp(ts // 10**9, tz=datetime.timezone.utc)
    return d.strftime("%Y-%m-%d %H:%M:%S") + ".%09d +0000 UTC" % (ts % 10**9)


class LokiReceiver(http_receiver.Receiver):
    def __init__(self, script=None, max_body=None):
        self.max_body = max_body
        self.too_large = 0     # pushes answered 413
        self.entries = []      # accepted Entry objects
        self.rejected = []     # Entry objects answered in a 400
        self.violations = 0    # per-stream order violations seen
        self.malformed = []    # reasons of bodies that did not parse
        self.pushes = 0        # requests that reached the push handler
        self._elock = threading.Lock()
        steps = [self._wrap(s) for s in (script or [])]
        super().__init__(script=steps, default=self._wrap(None))

    def _wrap(self, step):
        def run(req):
            if req.path.split("?")[0] != PUSH_PATH:
                return {"status": 404, "body": "404 page not found\n"}
            if step is not None and "loki_reject" not in step:
                return dict(step)
            if self.max_body is not None and len(req.raw) > self.max_body:
                with self._elock:
                    self.too_large += 1
                return {"status": 413, "body": "request entity too large\n"}
            return self._push(req, step.get("loki_reject", 0) if step else 0)
        return run

    def _parse(self, req):
        """[(labels, [(ts, line, meta), ...])] or raises ValueError(reason)."""
        if req.decode_error:
            raise ValueError(req.decode_error)
        try:
            doc = json.loads(req.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise ValueError("unexpected body: %s" % e)
        if not isinstance(doc, dict) or not isinstance(doc.get("streams"), list):
            raise ValueError("no streams array")
        out = []
        for s in doc["streams"]:
            labels = s.get("stream") if isinstance(s, dict) else None
            if not isinstance(labels, dict) or not labels:
                raise ValueError("error at least one label pair is required per stream")
            for k, v in labels.items():
                if not _LABEL_NAME.match(k) or not isinstance(v, str):
                    raise ValueError("invalid label %r=%r" % (k, v))
                if len(v.encode("utf-8", "surrogatepass")) > 2048:
                    raise ValueError("label value too long: %r" % k)
            values = s.get("values")
            if not isinstance(values, list):
                raise ValueError("no values array")
            vals = []
            for v in values:
                if (not isinstance(v, list) or len(v) not in (2, 3)
                        or not isinstance(v[0], str)
                        or not v[0].isdigit() or not isinstance(v[1], str)):
                    raise ValueError("bad entry %r" % (v,))
                meta = v[2] if len(v) == 3 else None
                if meta is not None and (not isinstance(meta, dict) or not all(
                        isinstance(x, str) for x in meta.values())):
                    raise ValueError("bad structured metadata %r" % (meta,))
                vals.append((int(v[0]), v[1], meta))
            out.append((labels, vals))
        return out

    def _push(self, req, reject_n):
        with self._elock:
            self.pushes += 1
            try:
                streams = self._parse(req)
            except ValueError as e:
                self.malformed.append(str(e))
                return {"status": 400, "body": str(e) + "\n"}
            all_entries = []
            bad = set()
            for labels, vals in streams:
                last = None
                for ts, line, meta in vals:
                    e = Entry(labels, ts, line, len(self.requests), meta)
                    if last is not None and ts < last:
                        self.violations += 1
                        bad.add(id(e))
                    else:
                        last = ts
                    all_entries.append(e)
            # the injected rejection: the N oldest entries, as "too old"
            by_age = sorted(all_entries, key=lambda e: e.ts)
            for e in by_age[:reject_n]:
                bad.add(id(e))
            lines = []
            for e in all_entries:
                if id(e) in bad:
                    self.rejected.append(e)
                    lines.append("entry with timestamp %s ignored, reason: 'entry out of order' "
                                 "for stream: %s," % (_utc(e.ts), _stream_text(e.labels)))
                else:
                    self.entries.append(e)
            if not bad:
                return {"status": 204}
            lines.append("total ignored: %d out of %d" % (len(bad), len(all_entries)))
            return {"status": 400, "body": "\n".join(lines) + "\n"}

    def accepted(self):
        with self._elock:
            return list(self.entries)

    def rejected_entries(self):
        with self._elock:
            return list(self.rejected)
