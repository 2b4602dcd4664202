# SPDX-License-Identifier: Apache-2.0
"""SIGTERM/SIGINT: records still buffered are flushed before exit (nothing
read is lost), and an output that cannot deliver does not keep sluice
alive past Grace."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

BIN = e2e.binary()
failures = []


def check(name, cond, detail=""):
    print(("ok    " if cond else "FAIL  ") + name + ("" if cond else ": " + detail))
    if not cond:
        failures.append(name)


def count_lines(path):
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return sum(1 for ln in f if ln.strip())


def flush_on_signal(tmp, sig):
    out = os.path.join(tmp, "out-%d" % sig)
    # Flush 60: nothing is written before the signal unless shutdown flushes.
    p = subprocess.Popen([BIN, "-i", "stdin", "-t", "in", "-o", "file", "-p", "path=" + out,
                          "-p", "file=got.log", "-p", "format=plain", "-p", "mkdir=on",
                          "-f", "60"], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    n = 5000
    for i in range(n):
        p.stdin.write(b'{"seq":%d,"msg":"buffered until shutdown"}\n' % i)
    p.stdin.flush()
    # the lines are read once sluice counts them; poll its output file size 0
    time.sleep(0.5)  # let it read the pipe; the assertion below is on content
    check("nothing flushed before the signal (Flush 60)",
          count_lines(os.path.join(out, "got.log")) == 0)
    t0 = time.monotonic()
    p.send_signal(sig)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = None
    p.stdin.close()
    elapsed = time.monotonic() - t0
    check("signal %d: clean exit" % sig, rc == 0, "rc=%r stderr=%s" % (rc, p.stderr.read()[-500:]))
    check("signal %d: exits promptly" % sig, elapsed < 5, "%.1fs" % elapsed)
    got = count_lines(os.path.join(out, "got.log"))
    check("signal %d: every buffered record flushed" % sig, got == n, "%d of %d" % (got, n))
    if got == n:
        with open(os.path.join(out, "got.log")) as f:
            seqs = [json.loads(ln)["seq"] for ln in f]
        check("signal %d: in order, no duplicates" % sig, seqs == list(range(n)))


def grace_bounds_shutdown(tmp):
    # /proc/self is not a writable folder: every flush fails and is retried.
    p = subprocess.Popen([BIN, "-i", "dummy", "-p", "rate=100", "-o", "file",
                          "-p", "path=/proc/self/nonexistent", "-f", "0.1"],
                         stderr=subprocess.PIPE, text=True)
    grace_cfg_default = 5
    time.sleep(1.0)
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=grace_cfg_default + 5)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = None
    elapsed = time.monotonic() - t0
    err = p.stderr.read()
    check("stuck output: exits within Grace", rc == 0 and elapsed <= grace_cfg_default + 1.5,
          "rc=%r %.1fs" % (rc, elapsed))
    check("stuck output: undelivered records are reported",
          "not delivered" in err, err[-400:])


def main():
    with e2e.TempDir("sluice-sig-") as tmp:
        flush_on_signal(tmp, signal.SIGTERM)
        flush_on_signal(tmp, signal.SIGINT)
        grace_bounds_shutdown(tmp)
    if failures:
        print("%d checks failed" % len(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
