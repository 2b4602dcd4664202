# SPDX-License-Identifier: Apache-2.0
"""A Loki push API peer for e2e tests (standard library only).

POST /loki/api/v1/push takes Loki's JSON push body
  {"streams":[{"stream":{label: value, ...},"values":[["<ns>","<line>"],...]}]}
(gunzipped when Content-Encoding is gzip), or, with Content-Type
application/x-protobuf, Loki's native body: logproto.PushRequest (field
numbers of Loki's pkg/push/push.proto) block-compressed with snappy, read
here by a small snappy decompressor and protobuf wire decoder of its own
(standard library only; any malformed byte is a 400, as Loki answers), the
label string {name="value", ...} unquoted as Loki's PromQL parser does.
Either way it validates the shape as Loki does
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


PROTOBUF = "application/x-protobuf"


def snappy_decompress(data, limit=64 << 20):
    """A snappy block (not the framed stream format): a varint length, then
    literal and copy elements. ValueError on anything malformed."""
    pos, want, shift = 0, 0, 0
    while True:
        if pos >= len(data) or shift > 28:
            raise ValueError("snappy: bad length")
        b = data[pos]
        pos += 1
        want |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    if want > limit:
        raise ValueError("snappy: %d bytes is over the limit" % want)
    out = bytearray()
    while pos < len(data):
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal; lengths 60..63 say how many bytes hold len-1
            n = tag >> 2
            if n >= 60:
                k = n - 59
                if pos + k > len(data):
                    raise ValueError("snappy: truncated literal length")
                n = int.from_bytes(data[pos:pos + k], "little")
                pos += k
            n += 1
            if pos + n > len(data):
                raise ValueError("snappy: truncated literal")
            out += data[pos:pos + n]
            pos += n
        else:
            if kind == 1:
                n, k = 4 + ((tag >> 2) & 7), 1
                if pos + 1 > len(data):
                    raise ValueError("snappy: truncated copy")
                off = ((tag >> 5) << 8) | data[pos]
            else:
                n, k = (tag >> 2) + 1, 2 if kind == 2 else 4
                if pos + k > len(data):
                    raise ValueError("snappy: truncated copy")
                off = int.from_bytes(data[pos:pos + k], "little")
            pos += k
            if off == 0 or off > len(out):
                raise ValueError("snappy: copy offset %d out of range" % off)
            for _ in range(n):  # may overlap its own output
                out.append(out[-off])
        if len(out) > want:
            raise ValueError("snappy: more bytes than the header says")
    if len(out) != want:
        raise ValueError("snappy: %d bytes, header says %d" % (len(out), want))
    return bytes(out)


def _fields(buf):
    """Protobuf wire fields of one message: [(number, wire type, value)],
    value an int (varint, fixed) or bytes (length-delimited)."""
    pos, out = 0, []

    def varint():
        nonlocal pos
        v, shift = 0, 0
        while True:
            if pos >= len(buf) or shift > 63:
                raise ValueError("protobuf: bad varint")
            b = buf[pos]
            pos += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v
    while pos < len(buf):
        key = varint()
        num, wt = key >> 3, key & 7
        if num == 0:
            raise ValueError("protobuf: field number 0")
        if wt == 0:
            out.append((num, wt, varint()))
        elif wt == 1 or wt == 5:
            k = 8 if wt == 1 else 4
            if pos + k > len(buf):
                raise ValueError("protobuf: truncated fixed field")
            out.append((num, wt, int.from_bytes(buf[pos:pos + k], "little")))
            pos += k
        elif wt == 2:
            n = varint()
            if pos + n > len(buf):
                raise ValueError("protobuf: truncated field %d" % num)
            out.append((num, wt, bytes(buf[pos:pos + n])))
            pos += n
        else:
            raise ValueError("protobuf: wire type %d" % wt)
    return out


def _want(wt, want, what):
    if wt != want:
        raise ValueError("protobuf: %s has wire type %d" % (what, wt))


def _text(b, what):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("protobuf: %s is not UTF-8" % what)


def _int64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def parse_label_string(s):
    """Loki's {name="value", ...} as a dict; values are Go double-quoted
    strings (as PromQL unquotes them). ValueError when malformed."""
    pos, out = 0, {}

    def ws():
        nonlocal pos
        while pos < len(s) and s[pos] in " \t":
            pos += 1
    ws()
    if not s.startswith("{", pos):
        raise ValueError("labels: no '{' in %r" % s)
    pos += 1
    ws()
    if s.startswith("}", pos):
        pos += 1
    else:
        while True:
            ws()
            m = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").match(s, pos)
            if not m:
                raise ValueError("labels: bad name in %r" % s)
            name, pos = m.group(0), m.end()
            ws()
            if not s.startswith("=", pos):
                raise ValueError("labels: no '=' in %r" % s)
            pos += 1
            ws()
            if not s.startswith('"', pos):
                raise ValueError("labels: value not quoted in %r" % s)
            pos += 1
            val = bytearray()
            while True:
                if pos >= len(s) or s[pos] == "\n":
                    raise ValueError("labels: unterminated value in %r" % s)
                c = s[pos]
                pos += 1
                if c == '"':
                    break
                if c != "\\":
                    val += c.encode("utf-8")
                    continue
                if pos >= len(s):
                    raise ValueError("labels: bad escape in %r" % s)
                e = s[pos]
                pos += 1
                simple = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11,
                          "\\": 92, '"': 34}
                if e in simple:
                    val.append(simple[e])
                elif e in "xuU":
                    k = {"x": 2, "u": 4, "U": 8}[e]
                    h = s[pos:pos + k]
                    if len(h) != k or not all(x in "0123456789abcdefABCDEF" for x in h):
                        raise ValueError("labels: bad \\%s escape in %r" % (e, s))
                    pos += k
                    if e == "x":
                        val.append(int(h, 16))
                    elif int(h, 16) > 0x10FFFF or 0xD800 <= int(h, 16) < 0xE000:
                        raise ValueError("labels: bad code point \\%s%s" % (e, h))
                    else:
                        val += chr(int(h, 16)).encode("utf-8")
                elif e in "01234567":
                    o = s[pos - 1:pos + 2]
                    if len(o) != 3 or not all(x in "01234567" for x in o) or int(o, 8) > 255:
                        raise ValueError("labels: bad octal escape in %r" % s)
                    pos += 2
                    val.append(int(o, 8))
                else:
                    raise ValueError("labels: unknown escape \\%s in %r" % (e, s))
            if name in out:
                raise ValueError("labels: %s given twice" % name)
            out[name] = _text(bytes(val), "label value")
            ws()
            if s.startswith(",", pos):
                pos += 1
                continue
            if s.startswith("}", pos):
                pos += 1
                break
            raise ValueError("labels: expected ',' or '}' in %r" % s)
    ws()
    if pos != len(s):
        raise ValueError("labels: trailing bytes in %r" % s)
    return out


def decode_push_protobuf(body):
    """A snappy-compressed logproto.PushRequest as the JSON shape
    {"streams":[{"stream":{...},"values":[[ns, line(, meta)], ...]}]}
    (timestamps as decimal strings), for the same checks as JSON."""
    streams = []
    for num, wt, v in _fields(snappy_decompress(body)):
        if num == 2:  # format: set by Loki itself
            _want(wt, 2, "format")
            continue
        if num != 1:
            raise ValueError("protobuf: PushRequest field %d" % num)
        _want(wt, 2, "streams")
        labels, values = None, []
        for snum, swt, sv in _fields(v):
            if snum == 1:
                _want(swt, 2, "labels")
                labels = parse_label_string(_text(sv, "labels"))
            elif snum == 2:
                _want(swt, 2, "entries")
                values.append(_entry(sv))
            elif snum == 3:
                _want(swt, 0, "hash")
            else:
                raise ValueError("protobuf: StreamAdapter field %d" % snum)
        if labels is None:
            raise ValueError("protobuf: a stream without labels")
        streams.append({"stream": labels, "values": values})
    return {"streams": streams}


def _entry(buf):
    sec = nanos = 0
    line, meta = "", {}
    for num, wt, v in _fields(buf):
        if num == 1:
            _want(wt, 2, "timestamp")
            for tnum, twt, tv in _fields(v):
                _want(twt, 0, "timestamp field")
                if tnum == 1:
                    sec = _int64(tv)
                elif tnum == 2:
                    nanos = _int64(tv)
            if not 0 <= nanos < 10**9:
                raise ValueError("protobuf: timestamp nanos %d" % nanos)
        elif num == 2:
            _want(wt, 2, "line")
            line = _text(v, "line")
        elif num == 3:
            _want(wt, 2, "structuredMetadata")
            name = value = ""
            for pnum, pwt, pv in _fields(v):
                _want(pwt, 2, "label pair")
                if pnum == 1:
                    name = _text(pv, "metadata name")
                elif pnum == 2:
                    value = _text(pv, "metadata value")
            meta[name] = value
        elif num == 4:
            raise ValueError("protobuf: `parsed` is not for clients")
        else:
            raise ValueError("protobuf: EntryAdapter field %d" % num)
    ts = sec * 10**9 + nanos
    if ts < 0:
        raise ValueError("protobuf: timestamp before 1970")
    entry = [str(ts), line]
    if meta:
        entry.append(meta)
    return entry


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
        ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if ctype == PROTOBUF:
                doc = decode_push_protobuf(req.body)
            else:
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
