#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""dummy -> kafka with Format msgpack, against librdkafka's mock cluster.

The message values are decoded with python3-msgpack and compared with what
Fluent Bit's out_kafka sends: a map whose first key is Timestamp_Key (a
float of seconds for Timestamp_Format double, the date string for
iso8601), then the record's members in order with their types (integers
stay integers, negative and above 2^63 too, floats are floats, strings are
unescaped UTF-8, null/true/arrays/maps keep their kind). Message_Key and
Message_Key_Field set the key as with json. Format avro, and any of its
options, is refused with a message saying it needs a build sluice does not
offer.
"""
import os
import subprocess
import sys
import threading

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

RECORD = ('{"id":"c-7","msg":"say \\"hi\\" \\u00e9","n":-5,'
          '"big":18446744073709551615,"f":1.5,"b":true,"z":null,'
          '"a":[1,"two",{"k":"v"}],"o":{"p":{}}}')
WANT = {"id": "c-7", "msg": 'say "hi" \u00e9', "n": -5,
        "big": 18446744073709551615, "f": 1.5, "b": True, "z": None,
        "a": [1, "two", {"k": "v"}], "o": {"p": {}}}
SAMPLES = 4


class MockCluster:
    """kafka_mock_dump: a one-broker mock cluster printing every message."""

    def __init__(self, topic):
        exe = os.environ.get("SLUICE_KAFKA_MOCK_DUMP")
        if not exe or not os.path.exists(exe):
            e2e.skip("SLUICE_KAFKA_MOCK_DUMP (tests/e2e/kafka_mock_dump) not built")
        self.p = subprocess.Popen([exe, topic, "1"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
        line = self.p.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "BOOTSTRAP":
            raise RuntimeError("mock cluster did not start: %r" % line)
        self.bootstrap = line[1]
        self.messages = []  # (key bytes or None, value bytes)
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for raw in self.p.stdout:
            parts = raw.decode().split(" ")
            if parts[0] != "MSG":
                continue
            key = None if parts[2] == "-" else bytes.fromhex(parts[2])
            with self.lock:
                self.messages.append((key, bytes.fromhex(parts[3].strip())))

    def got(self):
        with self.lock:
            return list(self.messages)

    def close(self):
        self.p.stdin.close()
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def config(tmp, name, output):
    text = e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="info")
    text += e2e.section("INPUT", Name="dummy", Tag="app", Dummy=RECORD,
                        Samples=SAMPLES, Start_time_sec="1700000000",
                        Start_time_nsec="250000000", Fixed_timestamp="On")
    # a tail input that never finishes keeps sluice running until the
    # test's SIGTERM, however sluice treats the dummy input once it is done
    idle = e2e.write(os.path.join(tmp, "idle.log"), "")
    text += e2e.section("INPUT", Name="tail", Path=idle, Tag="idle")
    out = {"Name": "kafka", "Match": "app"}
    out.update(output)
    text += e2e.section("OUTPUT", **out)
    return e2e.write(os.path.join(tmp, name), text)


def run(ck, tmp, name, output, what):
    """Runs sluice until SAMPLES messages arrived; returns [(key, value)]."""
    mc = MockCluster("logs")
    log_path = os.path.join(tmp, name + ".log")
    output = dict(output, Brokers=mc.bootstrap, Topics="logs")
    conf = config(tmp, name + ".conf", output)
    with open(log_path, "wb") as log:
        p = subprocess.Popen([e2e.binary(), "-c", conf], stdout=log,
                             stderr=subprocess.STDOUT)
        try:
            e2e.wait_for(lambda: len(mc.got()) >= SAMPLES, 60,
                         what="%d messages (%s)" % (SAMPLES, what))
        finally:
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            mc.close()
    ck.equal(p.returncode, 0, "%s: exit code" % what)
    got = mc.got()
    ck.equal(len(got), SAMPLES, "%s: messages, each once" % what)
    return got


def check_value(ck, value, ts_key, ts_value, what):
    d = msgpack.unpackb(value, raw=False, strict_map_key=False)
    ck.check(isinstance(d, dict), "%s: value is a msgpack map: %r" % (what, d))
    if not isinstance(d, dict):
        return
    keys = list(d)
    ck.equal(keys, [ts_key] + list(WANT), "%s: key order (timestamp first)" % what)
    ck.equal(d.get(ts_key), ts_value, "%s: %s" % (what, ts_key))
    ck.equal(type(d.get(ts_key)), type(ts_value), "%s: %s type" % (what, ts_key))
    rest = {k: v for k, v in d.items() if k != ts_key}
    ck.equal(rest, WANT, "%s: record members" % what)
    ck.equal({k: type(v).__name__ for k, v in rest.items()},
             {k: type(v).__name__ for k, v in WANT.items()}, "%s: member types" % what)


def main():
    e2e.require_plugins("dummy", "tail", "kafka")
    ck = e2e.Checker()
    with e2e.TempDir("sluice-kafka-mp-") as tmp:
        got = run(ck, tmp, "double", {"Format": "msgpack", "Message_Key": "k1"},
                  "Format msgpack, double")
        for key, value in got:
            ck.equal(key, b"k1", "Message_Key")
            check_value(ck, value, "@timestamp", 1700000000.25, "double")
        got = run(ck, tmp, "iso", {"Format": "msgpack", "Timestamp_Key": "ts",
                                   "Timestamp_Format": "iso8601",
                                   "Message_Key_Field": "id"},
                  "Format msgpack, iso8601")
        for key, value in got:
            ck.equal(key, b"c-7", "Message_Key_Field")
            check_value(ck, value, "ts", "2023-11-14T22:13:20.250000Z", "iso8601")
        conf = config(tmp, "avro.conf", {"Format": "avro", "Brokers": "127.0.0.1:9",
                                         "Schema_str": "{}", "Schema_id": "1"})
        r = e2e.run_to_exit(["--dry-run", "-c", conf], timeout=60)
        ck.check(r.rc != 0, "Format avro refused (exit %d)" % r.rc)
        ck.check("Format avro needs Fluent Bit's optional Avro encoder build" in
                 r.log() + r.out.decode("utf-8", "replace"),
                 "avro refusal says why: %s" % r.log())
        conf = config(tmp, "registry.conf", {"Brokers": "127.0.0.1:9",
                                             "Schema_registry_url": "http://r:8081"})
        r = e2e.run_to_exit(["--dry-run", "-c", conf], timeout=60)
        ck.check(r.rc != 0, "an avro option without Format avro refused (exit %d)" % r.rc)
        ck.check("'schema_registry_url' is an option of Format avro, which needs" in
                 r.log() + r.out.decode("utf-8", "replace"),
                 "the avro option's refusal names it: %s" % r.log())
    ck.finish()


if __name__ == "__main__":
    main()
