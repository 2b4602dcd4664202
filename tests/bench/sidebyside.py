#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Side-by-side benchmark: sluice and Fluent Bit on the SAME classic config
text (issue 15). Called by run_sidebyside.sh.

Method
  - Every pipeline is tail (Read_from_Head On, Exit_On_Eof On) over one
    generated file -> filter parser (json, Key_Name log) -> an output:
      null | 4 log_to_metrics -> prometheus_exporter | es | loki |
      es gzip | loki gzip | kafka (librdkafka's mock cluster) | http json_lines
    The receivers (sink.py for es/loki/http, kafka_mock.c) run for the whole
    benchmark and are the same for both collectors.
  - One config file per pipeline, written once and passed unchanged to
    both binaries (`sluice -c F`, `fluent-bit -c F`): no option differs.
    Flush 1, Grace 60, Mem_Buf_Limit 32M (sluice's default; Fluent Bit's
    is unlimited, which would hold the whole file in memory), tail's
    Buffer_Chunk_Size/Buffer_Max_Size 32K (both defaults; lines are <1 KB).
    Output Workers are left at each collector's default (Fluent Bit runs
    2 workers for es and http), as a user would deploy them.
  - Drained: a run ends when the collector exits by itself. sluice's
    Exit_On_Eof stops after flushing everything; Fluent Bit's in_tail calls
    flb_engine_exit() at EOF, which pauses inputs and retries pending
    chunks once a second until none is left or Grace runs out.
  - Verified: es/loki/http by the receiver's document count, kafka by the
    topic's high watermarks (the mock keeps only ~5 MB per partition but
    the watermarks count every appended message). The delta over a run
    must equal the file's line count, otherwise the run is reported as
    LOST/DUP and the pipeline is not measured. null and prometheus_exporter
    have nothing to count: there a run is valid when it exits 0.
  - Measured per run: CPU seconds = user+sys of the collector from wait4()
    (it is started directly, no shell, so shutdown is included); peak RSS
    = VmHWM from /proc/PID/status polled every 50 ms until exit (the last
    poll of a live process; a zombie has no VmHWM). wait4's ru_maxrss is
    NOT used: Linux carries the pre-exec maximum over exec, so it reports
    the forking Python's ~25 MB for any smaller child. Wall seconds too.
    MB = input file size.
  - Before each run the data file is read through once (not measured), so
    each starts with it in the page cache: Fluent Bit's tail evicts what it
    reads (File_Cache_Advise), which would charge a cold read to whichever
    run follows it.
  - Runs alternate sluice / Fluent Bit, and the order flips every round,
    so that drift of a shared machine hits both alike; the table gives
    medians of the valid runs. MB per CPU-second is the figure to trust on
    a loaded machine; wall time includes waiting (Flush ticks, Grace).
"""
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
sys.dont_write_bytecode = True  # keep the source tree clean
from measure import COUNTERS, count_lines, free_port, run_measured  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def warm_page_cache(path):
    """Reads the data file through, so every run starts with it cached:
    Fluent Bit's tail drops what it has read from the page cache
    (File_Cache_Advise, on by default), which left the run after it
    reading from disk (measured: 1.8x to 2.5x the CPU seconds for
    sluice)."""
    with open(path, "rb", buffering=0) as f:
        while f.read(1 << 20):
            pass


def fb_counters():
    """measure.py's four log_to_metrics rules in the form both collectors
    accept: without sluice's Logical_Op extension and its correlate filter
    (neither exists in Fluent Bit). The matching cost is the same kind:
    two or three regexes per record and filter."""
    text = COUNTERS.split("[FILTER]\n    Name correlate")[0]
    return "".join(ln + "\n" for ln in text.splitlines()
                   if not ln.strip().lower().startswith("logical_op"))


HEAD = ("[SERVICE]\n    Flush 1\n    Grace 60\n    Log_Level warn\n"
        "    Parsers_File %(parsers)s\n"
        "[INPUT]\n    Name tail\n    Path %(data)s\n    Tag bench\n"
        "    Read_from_Head On\n    Exit_On_Eof On\n"
        "    Buffer_Chunk_Size 32K\n    Buffer_Max_Size 32K\n    Mem_Buf_Limit 32M\n"
        "[FILTER]\n    Name parser\n    Match bench\n    Key_Name log\n    Parser json\n")
ES = ("[OUTPUT]\n    Name es\n    Match bench\n    Host 127.0.0.1\n    Port %(port)d\n"
      "    Index bench\n    Suppress_Type_Name On\n")
LOKI = ("[OUTPUT]\n    Name loki\n    Match bench\n    Host 127.0.0.1\n    Port %(port)d\n"
        "    Labels job=bench\n")
GZ = "    Compress gzip\n"
# (name, output text, how to verify: None | "sink" | "kafka")
PIPELINES = [
    ("null", "[OUTPUT]\n    Name null\n    Match bench\n", None),
    ("4 log_to_metrics>prom", "%(counters)s[OUTPUT]\n    Name prometheus_exporter\n"
     "    Match metrics.*\n    Host 127.0.0.1\n    Port %(prom_port)d\n", None),
    ("es", ES, "sink"),
    ("loki", LOKI, "sink"),
    ("es gzip", ES + GZ, "sink"),
    ("loki gzip", LOKI + GZ, "sink"),
    ("kafka", "[OUTPUT]\n    Name kafka\n    Match bench\n    Brokers %(brokers)s\n"
     "    Topics bench\n", "kafka"),
    ("http json_lines", "[OUTPUT]\n    Name http\n    Match bench\n    Host 127.0.0.1\n"
     "    Port %(port)d\n    URI /bench\n    Format json_lines\n", "sink"),
]


def run_collector(argv, timeout, errpath):
    """(wall s, CPU s, peak RSS MB, exit code); the collector's log goes to
    errpath (a file: Fluent Bit can log more than a pipe holds)."""
    with open(errpath, "wb") as err:
        return run_measured(argv, timeout, err)[:4]


class Receivers:
    """sink.py and the Kafka mock, shared by all runs; count() is the
    number of records received so far by the kind of receiver asked."""

    def __init__(self, kafka_mock, partitions):
        self.sink = subprocess.Popen([sys.executable, os.path.join(HERE, "sink.py")],
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.sink.stdout.readline().split()[1])
        self.mock = self.brokers = None
        if kafka_mock:
            self.mock = subprocess.Popen([kafka_mock, str(partitions)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True)
            self.brokers = self.mock.stdout.readline().split()[1]

    def count(self, kind):
        if kind == "sink":
            with urllib.request.urlopen("http://127.0.0.1:%d/count" % self.port,
                                        timeout=30) as r:
                return json.loads(r.read())["docs"]
        self.mock.stdin.write("HWM\n")
        self.mock.stdin.flush()
        n = int(self.mock.stdout.readline().split()[1])
        if n < 0:
            raise SystemExit("kafka mock: cannot read the high watermarks")
        return n

    def close(self):
        self.sink.terminate()
        self.sink.wait(timeout=10)
        if self.mock:
            self.mock.stdin.close()
            self.mock.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--fluentbit", help="fluent-bit binary; without it sluice runs alone")
    ap.add_argument("--kafka-mock", help="bench_kafka_mock; without it kafka is skipped")
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--data", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--only", help="comma-separated pipeline names (default: all)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (configs, logs)")
    a = ap.parse_args()

    size = os.path.getsize(a.data)
    lines = count_lines(a.data)  # also puts the file in the page cache
    mb = size / 1e6
    collectors = [("sluice", a.sluice)]
    if a.fluentbit:
        collectors.append(("fluent-bit", a.fluentbit))
    work = tempfile.mkdtemp(prefix="sluice-sidebyside-")
    parsers = os.path.join(work, "parsers.conf")
    with open(parsers, "w") as f:
        f.write("[PARSER]\n    Name json\n    Format json\n")
    rcv = Receivers(a.kafka_mock, a.partitions)
    only = set(a.only.split(",")) if a.only else None
    print("data: %s, %d lines, %.1f MB; %d runs each, alternating; %s"
          % (a.data, lines, mb, a.runs,
             "Fluent Bit: %s" % a.fluentbit if a.fluentbit
             else "FLUENTBIT_BIN not set: sluice alone"), flush=True)
    rows = []
    try:
        for name, out, verify in PIPELINES:
            if only and name not in only:
                continue
            if verify == "kafka" and not rcv.brokers:
                print("skip %s: no kafka mock" % name, file=sys.stderr)
                continue
            path = os.path.join(work, "%s.conf" % name.replace(" ", "_").replace(">", "_"))
            with open(path, "w") as f:
                f.write(HEAD % {"parsers": parsers, "data": a.data}
                        + out % {"port": rcv.port, "brokers": rcv.brokers,
                                 "prom_port": free_port(), "counters": fb_counters()})
            res = {c: {"wall": [], "cpu": [], "rss": [], "bad": []} for c, _ in collectors}
            for r in range(a.runs):
                order = collectors if r % 2 == 0 else collectors[::-1]
                for cname, binary in order:
                    warm_page_cache(a.data)
                    before = rcv.count(verify) if verify else 0
                    errpath = os.path.join(work, "%s.%s.%d.log" % (os.path.basename(path),
                                                                   cname, r))
                    w, c, rss, rc = run_collector([binary, "-c", path], a.timeout, errpath)
                    got = rcv.count(verify) - before if verify else lines
                    # late deliveries after exit would belong to no run:
                    # the count is taken again after a moment
                    if verify and got != lines:
                        time.sleep(1)
                        got = rcv.count(verify) - before
                    d = res[cname]
                    if rc != 0:
                        with open(errpath, errors="replace") as f:
                            tail = f.read()[-1500:]
                        d["bad"].append("exit %s" % rc)
                        print("%s %s run %d: exit %s\n%s" % (cname, name, r, rc, tail),
                              file=sys.stderr)
                    elif got != lines:
                        d["bad"].append("%s %d/%d" % ("LOST" if got < lines else "DUP",
                                                       got, lines))
                    else:
                        d["wall"].append(w)
                        d["cpu"].append(c)
                        d["rss"].append(rss)
                    print("  %-22s %-10s run %d: wall %.2f s, CPU %.2f s, peak RSS %.1f MB%s"
                          % (name, cname, r, w, c, rss,
                             "" if got == lines and rc == 0 else ", INVALID: %s" % d["bad"][-1]),
                          file=sys.stderr, flush=True)
            rows.append((name, res))
    finally:
        rcv.close()
        if a.keep:
            print("work dir kept: %s" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    def summary(d):
        """(MB/CPU-s, RSS MB, wall s, records/s) or the reason it is not measured."""
        if d["bad"]:
            return "; ".join(sorted(set(d["bad"])))
        cpu, wall = statistics.median(d["cpu"]), statistics.median(d["wall"])
        return (mb / cpu, statistics.median(d["rss"]), wall, lines / wall)

    print()
    print("ratio = sluice MB/CPU-s / Fluent Bit MB/CPU-s (higher: sluice is cheaper); "
          "RSS ratio = sluice RSS / Fluent Bit RSS (lower: sluice is smaller); "
          "RSS = peak VmHWM in MB; records/s and wall s are wall-clock (include Flush/Grace waits)")
    print()
    print("| pipeline | sluice MB/CPU-s | Fluent Bit MB/CPU-s | ratio | sluice RSS | "
          "Fluent Bit RSS | RSS ratio | sluice records/s | Fluent Bit records/s | "
          "sluice wall s | Fluent Bit wall s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, res in rows:
        s = summary(res["sluice"])
        f = summary(res["fluent-bit"]) if "fluent-bit" in res else "not run"
        sv = s if isinstance(s, tuple) else None
        fv = f if isinstance(f, tuple) else None

        def cell(v, i, spec, reason):
            return spec % v[i] if v else reason

        cells = [cell(sv, 0, "%.1f", s), cell(fv, 0, "%.1f", f),
                 "%.2fx" % (sv[0] / fv[0]) if sv and fv else "-",
                 cell(sv, 1, "%.1f", s), cell(fv, 1, "%.1f", f),
                 "%.2f" % (sv[1] / fv[1]) if sv and fv else "-",
                 cell(sv, 3, "%.0f", s), cell(fv, 3, "%.0f", f),
                 cell(sv, 2, "%.2f", s), cell(fv, 2, "%.2f", f)]
        print("| %s | %s |" % (name, " | ".join(cells)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
