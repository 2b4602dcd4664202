# SPDX-License-Identifier: Apache-2.0
"""The plugin ABI is closed: the sluice binary exports none of its own
symbols (plugins get a function table at load instead), and the example
plugin exports only its `sluice_plugin` descriptor and needs no sluice
symbol from the host. A definition versioned by a library (glibc's copy
relocations such as stdout@GLIBC_2.2.5) is the library's, not sluice's.
Skipped (77) when nm is not installed."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sluice_e2e as e2e  # noqa: E402

c = e2e.Checker()
PLUGIN_DIR = os.environ.get("SLUICE_PLUGIN_DIR",
                            os.path.join(e2e.source_root(), "build", "plugins"))


def dynsyms(path, *flags):
    """(name, version) of the dynamic symbols nm lists with `flags`."""
    out = subprocess.run(["nm", "-D", *flags, path], check=True,
                         capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        name = line.split()[-1]
        base, _, ver = name.partition("@")
        syms.append((base, ver.lstrip("@")))
    return syms


def dynsyms_static(path):
    """(name, "") of the global symbols an archive's objects define."""
    out = subprocess.run(["nm", "--defined-only", "-g", path], check=True,
                         capture_output=True, text=True).stdout
    return [(line.split()[-1], "") for line in out.splitlines()
            if len(line.split()) == 3]


def main():
    if not shutil.which("nm"):
        print("nm not found: skipped")
        sys.exit(77)
    exe = e2e.binary()
    exported = dynsyms(exe, "--defined-only")
    # every global sluice defines, from the library the binary is linked from
    lib = os.path.join(os.path.dirname(exe), "libsluice.a")
    ours = {n for n, _ in dynsyms_static(lib)} if os.path.exists(lib) else set()
    c.check(len(ours) > 100, "sluice's own globals found in %s (%d)" % (lib, len(ours)))
    c.equal(sorted(n for n, _ in exported if n in ours), [],
            "the binary exports none of sluice's globals")
    if not any(n.startswith("__asan") or n.startswith("__ubsan") for n, _ in exported):
        # without a sanitizer runtime (which exports its interceptors) the
        # binary defines nothing but libraries' copy relocations
        own = [n for n, ver in exported if not ver]
        c.equal(own, [], "the binary exports no symbols of its own")
    imported = [n for n, _ in dynsyms(exe, "--undefined-only")]
    c.check(imported and not [n for n in imported if n.startswith(("sl_", "sluice"))],
            "the binary imports only library symbols (%d)" % len(imported))

    redact = os.path.join(PLUGIN_DIR, "redact.so")
    defined = [n for n, _ in dynsyms(redact, "--defined-only")]
    c.equal([n for n in defined if n.startswith(("sl_", "sluice"))], ["sluice_plugin"],
            "the example plugin exports only sluice_plugin")
    undef = [n for n, _ in dynsyms(redact, "--undefined-only")]
    c.equal([n for n in undef if n.startswith(("sl_", "sluice"))], [],
            "the example plugin needs no symbol from the host")
    c.finish()


if __name__ == "__main__":
    main()
