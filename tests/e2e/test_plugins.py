# SPDX-License-Identifier: Apache-2.0
"""Filters from shared objects: the example plugin loads through a
Plugins_File and changes records; a plugin built for ABI 1.0 loads into this
newer-minor host; a plugin's own global named like a host function is the one
it calls; a plugin built for another major or a newer minor, one built
before the host table (small export, or linked to host symbols), one without
a filter callback, one named like a built-in, a missing file and a non-plugin
are refused with clear errors."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

c = e2e.Checker()
PLUGIN_DIR = os.environ.get("SLUICE_PLUGIN_DIR",
                            os.path.join(e2e.source_root(), "build", "plugins"))


def conf(tmp, so, out, filt=None):
    plugins = e2e.write(os.path.join(tmp, "plugins.conf"),
                        "[PLUGINS]\n    Path %s\n" % so)
    if filt is None:
        filt = dict(Name="redact", Match="app", Key=["token", "password"])
    return e2e.write(os.path.join(tmp, "main.conf"),
                     e2e.section("SERVICE", Flush="0.2", Plugins_File=plugins,
                                 Log_Level="warn") +
                     e2e.section("INPUT", Name="dummy", Tag="app", Samples="3", Rate="20",
                                 Dummy=json.dumps({"user": "ann", "token": "s3cr3t",
                                                   "password": "hunter2"})) +
                     e2e.section("FILTER", **filt) +
                     e2e.section("OUTPUT", Name="file", Match="*", Path=out,
                                 File="got.log", Format="plain", Mkdir="On"))


def so_path(name):
    return os.path.join(PLUGIN_DIR, name + ".so")


def main():
    redact = os.path.join(PLUGIN_DIR, "redact.so")
    future = os.path.join(PLUGIN_DIR, "abi_mismatch.so")
    c.check(os.path.exists(redact), "example plugin built at %s" % redact)
    with e2e.TempDir("sluice-plugins-") as tmp:
        out = os.path.join(tmp, "out")
        # dummy's 3 Samples end the records, not sluice: it is stopped
        r = e2e.run_until(["-c", conf(tmp, redact, out)],
                          lambda: e2e.count_lines(os.path.join(out, "got.log")) >= 3)
        c.equal(r.rc, 0, "pipeline with the plugin exits 0 (%s)" % r.log()[-300:])
        recs = e2e.read_plain(os.path.join(out, "got.log")) if r.rc == 0 else []
        c.equal(len(recs), 3, "three records")
        for rec in recs:
            c.equal((rec.get("user"), rec.get("token"), rec.get("password")),
                    ("ann", "[REDACTED]", "[REDACTED]"), "sensitive keys masked")

        r = e2e.run_to_exit(["--dry-run", "-c", conf(tmp, future, out)], timeout=30)
        c.equal(r.rc, 1, "a plugin built for ABI 99 is refused")
        c.check("ABI" in r.log() and "99" in r.log() and "plugins.conf:2:" in r.log(),
                "the error names the ABI and the file:line: %s" % r.log())

        r = e2e.run_to_exit(["--dry-run", "-c", conf(tmp, os.path.join(tmp, "nope.so"), out)],
                            timeout=30)
        c.equal(r.rc, 1, "a missing plugin file is a config error")
        c.check("nope.so" in r.log(), "the error names the file: %s" % r.log())

        notplugin = e2e.write(os.path.join(tmp, "not.so"), "not an ELF file")
        r = e2e.run_to_exit(["--dry-run", "-c", conf(tmp, notplugin, out)], timeout=30)
        c.equal(r.rc, 1, "a file that is not a shared object is refused")

        # A plugin built for ABI 1.0 runs in this 1.x host (larger minor).
        out10 = os.path.join(tmp, "out10")
        r = e2e.run_until(["-c", conf(tmp, so_path("abi_1_0"), out10,
                                      dict(Name="abi_1_0", Match="app", Key="abi",
                                           Value="one-oh"))],
                          lambda: e2e.count_lines(os.path.join(out10, "got.log")) >= 3)
        c.equal(r.rc, 0, "the ABI 1.0 plugin loads and runs (%s)" % r.log()[-300:])
        recs = e2e.read_plain(os.path.join(out10, "got.log")) if r.rc == 0 else []
        c.equal([x.get("abi") for x in recs], ["one-oh"] * 3,
                "the 1.0 plugin's config map and callback work")

        # Its own sl_now_ns (a host-internal name) is what it calls.
        outown = os.path.join(tmp, "outown")
        r = e2e.run_until(["-c", conf(tmp, so_path("own_symbol"), outown,
                                      dict(Name="own_symbol", Match="app"))],
                          lambda: e2e.count_lines(os.path.join(outown, "got.log")) >= 3)
        c.equal(r.rc, 0, "the plugin with a host-named global runs (%s)" % r.log()[-300:])
        recs = e2e.read_plain(os.path.join(outown, "got.log")) if r.rc == 0 else []
        c.equal([x.get("stamp") for x in recs], [42] * 3,
                "the plugin keeps its own sl_now_ns, not the host's clock")

        for so, filt, want in [
                ("null_callback", "null_callback", "no filter callback"),
                ("shadow_builtin", "grep", "built-in"),
                ("abi_future_minor", "abi_1_0", "needs plugin ABI 1.99"),
                ("old_layout", "old_layout", "rebuild it"),
                ("old_linked", "old_layout", "rebuild it against this sluice_plugin.h")]:
            r = e2e.run_to_exit(["--dry-run", "-c",
                                 conf(tmp, so_path(so), out,
                                      dict(Name=filt, Match="app", Key="k"))],
                                timeout=30)
            c.equal(r.rc, 1, "%s.so is refused" % so)
            c.check(want in r.log() and "plugins.conf:2:" in r.log() and
                    "Sanitizer" not in r.log(),
                    "%s: the error says '%s' with file:line: %s" % (so, want, r.log()))
    c.finish()


if __name__ == "__main__":
    main()
