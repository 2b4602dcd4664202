# SPDX-License-Identifier: Apache-2.0
"""tail as an operator relies on it: rename rotation (the old file is read
to its end, then the new one from the start), copytruncate, the offsets DB
across a restart (no loss, no duplicates), long lines skipped and counted
rather than stalling the file, and Path_Key/Offset_Key. Commit-after-ack:
with an output that cannot deliver, or records held behind Flush 60, a
SIGKILL loses nothing: the DB only ever holds acknowledged offsets."""
import os
import signal
import subprocess
import sys
import time
import urllib.request

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


def free_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def records_read(port):
    """sluice_input_records_total summed over inputs, or -1 when unreachable."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/metrics/prometheus" % port,
                                    timeout=2) as r:
            text = r.read().decode("utf-8", "replace")
    except OSError:
        return -1
    return sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines()
               if l.startswith("sluice_input_records_total"))


def db_offset(db, path):
    """The offset the tail DB holds for `path`, or None."""
    try:
        with open(db) as f:
            for l in f:
                parts = l.rstrip("\n").split(" ", 4)
                if not l.startswith("#") and len(parts) == 5 and parts[4] == path:
                    return int(parts[3])
    except FileNotFoundError:
        pass
    return None


def kill_config(tmp, out_dir, flush, port):
    return e2e.write(os.path.join(tmp, "kill.conf"),
                     e2e.section("SERVICE", Flush=flush, Grace="2", Log_Level="error",
                                 HTTP_Server="On", HTTP_Listen="127.0.0.1", HTTP_Port=port) +
                     e2e.section("INPUT", Name="tail", Path=os.path.join(tmp, "logs", "*.log"),
                                 Tag="k.*", Read_from_Head="On", Refresh_Interval="1",
                                 DB=os.path.join(tmp, "kill.db"), Inotify_Watcher="Off") +
                     e2e.section("FILTER", Name="parser", Match="k.*", Key_Name="log",
                                 Parser="json", Reserve_Data="On") +
                     e2e.section("OUTPUT", Name="file", Match="k.*", Path=out_dir,
                                 File="got.log", Format="plain", Mkdir="On",
                                 Retry_Limit="no_limits"))


def run_until_read(tmp, out_dir, flush, n):
    """Starts sluice, waits until it has read n records; returns the process."""
    port = free_port()
    p = start(kill_config(tmp, out_dir, flush, port), tmp)
    try:
        e2e.wait_for(lambda: records_read(port) >= n, 20, what="%d records read" % n)
    except Exception:
        p.kill()
        p.wait()
        raise
    return p


def each_once(got, n, msg):
    """Checks that got holds 0..n-1 exactly once, reporting short."""
    missing = sorted(set(range(n)) - set(got))
    dups = len(got) - len(set(got))
    c.check(not missing and dups == 0 and len(got) == n,
            "%s: %d missing (first %r), %d duplicates, %d extra" %
            (msg, len(missing), missing[:5], dups, len(set(got) - set(range(n)))))


def sigkill(p):
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    p.stderr.close()


def check_sigkill(tmp):
    logs = os.path.join(tmp, "logs")
    os.makedirs(logs)
    app = os.path.join(logs, "app.log")
    db = os.path.join(tmp, "kill.db")
    out_dir = os.path.join(tmp, "out")
    out = os.path.join(out_dir, "got.log")
    # an output that cannot write: its folder would have to be under a file
    blocker = os.path.join(tmp, "blocker")
    e2e.write(blocker, "not a folder\n")
    lines(app, 0, 500, "k")

    p = run_until_read(tmp, os.path.join(blocker, "out"), "0.2", 500)
    try:
        # The DB is rewritten on a 250 ms tick when it changed: give it
        # several ticks to (wrongly) save the read offset, then look.
        time.sleep(1.5)
        c.equal(db_offset(db, app), 0,
                "failing output: nothing acknowledged, DB offset stays 0")
    finally:
        sigkill(p)
    lines(app, 500, 100, "k")
    size = os.path.getsize(app)

    # restart with a working output: every line arrives exactly once (none
    # was delivered before the kill, so none is a duplicate)
    p = start(kill_config(tmp, out_dir, "0.2", free_port()), tmp)
    try:
        e2e.wait_for(lambda: len(seqs(out, "k")) >= 600, 20, what="600 lines after SIGKILL")
        e2e.wait_for(lambda: db_offset(db, app) == size, 10, what="DB offset at the end")
    except TimeoutError as e:
        c.check(False, str(e))
    finally:
        rc, _ = stop(p)
    each_once(seqs(out, "k"), 600, "SIGKILL with a failing output: no loss")
    c.equal(rc, 0, "clean exit after the SIGKILL restart")

    # records held behind Flush 60 (read, in a chunk, not delivered): SIGKILL
    lines(app, 600, 100, "k")
    p = run_until_read(tmp, out_dir, "60", 100)
    try:
        time.sleep(1.5)
        c.equal(db_offset(db, app), size, "Flush 60: held records are not committed")
    finally:
        sigkill(p)
    c.equal(len(seqs(out, "k")), 600, "nothing delivered behind Flush 60")
    p = start(kill_config(tmp, out_dir, "0.2", free_port()), tmp)
    try:
        e2e.wait_for(lambda: len(seqs(out, "k")) >= 700, 20, what="700 lines")
    except TimeoutError as e:
        c.check(False, str(e))
    finally:
        rc, _ = stop(p)
    each_once(seqs(out, "k"), 700, "SIGKILL behind Flush 60: every line once, none lost")


def metric_value(port, name):
    """The value of metric `name` (first series), or None when unreachable."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/metrics/prometheus" % port,
                                    timeout=2) as r:
            text = r.read().decode("utf-8", "replace")
    except OSError:
        return None
    for l in text.splitlines():
        if l.startswith(name + "{") or l.startswith(name + " "):
            return float(l.rsplit(" ", 1)[1])
    return None


def check_long_line_counters(tmp):
    """Skip_Long_Lines On: each skipped line is counted; Off: the file
    stops at the line, and that stop is counted."""
    logs = os.path.join(tmp, "logs")
    os.makedirs(logs)
    for skip, name in (("On", "skip.log"), ("Off", "stop.log")):
        path = os.path.join(logs, name)
        lines(path, 0, 3, name)
        with open(path, "a") as f:
            for _ in range(2):
                f.write('{"src":"%s","seq":-1,"pad":"%s"}\n' % (name, "x" * 5000))
        lines(path, 3, 3, name)
        port = free_port()
        out_dir = os.path.join(tmp, "out-" + name)
        conf = e2e.write(os.path.join(tmp, name + ".conf"),
                         e2e.section("SERVICE", Flush="0.2", Grace="2", Log_Level="error",
                                     HTTP_Server="On", HTTP_Listen="127.0.0.1",
                                     HTTP_Port=port) +
                         e2e.section("INPUT", Name="tail", Path=path, Tag="l",
                                     Read_from_Head="On", Skip_Long_Lines=skip,
                                     Buffer_Chunk_Size="1K", Buffer_Max_Size="4K") +
                         e2e.section("OUTPUT", Name="file", Match="l", Path=out_dir,
                                     File="got.log", Format="plain", Mkdir="On"))
        p = start(conf, tmp)
        want = 6 if skip == "On" else 3
        try:
            e2e.wait_for(lambda: records_read(port) >= want, 20,
                         what="%s: %d records" % (name, want))
            if skip == "On":
                e2e.wait_for(lambda: metric_value(
                    port, "sluice_input_skipped_lines_total") == 2, 10,
                    what="2 skipped lines counted")
            else:
                e2e.wait_for(lambda: metric_value(
                    port, "sluice_input_long_line_stops_total") == 1, 10,
                    what="1 stop on a long line counted")
            time.sleep(0.5)
            c.equal(records_read(port), want, "%s: records read" % name)
        except TimeoutError as e:
            c.check(False, str(e))
        finally:
            stop(p)


def main():
    with e2e.TempDir("sluice-tail-long-") as tmp:
        check_long_line_counters(tmp)
    with e2e.TempDir("sluice-tail-kill-") as tmp:
        check_sigkill(tmp)
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
