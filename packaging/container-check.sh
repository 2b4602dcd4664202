#!/usr/bin/env bash
# Builds the container image from packaging/Containerfile and checks it
# runs: `sluice -V`, `--dry-run` on every shipped config in /etc/sluice, and
# the node daemon serving /api/v1/health as the DaemonSet runs it (its
# ConfigMap, read-only root, the state directory as a volume).
#   bash packaging/container-check.sh [IMAGE_TAG]
# Uses buildah (chroot isolation: works without a container daemon, inside
# a CI machine or a container). Without a debian:12-slim base image at hand
# (no registry access), it makes one with debootstrap from Debian's mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-sluice:check}
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
for p in buildah debootstrap curl; do
  command -v "$p" >/dev/null || { $SUDO apt-get update -qq;
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends buildah debootstrap curl; break; }
done
# podman's default RLIMIT_NOFILE/NPROC may exceed what this machine allows
nofile=$(ulimit -Hn)
bud=(buildah bud --isolation chroot --network host --ulimit "nofile=$nofile:$nofile")
if ! buildah inspect --type image debian:12-slim >/dev/null 2>&1 &&
   ! buildah pull -q docker.io/library/debian:12-slim >/dev/null 2>&1; then
  root=$(mktemp -d)
  $SUDO debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
  $SUDO tar -C "$root" -c . | buildah import - debian:12-slim >/dev/null 2>&1 ||
    { ctr=$(buildah from scratch); mnt=$(buildah mount "$ctr");
      $SUDO cp -a "$root"/. "$mnt"/; buildah unmount "$ctr"; buildah commit -q "$ctr" debian:12-slim; buildah rm "$ctr"; }
  $SUDO rm -rf "$root"
fi
# the build context: the tracked files only (not build trees, not .git)
ctx=$(mktemp -d)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$ctx"
else
  tar --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$ctx"
fi
"${bud[@]}" -q -f packaging/Containerfile -t "$tag" "$ctx" >/dev/null
rm -rf "$ctx"
echo "image $tag built"

ctr=$(buildah from -q "$tag")
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
run() { buildah run --isolation chroot --network host "$@"; }
run "$ctr" -- /usr/bin/sluice -V
for conf in $(run "$ctr" -- sh -c 'ls /etc/sluice/*.conf /etc/sluice/examples/*.conf'); do
  case "$conf" in */parsers.conf) continue ;; esac
  run "$ctr" -- /usr/bin/sluice -c "$conf" --dry-run >/dev/null
  echo "dry-run ok: $conf"
done
# the node daemon as the DaemonSet runs it; a port of its own
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
state=$(mktemp -d); logs=$(mktemp -d)
echo '{"log":"{\"msg\":\"hello\"}\n","stream":"stdout","time":"2026-12-02T00:00:00Z"}' \
  > "$logs/app-1_default_app-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log"
chmod -R a+rwX "$state" "$logs"
mnt=$(buildah mount "$ctr")
sed "s/HTTP_Port    2020/HTTP_Port    $port/" "$mnt/etc/sluice/node-daemon.conf" > "$state/node-daemon.conf"
cp "$mnt/etc/sluice/parsers.conf" "$state/"
buildah unmount "$ctr" >/dev/null
run -v "$state:/var/lib/sluice" -v "$logs:/var/log/containers:ro" \
  -e HTTP_LISTEN=127.0.0.1 -e SLUICE_DB=/var/lib/sluice/node-daemon.db \
  -e SLUICE_STORAGE=/var/lib/sluice/node-daemon "$ctr" -- \
  /usr/bin/sluice -c /var/lib/sluice/node-daemon.conf > "$state/out.log" 2>&1 &
pid=$!
curl -fsS --retry 30 --retry-connrefused --retry-delay 1 "http://127.0.0.1:$port/api/v1/health"; echo
curl -fsS "http://127.0.0.1:$port/api/v1/metrics/prometheus" | grep '^sluice_input_records_total'
kill "$pid"; wait "$pid" || true
rm -rf "$state" "$logs"
echo "container check passed"
