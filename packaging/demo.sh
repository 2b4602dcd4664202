#!/usr/bin/env bash
# The demo: install build dependencies, build, and run sluice on its embedded
# default pipeline (generated fixture-style events -> parser -> stdout).
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/deps.sh
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
exec build/sluice "$@"
