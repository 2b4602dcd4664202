#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The output benchmark (called by run_outputs.sh): tail -> parser(json) ->
es (gzip), -> loki (gzip) and -> kafka, each to a local receiver (sink.py,
librdkafka's mock cluster), next to a gzip-only baseline over the same
bytes. Prints medians of wall time, MB/s, records/s, CPU seconds of sluice
and its peak RSS, and checks that the receiver got every record."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import count_lines, run_once  # noqa: E402

HEAD = ("[SERVICE]\n    Flush 1\n    Grace 60\n    Log_Level warn\n    Parsers_File %s\n"
        "[INPUT]\n    Name tail\n    Path %s\n    Tag bench\n    Read_from_Head On\n"
        "    Exit_On_Eof On\n    Mem_Buf_Limit 16M\n"
        "[FILTER]\n    Name parser\n    Match bench\n    Key_Name log\n    Parser json\n")
OUTPUTS = {
    "es": "[OUTPUT]\n    Name es\n    Match bench\n    Host 127.0.0.1\n    Port %(port)d\n"
          "    Index bench\n    Suppress_Type_Name On\n    Generate_ID On\n    Compress gzip\n",
    "loki": "[OUTPUT]\n    Name loki\n    Match bench\n    Host 127.0.0.1\n    Port %(port)d\n"
            "    Labels job=bench\n    Compress gzip\n",
    "kafka": "[OUTPUT]\n    Name kafka\n    Match bench\n    Brokers %(brokers)s\n"
             "    Topics bench\n",
}


def sink_count(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/count" % port, timeout=10) as r:
        return json.loads(r.read())["docs"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--gzip-baseline", required=True)
    ap.add_argument("--kafka-mock")
    ap.add_argument("--data", required=True)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    size = os.path.getsize(a.data)
    lines = count_lines(a.data)
    work = tempfile.mkdtemp(prefix="sluice-bench-out-")
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
    print("data: %s, %d lines, %.1f MB; %d runs each" % (a.data, lines, size / 1e6, a.runs))
    print("%-24s %9s %11s %8s %8s %10s %9s" % ("case", "MB/s", "records/s", "wall s", "CPU s",
                                              "peakRSS MB", "vs gzip"))
    try:
        walls = []
        for _ in range(a.runs):
            w, _, _ = run_once([a.gzip_baseline, a.data], 600)
            walls.append(w)
        gz = size / 1e6 / statistics.median(walls)
        print("%-24s %9.1f %11s %8.3f %8s %10s %9s" % ("gzip only (baseline)", gz, "-",
                                                     statistics.median(walls), "-", "-", "1.00x"))
        for name in ("es", "loki", "kafka"):
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
                if name != "kafka":
                    got = sink_count(port) - before
                    if got != lines:
                        raise SystemExit("%s: receiver got %d records, want %d" % (name, got, lines))
            wall = statistics.median(walls)
            print("%-24s %9.1f %11.0f %8.3f %8.3f %10.1f %8.2fx"
                  % ("tail>parser>" + name, size / 1e6 / wall, lines / wall, wall,
                     statistics.median(cpus), statistics.median(rss), size / 1e6 / wall / gz))
            sys.stdout.flush()
    finally:
        sink.terminate()
        if mock:
            mock.stdin.close()
            mock.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
