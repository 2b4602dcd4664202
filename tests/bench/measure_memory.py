#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The memory benchmark (called by run_memory.sh): tail -> parser(json) ->
null, es, loki, kafka (librdkafka's mock cluster) and http, each to a local
receiver (sink.py). Per case, the medians of several runs of: peak RSS as
the kernel reports it (VmHWM from /proc/PID/status, sampled while sluice
runs: the high-water mark only grows, so the last sample is the peak), MB
of input per CPU-second of sluice, and wall time. Checks that the receiver
got every record, so a run that lost data cannot look fast."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import count_lines  # noqa: E402

HEAD = ("[SERVICE]\n    Flush 1\n    Grace 60\n    Log_Level warn\n    Parsers_File %s\n"
        "[INPUT]\n    Name tail\n    Path %s\n    Tag bench\n    Read_from_Head On\n"
        "    Exit_On_Eof On\n"
        "[FILTER]\n    Name parser\n    Match bench\n    Key_Name log\n    Parser json\n")
OUTPUTS = {
    "null": "[OUTPUT]\n    Name null\n    Match bench\n",
    "es": "[OUTPUT]\n    Name es\n    Match bench\n    Host 127.0.0.1\n    Port %(port)d\n"
          "    Index bench\n    Suppress_Type_Name On\n    Generate_ID On\n    Compress gzip\n",
    "loki": "[OUTPUT]\n    Name loki\n    Match bench\n    Host 127.0.0.1\n    Port %(port)d\n"
            "    Labels job=bench\n    Compress gzip\n",
    "kafka": "[OUTPUT]\n    Name kafka\n    Match bench\n    Brokers %(brokers)s\n"
             "    Topics bench\n",
    "http": "[OUTPUT]\n    Name http\n    Match bench\n    Host 127.0.0.1\n    Port %(port)d\n"
            "    Uri /ingest\n    Format json_lines\n",
}


def sink_count(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/count" % port, timeout=10) as r:
        return json.loads(r.read())["docs"]


def vm_hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run_once(argv, timeout):
    """wall s, CPU s (user+sys), peak RSS MB (VmHWM)"""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    hwm = 0
    while True:
        v = vm_hwm_kb(p.pid)
        if v:
            hwm = max(hwm, v)
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > t0 + timeout:
            p.kill()
            os.wait4(p.pid, 0)
            raise SystemExit("timeout: %s" % " ".join(argv))
        time.sleep(0.01)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode("utf-8", "replace")
    p.stderr.close()
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        raise SystemExit("%s exited %d:\n%s" % (argv[0], rc, err[-3000:]))
    return wall, ru.ru_utime + ru.ru_stime, hwm / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--kafka-mock")
    ap.add_argument("--data", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cases", default="null,es,loki,kafka,http")
    a = ap.parse_args()
    size = os.path.getsize(a.data)
    lines = count_lines(a.data)
    work = tempfile.mkdtemp(prefix="sluice-bench-mem-")
    parsers = os.path.join(work, "parsers.conf")
    with open(parsers, "w") as f:
        f.write("[PARSER]\n    Name json\n    Format json\n")
    here = os.path.dirname(os.path.abspath(__file__))
    sink = subprocess.Popen([sys.executable, os.path.join(here, "sink.py")],
                            stdout=subprocess.PIPE, text=True)
    port = int(sink.stdout.readline().split()[1])
    mock, brokers = None, None
    if a.kafka_mock:
        mock = subprocess.Popen([a.kafka_mock], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
        brokers = mock.stdout.readline().split()[1]
    print("data: %s, %d lines, %.1f MB; medians of %d runs" % (a.data, lines, size / 1e6, a.runs))
    print("%-18s %10s %9s %8s %8s %9s" % ("case", "VmHWM MB", "MB/CPU-s", "CPU s", "wall s",
                                          "MB/s"))
    try:
        for name in a.cases.split(","):
            if name == "kafka" and not brokers:
                continue
            path = os.path.join(work, "%s.conf" % name)
            with open(path, "w") as f:
                f.write(HEAD % (parsers, a.data) + OUTPUTS[name] % {"port": port,
                                                                      "brokers": brokers})
            walls, cpus, rss = [], [], []
            for _ in range(a.runs):
                before = sink_count(port)
                w, c, r = run_once([a.sluice, "-c", path], 900)
                walls.append(w)
                cpus.append(c)
                rss.append(r)
                if name in ("es", "loki", "http"):
                    got = sink_count(port) - before
                    if got != lines:
                        raise SystemExit("%s: receiver got %d records, want %d" % (name, got, lines))
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            print("%-18s %10.1f %9.1f %8.2f %8.2f %9.1f"
                  % ("tail>parser>" + name, statistics.median(rss), size / 1e6 / cpu, cpu, wall,
                     size / 1e6 / wall))
            sys.stdout.flush()
    finally:
        sink.terminate()
        if mock:
            mock.stdin.close()
            mock.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
