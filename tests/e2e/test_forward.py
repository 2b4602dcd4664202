# SPDX-License-Identifier: Apache-2.0
"""The forward input as Fluent Bit and Fluentd agents use it (Forward
protocol v1, Fluent Bit's in_forward options): Message, Forward,
PackedForward (bin and str) and CompressedPackedForward all become records
under Tag_Prefix + tag (or the input's Tag) with their time to the nanosecond; a `chunk` option
is answered {"ack": chunk}; msgpack bin values become strings; the
shared-key handshake (with security.users) admits the right key and
refuses a wrong key, a wrong password and a client that skips the PING;
truncated msgpack, bytes that are not msgpack, an oversized message, a
4-billion-element header and a gzip bomb are refused and counted in
sluice_forward_rejected_total{reason}, never acked, and sluice keeps
serving. A unix socket and TLS listener work too."""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forward_peer as fp  # noqa: E402  (re-execs under Debian's python3)
import sluice_e2e as e2e  # noqa: E402

c = e2e.Checker()
e2e.require_plugins("forward", "file")


def start(tmp, name, inputs, api_port):
    conf = e2e.write(os.path.join(tmp, name + ".conf"),
                     e2e.section("SERVICE", Flush="0.2", Grace="3", Log_Level="info",
                                 HTTP_Server="On", HTTP_Listen="127.0.0.1",
                                 HTTP_Port=api_port) +
                     inputs +
                     e2e.section("OUTPUT", Name="file", Match="*", Path=tmp,
                                 File=name + ".out"))
    d = e2e.Daemon(conf, os.path.join(tmp, name + ".log"))
    e2e.wait_port(api_port, d.p)
    return d


def rejected(api, reason):
    return e2e.metric_value(api, "sluice_forward_rejected_total",
                            {"reason": reason}) or 0


def wait_rejected(api, reason, n):
    e2e.wait_for(lambda: rejected(api, reason) >= n, 30,
                 what="sluice_forward_rejected_total{reason=%s} >= %d" % (reason, n))


def records(tmp, name):
    try:
        return e2e.read_out_file(os.path.join(tmp, name + ".out"))
    except FileNotFoundError:
        return []


def wait_records(tmp, name, n):
    e2e.wait_for(lambda: len(records(tmp, name)) >= n, 30,
                 what="%d records in %s.out" % (n, name))
    return records(tmp, name)


def modes(tmp):
    port, api = e2e.free_port(), e2e.free_port()
    d = start(tmp, "modes", e2e.section("INPUT", Name="forward", Listen="127.0.0.1",
                                        Port=port, Tag_Prefix="in.",
                                        Buffer_Max_Size="64K"), api)
    e2e.wait_port(port, d.p)
    cl = fp.Client(port)
    t0 = 1700000000123456789
    cl.message("app.message", fp.event_time(t0),
               {"msg": "one", "blob": b"bin\x01", "nested": {"a": [1, 2.5, None, True]}})
    cl.forward("app.forward", [(1700000001, {"seq": 1}),
                               (fp.event_time(t0 + 2), {"seq": 2})], chunk="ck-forward")
    c.equal(cl.ack(), "ck-forward", "Forward mode with a chunk option is acked")
    cl.packed("app.packed", [(fp.event_time(t0 + 3), {"seq": 3})], chunk="ck-packed")
    c.equal(cl.ack(), "ck-packed", "PackedForward is acked")
    cl.packed("app.packed_str", [(fp.event_time(t0 + 4), {"seq": 4})], as_str=True)
    cl.packed("app.gzip", [(fp.event_time(t0 + 5), {"seq": 5}),
                           (fp.event_time(t0 + 6), {"seq": 6})],
              chunk="ck-gzip", compressed=True)
    c.equal(cl.ack(), "ck-gzip", "CompressedPackedForward is acked")
    # a bad entry among good ones: the good ones are kept, the bad counted
    cl.forward("app.mixed", [(fp.event_time(t0 + 7), {"seq": 7}), ("noon", {"seq": -1}),
                             (fp.event_time(t0 + 8), ["not", "a", "map"])], chunk="ck-mixed")
    c.equal(cl.ack(), "ck-mixed", "a message with bad entries is still acked")
    cl.close()

    got = wait_records(tmp, "modes", 8)
    by_tag = {}
    for tag, ts, rec in got:
        by_tag.setdefault(tag, []).append((ts, rec))
    c.equal(sorted(by_tag), ["in.app.forward", "in.app.gzip", "in.app.message",
                             "in.app.mixed", "in.app.packed", "in.app.packed_str"],
            "every mode arrives under Tag_Prefix + its tag")
    c.equal(by_tag.get("in.app.message"),
            [(t0, {"msg": "one", "blob": "bin\x01", "nested": {"a": [1, 2.5, None, True]}})],
            "Message mode: EventTime to the nanosecond, bin as a string, nesting kept")
    c.equal(by_tag.get("in.app.forward"), [(1700000001 * 10**9, {"seq": 1}),
                                           (t0 + 2, {"seq": 2})],
            "Forward mode: integer and EventTime times")
    c.equal(by_tag.get("in.app.gzip"), [(t0 + 5, {"seq": 5}), (t0 + 6, {"seq": 6})],
            "CompressedPackedForward entries")
    c.equal(by_tag.get("in.app.packed_str"), [(t0 + 4, {"seq": 4})],
            "PackedForward with its entries as str (old Fluentd)")
    c.equal(by_tag.get("in.app.mixed"), [(t0 + 7, {"seq": 7})],
            "bad entries dropped, good ones kept")
    wait_rejected(api, "malformed", 2)

    # refusals: each one closes the connection without an ack, and counts
    cl = fp.Client(port)
    cl.send_raw(b"\x93\xabapp.partial\x91")  # a message cut short
    cl.close()
    wait_rejected(api, "truncated", 1)
    cl = fp.Client(port)
    cl.send_raw(b"\xc1\x00")
    c.check(cl.closed_by_server(), "a byte that is not msgpack closes the connection")
    cl.close()
    cl = fp.Client(port)
    cl.forward("app.big", [(1, {"x": "y" * 100000})], chunk="ck-big")
    c.equal(cl.ack(), None, "a message over Buffer_Max_Size is not acked")
    cl.close()
    cl = fp.Client(port)
    cl.send_raw(b"\x92\xa3app\xdd\xff\xff\xff\xff")  # 4 billion entries promised
    c.check(cl.closed_by_server(), "a huge declared array is refused before it is read")
    cl.close()
    import gzip as gz
    bomb = gz.compress(b"\x00" * 200000)  # inflates past Buffer_Max_Size
    cl = fp.Client(port)
    cl.send_raw(b"\x93\xa3app" + fp.msgpack.packb(bomb, use_bin_type=True) +
                fp.msgpack.packb({"compressed": "gzip", "chunk": "ck-bomb"}))
    c.equal(cl.ack(), None, "a gzip payload inflating past Buffer_Max_Size is not acked")
    cl.close()
    cl = fp.Client(port)
    cl.send_obj({"not": "a message"})
    c.check(cl.closed_by_server(), "a msgpack value that is no Forward message is refused")
    cl.close()
    wait_rejected(api, "too_large", 3)
    wait_rejected(api, "malformed", 4)
    # still serving after all that
    cl = fp.Client(port)
    cl.message("app.after", 1700000009, {"still": "alive"}, chunk="ck-after")
    c.equal(cl.ack(), "ck-after", "the input still serves after the refusals")
    cl.close()
    got = wait_records(tmp, "modes", 9)
    c.check(not any(t in ("in.app.big", "in.app.partial", "in.app") for t, _, _ in got),
            "nothing of a refused message is emitted")
    c.equal(d.stop(), 0, "sluice exits 0")


def tags(tmp):
    """Fluent Bit's rule: Tag_Prefix + tag, else a configured Tag
    replaces the sender's, else the sender's tag."""
    port, api = e2e.free_port(), e2e.free_port()
    d = start(tmp, "tags", e2e.section("INPUT", Name="forward", Listen="127.0.0.1",
                                       Port=port, Tag="fixed"), api)
    e2e.wait_port(port, d.p)
    cl = fp.Client(port)
    cl.message("sender.tag", 1700000000, {"t": 1}, chunk="t1")
    c.equal(cl.ack(), "t1", "acked")
    cl.close()
    got = wait_records(tmp, "tags", 1)
    c.equal([t for t, _, _ in got], ["fixed"], "a configured Tag replaces the sender's tag")
    c.equal(d.stop(), 0, "sluice exits 0")


def handshake(tmp):
    port, api = e2e.free_port(), e2e.free_port()
    d = start(tmp, "auth", e2e.section("INPUT", Name="forward", Listen="127.0.0.1",
                                       Port=port, Shared_Key="s3cret",
                                       Self_Hostname="aggregator",
                                       **{"security.users": ["alice pw-a", "bob pw-b"]}),
              api)
    e2e.wait_port(port, d.p)
    cl = fp.Client(port, shared_key="s3cret", username="alice", password="pw-a")
    c.check(cl.pong and cl.pong[1] is True, "the right key and password: PONG true")
    c.equal(cl.pong and cl.pong[3], "aggregator", "PONG names Self_Hostname")
    cl.forward("auth.ok", [(fp.event_time(1700000000000000001), {"ok": 1})], chunk="a1")
    c.equal(cl.ack(), "a1", "records after the handshake are acked")
    cl.close()

    cl = fp.Client(port, shared_key="wrong", username="alice", password="pw-a")
    c.check(cl.pong and cl.pong[1] is False, "a wrong shared key: PONG false")
    c.check(cl.closed_by_server(), "a wrong shared key closes the connection")
    cl.close()
    cl = fp.Client(port, shared_key="s3cret", username="alice", password="nope")
    c.check(cl.pong and cl.pong[1] is False, "a wrong password: PONG false")
    cl.close()
    cl = fp.Client(port)  # skips the handshake
    helo = cl.read()
    c.check(helo and helo[0] == "HELO", "the server speaks first: HELO")
    cl.forward("auth.sneak", [(1, {"sneak": 1})], chunk="s1")
    c.equal(cl.ack(), None, "records without the handshake are not acked")
    cl.close()
    cl = fp.Client(port)
    cl.read()
    cl.send_obj(["PING", "short"])
    c.check(cl.closed_by_server(), "a malformed PING closes the connection")
    cl.close()
    wait_rejected(api, "shared_key", 1)
    wait_rejected(api, "user", 1)
    wait_rejected(api, "handshake", 2)
    got = wait_records(tmp, "auth", 1)
    c.equal([(t, r) for t, _, r in got], [("auth.ok", {"ok": 1})],
            "only the authenticated records are kept")
    c.equal(d.stop(), 0, "sluice exits 0")


def unix_and_tls(tmp):
    api, port = e2e.free_port(), e2e.free_port()
    sock = os.path.join(tmp, "fwd.sock")
    crt, key = os.path.join(tmp, "crt.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    d = start(tmp, "unix", e2e.section("INPUT", Name="forward", Unix_Path=sock,
                                       Unix_Perm="0600") +
              e2e.section("INPUT", Name="forward", Listen="127.0.0.1", Port=port,
                          tls="On", **{"tls.crt_file": crt, "tls.key_file": key}), api)
    e2e.wait_for(lambda: os.path.exists(sock), 20, what="unix socket")
    c.equal(oct(os.stat(sock).st_mode & 0o777), "0o600", "Unix_Perm applies")
    cl = fp.Client(0, unix_path=sock)
    cl.message("unix.tag", 1700000000, {"via": "unix"}, chunk="u1")
    c.equal(cl.ack(), "u1", "a unix socket client is acked")
    cl.close()
    import ssl
    e2e.wait_port(port, d.p)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    cl = fp.Client(port)
    cl.s = ctx.wrap_socket(cl.s, server_hostname="localhost")
    cl.message("tls.tag", 1700000000, {"via": "tls"}, chunk="t1")
    c.equal(cl.ack(), "t1", "a TLS client is acked")
    cl.close()
    got = wait_records(tmp, "unix", 2)
    c.equal(sorted((t, r["via"]) for t, _, r in got), [("tls.tag", "tls"), ("unix.tag", "unix")],
            "records over the unix socket and TLS")
    c.equal(d.stop(), 0, "sluice exits 0")
    c.check(not os.path.exists(sock), "the unix socket is removed at exit")


with e2e.TempDir("sluice-fwd-") as tmp:
    modes(tmp)
    tags(tmp)
    handshake(tmp)
    unix_and_tls(tmp)
c.finish()
