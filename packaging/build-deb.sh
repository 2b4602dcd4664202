#!/usr/bin/env bash
# Builds the Debian packages sluice and sluice-dev from this tree:
#   bash packaging/build-deb.sh [OUT_DIR]        (default: ./deb)
# The tree is copied to a temporary folder (so that no build folder of the
# tree is touched or shipped), packaging/debian becomes its debian/, and
# dpkg-buildpackage -b -uc -us builds it without running the test suite.
# Installs what it needs first (packaging/deps.sh deb).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
bash "$src/packaging/deps.sh" deb
out=$(mkdir -p "${1:-$src/deb}" && cd "${1:-$src/deb}" && pwd)
tmp=$(mktemp -d /tmp/sluice-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/sluice"
tar -C "$src" --exclude=./.git --exclude='./build*' --exclude=./deb \
    --exclude=./debian -cf - . | tar -C "$tmp/sluice" -xf -
cp -r "$src/packaging/debian" "$tmp/sluice/debian"
# dh_installsysusers takes debian/sluice.sysusers (the same file meson
# installs) and adds the systemd-sysusers call to postinst
cp "$src/packaging/sluice.sysusers" "$tmp/sluice/debian/sluice.sysusers"
cd "$tmp/sluice"
DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -b -uc -us -j2 \
    >"$tmp/build.log" 2>&1 || { tail -60 "$tmp/build.log"; exit 1; }
cp "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo "$out"/
ls "$out"/*.deb
