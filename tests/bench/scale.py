#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The many-files benchmark (called by run_scale.sh; issue 15).

Scenario A: many slow files (5,000 files at 10 lines/s each).
Scenario B: few fast files (100 files at 10,000 lines/s each); on a small
machine the writer and the collector share the CPU, so B steps the per-file
rate down until the collector keeps up, and says so.

Each point: N files created before the collector starts, the collector
(sluice, or Fluent Bit with --fluentbit, on the same classic config text)
tails DIR/*.log with Parser json and sends Format json_lines over `http` to
bench_scale_sink, which timestamps arrival. bench_scale_writer appends lines
carrying their write time (CLOCK_REALTIME ns), file index and sequence, so
the sink counts lost and doubled lines and latency (written -> received).

Printed per point: lines written / delivered (unique, doubled), collector
CPU seconds and CPU % (write start until the last line arrived, divided by
the write duration), CPU per file, idle CPU % (before writing), peak RSS
(VmHWM) and RSS per file, fds open, inotify watches, latency p50/p99/max,
the backlog (lines written, not received) mid-run and when the writer
stopped. A collector "keeps up" when nothing is lost and at most
--max-backlog seconds of lines (default 2: Flush 1 holds about one) are
still on their way when the writer stops. Then a cost table across N so
that linear growth shows. Figures are indicative: nothing is asserted.

Why http + a C receiver: the receiver must take a million lines a second
on a core it shares with the writer and the collector, and timestamp each
request as it arrives; Format json_lines keeps each record one line
(memmem for three keys, no JSON parser), and both collectors have it."""
import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")
PARSERS = "[PARSER]\n    Name json\n    Format json\n"
CONF = """[SERVICE]
    Flush 1
    Grace 5
    Log_Level warn
    Parsers_File {parsers}
[INPUT]
    Name tail
    Path {dir}/*.log
    Parser json
    Read_from_Head On
    Refresh_Interval 10
[OUTPUT]
    Name http
    Match *
    Host 127.0.0.1
    Port {port}
    URI /ingest
    Format json_lines
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def sink_stats(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/stats" % port, timeout=10) as r:
        return json.loads(r.read())


def cpu_s(pid):
    """utime + stime of `pid` (threads included), seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def run_wait_s(pid):
    """Seconds the threads of `pid` spent runnable but waiting for a CPU
    (schedstat): high when other work on the machine starves the collector,
    which then falls behind at a low CPU %."""
    total = 0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            pass
    return total / 1e9


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def fds_and_watches(pid):
    """Open fds, and inotify watches ('inotify wd:' lines in fdinfo)."""
    fds = os.listdir("/proc/%d/fd" % pid)
    watches = 0
    for fd in fds:
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                watches += f.read().count("inotify wd:")
        except OSError:
            pass
    return len(fds), watches


def raise_limits(nfiles):
    """fds and inotify watches for nfiles files (we may be root); returns
    what the collector gets."""
    want = nfiles * 2 + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    path = "/proc/sys/fs/inotify/max_user_watches"
    with open(path) as f:
        watches = int(f.read())
    if watches < want:
        try:
            with open(path, "w") as f:
                f.write(str(want))
            watches = want
        except OSError:
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0], watches


def wait_watching(proc, nfiles, timeout):
    """Until the collector holds a watch (or an fd) for every file."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        fds, watches = fds_and_watches(proc.pid)
        if watches >= nfiles or fds >= nfiles:
            return True
        time.sleep(0.2)
    return False


def run_point(a, kind, binary, nfiles, rate, duration):
    work = tempfile.mkdtemp(prefix="sluice-scale-")
    logs = os.path.join(work, "logs")
    os.mkdir(logs)
    for i in range(nfiles):
        open(os.path.join(logs, "f%05d.log" % i), "w").close()
    port = free_port()
    sink = subprocess.Popen([a.sink, str(port)], stdout=subprocess.PIPE)
    sink.stdout.readline()  # "listening"
    parsers = os.path.join(work, "parsers.conf")
    with open(parsers, "w") as f:
        f.write(PARSERS)
    conf = os.path.join(work, "scale.conf")
    with open(conf, "w") as f:
        f.write(CONF.format(parsers=parsers, dir=logs, port=port))
    log = open(os.path.join(work, "collector.log"), "w")
    proc = subprocess.Popen([binary, "-c", conf], stdout=log, stderr=subprocess.STDOUT)
    r = {"collector": kind, "files": nfiles, "rate": rate}
    try:
        if not wait_watching(proc, nfiles, 60):
            r["error"] = "collector did not watch all files (rc %s), see %s" % (
                proc.poll(), log.name)
            return r
        # Idle cost: every file followed, nothing written.
        c0, t0 = cpu_s(proc.pid), time.time()
        time.sleep(a.warmup)
        r["idle_cpu_pct"] = 100 * (cpu_s(proc.pid) - c0) / (time.time() - t0)
        perf = None
        c0, t0, q0 = cpu_s(proc.pid), time.time(), run_wait_s(proc.pid)
        writer = subprocess.Popen([a.writer, logs, str(nfiles), str(rate), str(duration)],
                                  stdout=subprocess.PIPE)
        if a.perf and kind == "sluice":
            perf = subprocess.Popen(["perf", "record", "-g", "-o",
                                     os.path.join(a.perf, "perf-%s-%d-%d.data" % (kind, nfiles, rate)),
                                     "-p", str(proc.pid), "--", "sleep", str(duration / 2)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(duration / 2)
        r["fds"], r["inotify_watches"] = fds_and_watches(proc.pid)
        # the writer keeps its schedule (it says when it did not)
        r["backlog_mid"] = max(0, int(nfiles * rate * (time.time() - t0)) -
                               sink_stats(port)["unique"])
        out, _ = writer.communicate()
        w = json.loads(out)
        t_end = time.time()
        r.update(written=w["lines"], writer_lag_ms=w["max_lag_ms"],
                 writer_cpu_s=w["cpu_s"], write_s=w["seconds"])
        s = sink_stats(port)
        r["backlog_at_end"] = w["lines"] - s["unique"]
        deadline = t_end + a.drain
        while s["unique"] < w["lines"] and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
            s = sink_stats(port)
        r["drain_s"] = time.time() - t_end
        r["drain_timed_out"] = s["unique"] < w["lines"]
        r["cpu_s"] = cpu_s(proc.pid) - c0
        r["run_wait_s"] = run_wait_s(proc.pid) - q0
        r["cpu_pct"] = 100 * r["cpu_s"] / w["seconds"]
        r["hwm_kb"] = status_kb(proc.pid, "VmHWM")
        r["rss_kb"] = status_kb(proc.pid, "VmRSS")
        r.update(delivered=s["unique"], dups=s["dups"], bad=s["bad"],
                 p50_ms=s["p50_ms"], p99_ms=s["p99_ms"], max_ms=s["max_ms"],
                 requests=s["requests"])
        if perf:
            perf.wait()
        # Kept up: nothing lost, and when the writer stopped at most
        # --max-backlog seconds of lines were still on their way (Flush 1 s
        # holds about one), drained within --max-drain.
        r["kept_up"] = (r["delivered"] == r["written"] and r["drain_s"] < a.max_drain
                        and r["backlog_at_end"] <= a.max_backlog * nfiles * rate
                        and (a.max_p99_ms <= 0 or r["p99_ms"] < a.max_p99_ms))
        return r
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        sink.kill()
        sink.wait()
        log.close()
        if a.keep:
            print("  (kept %s)" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def run_median(a, kind, binary, nfiles, rate, duration):
    """--runs runs of one point: the median of each figure; lost and
    doubled lines are the worst run's, kept_up needs a majority."""
    rs = [run_point(a, kind, binary, nfiles, rate, duration) for _ in range(a.runs)]
    good = [r for r in rs if "error" not in r]
    if not good:
        return rs[0]
    if len(good) == 1:
        return good[0]
    m = dict(good[0])
    for k, v in good[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            m[k] = statistics.median(r[k] for r in good)
    worst = max(good, key=lambda r: (r["written"] - r["delivered"], r["dups"], r["bad"]))
    for k in ("written", "delivered", "dups", "bad"):
        m[k] = worst[k]
    m["kept_up"] = sum(r["kept_up"] for r in good) * 2 > len(good)
    m["runs"] = len(good)
    return m


def show(r):
    if "error" in r:
        print("  %-9s %5d files x %6d/s: ERROR %s" % (r["collector"], r["files"], r["rate"], r["error"]))
        return
    n = r["files"]
    print("  %-9s %5d files x %6d lines/s = %8d lines/s%s" % (
        r["collector"], n, r["rate"], n * r["rate"], "" if r["kept_up"] else "  ** FELL BEHIND **"))
    missing = r["written"] - r["delivered"]
    if missing and r.get("drain_timed_out"):
        # stopped while still behind: lost or only late, we cannot tell
        note = "  ** %d NOT DELIVERED within the %.0f s drain **" % (missing, r["drain_s"])
    elif missing:
        note = "  ** LOST **"
    else:
        note = ""
    print("    lines written %d, delivered %d (missing %d, doubled %d, unparsed %d)%s" % (
        r["written"], r["delivered"], missing, r["dups"], r["bad"], note))
    print("    CPU %.2f s = %.1f %% of one core over %.1f s (idle before writing: %.2f %%); "
          "per file %.4f %%; waited %.2f s for a CPU" % (
              r["cpu_s"], r["cpu_pct"], r["write_s"], r["idle_cpu_pct"], r["cpu_pct"] / n,
              r["run_wait_s"]))
    print("    peak RSS (VmHWM) %.1f MB, %.2f kB per file; fds %d; inotify watches %d" % (
        r["hwm_kb"] / 1024, r["hwm_kb"] / n, r["fds"], r["inotify_watches"]))
    print("    latency p50 %.0f ms, p99 %.0f ms, max %.0f ms; backlog mid-run %d, at writer end %d "
          "lines, drained in %.1f s" % (r["p50_ms"], r["p99_ms"], r["max_ms"], r["backlog_mid"],
                                        r["backlog_at_end"], r["drain_s"]))
    print("    writer: %.2f CPU s, max lag %.0f ms%s%s" % (
        r["writer_cpu_s"], r["writer_lag_ms"],
        "  (the writer itself fell behind: the machine is short of CPU)"
        if r["writer_lag_ms"] > 1000 else "",
        "; medians of %d runs" % r["runs"] if r.get("runs", 1) > 1 else ""))
    sys.stdout.flush()


def growth(title, rows):
    """Per-file costs and the marginal cost of each step in N."""
    rows = [r for r in rows if "error" not in r]
    if len(rows) < 2:
        return
    print("  %s: cost as N grows (linear: CPU%%/file, us/line and kB/file flat or falling; "
          "d*/dfile = marginal cost of the step)" % title)
    print("    %-9s %6s %7s %9s %10s %9s %10s %12s %12s" % (
        "collector", "files", "rate", "CPU%", "CPU%/file", "us/line", "kB/file", "dCPU%/dfile",
        "dkB/dfile"))
    prev = None
    for r in rows:
        n = r["files"]
        d_cpu = d_kb = ""
        if prev and prev["collector"] == r["collector"] and prev["rate"] == r["rate"] and n > prev["files"]:
            dn = n - prev["files"]
            d_cpu = "%.4f" % ((r["cpu_pct"] - prev["cpu_pct"]) / dn)
            d_kb = "%.2f" % ((r["hwm_kb"] - prev["hwm_kb"]) / dn)
        print("    %-9s %6d %7d %9.1f %10.4f %9.2f %10.2f %12s %12s" % (
            r["collector"], n, r["rate"], r["cpu_pct"], r["cpu_pct"] / n,
            1e6 * r["cpu_s"] / max(1, r["written"]), r["hwm_kb"] / n, d_cpu, d_kb))
        prev = r
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--fluentbit")
    ap.add_argument("--writer", required=True)
    ap.add_argument("--sink", required=True)
    ap.add_argument("--quick", action="store_true",
                    help="A at 1,000 and 2,500 files, B at 25 and 50, 6 s each (< 2 min)")
    ap.add_argument("--scenario", choices=["A", "B", "all"], default="all")
    ap.add_argument("--duration", type=float)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--drain", type=float, default=30, help="longest wait for the last line")
    ap.add_argument("--max-drain", type=float, default=5, help="kept up: drained within this")
    ap.add_argument("--max-backlog", type=float, default=2,
                    help="kept up: seconds of lines not delivered yet when the writer stops")
    ap.add_argument("--max-p99-ms", type=float, default=0, help="kept up: p99 under this (0: off)")
    ap.add_argument("--runs", type=int, default=1, help="runs per point (medians)")
    ap.add_argument("--files-a", default=None)
    ap.add_argument("--files-b", default=None)
    ap.add_argument("--rate-a", type=int, default=10)
    ap.add_argument("--rate-b", type=int, default=10000)
    ap.add_argument("--perf", metavar="DIR", help="perf record sluice mid-run into DIR")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if a.quick:
        a.duration = a.duration or 6
        a.warmup = min(a.warmup, 2)
        a.drain = min(a.drain, 10)
        files_a = a.files_a or "1000,2500"
        files_b = a.files_b or "25,50"
    else:
        a.duration = a.duration or 30
        files_a = a.files_a or "1000,2500,5000"
        files_b = a.files_b or "25,50,100"
    files_a = [int(x) for x in files_a.split(",")]
    files_b = [int(x) for x in files_b.split(",")]
    nofile, watches = raise_limits(max(files_a + files_b))
    print("limits: ulimit -n %d, fs.inotify.max_user_watches %d; %d s per point after %.0f s idle"
          % (nofile, watches, a.duration, a.warmup))
    print("collector config (the same text for each collector; DIR and PORT per point):")
    print("    " + CONF.format(parsers="parsers.conf", dir="DIR", port=0).replace(
        "Port 0", "Port PORT").rstrip().replace("\n", "\n    "))
    print("CPU % = collector CPU seconds from the writer's start until the last line arrived, "
          "over the write duration (100 % = one core)")
    collectors = [("sluice", a.sluice)]
    if a.fluentbit:
        collectors.append(("fluentbit", a.fluentbit))
    if a.scenario in ("A", "all"):
        print("scenario A: many files at %d lines/s each" % a.rate_a)
        rows = []
        for kind, binary in collectors:
            for n in files_a:
                r = run_median(a, kind, binary, n, a.rate_a, a.duration)
                show(r)
                rows.append(r)
        growth("A", rows)
    if a.scenario in ("B", "all"):
        print("scenario B: few files at up to %d lines/s each (per-file rate halved until the "
              "collector keeps up)" % a.rate_b)
        rows = []
        for kind, binary in collectors:
            best = None
            rate = a.rate_b
            for n in files_b:
                while True:
                    r = run_median(a, kind, binary, n, rate, a.duration)
                    show(r)
                    if "error" in r or r["kept_up"] or rate <= 100:
                        break
                    rate //= 2
                    print("    -> stepping the per-file rate down to %d lines/s" % rate)
                rows.append(r)
                if r.get("kept_up") and (best is None or n * rate > best[0] * best[1]):
                    best = (n, rate)
            if best:
                print("  %s: highest total rate sustained: %d lines/s (%d files x %d lines/s)%s"
                      % (kind, best[0] * best[1], best[0], best[1],
                         "" if best[1] == a.rate_b else ", stepped down from %d/file" % a.rate_b))
            else:
                print("  %s: did not keep up at any rate tried" % kind)
        growth("B", rows)


if __name__ == "__main__":
    main()
