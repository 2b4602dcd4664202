#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the benchmark cases and prints medians (called by run.sh).

Each case runs --runs times; per run: wall time, CPU seconds (user+sys of
the child, from wait4) and peak RSS (VmHWM, see run_measured). Printed per case: the medians, MB/s and
records/s of input processed, and the ratio of its MB/s to the baseline's, and the same per CPU-second (the
figure to trust on a shared or loaded machine, where wall time waits).
"One core" cases run under `taskset -c 0` when taskset exists.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


# The sidecar case: the four security counters of conf/security-counters.conf
# and correlation IDs, served to Prometheus (issue 3's benchmark).
COUNTERS = """[FILTER]
    Name log_to_metrics
    Match bench
    Tag metrics.bench
    Metric_mode counter
    Metric_namespace security
    Metric_subsystem auth
    Metric_name failures_total
    Metric_description auth failures
    Logical_Op AND
    Regex audit_event ^AUTH_GATEWAY_VALIDATION$
    Regex status ^failure$
    Add_label service $service
[FILTER]
    Name log_to_metrics
    Match bench
    Tag metrics.bench
    Metric_mode counter
    Metric_namespace guardrail
    Metric_subsystem violations
    Metric_name total
    Metric_description guardrail violations
    Logical_Op OR
    Regex audit_event ^GUARDRAIL_VIOLATION_DETECTED$
    Regex event ^guardrail_violation$
    Add_label service $service
[FILTER]
    Name log_to_metrics
    Match bench
    Tag metrics.bench
    Metric_mode counter
    Metric_namespace signature
    Metric_subsystem verification
    Metric_name failures_total
    Metric_description signature failures
    Regex event ^(signature_verification_failed|message_signature_invalid)$
    Add_label source $service
[FILTER]
    Name log_to_metrics
    Match bench
    Tag metrics.bench
    Metric_mode counter
    Metric_namespace circuit
    Metric_subsystem breaker
    Metric_name trips_total
    Metric_description circuit breaker trips
    Logical_Op AND
    Regex event ^circuit_breaker_state_changed$
    Regex to ^open$
    Add_label service $service
    Add_label breaker $breaker
[FILTER]
    Name correlate
    Match bench
"""


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def conf(work, data, output):
    parsers = os.path.join(work, "parsers.conf")
    with open(parsers, "w") as f:
        f.write("[PARSER]\n    Name json\n    Format json\n")
    out = {"null": "    Name null\n    Match bench\n",
           "file": "    Name file\n    Match bench\n    Path %s\n    File out.jsonl\n"
                   "    Format plain\n" % work,
           "counters": COUNTERS + "[OUTPUT]\n    Name prometheus_exporter\n"
                       "    Match metrics.*\n    Host 127.0.0.1\n    Port %d\n"
                       % free_port()}[output]
    text = ("[SERVICE]\n    Flush 1\n    Grace 30\n    Log_Level warn\n"
            "    Parsers_File %s\n"
            "[INPUT]\n    Name tail\n    Path %s\n    Tag bench\n"
            "    Read_from_Head On\n    Exit_On_Eof On\n"
            "[FILTER]\n    Name parser\n    Match bench\n    Key_Name log\n    Parser json\n"
            "%s%s" % (parsers, data, "" if output == "counters" else "[OUTPUT]\n", out))
    path = os.path.join(work, "bench-%s.conf" % output)
    with open(path, "w") as f:
        f.write(text)
    return path


def vm_hwm_kb(pid):
    """The process's peak RSS so far in kB (VmHWM), 0 when unreadable (a
    zombie has no VmHWM)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmHWM:"):
                    return int(ln.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_measured(argv, timeout, err=subprocess.PIPE):
    """Runs argv (directly, no shell) to its own exit; returns (wall s,
    CPU s, peak RSS MB, exit code or "timeout", stderr text or None).
    CPU = user+sys from wait4, shutdown included. Peak RSS = VmHWM polled
    every 50 ms until exit: wait4's ru_maxrss cannot be used, Linux carries
    the pre-exec maximum over exec, so it reports the forking Python's
    ~25 MB for any smaller child. err: where stderr goes (PIPE: returned;
    a PIPE that fills is drained only at exit, so chatty children should
    get a file)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=err)
    hwm = 0
    while True:
        # VmHWM only grows: the last readable value is the peak
        hwm = max(hwm, vm_hwm_kb(p.pid))
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - t0 > timeout:
            p.kill()
            os.wait4(p.pid, 0)
            p.returncode = -9
            return time.monotonic() - t0, 0.0, 0.0, "timeout", None
        time.sleep(0.05)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    text = None
    if err == subprocess.PIPE:
        text = p.stderr.read().decode("utf-8", "replace")
        p.stderr.close()
    return wall, ru.ru_utime + ru.ru_stime, hwm / 1024.0, p.returncode, text


def run_once(argv, timeout):
    """run_measured() that exits the benchmark on a failed or hung run."""
    wall, cpu, rss, rc, err = run_measured(argv, timeout)
    if rc == "timeout":
        raise SystemExit("timeout: %s" % " ".join(argv))
    if rc != 0:
        raise SystemExit("%s exited %d:\n%s" % (argv[0], rc, err[-3000:]))
    return wall, cpu, rss


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return n
            n += b.count(b"\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=600)
    a = ap.parse_args()
    size = os.path.getsize(a.data)
    lines = count_lines(a.data)
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    work = tempfile.mkdtemp(prefix="sluice-bench-")
    cases = [
        ("baseline (yajl parse only)", pin + [a.baseline, a.data], None),
        ("sluice tail>parser>null", pin + [a.sluice, "-c", conf(work, a.data, "null")], None),
        ("sluice tail>parser>file", pin + [a.sluice, "-c", conf(work, a.data, "file")], "file"),
        ("sluice tail>parser>null (all cores)", [a.sluice, "-c", conf(work, a.data, "null")], None),
        ("sluice tail>parser>4 counters>correlate>prom",
         pin + [a.sluice, "-c", conf(work, a.data, "counters")], None),
    ]
    print("data: %s, %d lines, %.1f MB (%.0f bytes/line); %d runs each; one core = %s"
          % (a.data, lines, size / 1e6, size / lines, a.runs, " ".join(pin) or "not pinned (no taskset)"))
    print("%-38s %9s %11s %8s %9s %10s %7s %9s %7s" % ("case", "MB/s", "records/s", "wall s", "CPU s",
                                                  "peakRSS MB", "vs base", "MB/CPU-s", "vs base"))
    # Rounds are interleaved (every case once per round) so that a machine
    # whose speed drifts, as shared and virtual ones do, slows every case
    # alike; medians are taken per case over the rounds.
    results = {name: ([], [], []) for name, _, _ in cases}
    try:
        for _ in range(a.runs):
            for name, argv, check in cases:
                out = os.path.join(work, "out.jsonl")
                if os.path.exists(out):
                    os.unlink(out)
                # the previous run's writeback must not land in this one
                os.sync()
                w, c, r = run_once(argv, a.timeout)
                for lst, v in zip(results[name], (w, c, r)):
                    lst.append(v)
                if check == "file":
                    got = count_lines(out)
                    if got != lines:
                        raise SystemExit("file output has %d lines, want %d" % (got, lines))
        base_mbs = base_cpu = None
        for name, _, _ in cases:
            walls, cpus, rss = results[name]
            wall = statistics.median(walls)
            mbs = size / 1e6 / wall
            cpu = statistics.median(cpus)
            mbc = size / 1e6 / cpu
            if base_mbs is None:
                base_mbs, base_cpu = mbs, mbc
            print("%-38s %9.1f %11.0f %8.3f %9.3f %10.1f %6.2fx %9.1f %6.2fx"
                  % (name, mbs, lines / wall, wall, cpu,
                     statistics.median(rss), mbs / base_mbs, mbc, mbc / base_cpu))
            sys.stdout.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
