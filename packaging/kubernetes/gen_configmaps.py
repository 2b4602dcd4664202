#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the ConfigMaps of the Kubernetes manifests from conf/.

The DaemonSet and the sidecar run the shipped configurations unchanged:
node-daemon-configmap.yaml holds conf/node-daemon.conf and
conf/parsers.conf, sidecar-configmap.yaml conf/sidecar.conf and
conf/parsers.conf. Run it after changing one of them; `--check` exits 1
when a ConfigMap is out of date (tests/e2e/test_k8s_manifests.py does).

Usage: gen_configmaps.py [--check]   (standard library only)
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(HERE, "..", "..", "conf")

MAPS = (
    ("node-daemon-configmap.yaml", "sluice-node-daemon", "logging",
     ("node-daemon.conf", "parsers.conf")),
    ("sidecar-configmap.yaml", "sluice-sidecar", "default",
     ("sidecar.conf", "parsers.conf")),
)


def render(name, namespace, files):
    out = ["# Made by gen_configmaps.py from conf/; do not edit.",
           "apiVersion: v1", "kind: ConfigMap", "metadata:",
           f"  name: {name}", f"  namespace: {namespace}", "data:"]
    for f in files:
        with open(os.path.join(CONF, f), encoding="utf-8") as fh:
            text = fh.read()
        out.append(f"  {f}: |")
        for line in text.rstrip("\n").split("\n"):
            out.append(("    " + line).rstrip())
    return "\n".join(out) + "\n"


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for path, name, namespace, files in MAPS:
        text = render(name, namespace, files)
        full = os.path.join(HERE, path)
        old = open(full, encoding="utf-8").read() if os.path.exists(full) else None
        if old == text:
            continue
        if check:
            stale.append(path)
        else:
            with open(full, "w", encoding="utf-8") as fh:
                fh.write(text)
    for p in stale:
        print(f"packaging/kubernetes/{p} is out of date: run gen_configmaps.py",
              file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
