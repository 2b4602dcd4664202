#!/usr/bin/env bash
# Installs the Debian 12 packages sluice builds, tests and benchmarks with.
# Runs as root (CI, containers) or through sudo.
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc clang libclang-rt-14-dev python3
  libevent-dev libyajl-dev libpcre2-dev libyaml-dev zlib1g-dev libssl-dev
  libcurl4-openssl-dev liblz4-dev librdkafka-dev libcmocka-dev prometheus)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
