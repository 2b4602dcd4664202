#!/usr/bin/env bash
# Installs the Debian 12 packages sluice needs. Runs as root (CI,
# containers) or through sudo.
#   bash packaging/deps.sh        build, tests, benchmarks, the .deb test
#   bash packaging/deps.sh demo   only what packaging/demo.sh needs: the
#                                 build, and curl/openssl for its examples
#   bash packaging/deps.sh deb    what packaging/build-deb.sh needs
set -euo pipefail
build=(meson ninja-build pkg-config gcc python3
  libevent-dev libyajl-dev libpcre2-dev libyaml-dev zlib1g-dev libdeflate-dev libssl-dev
  libcurl4-openssl-dev liblz4-dev librdkafka-dev libmsgpack-dev
  libprotobuf-c-dev protobuf-c-compiler libsnappy-dev)
demo=(curl openssl)
deb=(build-essential debhelper dpkg-dev systemd)
# the suite: clang + sanitizers, clang-format, cmocka, a real Prometheus; the .deb test
# (tests/e2e/test_packaging.py) builds, lints, installs and verifies the
# package: debhelper, lintian, systemd-analyze, man
test=(clang clang-format libclang-rt-14-dev libcmocka-dev prometheus python3-yaml python3-msgpack
  build-essential debhelper dpkg-dev lintian systemd man-db groff-base)
case "${1:-test}" in
  demo) pkgs=("${build[@]}" "${demo[@]}") ;;
  deb) pkgs=("${build[@]}" "${deb[@]}") ;;
  test) pkgs=("${build[@]}" "${demo[@]}" "${test[@]}") ;;
  *) echo "usage: deps.sh [demo|deb|test]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
