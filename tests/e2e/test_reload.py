# SPDX-License-Identifier: Apache-2.0
"""SIGHUP reloads the configuration (SPEC §2): a valid new configuration
replaces the running pipeline after it drained; a broken one is rejected
with its errors logged as FILE:LINE and the running pipeline goes on."""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

c = e2e.Checker()


def pipeline(out, name, value):
    return (e2e.section("SERVICE", Flush="0.1", Grace="3", Log_Level="info") +
            e2e.section("INPUT", Name="dummy", Tag="reload", Rate="50",
                        Dummy='{"v":"%s"}' % value) +
            e2e.section("OUTPUT", Name="file", Match="*", Path=out, File=name,
                        Format="plain", Mkdir="On"))


def main():
    with e2e.TempDir("sluice-reload-") as tmp:
        out = os.path.join(tmp, "out")
        conf = os.path.join(tmp, "reload.conf")
        a, b = os.path.join(out, "a.log"), os.path.join(out, "b.log")
        e2e.write(conf, pipeline(out, "a.log", "a"))
        log_path = os.path.join(tmp, "stderr.log")
        with open(log_path, "wb") as log:
            p = subprocess.Popen([e2e.binary(), "-c", conf], stderr=log)
        try:
            e2e.wait_for(lambda: e2e.count_lines(a) >= 5, 10, what="first pipeline")

            e2e.write(conf, pipeline(out, "b.log", "b"))
            p.send_signal(signal.SIGHUP)
            e2e.wait_for(lambda: e2e.count_lines(b) >= 5, 15, what="reloaded pipeline")
            settled = e2e.count_lines(a)
            e2e.wait_for(lambda: e2e.count_lines(b) >= 20, 15, what="more of b")
            c.equal(e2e.count_lines(a), settled, "the old pipeline stopped writing")
            c.check(all(r["v"] == "a" for r in e2e.read_plain(a)), "a.log holds old records")
            c.check(all(r["v"] == "b" for r in e2e.read_plain(b)), "b.log holds new records")

            # a broken configuration: rejected, the running pipeline goes on
            e2e.write(conf, pipeline(out, "c.log", "c") +
                      e2e.section("OUTPUT", Name="no_such_output", Match="*"))
            with open(conf) as f:
                bad_line = [i for i, ln in enumerate(f, 1) if ln.startswith("[OUTPUT]")][-1]
            p.send_signal(signal.SIGHUP)

            def rejected():
                with open(log_path, "rb") as f:
                    return b"reload rejected" in f.read()
            e2e.wait_for(rejected, 10, what="rejection logged")
            before = e2e.count_lines(b)
            e2e.wait_for(lambda: e2e.count_lines(b) > before + 10, 10,
                         what="b goes on after a rejected reload")
            c.check(not os.path.exists(os.path.join(out, "c.log")),
                    "nothing of the broken configuration ran")
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = None
        with open(log_path, "rb") as f:
            err = f.read().decode("utf-8", "replace")
        c.check("%s:%d: unknown output plugin 'no_such_output'" % (conf, bad_line) in err,
                "the rejected configuration's error names FILE:LINE: %s" % err[-600:])
        c.equal(rc, 0, "clean exit after reloads")
    c.finish()


if __name__ == "__main__":
    main()
