# SPDX-License-Identifier: Apache-2.0
"""The README's three use sections, run as written.

From the file README_USES, the sections whose heading starts with one of
SECTIONS (node daemon, sidecar, SIEM feed): every fenced block tagged `sh`
is run, in order, one bash script per section (`set -e -o pipefail`), as
root, from the source root; `sh systemd` blocks only where systemd is the
init system. `yaml` manifests are checked against the installed package:
the config they name exists and passes --dry-run with their env. A section
passes when its script exits 0.

The first section installs the Debian package; the machine is put back as
it was afterwards (dpkg --purge, and the sluice user, /etc/sluice,
/var/lib/sluice and the /tmp paths the sections write are removed when the
test created them), whatever failed. Runs in the non-sanitizer build only
(tests/e2e/meson.build).
"""
import os
import re
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

# The one place that names the file the use sections live in.
README_USES = "README.md"
SECTIONS = ("Node-level daemon", "Sidecar", "SIEM feed")
# what the sections create, removed afterwards unless it existed before
CREATED = ["/etc/sluice", "/etc/default/sluice", "/var/lib/sluice",
           "/tmp/sluice-deb", "/tmp/shared", "/tmp/sidecar.out"]
PACKAGES = ["sluice-dev", "sluice"]

FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)


def sections(text):
    """{heading: [(info string, code)]} for the level-2 sections wanted."""
    out = {}
    parts = re.split(r"^## +(.+)$", text, flags=re.M)
    for heading, body in zip(parts[1::2], parts[2::2]):
        if heading.startswith(SECTIONS):
            out[heading.strip()] = [(m.group(1).strip(), m.group(2))
                                    for m in FENCE.finditer(body)]
    return out


def installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                       capture_output=True, text=True)
    return r.returncode == 0 and "install ok installed" in r.stdout


def user_exists(name):
    return subprocess.run(["id", name], capture_output=True).returncode == 0


def kill_group(pgid):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        try:
            e2e.wait_for(lambda: subprocess.run(
                ["pgrep", "-g", str(pgid)], capture_output=True).returncode != 0,
                15, interval=0.2, what="section processes to exit")
            return
        except TimeoutError:
            pass


def run_section(c, root, heading, blocks, systemd):
    script = ["set -e -o pipefail -x"]
    for info, code in blocks:
        if info == "sh" or (info == "sh systemd" and systemd):
            script.append(code)
    c.check(len(script) > 1, "%s: has sh blocks" % heading)
    p = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=root,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=420)
    except subprocess.TimeoutExpired:
        kill_group(p.pid)
        out, _ = p.communicate()
        c.check(False, "%s: timed out" % heading)
    kill_group(p.pid)  # a background sluice left by a failed block
    text = out.decode("utf-8", "replace")
    print("== %s\n%s" % (heading, text[-6000:]))
    c.check(p.returncode == 0, "%s: commands succeed (exit %r)"
            % (heading, p.returncode))
    return p.returncode == 0


def check_manifest(c, heading, yaml):
    """The config a manifest runs is installed and valid with its env."""
    args = re.search(r'args:\s*\["-c",\s*"([^"]+)"\]', yaml)
    c.check(args, "%s: manifest names a config" % heading)
    if not args:
        return
    env = dict(os.environ)
    env.update(re.findall(r'\{name:\s*(\w+),\s*value:\s*"([^"]*)"\}', yaml))
    r = subprocess.run(["/usr/bin/sluice", "-c", args.group(1), "--dry-run"],
                       env=env, capture_output=True, timeout=60)
    c.check(r.returncode == 0, "%s: manifest config %s --dry-run: %s"
            % (heading, args.group(1), (r.stdout + r.stderr).decode()[-800:]))


def main():
    c = e2e.Checker()
    root = e2e.source_root()
    if os.geteuid() != 0:
        e2e.skip("needs root: it installs the package (CI runs as root)")
    if any(installed(p) for p in PACKAGES):
        e2e.skip("sluice is installed on this machine; the test would replace it")
    with open(os.path.join(root, README_USES), encoding="utf-8") as f:
        found = sections(f.read())
    c.equal(len(found), len(SECTIONS), "the three use sections in %s: %r"
            % (README_USES, list(found)))
    systemd = os.path.isdir("/run/systemd/system")
    before = {path: os.path.lexists(path) for path in CREATED}
    had_user = user_exists("sluice")
    try:
        for prefix in SECTIONS:
            heading = next((h for h in found if h.startswith(prefix)), None)
            if heading is None:
                continue
            if not run_section(c, root, heading, found[heading], systemd):
                break  # the later sections need the package installed
            for info, code in found[heading]:
                if info == "yaml":
                    check_manifest(c, heading, code)
    finally:
        if systemd:
            subprocess.run(["systemctl", "stop", "sluice"], capture_output=True)
        subprocess.run(["dpkg", "--purge"] + PACKAGES, capture_output=True,
                       timeout=300)
        for path, existed in before.items():
            if not existed:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                elif os.path.lexists(path):
                    os.unlink(path)
        if not had_user and user_exists("sluice"):
            subprocess.run(["userdel", "sluice"], capture_output=True)
    c.check(not any(installed(p) for p in PACKAGES), "packages purged")
    c.check(had_user or not user_exists("sluice"), "sluice user removed")
    c.check(all(os.path.lexists(p) == b for p, b in before.items()),
            "paths as before: %r" % {p: os.path.lexists(p) for p in CREATED})
    c.finish()


if __name__ == "__main__":
    main()
