# SPDX-License-Identifier: Apache-2.0
"""storage.type filesystem (SPEC §6): records held on disk survive a SIGKILL
and are delivered after the restart exactly once (tail's committed offsets
and the recovered chunks do not overlap); a corrupt chunk file found at
start-up is quarantined and reported, never fed to outputs; an unusable
storage.path is a start-up failure (exit 2).

The replay window: tail is SIGKILLed five times mid-run (restarted each
time) while lines keep coming; no line may be lost, and the lines delivered
twice (re-read after a kill) are printed per kill for filesystem storage
(offsets committed once a record is persisted in its chunk file, at each
flush tick) and for memory storage (committed once delivered)."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

c = e2e.Checker()


def lines(path, start, n):
    with open(path, "a") as f:
        for i in range(start, start + n):
            f.write('{"seq":%d,"msg":"held on disk until delivered"}\n' % i)


API_PORT = e2e.free_port()


def config(tmp, out_path, storage):
    return e2e.write(os.path.join(tmp, "durable.conf"),
                     e2e.section("SERVICE", Flush="0.2", Grace="3", Log_Level="info",
                                 HTTP_Server="On", HTTP_Listen="127.0.0.1",
                                 HTTP_Port=API_PORT,
                                 **{"storage.path": storage, "scheduler.base": "0.2",
                                    "scheduler.cap": "0.5"}) +
                     e2e.section("INPUT", Name="tail", Path=os.path.join(tmp, "app.log"),
                                 Tag="app", Read_from_Head="On",
                                 DB=os.path.join(tmp, "tail.db"),
                                 **{"storage.type": "filesystem"}) +
                     e2e.section("FILTER", Name="parser", Match="app", Key_Name="log",
                                 Parser="json") +
                     e2e.section("OUTPUT", Name="file", Match="app", Path=out_path,
                                 File="got.log", Format="plain", Mkdir="On"))


def start(conf, tmp):
    parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"),
                               [{"Name": "json", "Format": "json"}])
    return subprocess.Popen([e2e.binary(), "-c", conf, "-R", parsers],
                            stderr=subprocess.PIPE)


def committed_offset(db):
    try:
        with open(db) as f:
            rows = [ln.split() for ln in f if ln.strip() and not ln.startswith("#")]
    except FileNotFoundError:
        return 0
    return max((int(r[3]) for r in rows if len(r) >= 5), default=0)


def sealed_chunks(storage):
    try:
        return [n for n in os.listdir(storage) if n.endswith(".sealed")]
    except FileNotFoundError:
        return []


def seqs(path):
    if not os.path.exists(path):
        return []
    return [r["seq"] for r in e2e.read_plain(path)]


def replay_config(tmp, name, storage_type):
    svc = {"storage.path": os.path.join(tmp, "storage")} if storage_type == "filesystem" else {}
    return e2e.write(os.path.join(tmp, name + ".conf"),
                     e2e.section("SERVICE", Flush="1", Grace="3", Log_Level="info",
                                 **svc) +
                     e2e.section("INPUT", Name="tail", Path=os.path.join(tmp, "app.log"),
                                 Tag="app", Read_from_Head="On",
                                 DB=os.path.join(tmp, "tail.db"),
                                 **{"storage.type": storage_type}) +
                     e2e.section("FILTER", Name="parser", Match="app", Key_Name="log",
                                 Parser="json") +
                     e2e.section("OUTPUT", Name="file", Match="app",
                                 Path=os.path.join(tmp, "out"), File="got.log",
                                 Format="plain", Mkdir="On"))


def replay_window(storage_type, kills=5, rate=2000, run_s=2.5):
    """Lines appended at `rate` a second; SIGKILL after `run_s` seconds of
    each run. Returns the lines delivered twice per kill."""
    with e2e.TempDir("sluice-replay-") as tmp:
        log = os.path.join(tmp, "app.log")
        out = os.path.join(tmp, "out", "got.log")
        conf = replay_config(tmp, "replay", storage_type)
        e2e.parsers_file(os.path.join(tmp, "parsers.conf"),
                         [{"Name": "json", "Format": "json"}])
        total = 0
        for k in range(kills + 1):
            p = start(conf, tmp)
            try:
                t_end = time.monotonic() + run_s
                while time.monotonic() < t_end:
                    n = rate // 20
                    lines(log, total, n)
                    total += n
                    time.sleep(0.05)
                if k == kills:  # the last run ends cleanly after it all arrived
                    e2e.wait_for(lambda: len(set(seqs(out))) >= total, 60,
                                 interval=0.2, what="every line delivered")
            finally:
                p.send_signal(signal.SIGKILL if k < kills else signal.SIGTERM)
                p.wait(timeout=15)
                p.stderr.close()
        got = seqs(out)
        lost = set(range(total)) - set(got)
        c.check(not lost, "%s storage, %d SIGKILLs: %d of %d lines lost (e.g. %s)"
                % (storage_type, kills, len(lost), total, sorted(lost)[:5]))
        c.check(set(got) <= set(range(total)), "nothing delivered that was not written")
        dups = len(got) - len(set(got))
        print("replay window, storage.type %s: %d lines at %d/s, %d SIGKILLs: "
              "%d re-read lines delivered twice (%.0f per kill), 0 lost"
              % (storage_type, total, rate, kills, dups, dups / kills)
              if not lost else "replay window, storage.type %s: LOSS" % storage_type)
        return dups / kills


def main():
    fs = replay_window("filesystem")
    mem = replay_window("memory")
    print("re-read lines per kill: filesystem %.0f, memory %.0f" % (fs, mem))
    with e2e.TempDir("sluice-durable-") as tmp:
        storage = os.path.join(tmp, "storage")
        log = os.path.join(tmp, "app.log")
        out = os.path.join(tmp, "out")
        lines(log, 0, 3000)
        size = os.path.getsize(log)

        # 1. the output cannot write: records wait in sealed chunk files,
        #    and tail commits their offsets once they are safe on disk
        p = start(config(tmp, "/proc/self/cannot-write-here", storage), tmp)
        try:
            e2e.wait_for(lambda: committed_offset(os.path.join(tmp, "tail.db")) == size,
                         20, what="offsets committed once chunks are on disk")
            c.check(len(sealed_chunks(storage)) > 0, "sealed chunk files in storage.path")
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=10)
            p.stderr.close()

        # 2. restart with a working output: everything arrives once, then
        #    new lines follow
        p = start(config(tmp, out, storage), tmp)
        try:
            e2e.wait_for(lambda: len(seqs(os.path.join(out, "got.log"))) >= 3000, 30,
                         what="recovered chunks delivered")
            lines(log, 3000, 200)
            e2e.wait_for(lambda: len(seqs(os.path.join(out, "got.log"))) >= 3200, 30,
                         what="new lines after recovery")
            e2e.wait_for(lambda: not sealed_chunks(storage), 10,
                         what="delivered chunk files deleted")
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=15)
            err = p.stderr.read().decode("utf-8", "replace")
        got = seqs(os.path.join(out, "got.log"))
        c.equal(sorted(got), list(range(3200)), "after SIGKILL: no record lost, none twice")
        c.equal(rc, 0, "clean exit")
        c.check("recovered" in err, "the recovery is reported: %s" % err[-400:])

        # 3. a corrupt chunk file is quarantined, not delivered
        bad = os.path.join(storage, "tail.0-00000000000fffff.sealed")
        with open(bad, "wb") as f:
            f.write(b"SLCH" + os.urandom(200))
        p = start(config(tmp, out, storage), tmp)
        try:
            e2e.wait_for(lambda: os.path.exists(os.path.join(storage, "quarantine",
                                                             os.path.basename(bad))),
                         10, what="corrupt file moved to quarantine/")
            e2e.wait_port(API_PORT, p)
            c.equal(e2e.metric_value(API_PORT, "sluice_storage_quarantined_chunks_total"),
                    1.0, "the quarantined chunk is counted")
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=15)
            err = p.stderr.read().decode("utf-8", "replace")
        c.equal(rc, 0, "a corrupt chunk is no reason to stop")
        c.check("quarantine" in err, "the quarantine is reported: %s" % err[-400:])
        c.equal(sorted(seqs(os.path.join(out, "got.log"))), list(range(3200)),
                "nothing from the corrupt file reached the output")

        # 4. storage.path that cannot be a folder: start-up failure, exit 2
        notdir = e2e.write(os.path.join(tmp, "a-file"), "x")
        r = e2e.run_to_exit(["-c", config(tmp, out, os.path.join(notdir, "storage")),
                             "-R", os.path.join(tmp, "parsers.conf")], timeout=20)
        errs = [ln for ln in r.log().splitlines() if "error" in ln]
        c.equal(r.rc, 2, "unusable storage.path exits 2")
        c.check(len(errs) == 1 and "storage.path" in errs[0],
                "one error line names storage.path: %s" % r.log()[-400:])
    c.finish()


if __name__ == "__main__":
    main()
