# SPDX-License-Identifier: Apache-2.0
"""Fluent Bit's command-line flags as its Helm chart, systemd unit and
users pass them: -D (dry run), -H/--http/--http_server, -P/--port/
--http_port and -L (over the file's HTTP_Port), -Y (reload over HTTP),
-b (storage.path), -e (a filter plugin .so), -w (working directory before
the config is read, as the Helm chart's --workdir), -s/-W (accepted), and
every flag sluice cannot honour refused with exit 1 and the reason; -J
lists both, and has Fluent Bit's schema shape (inputs/filters/outputs with
properties.options) beside sluice's own."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

OK = b"configuration test is successful"


def build_dir():
    return os.path.dirname(e2e.binary())


def main():
    c = e2e.Checker()
    with e2e.TempDir("fb-cli") as tmp:
        base = e2e.section("SERVICE", Flush="0.2", Grace="1", HTTP_Port="2999",
                           HTTP_Listen="127.0.0.1")
        conf = e2e.write(os.path.join(tmp, "p.conf"), base
                         + e2e.section("INPUT", Name="dummy", Tag="t", Rate="20",
                                       Dummy='{"msg":"x","secret":"s3"}')
                         + e2e.section("OUTPUT", Name="null", Match="*"))

        r = e2e.run_to_exit(["-D", "-c", conf])
        c.equal((r.rc, OK in r.out), (0, True), "-D is --dry-run")

        # -H -P on the command line win over the file's HTTP_Port
        port = e2e.free_port()
        for flags in (["-H", "-P", str(port)], ["--http", "--port=%d" % port],
                      ["--http_server", "--http_port", str(port), "-L", "127.0.0.1"]):
            d = e2e.Daemon(conf, os.path.join(tmp, "h.log"), extra_args=flags)
            try:
                e2e.wait_port(port, d.p, 30)
                r = e2e.http_request(port, "GET", "/api/v2/metrics/prometheus")
                c.equal(r and r[0], 200, "%s: API on the command line's port" % flags)
            except Exception as e:  # noqa: BLE001
                c.check(False, "%s: %s\n%s" % (flags, e, d.output()[-1500:]))
            finally:
                c.equal(d.stop(), 0, "%s: clean stop" % flags)

        # -Y: reload over HTTP
        d = e2e.Daemon(conf, os.path.join(tmp, "y.log"), extra_args=["-H", "-P", str(port), "-Y"])
        try:
            e2e.wait_port(port, d.p, 30)
            r = e2e.http_request(port, "POST", "/api/v2/reload", body=b"")
            c.equal(r and json.loads(r[2]), {"reload": "done", "status": 0},
                    "-Y enables /api/v2/reload")
            e2e.wait_for(lambda: "configuration reloaded" in d.output(), 30,
                         what="the reload")
        except Exception as e:  # noqa: BLE001
            c.check(False, "-Y: %s\n%s" % (e, d.output()[-1500:]))
        finally:
            d.stop()

        # -b: storage.path, which storage.type filesystem needs
        fs = e2e.write(os.path.join(tmp, "fs.conf"),
                       e2e.section("INPUT", Name="dummy", **{"storage.type": "filesystem"})
                       + e2e.section("OUTPUT", Name="null", Match="*"))
        r = e2e.run_to_exit(["-D", "-c", fs])
        c.check(r.rc == 1 and b"storage.path" in r.err, "without -b: refused")
        r = e2e.run_to_exit(["-D", "-c", fs, "-b", os.path.join(tmp, "st")])
        c.equal((r.rc, OK in r.out), (0, True), "-b sets storage.path: %r" % r.err)

        # -e: the example filter plugin from its .so, by a relative name
        so = os.path.join(build_dir(), "plugins", "redact.so")
        out = os.path.join(tmp, "out")
        os.makedirs(out)
        os.symlink(so, os.path.join(tmp, "redact.so"))
        r = e2e.run_to_exit(["-e", "redact.so", "-i", "dummy", "-p", "samples=3",
                             "-p", 'dummy={"msg":"x","secret":"s3"}', "-t", "t",
                             "-F", "redact", "-p", "key=secret", "-m", "*",
                             "-o", "file", "-p", "path=" + out, "-p", "file=o.txt",
                             "-p", "format=plain", "-D"],
                            cwd=tmp)
        c.equal((r.rc, OK in r.out), (0, True), "-e loads the plugin: %r" % r.err)
        r = e2e.run_to_exit(["-e", "redact.so", "-i", "dummy", "-F", "nosuch", "-o", "null",
                             "-D"], cwd=tmp)
        c.check(r.rc == 1 and b"nosuch" in r.err, "-e does not invent filters")
        r = e2e.run_to_exit(["-e", "missing.so", "-i", "dummy", "-o", "null", "-D"], cwd=tmp)
        c.check(r.rc == 1 and b"missing.so" in r.err, "-e missing file named: %r" % r.err)

        # -w: the directory changes before the config is read (Helm chart)
        wd = os.path.join(tmp, "etc")
        os.makedirs(wd)
        e2e.write(os.path.join(wd, "fluent-bit.conf"), base
                  + e2e.section("INPUT", Name="dummy")
                  + e2e.section("OUTPUT", Name="null", Match="*"))
        r = e2e.run_to_exit(["--workdir=" + wd, "--config=fluent-bit.conf", "--dry-run"],
                            cwd=tmp)
        c.equal((r.rc, OK in r.out), (0, True), "--workdir then a relative --config")
        r = e2e.run_to_exit(["-w", os.path.join(tmp, "nowhere"), "-c", "x", "-D"])
        c.check(r.rc == 1 and b"nowhere" in r.err, "-w to a missing folder: %r" % r.err)

        r = e2e.run_to_exit(["-D", "-c", conf, "-s", "24576", "-W"])
        c.equal((r.rc, OK in r.out), (0, True), "-s and -W accepted: %r" % r.err)

        for flag, word in ((["-d"], b"background"), (["--daemon"], b"background"),
                           (["--supervisor"], b"supervisor"), (["-C", "x"], b"custom"),
                           (["-r", "x"], b"processors"), (["-T", "SELECT 1"], b"stream"),
                           (["-S"], b"support"), (["-Z"], b"chunk trace"),
                           (["--trace", "x"], b"chunk trace"),
                           (["--enable-fips"], b"FIPS")):
            r = e2e.run_to_exit(flag + ["-c", conf, "-D"])
            c.check(r.rc == 1 and word in r.err and OK not in r.out,
                    "%s refused saying why: %r" % (flag, r.err))

        r = e2e.run_to_exit(["-J"])
        doc = json.loads(r.out)
        longs = {o["long"]: o for o in doc["options"]}
        for name in ("dry-run", "http", "port", "enable-hot-reload", "storage_path",
                     "plugin", "workdir", "help-json"):
            c.check(name in longs, "-J lists --%s" % name)
        c.equal(longs.get("port", {}).get("service_key"), "http_port", "-J: -P sets http_port")
        c.check({"daemon", "supervisor", "sp-task"}
                <= {o["long"] for o in doc.get("refused_options", [])},
                "-J lists the refused flags with reasons")
        # and Fluent Bit's own -J shape, for tools that read its schema
        c.equal(doc.get("fluent-bit", {}).get("schema_version"), "1", "-J fluent-bit header")
        tail = [p for p in doc.get("inputs", []) if p.get("name") == "tail"]
        opts = tail and {o["name"].lower(): o for o in tail[0]["properties"]["options"]}
        c.check(tail and tail[0]["type"] == "input" and "path" in opts
                and set(opts["path"]) == {"name", "description", "default", "type"},
                "-J inputs[tail].properties.options in Fluent Bit's shape")
        c.check(tail and any(o["name"] == "tag" for o in
                             tail[0]["properties"]["global_options"]),
                "-J global_options has Tag")
        c.equal(opts and opts.get("read_from_head", {}).get("type"), "boolean",
                "-J Fluent Bit's type words")
        r = e2e.run_to_exit(["-h"])
        c.check(b"--enable-hot-reload" in r.out and b"refuses" in r.out,
                "-h lists the flags and the refused ones")
    c.finish()


if __name__ == "__main__":
    main()
