# SPDX-License-Identifier: Apache-2.0
"""The http input as a Fluent Bit user posts to it (SPEC §4, Fluent Bit's
in_http code): JSON object or array to any path answers 201 (empty body) by
default; the path is the tag (sanitised), "/" uses Tag; Tag_Key takes the
tag from a record; Success_Header and Successful_Response_Code; 400 for a
wrong method, a missing or non-JSON Content-Type, an empty or invalid
payload (nothing of an invalid body emitted); 413 over Buffer_Max_Size;
GET /health; Buffer_Chunk_Size accepted."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(port, method, path, body=None, ctype="application/json"):
    h = {"Content-Type": ctype} if ctype else {}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except OSError as e:
        print("request error: %r" % e)
        return None
    finally:
        c.close()


def start(tmp, name, text, port):
    conf = e2e.write(os.path.join(tmp, name + ".conf"), text)
    log = open(os.path.join(tmp, name + ".log"), "wb")
    p = subprocess.Popen([e2e.binary(), "-c", conf], stdout=log,
                         stderr=subprocess.STDOUT)

    def up():
        if p.poll() is not None:
            raise RuntimeError("sluice exited %d" % p.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    e2e.wait_for(up, 20, what="in_http listening")
    return p, log


def stop(p, log):
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    log.close()
    return rc


def by_tag(path):
    """{tag: [records]} from an out_file file in its default format."""
    out = {}
    try:
        for tag, _ts, rec in e2e.read_out_file(path):
            out.setdefault(tag, []).append(rec)
    except FileNotFoundError:
        pass
    return out


def defaults(c, tmp):
    port = free_port()
    out = os.path.join(tmp, "out")
    os.mkdir(out)
    text = (e2e.section("SERVICE", Flush="0.2", Grace="2", Log_Level="warn")
            + e2e.section("INPUT", Name="http", Listen="127.0.0.1", Port=port,
                          Tag="fallback", Buffer_Max_Size="100K",
                          Buffer_Chunk_Size="64K", enable_health_endpoint="On",
                          workers="2", http2="Off", **{"net.keepalive": "on"})
            + e2e.section("OUTPUT", Name="file", Match="*", Path=out, File="all"))
    p, log = start(tmp, "defaults", text, port)
    path = os.path.join(out, "all")
    try:
        r = request(port, "POST", "/app.log", json.dumps({"n": 1}).encode())
        c.equal(r and (r[0], r[2]), (201, b""), "object: 201 with no body")
        r = request(port, "POST", "/app.log",
                    json.dumps([{"n": 2}, {"n": 3}]).encode(),
                    ctype="application/json; charset=utf-8")
        c.equal(r and r[0], 201, "array with a charset parameter: 201")
        r = request(port, "POST", "/", json.dumps({"n": 4}).encode())
        c.equal(r and r[0], 201, "path / : 201")
        r = request(port, "POST", "/a/b%20c?x=1", json.dumps({"n": 5}).encode())
        c.equal(r and r[0], 201, "path with / and %20: 201")

        # refusals: nothing of these bodies arrives
        r = request(port, "GET", "/app.log")
        c.equal(r and r[0], 400, "GET: 400")
        r = request(port, "POST", "/app.log", b'{"n": 100}', ctype=None)
        c.equal(r and r[0], 400, "no Content-Type: 400")
        r = request(port, "POST", "/app.log", b'{"n": 101}', ctype="text/plain")
        c.equal(r and r[0], 400, "text/plain: 400")
        r = request(port, "POST", "/app.log", b"")
        c.equal(r and r[0], 400, "empty payload: 400")
        r = request(port, "POST", "/app.log", b'[{"n": 102}, {"n": ]')
        c.equal(r and r[0], 400, "invalid JSON: 400")
        r = request(port, "POST", "/app.log",
                    json.dumps([{"n": 103, "pad": "x" * 120000}]).encode())
        c.equal(r and r[0], 413, "over Buffer_Max_Size: 413")
        r = request(port, "GET", "/health")
        c.equal(r and r[0], 200, "GET /health")

        r = request(port, "POST", "/marker", b'{"n": 999}')
        e2e.wait_for(lambda: "marker" in by_tag(path), 30, what="the marker")
        tags = by_tag(path)
        c.equal(sorted(x["n"] for x in tags.get("app.log", [])), [1, 2, 3],
                "tag from the path")
        c.equal([x["n"] for x in tags.get("fallback", [])], [4], "path / uses Tag")
        c.equal([x["n"] for x in tags.get("a_b_c", [])], [5],
                "path sanitised as Fluent Bit does")
        every = [x["n"] for recs in tags.values() for x in recs]
        c.check(all(n < 100 or n == 999 for n in every),
                "refused bodies emit nothing (%r)" % every)
    finally:
        c.equal(stop(p, log), 0, "defaults: clean stop")


def options(c, tmp):
    port = free_port()
    out = os.path.join(tmp, "out2")
    os.mkdir(out)
    text = (e2e.section("SERVICE", Flush="0.2", Grace="2", Log_Level="warn")
            + e2e.section("INPUT", Name="http", Listen="127.0.0.1", Port=port,
                          Tag_Key="svc", Successful_Response_Code="200",
                          Success_Header=["X-Ingest yes", "X-Other a b"])
            + e2e.section("OUTPUT", Name="file", Match="*", Path=out, File="all"))
    p, log = start(tmp, "options", text, port)
    path = os.path.join(out, "all")
    try:
        body = json.dumps([{"svc": "billing", "n": 1}, {"n": 2},
                           {"svc": 7, "n": 3}]).encode()
        r = request(port, "POST", "/from.path", body)
        c.equal(r and r[0], 200, "Successful_Response_Code 200")
        c.equal(r and r[1].get("x-ingest"), "yes", "Success_Header X-Ingest")
        c.equal(r and r[1].get("x-other"), "a b", "Success_Header value with a space")
        r = request(port, "GET", "/health")
        c.equal(r and r[0], 400, "no /health without enable_health_endpoint")
        e2e.wait_for(lambda: len(by_tag(path)) >= 2, 30, what="two tags")
        tags = by_tag(path)
        c.equal([x["n"] for x in tags.get("billing", [])], [1], "Tag_Key value")
        c.equal(sorted(x["n"] for x in tags.get("from.path", [])), [2, 3],
                "no (string) Tag_Key: the path tag")
    finally:
        c.equal(stop(p, log), 0, "options: clean stop")
    conf = e2e.write(os.path.join(tmp, "badcode.conf"),
                     e2e.section("INPUT", Name="http", Successful_Response_Code="202")
                     + e2e.section("OUTPUT", Name="null", Match="*"))
    run = e2e.run_to_exit(["-c", conf, "--dry-run"], timeout=30)
    c.equal(run.rc, 1, "Successful_Response_Code 202 is a config error")


def main():
    e2e.require_plugins("http", "file")
    c = e2e.Checker()
    with e2e.TempDir("sluice-in-http-") as tmp:
        defaults(c, tmp)
        options(c, tmp)
    c.finish()


if __name__ == "__main__":
    main()
