# SPDX-License-Identifier: Apache-2.0
"""OTLP/HTTP logs for e2e tests, standard library only: a protobuf reader
and writer written from the OTLP .proto field numbers (varint, fixed64,
fixed32 and length-delimited fields), OTLP/JSON, and conversions of both to
one plain-dict form:
  {"resource_logs": [{"resource": {attrs}, "scope_logs": [{"scope":
   {"name", "version", "attributes"}, "log_records": [{...}]}]}]}
where a LogRecord dict has time_unix_nano, observed_time_unix_nano,
severity_number, severity_text, body, attributes, flags, trace_id (bytes),
span_id (bytes), event_name; AnyValues are plain Python values (dict, list,
str, int, float, bool, bytes, None).
"""
import base64
import struct


# ---- wire format ----------------------------------------------------------

def _varint(buf, i):
    v = shift = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        if b < 0x80:
            return v, i
        shift += 7


def fields(buf):
    """[(field number, wire type, value)] of one message."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 1:
            v = struct.unpack_from("<Q", buf, i)[0]
            i += 8
        elif wt == 5:
            v = struct.unpack_from("<I", buf, i)[0]
            i += 4
        elif wt == 2:
            n, i = _varint(buf, i)
            v = bytes(buf[i:i + n])
            i += n
        else:
            raise ValueError("wire type %d" % wt)
        out.append((num, wt, v))
    return out


def _enc_varint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_varint(num, v):
    return _enc_varint(num << 3) + _enc_varint(v)


def f_bytes(num, b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return _enc_varint(num << 3 | 2) + _enc_varint(len(b)) + b


def f_fixed64(num, v):
    return _enc_varint(num << 3 | 1) + struct.pack("<Q", v)


def f_fixed32(num, v):
    return _enc_varint(num << 3 | 5) + struct.pack("<I", v)


# ---- decoding (common.proto, resource.proto, logs.proto) ------------------

def _signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def any_value(buf):
    """AnyValue: 1 string, 2 bool, 3 int64, 4 double, 5 array, 6 kvlist,
    7 bytes."""
    for num, wt, v in fields(buf):
        if num == 1:
            return v.decode("utf-8")
        if num == 2:
            return bool(v)
        if num == 3:
            return _signed(v)
        if num == 4:
            return struct.unpack("<d", struct.pack("<Q", v))[0]
        if num == 5:
            return [any_value(x) for n, _, x in fields(v) if n == 1]
        if num == 6:
            return kvs([x for n, _, x in fields(v) if n == 1])
        if num == 7:
            return v
    return None


def kvs(items):
    """KeyValue list (1 key, 2 value) as a dict."""
    out = {}
    for item in items:
        k, val = "", None
        for num, _, v in fields(item):
            if num == 1:
                k = v.decode("utf-8")
            elif num == 2:
                val = any_value(v)
        out[k] = val
    return out


def log_record(buf):
    r = {"attributes": {}, "trace_id": b"", "span_id": b"", "flags": 0,
         "severity_number": 0, "severity_text": "", "time_unix_nano": 0,
         "observed_time_unix_nano": 0, "body": None, "event_name": ""}
    attrs = []
    for num, wt, v in fields(buf):
        if num == 1 and wt == 1:
            r["time_unix_nano"] = v
        elif num == 11 and wt == 1:
            r["observed_time_unix_nano"] = v
        elif num == 2:
            r["severity_number"] = v
        elif num == 3:
            r["severity_text"] = v.decode("utf-8")
        elif num == 5:
            r["body"] = any_value(v)
        elif num == 6:
            attrs.append(v)
        elif num == 8 and wt == 5:
            r["flags"] = v
        elif num == 9:
            r["trace_id"] = v
        elif num == 10:
            r["span_id"] = v
        elif num == 12:
            r["event_name"] = v.decode("utf-8")
    r["attributes"] = kvs(attrs)
    return r


def decode_request(buf):
    """ExportLogsServiceRequest (1 resource_logs) as the plain form."""
    out = {"resource_logs": []}
    for num, _, rl in fields(buf):
        if num != 1:
            continue
        res, sls = {}, []
        for n2, _, v in fields(rl):
            if n2 == 1:
                res = kvs([a for n3, _, a in fields(v) if n3 == 1])
            elif n2 == 2:
                scope, recs = {}, []
                for n3, _, x in fields(v):
                    if n3 == 1:
                        for n4, _, y in fields(x):
                            if n4 == 1:
                                scope["name"] = y.decode("utf-8")
                            elif n4 == 2:
                                scope["version"] = y.decode("utf-8")
                        scope["attributes"] = kvs([y for n4, _, y in fields(x) if n4 == 3])
                    elif n3 == 2:
                        recs.append(log_record(x))
                sls.append({"scope": scope, "log_records": recs})
        out["resource_logs"].append({"resource": res, "scope_logs": sls})
    return out


# ---- encoding (what an SDK sends) -----------------------------------------

def enc_any(v):
    if isinstance(v, bool):
        return f_varint(2, int(v))
    if isinstance(v, int):
        return f_varint(3, v)
    if isinstance(v, float):
        return f_fixed64(4, struct.unpack("<Q", struct.pack("<d", v))[0])
    if isinstance(v, str):
        return f_bytes(1, v)
    if isinstance(v, bytes):
        return f_bytes(7, v)
    if isinstance(v, list):
        return f_bytes(5, b"".join(f_bytes(1, enc_any(x)) for x in v))
    if isinstance(v, dict):
        return f_bytes(6, enc_kvs(v))
    return b""


def enc_kvs(d, num=1):
    return b"".join(f_bytes(num, f_bytes(1, k) + f_bytes(2, enc_any(v))) for k, v in d.items())


def encode_request(req):
    """The plain form as an ExportLogsServiceRequest."""
    out = b""
    for rl in req["resource_logs"]:
        body = f_bytes(1, enc_kvs(rl.get("resource", {})))
        for sl in rl["scope_logs"]:
            sc = sl.get("scope", {})
            scope = b""
            if sc.get("name"):
                scope += f_bytes(1, sc["name"])
            if sc.get("version"):
                scope += f_bytes(2, sc["version"])
            scope += enc_kvs(sc.get("attributes", {}), 3)
            recs = b""
            for r in sl["log_records"]:
                x = b""
                if r.get("time_unix_nano"):
                    x += f_fixed64(1, r["time_unix_nano"])
                if r.get("observed_time_unix_nano"):
                    x += f_fixed64(11, r["observed_time_unix_nano"])
                if r.get("severity_number"):
                    x += f_varint(2, r["severity_number"])
                if r.get("severity_text"):
                    x += f_bytes(3, r["severity_text"])
                if "body" in r:
                    x += f_bytes(5, enc_any(r["body"]))
                x += enc_kvs(r.get("attributes", {}), 6)
                if r.get("flags"):
                    x += f_fixed32(8, r["flags"])
                if r.get("trace_id"):
                    x += f_bytes(9, r["trace_id"])
                if r.get("span_id"):
                    x += f_bytes(10, r["span_id"])
                if r.get("event_name"):
                    x += f_bytes(12, r["event_name"])
                recs += f_bytes(2, x)
            body += f_bytes(2, f_bytes(1, scope) + recs)
        out += f_bytes(1, body)
    return out


def partial_success(rejected, message):
    """ExportLogsServiceResponse{partial_success{rejected, error_message}}."""
    return f_bytes(1, f_varint(1, rejected) + f_bytes(2, message))


# ---- OTLP/JSON ------------------------------------------------------------

def json_any(v):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, str):
        return {"stringValue": v}
    if isinstance(v, bytes):
        return {"bytesValue": base64.b64encode(v).decode()}
    if isinstance(v, list):
        return {"arrayValue": {"values": [json_any(x) for x in v]}}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": json_kvs(v)}}
    return {}


def json_kvs(d):
    return [{"key": k, "value": json_any(v)} for k, v in d.items()]


def json_request(req):
    """The plain form as an OTLP/JSON document (what an SDK's JSON
    exporter sends: camelCase, 64-bit integers as strings, hex ids)."""
    rls = []
    for rl in req["resource_logs"]:
        sls = []
        for sl in rl["scope_logs"]:
            recs = []
            for r in sl["log_records"]:
                x = {}
                if r.get("time_unix_nano"):
                    x["timeUnixNano"] = str(r["time_unix_nano"])
                if r.get("observed_time_unix_nano"):
                    x["observedTimeUnixNano"] = str(r["observed_time_unix_nano"])
                if r.get("severity_number"):
                    x["severityNumber"] = r["severity_number"]
                if r.get("severity_text"):
                    x["severityText"] = r["severity_text"]
                if "body" in r:
                    x["body"] = json_any(r["body"])
                if r.get("attributes"):
                    x["attributes"] = json_kvs(r["attributes"])
                if r.get("flags"):
                    x["flags"] = r["flags"]
                if r.get("trace_id"):
                    x["traceId"] = r["trace_id"].hex()
                if r.get("span_id"):
                    x["spanId"] = r["span_id"].hex()
                recs.append(x)
            sc = sl.get("scope", {})
            sls.append({"scope": {"name": sc.get("name", ""), "version": sc.get("version", ""),
                                  "attributes": json_kvs(sc.get("attributes", {}))},
                        "logRecords": recs})
        rls.append({"resource": {"attributes": json_kvs(rl.get("resource", {}))},
                    "scopeLogs": sls})
    return {"resourceLogs": rls}


def _from_json_any(v):
    if "stringValue" in v:
        return v["stringValue"]
    if "boolValue" in v:
        return v["boolValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "bytesValue" in v:
        return base64.b64decode(v["bytesValue"])
    if "arrayValue" in v:
        return [_from_json_any(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return {kv["key"]: _from_json_any(kv.get("value", {}))
                for kv in v["kvlistValue"].get("values", [])}
    return None


def decode_json_request(doc):
    """An OTLP/JSON document as the plain form."""
    def attrs(lst):
        return {kv["key"]: _from_json_any(kv.get("value", {})) for kv in lst or []}
    out = {"resource_logs": []}
    for rl in doc.get("resourceLogs", []):
        sls = []
        for sl in rl.get("scopeLogs", []):
            recs = []
            for r in sl.get("logRecords", []):
                recs.append({
                    "time_unix_nano": int(r.get("timeUnixNano", 0)),
                    "observed_time_unix_nano": int(r.get("observedTimeUnixNano", 0)),
                    "severity_number": r.get("severityNumber", 0),
                    "severity_text": r.get("severityText", ""),
                    "body": _from_json_any(r.get("body", {})),
                    "attributes": attrs(r.get("attributes")),
                    "flags": r.get("flags", 0),
                    "trace_id": bytes.fromhex(r.get("traceId", "")),
                    "span_id": bytes.fromhex(r.get("spanId", "")),
                    "event_name": r.get("eventName", "")})
            sc = sl.get("scope", {})
            sls.append({"scope": {"name": sc.get("name", ""), "version": sc.get("version", ""),
                                  "attributes": attrs(sc.get("attributes"))},
                        "log_records": recs})
        out["resource_logs"].append({"resource": attrs(rl.get("resource", {}).get("attributes")),
                                     "scope_logs": sls})
    return out


def records(plain):
    """Every LogRecord dict of a plain request, in order."""
    return [r for rl in plain["resource_logs"] for sl in rl["scope_logs"]
            for r in sl["log_records"]]
