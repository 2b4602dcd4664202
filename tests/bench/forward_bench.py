# SPDX-License-Identifier: Apache-2.0
"""forward in -> null beside tail -> parser(json) -> null: records/s and
sluice's CPU seconds for the same records. The forward sender is this
script writing pre-built PackedForward messages (built once, so Python is
not the bottleneck); sluice's own counters say when every record is in.
Not a test: run by hand,

  python3 tests/bench/forward_bench.py --sluice build-bench/sluice [--records N]

(needs Debian's python3-msgpack; re-runs itself under /usr/bin/python3)."""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

try:
    import msgpack
except ImportError:
    if sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise
import struct


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def records_in(api):
    try:
        text = urllib.request.urlopen("http://127.0.0.1:%d/api/v1/metrics/prometheus" % api,
                                      timeout=5).read().decode()
    except OSError:
        return 0
    m = re.search(r"^sluice_input_records_total\{[^}]*\} (\S+)$", text, re.M)
    return int(float(m.group(1))) if m else 0


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def record(i):
    return {"seq": i, "level": "info", "msg": "request served in %d ms" % (i % 997),
            "path": "/api/v1/items/%d" % (i % 10007), "status": 200}


def start(sluice, work, inp, api):
    conf = os.path.join(work, "bench.conf")
    with open(os.path.join(work, "parsers.conf"), "w") as f:
        f.write("[PARSER]\n    Name json\n    Format json\n")
    with open(conf, "w") as f:
        f.write("[SERVICE]\n    Flush 1\n    Log_Level warn\n    HTTP_Server On\n"
                "    HTTP_Listen 127.0.0.1\n    HTTP_Port %d\n    Parsers_File %s\n"
                % (api, os.path.join(work, "parsers.conf")) + inp +
                "[OUTPUT]\n    Name null\n    Match *\n")
    p = subprocess.Popen([sluice, "-c", conf])
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", api), timeout=1).close()
            return p
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("sluice did not start")


def wait_all(p, api, n, t0, cpu0):
    while records_in(api) < n:
        if p.poll() is not None:
            raise RuntimeError("sluice exited")
        time.sleep(0.02)
    return time.time() - t0, cpu_s(p.pid) - cpu0


def bench_forward(sluice, work, n, batch):
    api, port = free_port(), free_port()
    p = start(sluice, work, "[INPUT]\n    Name forward\n    Listen 127.0.0.1\n"
              "    Port %d\n    Buffer_Max_Size 16M\n" % port, api)
    msgs = []
    t = msgpack.ExtType(0, struct.pack(">II", 1700000000, 0))
    for start_i in range(0, n, batch):
        body = b"".join(msgpack.packb([t, record(i)]) for i in range(start_i, min(n, start_i + batch)))
        msgs.append(msgpack.packb(["bench", body, {"size": batch}], use_bin_type=True))
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            time.sleep(0.05)
    cpu0, t0 = cpu_s(p.pid), time.time()
    for m in msgs:
        s.sendall(m)
    wall, cpu = wait_all(p, api, n, t0, cpu0)
    s.close()
    p.terminate()
    p.wait()
    return wall, cpu


def bench_tail(sluice, work, n):
    api = free_port()
    path = os.path.join(work, "bench.log")
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps(record(i), separators=(",", ":")) + "\n")
    p = start(sluice, work, "[INPUT]\n    Name tail\n    Path %s\n    Tag bench\n"
              "    Read_from_Head On\n[FILTER]\n    Name parser\n    Match *\n"
              "    Key_Name log\n    Parser json\n" % path, api)
    cpu0, t0 = 0.0, time.time()  # tail starts reading at once: count all
    wall, cpu = wait_all(p, api, n, t0, cpu0)
    p.terminate()
    p.wait()
    return wall, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--records", type=int, default=1000000)
    ap.add_argument("--batch", type=int, default=1000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        for name, fn in (("forward in -> null", lambda: bench_forward(a.sluice, work, a.records, a.batch)),
                         ("tail -> parser(json) -> null", lambda: bench_tail(a.sluice, work, a.records))):
            wall, cpu = fn()
            print("%-30s %9d records  %6.2f s wall  %6.2f s CPU  %10.0f records/s  %8.0f records/CPU-s"
                  % (name, a.records, wall, cpu, a.records / wall, a.records / max(cpu, 1e-9)))


if __name__ == "__main__":
    main()
