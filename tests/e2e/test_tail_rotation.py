# SPDX-License-Identifier: Apache-2.0
"""tail as an operator relies on it: rename rotation (the old file is read
to its end, then the new one from the start), copytruncate, the offsets DB
across a restart (no loss, no duplicates), long lines skipped and counted
rather than stalling the file, and Path_Key/Offset_Key."""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

c = e2e.Checker()


def lines(path, start, n, tag="x"):
    with open(path, "a") as f:
        for i in range(start, start + n):
            f.write('{"src":"%s","seq":%d}\n' % (tag, i))


def config(tmp, extra=""):
    return e2e.write(os.path.join(tmp, "tail.conf"),
                     e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="warn") +
                     e2e.section("INPUT", Name="tail", Path=os.path.join(tmp, "logs", "*.log"),
                                 Tag="t.*", Read_from_Head="On", Refresh_Interval="1",
                                 Rotate_Wait="1", DB=os.path.join(tmp, "tail.db"),
                                 Path_Key="file", Offset_Key="offset",
                                 Skip_Long_Lines="On", Buffer_Chunk_Size="1K",
                                 Buffer_Max_Size="4K", Inotify_Watcher="Off") + extra +
                     e2e.section("FILTER", Name="parser", Match="t.*", Key_Name="log",
                                 Parser="json", Reserve_Data="On") +
                     e2e.section("OUTPUT", Name="file", Match="t.*",
                                 Path=os.path.join(tmp, "out"), File="got.log",
                                 Format="plain", Mkdir="On"))


def start(conf, tmp):
    parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"),
                               [{"Name": "json", "Format": "json"}])
    return subprocess.Popen([e2e.binary(), "-c", conf, "-R", parsers],
                            stderr=subprocess.PIPE)


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = None
    return rc, p.stderr.read().decode("utf-8", "replace")


def seqs(out, src):
    if not os.path.exists(out):
        return []
    return [r.get("seq") for r in e2e.read_plain(out) if r.get("src") == src]


def main():
    with e2e.TempDir("sluice-tail-") as tmp:
        logs = os.path.join(tmp, "logs")
        os.makedirs(logs)
        out = os.path.join(tmp, "out", "got.log")
        app = os.path.join(logs, "app.log")
        lines(app, 0, 100, "app")
        # a 10 KB line (over Buffer_Max_Size) between good lines
        with open(app, "a") as f:
            f.write('{"src":"app","seq":-1,"pad":"%s"}\n' % ("x" * 10000))
        lines(app, 100, 10, "app")
        conf = config(tmp)
        p = start(conf, tmp)
        try:
            e2e.wait_for(lambda: len(seqs(out, "app")) >= 110, 20, what="first 110 lines")
            got = seqs(out, "app")
            c.equal(got, list(range(110)), "long line skipped, the rest kept in order")

            recs = [r for r in e2e.read_plain(out) if r.get("seq") == 5]
            c.check(recs and recs[0].get("file") == app, "Path_Key names the file: %r" % recs[:1])
            c.check(recs and isinstance(recs[0].get("offset"), int) and recs[0]["offset"] > 0,
                    "Offset_Key is a number: %r" % recs[:1])

            # rename rotation: lines written to the old file after the rename
            # are still read; the new file at the path is read from 0
            os.rename(app, app + ".1")
            lines(app + ".1", 110, 20, "app")
            lines(app, 130, 30, "app")
            e2e.wait_for(lambda: len(seqs(out, "app")) >= 160, 20, what="rotation")
            got = seqs(out, "app")
            c.equal(sorted(got), list(range(160)), "rename rotation: every line once")

            # copytruncate: the file shrinks under our offset -> read from 0
            trunc = os.path.join(logs, "trunc.log")
            lines(trunc, 0, 50, "trunc")
            e2e.wait_for(lambda: len(seqs(out, "trunc")) >= 50, 20, what="trunc first 50")
            with open(trunc, "w"):
                pass
            lines(trunc, 50, 5, "trunc")
            e2e.wait_for(lambda: len(seqs(out, "trunc")) >= 55, 20, what="after copytruncate")
            c.equal(seqs(out, "trunc"), list(range(55)), "copytruncate: new lines read once")
        finally:
            rc, err = stop(p)
        c.equal(rc, 0, "clean exit on SIGTERM")
        c.check("long" in err.lower() or "skip" in err.lower(),
                "the skipped long line is reported: %s" % err[-300:])

        # restart: the DB resumes where we stopped, lines written while down
        # arrive once, nothing already shipped is shipped again
        before = len(seqs(out, "app"))
        lines(app, 160, 40, "app")
        p = start(conf, tmp)
        try:
            e2e.wait_for(lambda: len(seqs(out, "app")) >= before + 40, 20, what="after restart")
        finally:
            rc, err = stop(p)
        got = seqs(out, "app")
        c.equal(sorted(got), list(range(200)), "restart with DB: no loss, no duplicates")
        c.equal(rc, 0, "clean exit after restart")
    c.finish()


if __name__ == "__main__":
    main()
