#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The kafka input benchmark, run by hand: kafka (Format json) -> null
against librdkafka's mock cluster (tests/e2e/kafka_mock_cluster, 3 brokers
over TCP). The topic is filled first (8 partitions, under the mock's 5 MB
per partition), then sluice consumes it from the start; the run ends when
every message went through the null output and was committed. Prints the
median wall time, records/s and sluice's CPU seconds (user+sys from
/proc/PID/stat), and checks the counts.

usage: measure_kafka_input.py --sluice build/sluice \
         --mock build/tests/e2e/kafka_mock_cluster [--messages 200000] [--runs 3]
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

PARTITIONS = 8


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def metric(port, name):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/metrics/prometheus" % port,
                                    timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return 0.0
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--mock", required=True)
    ap.add_argument("--messages", type=int, default=200000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    mock = subprocess.Popen([a.mock, "3"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    brokers = mock.stdout.readline().split()[1]

    def cmd(text):
        mock.stdin.write(text + "\n")
        mock.stdin.flush()
        ans = mock.stdout.readline()
        if not ans.startswith("ok"):
            sys.exit("mock: %s -> %s" % (text, ans))
        return ans

    cmd("topic bench %d" % PARTITIONS)
    step = 50000
    for i in range(0, a.messages, step):
        cmd("produce bench %d %d" % (i, min(step, a.messages - i)))
    work = tempfile.mkdtemp(prefix="sluice-bench-kafka-in-")
    walls, cpus = [], []
    for run in range(a.runs):
        port = free_port()
        conf = os.path.join(work, "run%d.conf" % run)
        with open(conf, "w") as f:
            f.write("[SERVICE]\n    Flush 1\n    Log_Level warn\n    HTTP_Server On\n"
                    "    HTTP_Listen 127.0.0.1\n    HTTP_Port %d\n"
                    "[INPUT]\n    Name kafka\n    Tag bench\n    Brokers %s\n"
                    "    Topics bench\n    Group_Id bench-%d\n    Format json\n"
                    "    rdkafka.auto.offset.reset earliest\n"
                    "[OUTPUT]\n    Name null\n    Match bench\n" % (port, brokers, run))
        p = subprocess.Popen([a.sluice, "-c", conf])
        # the clock starts once the group assigned the partitions
        deadline = time.monotonic() + 60
        while metric(port, "sluice_kafka_input_assigned_partitions") < PARTITIONS:
            if time.monotonic() > deadline:
                sys.exit("no assignment")
            time.sleep(0.02)
        t0, c0 = time.monotonic(), cpu_seconds(p.pid)
        deadline = t0 + 600
        while metric(port, "sluice_output_proc_records_total") < a.messages:
            if time.monotonic() > deadline:
                sys.exit("timed out")
            time.sleep(0.02)
        wall, cpu = time.monotonic() - t0, cpu_seconds(p.pid) - c0
        # the last release's commit is asynchronous: give it a moment
        deadline = time.monotonic() + 30
        while True:
            committed = cmd("committed bench-%d bench" % run).split()[1:]
            total = sum(max(0, int(x.split(":")[1])) for x in committed)
            if total == a.messages or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        p.terminate()
        p.wait(timeout=60)
        if total != a.messages:
            sys.exit("committed %d of %d: %s; watermarks %s" % (total, a.messages, committed, cmd("watermarks bench")))
        walls.append(wall)
        cpus.append(cpu)
        print("run %d: %.2f s, %.0f records/s, %.2f CPU s" % (run, wall, a.messages / wall, cpu))
    w, c = statistics.median(walls), statistics.median(cpus)
    print("kafka -> null: %d messages, median %.2f s, %.0f records/s, %.2f CPU s "
          "(%.0f records per CPU second)" % (a.messages, w, a.messages / w, c, a.messages / c))
    mock.stdin.close()
    mock.wait(timeout=30)


if __name__ == "__main__":
    main()
