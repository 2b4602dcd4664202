# SPDX-License-Identifier: Apache-2.0
"""The Debian package, as a user gets it.

packaging/build-deb.sh builds sluice and sluice-dev from a temporary copy
of the tree (no test suite run); lintian finds no error in them; `dpkg -i`
installs both: /usr/bin/sluice -V works, every installed config passes
--dry-run, `systemd-analyze verify` accepts the unit and it has the
reload/env/hardening lines, the sluice user and /var/lib/sluice exist, a
filter plugin compiles against sluice-dev's header through pkg-config and
loads; `man -l` renders sluice(1) and sluice.conf(5) and the options they
list are exactly those `sluice -h` prints (CLI options, [SERVICE], the
common and per-plugin options). `dpkg --purge` then leaves nothing behind
(the test removes the sluice user it caused, whatever failed).

Root only (it installs packages); the non-sanitizer build only
(tests/e2e/meson.build).
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

PACKAGES = ["sluice-dev", "sluice"]
UNIT = "/lib/systemd/system/sluice.service"
UNIT_LINES = ["ExecStart=/usr/bin/sluice -c ${SLUICE_CONFIG}",
              "ExecReload=/bin/kill -HUP $MAINPID",
              "EnvironmentFile=-/etc/default/sluice", "User=sluice",
              "NoNewPrivileges=yes", "ProtectSystem=strict",
              "CapabilityBoundingSet=", "ReadWritePaths=/var/lib/sluice"]
LEFT_BEHIND = ["/usr/bin/sluice", "/etc/sluice", "/var/lib/sluice", UNIT,
               "/etc/default/sluice", "/usr/include/sluice",
               "/etc/systemd/system/multi-user.target.wants/sluice.service"]


def run(args, timeout=120, **kw):
    return subprocess.run(args, capture_output=True, timeout=timeout, **kw)


def installed(pkg):
    r = run(["dpkg-query", "-W", "-f=${Status}", pkg])
    return r.returncode == 0 and b"install ok installed" in r.stdout


def user_exists(name):
    return run(["id", name]).returncode == 0


# ---- option names: `sluice -h` and the rendered man pages ----------------

def help_options(text):
    """(cli, config): CLI long options, and {(scope, name)} of -h."""
    cli, config, scope = set(), set(), None
    for line in text.splitlines():
        m = re.match(r"^  (?:-\w, |    )--([\w-]+)", line)
        if m and scope is None:
            cli.add(m.group(1))
            continue
        if line.startswith("[SERVICE] options:"):
            scope = "service"
        elif re.match(r"^(Inputs|Filters|Outputs) \(options common", line):
            scope = {"I": "input", "F": "filter", "O": "output"}[line[0]] + " common"
        elif re.match(r"^  (input|filter|output) \S+ - ", line):
            scope = " ".join(line.split()[:2])
        elif scope and re.match(r"^  \S+ ", line):
            config.add((scope, line.split()[0]))
    return cli, config


def man_text(path):
    r = run(["man", "-l", path], env=dict(os.environ, MANWIDTH="200"))
    return r.returncode, re.sub(r".\x08", "", r.stdout.decode("utf-8", "replace")), \
        r.stderr.decode("utf-8", "replace")


def man1_options(text):
    return set(re.findall(r"^ {7}(?:-\w, )?--([\w-]+)", text, re.M))


def man5_options(text):
    config, scope = set(), None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line == "[SERVICE]":
            scope = "service"
        elif re.match(r"^[A-Z]", line):
            scope = None
        elif re.match(r"^ {3}options of every (input|filter|output)$", line):
            scope = line.split()[-1] + " common"
        elif re.match(r"^ {3}(input|filter|output) \S+$", line):
            scope = line.strip()
        elif scope:
            m = re.match(r"^ {7}(\S+)(?: +\(| *$)", line)
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if m and (line.rstrip() != line[:7] + m.group(1) or
                      re.match(r"^ {14}\(", nxt)):
                config.add((scope, m.group(1)))
    return config


# ---- the steps -----------------------------------------------------------

def build(c, root, out):
    r = run(["bash", os.path.join(root, "packaging", "build-deb.sh"), out],
            timeout=900)
    c.check(r.returncode == 0, "build-deb.sh: %s" % (r.stdout + r.stderr).decode()[-3000:])
    debs = {os.path.basename(p).split("_")[0]: p for p in glob.glob(os.path.join(out, "*.deb"))}
    c.check({"sluice", "sluice-dev"} <= set(debs), "both packages built: %r" % debs)
    return debs


def lint(c, out):
    changes = glob.glob(os.path.join(out, "*.changes"))
    r = run(["lintian", "--tag-display-limit", "0"] + changes, timeout=300)
    text = (r.stdout + r.stderr).decode("utf-8", "replace")
    errors = [l for l in text.splitlines() if l.startswith("E: ")]
    c.check(changes and r.returncode == 0 and not errors,
            "lintian: no error (rc %d): %s" % (r.returncode, text[-2000:]))


def check_installed(c, root, tmp):
    r = run(["/usr/bin/sluice", "-V"])
    c.check(r.returncode == 0 and r.stdout.startswith(b"sluice v"),
            "/usr/bin/sluice -V: %r" % r.stdout)
    confs = sorted(p for p in glob.glob("/etc/sluice/**/*.conf", recursive=True)
                   if os.path.basename(p) != "parsers.conf")
    c.check(len(confs) >= 7, "configs installed: %r" % confs)
    for conf in confs:
        r = run(["/usr/bin/sluice", "-c", conf, "--dry-run"], cwd="/")
        c.check(r.returncode == 0, "%s --dry-run: %s" % (conf, (r.stdout + r.stderr).decode()))
    r = run(["systemd-analyze", "verify", UNIT])
    c.check(r.returncode == 0 and not r.stderr.strip(),
            "systemd-analyze verify: %s" % (r.stdout + r.stderr).decode())
    with open(UNIT) as f:
        unit = f.read().splitlines()
    for line in UNIT_LINES:
        c.check(line in unit, "unit has %s" % line)
    c.check(user_exists("sluice"), "sluice user created")
    st = os.stat("/var/lib/sluice") if os.path.isdir("/var/lib/sluice") else None
    c.check(st is not None and st.st_uid == int(run(["id", "-u", "sluice"]).stdout or -1),
            "/var/lib/sluice owned by sluice")
    r = run(["dpkg-query", "-W", "-f=${Conffiles}", "sluice"])
    c.check(b"/etc/sluice/sluice.conf" in r.stdout and b"/etc/default/sluice" in r.stdout,
            "configs are conffiles: %r" % r.stdout[:300])

    # sluice-dev: a filter plugin built against the installed header loads
    so = os.path.join(tmp, "redact.so")
    cflags = run(["pkg-config", "--cflags", "sluice"]).stdout.decode().split()
    r = run(["cc", "-shared", "-fPIC", "-o", so] + cflags +
            [os.path.join(root, "plugins", "redact", "redact.c")])
    c.check(r.returncode == 0, "plugin builds with pkg-config sluice: %s" % r.stderr.decode())
    plugdir = run(["pkg-config", "--variable=plugindir", "sluice"]).stdout.decode().strip()
    c.check(os.path.isfile(os.path.join(plugdir, "redact.so")),
            "packaged redact.so in plugindir %s" % plugdir)
    plugins = e2e.write(os.path.join(tmp, "plugins.conf"), "[PLUGINS]\n    Path %s\n" % so)
    conf = e2e.write(os.path.join(tmp, "p.conf"),
                     e2e.section("SERVICE", Plugins_File=plugins) +
                     e2e.section("INPUT", Name="dummy") +
                     e2e.section("FILTER", Name="redact", Match="*", Key="password") +
                     e2e.section("OUTPUT", Name="null", Match="*"))
    r = run(["/usr/bin/sluice", "-c", conf, "--dry-run"])
    c.check(r.returncode == 0, "the built plugin loads: %s" % (r.stdout + r.stderr).decode())


def check_man(c, deb, tmp):
    # the pages as shipped in the .deb (a dpkg path-exclude for
    # /usr/share/man, as in slim container images, would hide them)
    x = os.path.join(tmp, "x")
    c.check(run(["dpkg-deb", "-x", deb, x]).returncode == 0, "dpkg-deb -x")
    h = run(["/usr/bin/sluice", "-h"]).stdout.decode()
    cli, config = help_options(h)
    c.check(len(cli) >= 15 and len(config) > 100, "-h parsed: %d cli, %d config"
            % (len(cli), len(config)))
    for page in ("usr/share/man/man1/sluice.1.gz", "usr/share/man/man5/sluice.conf.5.gz"):
        rc, text, err = man_text(os.path.join(x, page))
        c.check(rc == 0 and text.strip() and not err.strip(),
                "man -l %s renders: rc %d %s" % (page, rc, err[-500:]))
        if page.endswith("sluice.1.gz"):
            got = man1_options(text)
            c.check(got == cli, "sluice(1) options == -h: missing %r, extra %r"
                    % (sorted(cli - got), sorted(got - cli)))
        else:
            got = man5_options(text)
            c.check(got == config, "sluice.conf(5) options == -h: missing %r, extra %r"
                    % (sorted(config - got)[:20], sorted(got - config)[:20]))


def main():
    c = e2e.Checker()
    root = e2e.source_root()
    if os.geteuid() != 0:
        e2e.skip("needs root: it installs the package (CI runs as root)")
    if any(installed(p) for p in PACKAGES):
        e2e.skip("sluice is installed on this machine; the test would replace it")
    had_user = user_exists("sluice")
    left_before = {p: os.path.lexists(p) for p in LEFT_BEHIND}
    tmp = tempfile.mkdtemp(prefix="sluice-pkg-")
    try:
        debs = build(c, root, os.path.join(tmp, "out"))
        if {"sluice", "sluice-dev"} <= set(debs):
            lint(c, os.path.join(tmp, "out"))
            r = run(["dpkg", "-i", debs["sluice"], debs["sluice-dev"]], timeout=300)
            c.check(r.returncode == 0, "dpkg -i: %s" % (r.stdout + r.stderr).decode()[-2000:])
            if r.returncode == 0:
                check_installed(c, root, tmp)
                check_man(c, debs["sluice"], tmp)
    finally:
        r = run(["dpkg", "--purge"] + PACKAGES, timeout=300)
        c.check(r.returncode == 0, "dpkg --purge: %s" % (r.stdout + r.stderr).decode()[-1000:])
        if not had_user and user_exists("sluice"):
            run(["userdel", "sluice"])
        shutil.rmtree(tmp, ignore_errors=True)
    c.check(not any(installed(p) for p in PACKAGES), "packages gone")
    for path, existed in left_before.items():
        c.check(os.path.lexists(path) == existed, "after purge %s is as before" % path)
    c.check(had_user or not user_exists("sluice"), "no sluice user left")
    c.finish()


if __name__ == "__main__":
    main()
