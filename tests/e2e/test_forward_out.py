# SPDX-License-Identifier: Apache-2.0
"""The forward output as a Fluentd or Fluent Bit aggregator sees it, checked
by a receiver written from the Forward protocol v1 spec (forward_peer.py):
PackedForward with EventTime (nanoseconds kept) by default and no options;
Send_options adds {"size"}; Require_ack_response adds a 24-character chunk
token and the chunk is delivered only when acked (a dropped ack is a
retry: the records arrive again, none lost); Compress gzip sends
CompressedPackedForward; Time_as_Integer sends Forward mode with integer
seconds; Tag overrides the tag; Add_Option adds options; the shared-key
handshake with Username/Password; a receiver with another shared key
refuses the handshake and nothing is counted delivered; TLS."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forward_peer as fp  # noqa: E402  (re-execs under Debian's python3)
import sluice_e2e as e2e  # noqa: E402

c = e2e.Checker()
e2e.require_plugins("forward", "tail")
T0 = 1700000000123456789


def run(tmp, name, out_opts, n=5, wait=True, receiver=None):
    """tail (n JSON lines with their own time) -> forward; returns the
    sluice daemon, its API port and the receiver."""
    rcv = receiver
    log = os.path.join(tmp, name + ".in")
    with open(log, "w") as f:
        for i in range(n):
            f.write('{"seq":%d,"t":"%d.%09d"}\n' % (i, (T0 + i) // 10**9, (T0 + i) % 10**9))
    api = e2e.free_port()
    e2e.parsers_file(os.path.join(tmp, name + ".parsers"),
                     [{"Name": "tjson", "Format": "json", "Time_Key": "t",
                       "Time_Format": "%s.%L"}])
    opts = dict({"Name": "forward", "Match": "*", "Host": "127.0.0.1", "Port": rcv.port,
                 "Retry_Limit": "no_limits"}, **out_opts)
    conf = e2e.write(os.path.join(tmp, name + ".conf"),
                     e2e.section("SERVICE", Flush="0.2", Grace="3", Log_Level="info",
                                 HTTP_Server="On", HTTP_Listen="127.0.0.1",
                                 HTTP_Port=api, Parsers_File=os.path.join(tmp, name + ".parsers"),
                                 **{"scheduler.base": "0.2", "scheduler.cap": "0.5"}) +
                     e2e.section("INPUT", Name="tail", Path=log, Tag="app." + name,
                                 Read_from_Head="On") +
                     e2e.section("FILTER", Name="parser", Match="*", Key_Name="log",
                                 Parser="tjson") +
                     e2e.section("OUTPUT", **opts))
    d = e2e.Daemon(conf, os.path.join(tmp, name + ".log"))
    e2e.wait_port(api, d.p)
    if wait:
        e2e.wait_for(lambda: len({r["record"].get("seq") for m in rcv.messages
                                  for r in m["entries"]}) >= n, 60,
                     what="%d records at the receiver (%s)" % (n, name))
    return d, api, rcv


def entries(rcv):
    with rcv.lock:
        return [(m["tag"], e["time_type"], e["ts_ns"], e["record"])
                for m in rcv.messages for e in m["entries"]]


def check_records(rcv, name, tag=None, time_type="EventTime", exact_ns=True):
    got = sorted({(t, tt, ts, r["seq"]) for t, tt, ts, r in entries(rcv)}, key=lambda x: x[3])
    want_ts = [(T0 + i) if exact_ns else (T0 + i) // 10**9 * 10**9 for i in range(5)]
    c.equal(got, [(tag or "app." + name, time_type, want_ts[i], i) for i in range(5)],
            "%s: every record, its tag and its time (%s)" % (name, time_type))


def delivered(api):
    return e2e.metric_sum(api, "sluice_output_proc_records_total")


def default(tmp):
    rcv = fp.Receiver()
    d, api, _ = run(tmp, "packed", {}, receiver=rcv)
    c.equal({m["mode"] for m in rcv.messages}, {"PackedForward"}, "default: PackedForward")
    c.equal([m["option"] for m in rcv.messages][:1], [{}], "default: no options map")
    check_records(rcv, "packed")
    c.equal(d.stop(), 0, "sluice exits 0")
    rcv.close()


def options(tmp):
    rcv = fp.Receiver()
    d, api, _ = run(tmp, "opts", {"Send_options": "On", "Tag": "renamed",
                                  "Add_Option": "env prod"}, receiver=rcv)
    opt = rcv.messages[0]["option"]
    c.equal(opt.get("size"), len(rcv.messages[0]["entries"]), "Send_options: size = entries")
    c.equal(opt.get("env"), "prod", "Add_Option adds an option")
    c.check("chunk" not in opt, "no chunk without Require_ack_response")
    check_records(rcv, "opts", tag="renamed")
    c.equal(d.stop(), 0, "sluice exits 0")
    rcv.close()


def ack(tmp):
    rcv = fp.Receiver(drop_acks=2)
    d, api, _ = run(tmp, "ack", {"Require_ack_response": "On"}, receiver=rcv)
    opts = [m["option"] for m in rcv.messages]
    c.check(all(len(o.get("chunk", "")) == 24 for o in opts),
            "Require_ack_response: a 24-character chunk token in every message: %r" % opts[:2])
    c.check(all(o.get("size") == len(m["entries"]) for o, m in zip(opts, rcv.messages)),
            "the options carry size")
    e2e.wait_for(lambda: len(rcv.messages) >= 3, 60, what="retries after dropped acks")
    c.check(len({o["chunk"] for o in opts}) == len(opts), "each flush has its own token")
    check_records(rcv, "ack")
    c.equal(d.stop(), 0, "sluice exits 0")
    rcv.close()


def gzip_mode(tmp):
    rcv = fp.Receiver()
    d, api, _ = run(tmp, "gzip", {"Compress": "gzip"}, receiver=rcv)
    c.equal({m["mode"] for m in rcv.messages}, {"CompressedPackedForward"},
            "Compress gzip: CompressedPackedForward")
    c.equal(rcv.messages[0]["option"].get("compressed"), "gzip", "option compressed: gzip")
    check_records(rcv, "gzip")
    c.equal(d.stop(), 0, "sluice exits 0")
    rcv.close()


def integer_time(tmp):
    rcv = fp.Receiver()
    d, api, _ = run(tmp, "int", {"Time_as_Integer": "On"}, receiver=rcv)
    c.equal({m["mode"] for m in rcv.messages}, {"Forward"}, "Time_as_Integer: Forward mode")
    check_records(rcv, "int", time_type="int", exact_ns=False)
    c.equal(d.stop(), 0, "sluice exits 0")
    rcv.close()


def handshake(tmp):
    rcv = fp.Receiver(shared_key="k3y", hostname="agg", users={"u1": "p1"})
    d, api, _ = run(tmp, "auth", {"Shared_Key": "k3y", "Self_Hostname": "agent-7",
                                  "Username": "u1", "Password": "p1",
                                  "Require_ack_response": "On"}, receiver=rcv)
    c.check(rcv.handshakes and rcv.handshakes[0]["ok"] and
            rcv.handshakes[0]["hostname"] == "agent-7" and rcv.handshakes[0]["user"] == "u1",
            "handshake: PING digests right, Self_Hostname and Username sent: %r"
            % rcv.handshakes[:1])
    check_records(rcv, "auth")
    c.equal(d.stop(), 0, "sluice exits 0")
    rcv.close()

    rcv = fp.Receiver(shared_key="other")
    d, api, _ = run(tmp, "badkey", {"Shared_Key": "k3y"}, wait=False, receiver=rcv)
    e2e.wait_for(lambda: len(rcv.handshakes) >= 2, 60, what="handshake attempts")
    c.check(not any(h["ok"] for h in rcv.handshakes), "a wrong key is refused")
    c.equal(rcv.messages, [], "nothing is sent after a refused handshake")
    c.equal(delivered(api), 0, "nothing counted delivered")
    c.check("handshake refused" in d.output() or "shared_key" in d.output(),
            "the refusal is logged")
    d.stop()
    rcv.close()


def tls(tmp):
    """sluice -> sluice over TLS (the forward input serves TLS)."""
    crt, key = os.path.join(tmp, "crt.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    port, api2 = e2e.free_port(), e2e.free_port()
    conf = e2e.write(os.path.join(tmp, "tls-rcv.conf"),
                     e2e.section("SERVICE", Flush="0.2", Grace="3", HTTP_Server="On",
                                 HTTP_Listen="127.0.0.1", HTTP_Port=api2) +
                     e2e.section("INPUT", Name="forward", Listen="127.0.0.1", Port=port,
                                 tls="On", **{"tls.crt_file": crt, "tls.key_file": key}) +
                     e2e.section("OUTPUT", Name="file", Match="*", Path=tmp, File="tls.out"))
    r = e2e.Daemon(conf, os.path.join(tmp, "tls-rcv.log"))
    e2e.wait_port(port, r.p)

    class Port:
        pass
    p = Port()
    p.port = port
    d, api, _ = run(tmp, "tls", {"Host": "localhost", "tls": "On", "tls.verify": "On",
                                 "tls.ca_file": crt, "Require_ack_response": "On"},
                    wait=False, receiver=p)
    e2e.wait_for(lambda: e2e.count_lines(os.path.join(tmp, "tls.out")) >= 5, 60,
                 what="records over TLS")
    got = e2e.read_out_file(os.path.join(tmp, "tls.out"))
    c.equal(sorted((t, ts, r["seq"]) for t, ts, r in got),
            [("app.tls", T0 + i, i) for i in range(5)],
            "TLS with a verified certificate: every record, tag and nanosecond time")
    c.equal(d.stop(), 0, "sender exits 0")
    c.equal(r.stop(), 0, "receiver exits 0")


with e2e.TempDir("sluice-fwdout-") as tmp:
    default(tmp)
    options(tmp)
    ack(tmp)
    gzip_mode(tmp)
    integer_time(tmp)
    handshake(tmp)
    tls(tmp)
c.finish()
