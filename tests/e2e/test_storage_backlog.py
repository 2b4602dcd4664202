# SPDX-License-Identifier: Apache-2.0
"""storage.backlog.mem_limit (SPEC §3, §6): a backlog on disk several times
larger than the limit is delivered after a restart without being loaded all
at once. A run against a dead output leaves ~40 MB of chunk files; it is
SIGKILLed; the restart with a live output and storage.backlog.mem_limit 4M
delivers every record exactly once while its peak resident memory (VmHWM)
stays well under the backlog's size, and reports the chunks that waited on
disk. The same limits hold while the output is dead: chunks beyond them go
down to disk, so the input reads on past its Mem_Buf_Limit while its memory
stays bounded."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

c = e2e.Checker()
N = 190000  # 211 bytes a line: ~40 MB
PAD = "p" * 200


def config(tmp, name, storage, out_dir, extra, port, mem_buf="500M"):
    return e2e.write(os.path.join(tmp, name + ".conf"),
                     e2e.section("SERVICE", Flush="1", Grace="3", Log_Level="info",
                                 HTTP_Server="On", HTTP_Listen="127.0.0.1", HTTP_Port=port,
                                 **dict({"storage.path": storage, "scheduler.base": "0.2",
                                         "scheduler.cap": "0.5"}, **extra)) +
                     e2e.section("INPUT", Name="tail", Path=os.path.join(tmp, "app.log"),
                                 Tag="app", Read_from_Head="On", Mem_Buf_Limit=mem_buf,
                                 DB=os.path.join(tmp, "tail.db"),
                                 **{"storage.type": "filesystem"}) +
                     e2e.section("OUTPUT", Name="file", Match="app", Path=out_dir,
                                 File="got.log", Format="plain", Mkdir="On"))


def committed(db):
    try:
        with open(db) as f:
            rows = [ln.split() for ln in f if ln.strip() and not ln.startswith("#")]
    except FileNotFoundError:
        return 0
    return max((int(r[3]) for r in rows if len(r) >= 5), default=0)


def chunk_bytes(storage):
    return sum(os.path.getsize(os.path.join(storage, n)) for n in os.listdir(storage)
               if n.endswith(".sealed") or n.endswith(".open"))


def make_backlog(tmp, name, extra=None, mem_buf="500M"):
    """A run against a dead output, SIGKILLed once every line is on disk.
    Returns the storage path and the run's VmHWM (KiB)."""
    storage = os.path.join(tmp, name, "storage")
    log = os.path.join(tmp, "app.log")
    size = os.path.getsize(log)
    db = os.path.join(tmp, "tail.db")
    if os.path.exists(db):
        os.unlink(db)
    port = e2e.free_port()
    d = e2e.Daemon(config(tmp, name + "-dead", storage, "/proc/self/cannot-write-here",
                          extra or {}, port, mem_buf), os.path.join(tmp, name + "-dead.log"))
    try:
        e2e.wait_for(lambda: committed(db) == size, 60, interval=0.2,
                     what="the whole file on disk")
        hwm = e2e.vm_hwm_kb(d.pid)
        down = e2e.metric_value(port, "sluice_storage_chunks", {"state": "down"})
        up = e2e.metric_value(port, "sluice_storage_chunks", {"state": "up"})
    finally:
        d.kill()
    print("%s, dead output: chunks up %s, down %s" % (name, up, down))
    if extra:
        c.check(down and down > 0, "chunks over the limit are down: %s" % down)
    return storage, hwm


def restart(tmp, name, storage, extra):
    """Restart with a live output: (VmHWM KiB, records, log, exit code, down)."""
    out_dir = os.path.join(tmp, name, "out")
    out = os.path.join(out_dir, "got.log")
    port = e2e.free_port()
    d = e2e.Daemon(config(tmp, name + "-live", storage, out_dir, extra, port),
                   os.path.join(tmp, name + "-live.log"))
    try:
        e2e.wait_for(lambda: e2e.count_lines(out) >= N, 120, interval=0.2,
                     what="%d records delivered" % N)
        e2e.wait_for(lambda: chunk_bytes(storage) == 0, 20, interval=0.2,
                     what="delivered chunk files deleted")
        hwm = e2e.vm_hwm_kb(d.pid)
        down = e2e.metric_value(port, "sluice_storage_chunks", {"state": "down"})
    finally:
        rc = d.stop()
    seqs = [int(ln.split(b'"')[3].split()[0]) for ln in open(out, "rb")]
    return hwm, seqs, d.output(), rc, down


def main():
    e2e.require_plugins("tail", "file")
    # sanitizer builds: keep freed memory from counting as resident
    if os.environ.get("ASAN_OPTIONS") is not None:
        os.environ["ASAN_OPTIONS"] += ":quarantine_size_mb=1"
    with e2e.TempDir("sluice-backlog-") as tmp:
        log = os.path.join(tmp, "app.log")
        with open(log, "w") as f:
            for i in range(N):
                f.write("%08d %s\n" % (i, PAD))
        size = os.path.getsize(log)

        # chunks beyond 4 MB go down to disk while the output is dead: the
        # input reads on past its 8 MB Mem_Buf_Limit, memory stays bounded
        storage, hwm_dead = make_backlog(tmp, "limited",
                                         {"storage.backlog.mem_limit": "4M"}, "8M")
        backlog = chunk_bytes(storage)
        print("backlog on disk: %d chunk files, %.1f MB (LZ4), %.1f MB of lines"
              % (len(os.listdir(storage)) - 2, backlog / 1e6, size / 1e6))
        hwm, seqs, text, rc, down = restart(tmp, "limited", storage,
                                            {"storage.backlog.mem_limit": "4M"})
        m = re.search(r"(\d+) chunks \((\d+) records\) recovered and queued, "
                      r"(\d+) of them waiting on disk", text)
        c.check(m is not None, "the recovery is reported: %s" % text[-600:])
        if m:
            c.check(int(m.group(3)) > 0 and int(m.group(3)) < int(m.group(1)),
                    "some chunks waited on disk (%s of %s)" % (m.group(3), m.group(1)))
        c.equal(down, 0.0, "sluice_storage_chunks{state=\"down\"} once all delivered")
        c.equal(len(seqs), N, "records delivered")
        c.equal(sorted(seqs), list(range(N)), "every record exactly once")
        c.equal(rc, 0, "clean exit")

        # the same backlog with the default limit (100M): all of it at once
        storage, hwm_dead_all = make_backlog(tmp, "all")
        hwm_all, seqs, text, rc, _ = restart(tmp, "all", storage, {})
        c.equal(sorted(seqs), list(range(N)), "default limit: every record exactly once")
        print("restart: VmHWM %.1f MB with storage.backlog.mem_limit 4M, %.1f MB "
              "with the default 100M, for a backlog of %.1f MB of records"
              % (hwm / 1024, hwm_all / 1024, size / 1e6))
        print("dead output: VmHWM %.1f MB with storage.backlog.mem_limit 4M and "
              "Mem_Buf_Limit 8M, %.1f MB with the defaults and Mem_Buf_Limit 500M"
              % (hwm_dead / 1024, hwm_dead_all / 1024))
        c.check((hwm_dead_all - hwm_dead) * 1024 > size / 2,
                "a dead output fills the disk, not the memory (%.1f MB vs %.1f MB)"
                % (hwm_dead / 1024, hwm_dead_all / 1024))
        c.check((hwm_all - hwm) * 1024 > size / 2,
                "the 4M limit saves at least half the backlog's size in peak "
                "memory (%.1f MB vs %.1f MB)" % (hwm / 1024, hwm_all / 1024))
    c.finish()


if __name__ == "__main__":
    main()
