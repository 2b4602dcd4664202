#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Format msgpack of the http and file outputs, written the Fluent Bit way.

Fluent Bit's out_http (Format msgpack) posts the chunk as it holds it and
out_file (Format msgpack) appends it: one event per record,
[[EventTime, {metadata}], {record}], EventTime being msgpack ext type 0
with big-endian seconds and nanoseconds. A dummy input with a fixed time
feeds both; the bodies and the file are decoded with python3-msgpack and
every event must be exactly that, with the record's types kept (integers,
negative and above 2^63, floats, unescaped strings, null, bool, arrays,
maps) and the metadata map empty. The request says application/msgpack.
An http output without Format sends the same: msgpack is Fluent Bit's
default.
"""
import os
import struct
import subprocess
import sys

try:
    import msgpack
except ImportError:
    # python3-msgpack is a Debian package: when meson found another python3
    # first on PATH (pyenv, a venv), run under Debian's, which has it.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402
import http_receiver  # noqa: E402

RECORD = ('{"msg":"say \\"hi\\" \\u00e9","n":-5,"big":18446744073709551615,'
          '"f":1.5,"b":false,"z":null,"a":[1,"two",{"k":"v"}],"o":{"p":{}}}')
WANT = {"msg": 'say "hi" \u00e9', "n": -5, "big": 18446744073709551615,
        "f": 1.5, "b": False, "z": None, "a": [1, "two", {"k": "v"}],
        "o": {"p": {}}}
SEC, NSEC = 1700000000, 250000000
SAMPLES = 30


def events(data):
    """Every object of a msgpack stream; raises on trailing garbage."""
    u = msgpack.Unpacker(raw=False, strict_map_key=False)
    u.feed(data)
    out = list(u)
    if u.tell() != len(data):
        raise ValueError("%d trailing bytes" % (len(data) - u.tell()))
    return out


def check_events(ck, evs, what):
    ck.equal(len(evs), SAMPLES, "%s: one event per record" % what)
    want_time = msgpack.ExtType(0, struct.pack(">II", SEC, NSEC))
    for ev in evs:
        ok = (isinstance(ev, list) and len(ev) == 2 and isinstance(ev[0], list)
              and len(ev[0]) == 2)
        if not ck.check(ok, "%s: event shape [[time, meta], record]: %r" % (what, ev)):
            return
        if not ck.equal(ev[0][0], want_time, "%s: EventTime ext" % what):
            return
        if not ck.equal(ev[0][1], {}, "%s: metadata map" % what):
            return
        if not ck.equal(ev[1], WANT, "%s: record" % what):
            return
        if not ck.equal({k: type(v).__name__ for k, v in ev[1].items()},
                        {k: type(v).__name__ for k, v in WANT.items()},
                        "%s: member types" % what):
            return


def main():
    e2e.require_plugins("dummy", "tail", "http", "file")
    ck = e2e.Checker()
    with e2e.TempDir("sluice-msgpack-") as tmp, \
            http_receiver.Receiver() as rcv, http_receiver.Receiver() as rcv2:
        out_dir = os.path.join(tmp, "out")
        os.mkdir(out_dir)
        text = e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="info")
        text += e2e.section("INPUT", Name="dummy", Tag="app", Dummy=RECORD,
                            Samples=SAMPLES, Rate=50, Start_time_sec=SEC,
                            Start_time_nsec=NSEC, Fixed_timestamp="On")
        # a tail input that never finishes keeps sluice running until the
        # test's SIGTERM, however sluice treats the dummy input once done
        idle = e2e.write(os.path.join(tmp, "idle.log"), "")
        text += e2e.section("INPUT", Name="tail", Path=idle, Tag="idle")
        text += e2e.section("OUTPUT", Name="http", Match="app", Host="127.0.0.1",
                            Port=rcv.port, URI="/in", Format="msgpack")
        text += e2e.section("OUTPUT", Name="http", Match="app", Host="127.0.0.1",
                            Port=rcv2.port, URI="/default")
        text += e2e.section("OUTPUT", Name="file", Match="app", Path=out_dir,
                            File="events.mp", Format="msgpack")
        conf = e2e.write(os.path.join(tmp, "sluice.conf"), text)
        target = os.path.join(out_dir, "events.mp")

        def http_events(receiver=rcv):
            evs = []
            for r in receiver.snapshot():
                if r.status == 200:
                    evs += events(r.body)
            return evs

        def file_events():
            try:
                with open(target, "rb") as f:
                    return events(f.read())
            except (OSError, ValueError):
                return []  # not written yet, or a write in progress

        with open(os.path.join(tmp, "sluice.log"), "wb") as log:
            p = subprocess.Popen([e2e.binary(), "-c", conf], stdout=log,
                                 stderr=subprocess.STDOUT)
            try:
                e2e.wait_for(lambda: len(http_events()) >= SAMPLES, 60,
                             what="%d events over http" % SAMPLES)
                e2e.wait_for(lambda: len(file_events()) >= SAMPLES, 60,
                             what="%d events in the file" % SAMPLES)
                e2e.wait_for(lambda: len(http_events(rcv2)) >= SAMPLES, 60,
                             what="%d events over http without Format" % SAMPLES)
            finally:
                p.terminate()
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        ck.equal(p.returncode, 0, "exit code")
        for what, receiver in (("http", rcv), ("http without Format", rcv2)):
            reqs = receiver.snapshot()
            ck.check(reqs and all(r.headers.get("content-type") == "application/msgpack"
                                  for r in reqs), "%s: Content-Type application/msgpack" % what)
            check_events(ck, http_events(receiver), what)
        with open(target, "rb") as f:
            check_events(ck, events(f.read()), "file")
    ck.finish()


if __name__ == "__main__":
    main()
