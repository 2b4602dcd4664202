# SPDX-License-Identifier: Apache-2.0
"""The file is the buffer (SPEC §6): tail in front of a slow output holds in
memory only what the output can take now, not Mem_Buf_Limit's worth.

tail reads a 1M-line file (~370 MB) with a DB; the http output sends it to
a receiver that takes 10k records/s (100 s). Checked while it runs: the offset DB
never commits past what the receiver has got (every line up to the
committed offset was received), and at the end sluice's peak RSS (VmHWM)
stays under 25 MB and every record arrived exactly once. Under a sanitizer
build memory figures mean nothing: there only the delivery checks run, on
200k lines (the same mechanism, a fifth of the time)."""
import http.server
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

LINES = 1_000_000  # 200_000 in sanitizer builds, see main()
RATE = 10_000  # records/s the receiver takes
RSS_LIMIT_MB = 25.0
SEQ = re.compile(rb'seq\\":(\d+)')

c = e2e.Checker()


class SlowSink:
    """Receives json_lines bodies at RATE records/s; tracks the seqs got."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = bytearray(LINES)
        self.dups = 0
        self.bad = 0  # bodies whose lines did not each carry one seq
        self.got = 0
        self.prefix = 0  # every seq below it has been received
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                # each line is {"date":..,"log":"{\"seq\":N,..."}: one seq each
                seqs = [int(m) for m in SEQ.findall(body)]
                if len(seqs) != body.count(b"\n"):
                    sink.bad += 1
                with sink.lock:
                    for s in seqs:
                        if sink.seen[s]:
                            sink.dups += 1
                        sink.seen[s] = 1
                    sink.got += len(seqs)
                    while sink.prefix < LINES and sink.seen[sink.prefix]:
                        sink.prefix += 1
                time.sleep(len(seqs) / RATE)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def state(self):
        with self.lock:
            return self.got, self.prefix, self.dups, self.bad


def db_offset(path):
    """The committed offset in tail's DB ("<ino> <fp_len> <fp> <offset> <name>")."""
    try:
        with open(path) as f:
            for line in f:
                if not line.startswith("#") and line.strip():
                    return int(line.split()[3])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def vm_hwm_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def sanitized(binary):
    with open(binary, "rb") as f:
        data = f.read()
    return b"__asan_init" in data or b"__tsan_init" in data or b"__msan_init" in data


def main():
    global LINES
    if sanitized(e2e.binary()):
        LINES = 200_000
    with e2e.TempDir("sluice-memory-") as tmp:
        log_file = os.path.join(tmp, "app.log")
        ends = []  # ends[i]: the byte offset just after line i
        pad = "x" * 280
        with open(log_file, "w") as f:
            off = 0
            for i in range(LINES):
                line = '{"seq":%d,"level":"info","msg":"request served","pad":"%s"}\n' % (i, pad)
                f.write(line)
                off += len(line)
                ends.append(off)
        sink = SlowSink()
        db = os.path.join(tmp, "tail.db")
        conf = e2e.write(os.path.join(tmp, "memory.conf"),
                         e2e.section("SERVICE", Flush="1", Grace="5", Log_Level="warn") +
                         e2e.section("INPUT", Name="tail", Path=log_file, Tag="app", DB=db,
                                     Read_from_Head="On") +
                         e2e.section("OUTPUT", Name="http", Match="app", Host="127.0.0.1",
                                     Port=sink.port, Uri="/in", Format="json_lines"))
        err_path = os.path.join(tmp, "stderr.log")
        with open(err_path, "wb") as err:
            p = subprocess.Popen([e2e.binary(), "-c", conf], stderr=err)
        ahead = []
        samples = 0
        peak = 0.0
        try:
            deadline = time.monotonic() + LINES / RATE + 60
            while time.monotonic() < deadline:
                if p.poll() is not None:
                    break
                committed = db_offset(db)  # read before the receiver's state
                got, prefix, _, _ = sink.state()
                allowed = ends[prefix - 1] if prefix else 0
                samples += 1
                if committed > allowed:
                    ahead.append((committed, allowed))
                peak = max(peak, vm_hwm_mb(p.pid) or 0.0)
                if got >= LINES and committed == ends[-1]:
                    break
                time.sleep(0.1)
            got, prefix, dups, bad = sink.state()
            c.equal(bad, 0, "every line received carries its seq")
            c.equal(p.poll(), None, "sluice still running")
            c.equal(got, LINES, "the receiver got every record")
            c.equal(dups, 0, "no record twice")
            c.equal(db_offset(db), ends[-1], "the DB commits the end once all is delivered")
            c.check(samples > 50, "the DB was sampled while running (%d samples)" % samples)
            c.equal(ahead[:3], [], "the DB offset never ran ahead of what was delivered")
            print("peak RSS (VmHWM) %.1f MB" % peak)
            if sanitized(e2e.binary()):
                print("note: sanitizer build, peak RSS not judged")
            else:
                c.check(0 < peak < RSS_LIMIT_MB,
                        "peak RSS (VmHWM) %.1f MB < %.0f MB behind a 10k records/s output"
                        % (peak, RSS_LIMIT_MB))
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = None
            sink.srv.shutdown()
        c.equal(rc, 0, "clean exit")
    c.finish()


if __name__ == "__main__":
    main()
