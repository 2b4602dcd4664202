#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tail -> file with Fluent Bit's size-based rotation (Rotate on).

Records are written in batches, each waited for in the output file, so
that the file passes Rotate_Max_Size several times. Checks, as Fluent Bit
does it: a full file is renamed <file>.<YYYYMMDD_HHMMSS>_<8 hex> and gzip'd
(Rotate_Gzip defaults to on), only Rotate_Max_Files rotated files are kept,
every kept rotated file held at least Rotate_Max_Size bytes, and the kept
files plus the current one hold a run of consecutive records ending with
the last one, none twice (what a rotation moved was not lost or copied).
"""
import gzip
import json
import os
import re
import signal
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

BATCHES, PER_BATCH, MAX_SIZE, KEEP = 6, 30, 2000, 2
ROTATED = re.compile(r"^events\.\d{8}_\d{6}_[0-9a-f]{8}\.gz$")


def seqs_of(data):
    return [json.loads(line)["seq"] for line in data.decode().splitlines() if line]


def main():
    e2e.require_plugins("tail", "parser", "file")
    ck = e2e.Checker()
    with e2e.TempDir("sluice-rotate-") as tmp:
        data = os.path.join(tmp, "app.log")
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        open(data, "w").close()
        parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"),
                                   [{"Name": "j", "Format": "json"}])
        text = e2e.section("SERVICE", Flush="0.2", Grace="5", Parsers_File=parsers)
        text += e2e.section("INPUT", Name="tail", Path=data, Tag="app",
                            Read_from_Head="On", Refresh_Interval="1")
        text += e2e.section("FILTER", Name="parser", Match="app", Key_Name="log", Parser="j")
        text += e2e.section("OUTPUT", Name="file", Match="app", Path=out, File="events",
                            Format="plain", Rotate="On", Rotate_Max_Size=MAX_SIZE,
                            Rotate_Max_Files=KEEP)
        conf = e2e.write(os.path.join(tmp, "sluice.conf"), text)
        current = os.path.join(out, "events")

        def current_seqs():
            try:
                with open(current, "rb") as f:
                    raw = f.read()
            except OSError:
                return []
            # only complete lines: sluice may be writing the last one
            return seqs_of(raw[:raw.rfind(b"\n") + 1])

        with open(os.path.join(tmp, "sluice.log"), "wb") as log:
            p = subprocess.Popen([e2e.binary(), "-c", conf], stdout=log,
                                 stderr=subprocess.STDOUT)
            try:
                seq = 0
                for _ in range(BATCHES):
                    with open(data, "a", encoding="utf-8") as f:
                        for _ in range(PER_BATCH):
                            f.write(json.dumps({"seq": seq, "pad": "x" * 60}) + "\n")
                            seq += 1
                    last = seq - 1
                    e2e.wait_for(lambda: last in current_seqs(), 60,
                                 what="record %d in the current file" % last)
            finally:
                p.send_signal(signal.SIGTERM)
                try:
                    rc = p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    rc = p.wait()
        ck.equal(rc, 0, "exit code")
        names = sorted(n for n in os.listdir(out) if n != "events")
        ck.equal([n for n in names if not ROTATED.match(n)], [],
                 "rotated files named <file>.<date>_<hex>.gz")
        ck.equal(len(names), KEEP, "Rotate_Max_Files rotated files kept: %r" % names)
        rotated = []
        for n in names:
            with gzip.open(os.path.join(out, n), "rb") as f:
                raw = f.read()
            ck.check(len(raw) >= MAX_SIZE, "%s held Rotate_Max_Size bytes: %d" % (n, len(raw)))
            rotated.append(seqs_of(raw))
        # rotated files in the order they were made: by their first record
        rotated.sort(key=lambda s: s[0] if s else -1)
        got = [s for r in rotated for s in r] + current_seqs()
        total = BATCHES * PER_BATCH
        ck.check(got and got[-1] == total - 1, "the last record is kept")
        ck.equal(got, list(range(got[0], total)) if got else [],
                 "kept files hold consecutive records, none twice")
    ck.finish()


if __name__ == "__main__":
    main()
