# SPDX-License-Identifier: Apache-2.0
"""storage.type filesystem never acknowledges without disk (SPEC §6): when a
chunk file cannot be created or written (full disk, read-only or immutable
storage directory, no file descriptor left, a tag too long for a chunk
file) witness answers 503 and in_http answers 503, both with Retry-After;
the failures are counted in sluice_storage_errors_total; when the disk comes
back requests are accepted again; and after a SIGKILL and a restart every
event answered 202/201 is delivered, while a refused body is not (it was
taken back: the sender sends it again).

Needs root (mount, chattr) as the test machine and CI have: a test that
cannot mount fails with the reason instead of skipping."""
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

c = e2e.Checker()
DEAD = "/proc/self/cannot-write-here"  # an output that never delivers


class Ports:
    def __init__(self):
        self.api = e2e.free_port()
        self.witness = e2e.free_port()
        self.http = e2e.free_port()


def config(tmp, name, storage, out_dir, ports, flush="1"):
    return e2e.write(os.path.join(tmp, name + ".conf"),
                     e2e.section("SERVICE", Flush=flush, Grace="2", Log_Level="info",
                                 HTTP_Server="On", HTTP_Listen="127.0.0.1",
                                 HTTP_Port=ports.api,
                                 **{"storage.path": storage, "scheduler.base": "0.2",
                                    "scheduler.cap": "0.5"}) +
                     e2e.section("INPUT", Name="witness", Listen="127.0.0.1",
                                 Port=ports.witness, Auth="Off", Tag="w",
                                 **{"storage.type": "filesystem"}) +
                     e2e.section("INPUT", Name="http", Listen="127.0.0.1",
                                 Port=ports.http, Tag="h", Tag_Key="tag",
                                 **{"storage.type": "filesystem"}) +
                     e2e.section("OUTPUT", Name="file", Match="*", Path=out_dir,
                                 File="got.log", Format="plain", Mkdir="On"))


class Client:
    """Sends bodies, remembers which ids were accepted and which refused."""

    def __init__(self, ports):
        self.ports = ports
        self.n = 0
        self.accepted, self.refused = set(), set()
        self.refusals = {"witness": 0, "http": 0}
        self.no_retry_after = 0

    def _ids(self, k):
        ids = ["%s-%d" % (k, self.n + i) for i in range(5)]
        self.n += 5
        return ids

    def _answer(self, kind, ids, r, ok):
        if r and r[0] == ok:
            self.accepted.update(ids)
            return ok
        if r and r[0] == 503:
            self.refused.update(ids)
            self.refusals[kind] += 1
            if "retry-after" not in r[1]:
                self.no_retry_after += 1
            return 503
        c.check(False, "%s answered %r (want %d or 503)" % (kind, r and r[0], ok))
        return r and r[0]

    def witness(self):
        ids = self._ids("w")
        body = json.dumps([{"event": "e2e", "agent_id": "a", "metadata": {"id": i}}
                           for i in ids]).encode()
        r = e2e.http_request(self.ports.witness, "POST", "/api/events", body,
                             {"Content-Type": "application/json"})
        return self._answer("witness", ids, r, 202)

    def http(self, tag=None):
        ids = self._ids("h")
        recs = [{"id": i, "pad": "x" * 200} for i in ids]
        if tag:
            for rec in recs:
                rec["tag"] = tag
        r = e2e.http_request(self.ports.http, "POST", "/", json.dumps(recs).encode(),
                             {"Content-Type": "application/json"})
        return self._answer("http", ids, r, 201)

    def both(self, tag=None):
        return self.witness(), self.http(tag)


def delivered(out_dir):
    path = os.path.join(out_dir, "got.log")
    if not os.path.exists(path):
        return []
    got = []
    for r in e2e.read_plain(path):
        got.append(r.get("id") or r.get("metadata", {}).get("id"))
    return got


def errors(port, op):
    return e2e.metric_value(port, "sluice_storage_errors_total", {"op": op}) or 0


def sh(*args):
    return subprocess.run(list(args), capture_output=True, text=True)


def must_mount(*args):
    r = sh("mount", *args)
    if r.returncode != 0:
        e2e.skip("mount %s failed (this test needs root and mount): %s"
                 % (" ".join(args), r.stderr.strip()))


def open_chunks(storage):
    return [n for n in os.listdir(storage) if n.endswith(".open")]


def recover_and_check(tmp, name, storage, out_dir, client, what):
    """Restart with a live output; every accepted id must arrive."""
    ports = Ports()
    d = e2e.Daemon(config(tmp, name, storage, out_dir, ports),
                   os.path.join(tmp, name + ".log"))
    try:
        try:
            e2e.wait_for(lambda: client.accepted <= set(delivered(out_dir)), 40,
                         what="%s: every accepted event delivered" % what)
        except TimeoutError as e:
            c.check(False, str(e))
    finally:
        d.stop()
    got = delivered(out_dir)
    missing = client.accepted - set(got)
    c.check(not missing, "%s: %d accepted events lost after SIGKILL, e.g. %s"
            % (what, len(missing), sorted(missing)[:5]))
    back = (set(got) & client.refused) - client.accepted
    c.check(not back, "%s: %d refused events delivered anyway (not taken back): %s"
            % (what, len(back), sorted(back)[:5]))
    dups = len(got) - len(set(got))
    print("%s: %d accepted, %d refused, delivered %d (%d twice)"
          % (what, len(client.accepted), len(client.refused), len(got), dups))


def full_disk_and_read_only(tmp):
    """tmpfs of 2 MiB: filled up, freed, then mounted read-only."""
    storage = os.path.join(tmp, "fs-storage")
    out_dir = os.path.join(tmp, "fs-out")
    os.makedirs(storage)
    must_mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", storage)
    mounts = 1
    try:
        # a bind mount on top, made before sluice opens the directory, so
        # that it can be made read-only later (sluice writes through it)
        must_mount("--bind", storage, storage)
        mounts = 2
        ports = Ports()
        d = e2e.Daemon(config(tmp, "full", storage, DEAD, ports),
                       os.path.join(tmp, "full.log"))
        cl = Client(ports)
        try:
            e2e.wait_port(ports.witness, d.p)
            e2e.wait_port(ports.http, d.p)
            e2e.wait_port(ports.api, d.p)
            for _ in range(5):
                c.equal(cl.both(), (202, 201), "room on disk: accepted")

            # 1. full disk
            filler = os.path.join(storage, "filler")
            with open(filler, "wb") as f:
                try:
                    while True:
                        f.write(b"\0" * 65536)
                        f.flush()
                except OSError:
                    pass
            for _ in range(10):
                cl.both()
            c.check(cl.refusals["witness"] > 0, "full disk: witness refuses (503)")
            c.check(cl.refusals["http"] > 0, "full disk: in_http refuses (503)")
            c.equal(cl.no_retry_after, 0, "every 503 carries Retry-After")
            full_errors = sum(errors(ports.api, op) for op in ("create", "write", "seal"))
            c.check(full_errors > 0, "full disk: sluice_storage_errors_total counts "
                    "the failures (%s)" % full_errors)

            # 2. the disk comes back: accepted again (the chunk file is
            #    created again, not given up)
            os.unlink(filler)
            e2e.wait_for(lambda: cl.witness() == 202, 10, interval=0.2,
                         what="witness accepts once the disk has room")
            e2e.wait_for(lambda: cl.http() == 201, 10, interval=0.2,
                         what="in_http accepts once the disk has room")

            # 3. read-only storage: a read-only bind mount over it (a remount
            #    needs no file open for writing: wait for the flush to seal)
            before = cl.refusals["witness"] + cl.refusals["http"]
            e2e.wait_for(lambda: not open_chunks(storage), 10,
                         what="open chunks sealed by the flush")

            def ro():
                return sh("mount", "-o", "remount,bind,ro", storage).returncode == 0
            e2e.wait_for(ro, 10, interval=0.2, what="read-only remount")
            for _ in range(4):
                c.equal(cl.both(), (503, 503), "read-only storage: refused")
            c.check(cl.refusals["witness"] + cl.refusals["http"] >= before + 8,
                    "read-only refusals counted by the test client")
            c.check(errors(ports.api, "create") > 0, "read-only: create errors counted")
            must_mount("-o", "remount,bind,rw", storage)
            e2e.wait_for(lambda: cl.both() == (202, 201), 10, interval=0.2,
                         what="accepted again once writable")

            # 4. a tag longer than a chunk file holds (65535 bytes): refused
            #    (503), unless in_http caps tags before they reach storage;
            #    either way an accepted record must be delivered (checked
            #    after the restart)
            r = cl.http(tag="t" * 70000)
            c.check(r in (201, 503), "over-long tag: %r" % r)
            if r == 503:
                c.check("70000 bytes" in d.output(), "the over-long tag is logged")
            busy = e2e.metric_value(ports.api, "sluice_witness_rejected_total",
                                    {"reason": "busy"})
            c.equal(busy, float(cl.refusals["witness"]),
                    "witness counts every refusal (sluice_witness_rejected_total busy)")
        finally:
            d.kill()
        lines = [ln for ln in d.output().splitlines() if "cannot" in ln and "storage" in ln]
        c.check(len(lines) < 25, "storage errors logged once per period, not per "
                "request (%d lines)" % len(lines))
        recover_and_check(tmp, "full-recover", storage, out_dir, cl, "full disk/read-only")
    finally:
        for _ in range(mounts):
            sh("umount", storage)


def immutable_dir(tmp):
    """chattr +i on the storage directory: no file can be created in it."""
    storage = os.path.join(tmp, "immutable-storage")
    out_dir = os.path.join(tmp, "immutable-out")
    ports = Ports()
    d = e2e.Daemon(config(tmp, "immutable", storage, DEAD, ports),
                   os.path.join(tmp, "immutable.log"))
    cl = Client(ports)
    locked = False
    try:
        e2e.wait_port(ports.witness, d.p)
        e2e.wait_port(ports.http, d.p)
        c.equal(cl.both(), (202, 201), "before chattr +i: accepted")
        e2e.wait_for(lambda: not open_chunks(storage), 10, what="open chunks sealed")
        r = sh("chattr", "+i", storage)
        if r.returncode != 0:
            e2e.skip("chattr +i %s failed: %s" % (storage, r.stderr.strip()))
        locked = True
        for _ in range(3):
            c.equal(cl.both(), (503, 503), "immutable storage dir: refused")
        sh("chattr", "-i", storage)
        locked = False
        e2e.wait_for(lambda: cl.both() == (202, 201), 10, interval=0.2,
                     what="accepted again after chattr -i")
    finally:
        if locked:
            sh("chattr", "-i", storage)
        d.kill()
    recover_and_check(tmp, "immutable-recover", storage, out_dir, cl, "immutable dir")


def no_file_descriptors(tmp):
    """RLIMIT_NOFILE just above what sluice uses: each new tag needs a chunk
    file, and once none can be opened (EMFILE) in_http refuses."""
    storage = os.path.join(tmp, "emfile-storage")
    out_dir = os.path.join(tmp, "emfile-out")
    ports = Ports()
    d = e2e.Daemon(config(tmp, "emfile", storage, DEAD, ports, flush="30"),
                   os.path.join(tmp, "emfile.log"))
    cl = Client(ports)
    try:
        e2e.wait_port(ports.http, d.p)
        e2e.wait_port(ports.api, d.p)
        used = len(os.listdir("/proc/%d/fd" % d.pid))
        soft, hard = resource.prlimit(d.pid, resource.RLIMIT_NOFILE)
        resource.prlimit(d.pid, resource.RLIMIT_NOFILE, (used + 4, hard))
        answers = [cl.http(tag="tag%d" % i) for i in range(12)]
        c.check(201 in answers, "EMFILE: the first tags still get a chunk file")
        c.check(cl.refusals["http"] > 0, "EMFILE: in_http refuses (503): %s" % answers)
        c.equal(cl.no_retry_after, 0, "every 503 carries Retry-After")
        resource.prlimit(d.pid, resource.RLIMIT_NOFILE, (soft, hard))
        c.equal(cl.http(tag="tag-after"), 201, "file descriptors back: accepted")
        c.check(errors(ports.api, "create") > 0, "EMFILE: create errors counted")
    finally:
        d.kill()
    recover_and_check(tmp, "emfile-recover", storage, out_dir, cl, "EMFILE")


def main():
    e2e.require_plugins("witness", "http", "file")
    if os.geteuid() != 0:
        e2e.skip("needs root for mount and chattr")
    with e2e.TempDir("sluice-storage-faults-") as tmp:
        full_disk_and_read_only(tmp)
        immutable_dir(tmp)
        no_file_descriptors(tmp)
    c.finish()


if __name__ == "__main__":
    main()
