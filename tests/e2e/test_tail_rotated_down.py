# SPDX-License-Identifier: Apache-2.0
"""tail with a DB never loses lines to a rotation it did not see (issue 16):
sluice stopped, lines appended, the file rotated (rename, several renames,
copytruncate, a fake kubelet layout), sluice started again: every line
arrives exactly once. A rotated file gzip-compressed meanwhile cannot be
read: its unread bytes are counted and reported, and the rest still arrives
once. And copytruncate while sluice is behind (a slow output, a small
Mem_Buf_Limit): the unread part is read from the copy, nothing is lost."""
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402
import http_receiver  # noqa: E402

c = e2e.Checker()


def lines(path, start, n, src):
    with open(path, "a") as f:
        for i in range(start, start + n):
            f.write('{"src":"%s","seq":%d,"pad":"%s"}\n' % (src, i, "p" * 40))


def config(tmp, path, port, extra=None, out_extra=None):
    inp = dict(Name="tail", Path=path, Tag="t.*", Read_from_Head="Off",
               Refresh_Interval="1", Rotate_Wait="1", DB=os.path.join(tmp, "tail.db"))
    inp.update(extra or {})
    out = dict(Name="file", Match="t.*", Path=os.path.join(tmp, "out"), File="got.log",
               Format="plain", Mkdir="On")
    out.update(out_extra or {})
    return e2e.write(os.path.join(tmp, "tail.conf"),
                     e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="info",
                                 HTTP_Server="On", HTTP_Listen="127.0.0.1",
                                 HTTP_Port=str(port)) +
                     e2e.section("INPUT", **inp) +
                     e2e.section("FILTER", Name="parser", Match="t.*", Key_Name="log",
                                 Parser="json", Reserve_Data="On") +
                     e2e.section("OUTPUT", **out))


class Sluice:
    def __init__(self, tmp, conf, port):
        parsers = e2e.parsers_file(os.path.join(tmp, "parsers.conf"),
                                   [{"Name": "json", "Format": "json"}])
        self.port = port
        self.err_path = os.path.join(tmp, "stderr.%d" % time.monotonic_ns())
        self.err_f = open(self.err_path, "wb")
        self.p = subprocess.Popen([e2e.binary(), "-c", conf, "-R", parsers],
                                  stderr=self.err_f)

    def metric(self, name):
        try:
            with urllib.request.urlopen(
                    "http://127.0.0.1:%d/api/v1/metrics/prometheus" % self.port,
                    timeout=2) as r:
                text = r.read().decode("utf-8", "replace")
        except OSError:
            return None
        return http_receiver.prometheus_value(text, name, {})

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            rc = None
        self.err_f.close()
        with open(self.err_path, "rb") as f:
            self.err = f.read().decode("utf-8", "replace")
        return rc


def seqs(out, src):
    if not os.path.exists(out):
        return []
    return [r.get("seq") for r in e2e.read_plain(out) if r.get("src") == src]


def each_once(got, want, msg):
    missing = sorted(set(want) - set(got))
    dups = len(got) - len(set(got))
    extra = sorted(set(got) - set(want))
    c.check(not missing and dups == 0 and not extra,
            "%s: %d missing (first %r), %d duplicates, %d extra (first %r)" %
            (msg, len(missing), missing[:5], dups, len(extra), extra[:5]))


def wait_db_saved(s, db, path, size):
    """Until the DB holds `path` at `size` (everything read and committed)."""
    def ok():
        try:
            with open(db) as f:
                for l in f:
                    parts = l.rstrip("\n").split(" ", 4)
                    if len(parts) == 5 and parts[4] == path and int(parts[3]) == size:
                        return True
        except (FileNotFoundError, ValueError):
            pass
        return False
    e2e.wait_for(ok, 20, what="DB offset of %s at %d" % (path, size))


def run_down_case(name, rotate, expect_lost=False, kube=False):
    """Lines 0..999 read while up; 1000.. written while down, then rotate();
    rotate returns the seqs the restarted sluice must deliver (all that
    still exist uncompressed)."""
    with e2e.TempDir("sluice-rotdown-") as tmp:
        if kube:
            pod = os.path.join(tmp, "var", "log", "pods", "ns1_web-0_1234-abcd", "app")
            cont = os.path.join(tmp, "var", "log", "containers")
            os.makedirs(pod)
            os.makedirs(cont)
            target = os.path.join(pod, "0.log")
            app = os.path.join(cont, "web-0_ns1_app-%s.log" % ("0123456789abcdef" * 4))
            open(target, "w").close()
            os.symlink(target, app)
            path = os.path.join(cont, "*.log")
            extra = {"Kube_Meta_From_Path": "On"}
        else:
            logs = os.path.join(tmp, "logs")
            os.makedirs(logs)
            app = target = os.path.join(logs, "app.log")
            open(app, "w").close()
            path = os.path.join(logs, "*.log")
            extra = None
        out = os.path.join(tmp, "out", "got.log")
        db = os.path.join(tmp, "tail.db")
        port = http_receiver.free_port()
        conf = config(tmp, path, port, extra)
        s = Sluice(tmp, conf, port)
        try:
            # Read_from_Head Off: what is written once sluice follows the
            # file is read; the successor after a rotation while down must
            # be read from its start all the same.
            e2e.wait_for(lambda: s.metric("sluice_input_records_total") is not None, 10,
                         what="sluice up")
            wait_db_saved(s, db, app, 0)
            lines(target, 0, 1000, name)
            e2e.wait_for(lambda: len(seqs(out, name)) >= 1000, 20, what="first 1000")
            wait_db_saved(s, db, app, os.path.getsize(target))
        except TimeoutError as e:
            c.check(False, "%s: %s" % (name, e))
        finally:
            rc = s.stop()
        c.equal(rc, 0, "%s: clean exit" % name)
        # The DB's mtime is when sluice last saved: what follows is "while
        # down", by the file system's clock too.
        time.sleep(0.05)
        want = rotate(target, name)
        s = Sluice(tmp, conf, port)
        try:
            e2e.wait_for(lambda: set(want) <= set(seqs(out, name)), 30,
                         what="%s: %d lines after restart" % (name, len(want)))
            # a little longer: duplicates would come now
            e2e.wait_for(lambda: s.metric("sluice_input_records_total") is not None, 10)
            time.sleep(1.5)
            lost_bytes = s.metric("sluice_tail_rotated_lost_bytes_total")
            lost_files = s.metric("sluice_tail_rotated_lost_files_total")
        except TimeoutError as e:
            c.check(False, "%s: %s" % (name, e))
            lost_bytes = lost_files = None
        finally:
            rc = s.stop()
        c.equal(rc, 0, "%s: clean exit after restart" % name)
        each_once(seqs(out, name), want, "%s: loss 0, dup 0" % name)
        if expect_lost:
            expect_lost = gz_lost[name]
            c.check(lost_bytes == expect_lost and lost_files == 1,
                    "%s: compressed rotated file counted: %r bytes (want %d), %r files" %
                    (name, lost_bytes, expect_lost, lost_files))
            c.check("%d unread bytes lost" % expect_lost in s.err,
                    "%s: one log line names the unread bytes: %s" % (name, s.err[-600:]))
        else:
            c.check(lost_bytes == 0 and lost_files == 0,
                    "%s: nothing reported lost: %r %r" % (name, lost_bytes, lost_files))
        if kube:
            recs = [r for r in e2e.read_plain(out) if r.get("seq") == 1500]
            k8s = recs[0].get("kubernetes", {}) if recs else {}
            c.check(k8s.get("pod_name") == "web-0" and k8s.get("namespace_name") == "ns1",
                    "%s: a recovered line keeps its kubernetes names: %r" % (name, recs[:1]))


def rename_once(app, name):
    lines(app, 1000, 5000, name)
    os.rename(app, app + ".1")
    lines(app, 6000, 5000, name)
    return list(range(11000))


def rename_three(app, name):
    """Three rotations while down (logrotate rotate 3): .3 .2 .1 and the new."""
    lines(app, 1000, 1000, name)
    os.rename(app, app + ".1")
    lines(app, 2000, 1000, name)
    os.rename(app + ".1", app + ".2")
    os.rename(app, app + ".1")
    lines(app, 3000, 1000, name)
    os.rename(app + ".2", app + ".3")
    os.rename(app + ".1", app + ".2")
    os.rename(app, app + ".1")
    lines(app, 4000, 1000, name)
    return list(range(5000))


def copytruncate(app, name):
    lines(app, 1000, 2000, name)
    shutil.copyfile(app, app + ".1")
    with open(app, "r+") as f:
        f.truncate(0)
    lines(app, 3000, 1000, name)
    return list(range(4000))


def copytruncate_twice(app, name):
    lines(app, 1000, 1000, name)
    shutil.copyfile(app, app + ".1")
    with open(app, "r+") as f:
        f.truncate(0)
    lines(app, 2000, 1000, name)
    os.rename(app + ".1", app + ".2")
    shutil.copyfile(app, app + ".1")
    with open(app, "r+") as f:
        f.truncate(0)
    lines(app, 3000, 1000, name)
    return list(range(4000))


gz_lost = {}


def rename_gzip(app, name):
    before = os.path.getsize(app)
    lines(app, 1000, 1000, name)
    gz_lost[name] = os.path.getsize(app) - before
    os.rename(app, app + ".1")
    with open(app + ".1", "rb") as f, gzip.open(app + ".1.gz", "wb") as g:
        g.write(f.read())
    os.unlink(app + ".1")
    lines(app, 2000, 1000, name)
    return list(range(1000)) + list(range(2000, 3000))


def kubelet(target, name):
    lines(target, 1000, 2000, name)
    os.rename(target, target + ".20261201-231500")
    lines(target, 3000, 2000, name)
    return list(range(5000))


def slow_copytruncate():
    """5,000 lines/s into a file copytruncated every second, sluice slowed by
    an output that takes 0.3 s per request and Mem_Buf_Limit 64K: behind at
    every truncation. The writer rotates between its own writes, so the copy
    window is empty: loss must be 0."""
    with e2e.TempDir("sluice-slowct-") as tmp, \
            http_receiver.Receiver(default=lambda req: (time.sleep(0.3), {"status": 200})[1]) \
            as rcv:
        logs = os.path.join(tmp, "logs")
        os.makedirs(logs)
        app = os.path.join(logs, "app.log")
        open(app, "w").close()
        port = http_receiver.free_port()
        conf = e2e.write(os.path.join(tmp, "slow.conf"),
                         e2e.section("SERVICE", Flush="0.2", Grace="5", Log_Level="info",
                                     HTTP_Server="On", HTTP_Listen="127.0.0.1",
                                     HTTP_Port=str(port)) +
                         e2e.section("INPUT", Name="tail", Path=app, Tag="s",
                                     Read_from_Head="On", Rotate_Wait="1",
                                     Mem_Buf_Limit="64K", Buffer_Chunk_Size="16K",
                                     Buffer_Max_Size="16K") +
                         e2e.section("OUTPUT", Name="http", Match="s", Host="127.0.0.1",
                                     Port=str(rcv.port), URI="/in", Format="json_lines",
                                     Retry_Limit="no_limits"))
        s = Sluice(tmp, conf, port)
        total, rotations = 0, 0
        try:
            e2e.wait_for(lambda: s.metric("sluice_input_records_total") is not None, 10,
                         what="sluice up")
            t0 = time.monotonic()
            next_rot = t0 + 1.0
            while total < 40000:
                lines(app, total, 50, "s")
                total += 50
                now = time.monotonic()
                if now >= next_rot:
                    rotations += 1
                    shutil.copyfile(app, app + ".%d" % rotations)
                    with open(app, "r+") as f:
                        f.truncate(0)
                    next_rot += 1.0
                # 5,000 lines/s
                delay = t0 + total / 5000.0 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

            def got():
                seen = []
                for r in rcv.snapshot():
                    for line in r.body.decode("utf-8", "replace").splitlines():
                        if line.strip():
                            rec = json.loads(line)
                            log = rec.get("log", "")
                            try:
                                seen.append(json.loads(log).get("seq"))
                            except ValueError:
                                seen.append(None)
                return seen
            try:
                e2e.wait_for(lambda: len(set(got())) >= total, 120, interval=0.5,
                             what="%d lines through the slow output" % total)
                time.sleep(1)
            except TimeoutError as e:
                c.check(False, "slow copytruncate: %s" % e)
            recovered = s.metric("sluice_tail_rotated_recovered_total")
            seen = got()
        finally:
            rc = s.stop()
        c.equal(rc, 0, "slow copytruncate: clean exit")
        c.check(rotations >= 6, "slow copytruncate: %d truncations" % rotations)
        each_once(seen, list(range(total)), "slow copytruncate (%d truncations)" % rotations)
        c.check(recovered is not None and recovered >= rotations,
                "slow copytruncate: behind at the truncations, read from the copy: "
                "%r of %d" % (recovered, rotations))


def main():
    run_down_case("rename", rename_once)
    run_down_case("rename3", rename_three)
    run_down_case("copytrunc", copytruncate)
    run_down_case("copytrunc2", copytruncate_twice)
    run_down_case("gzip", rename_gzip, expect_lost=True)
    run_down_case("kubelet", kubelet, kube=True)
    slow_copytruncate()
    c.finish()


if __name__ == "__main__":
    main()
