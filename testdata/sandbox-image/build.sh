#!/usr/bin/env bash
# Builds gohands-test-sandbox:latest, the small image the Docker sandbox tests and benchmarks run
# in, from Debian's busybox-static and bash-static packages: no registry is needed, only apt and
# a Docker engine. Skips the build when the image exists, unless --force.
#
#   testdata/sandbox-image/build.sh [--force]
set -euo pipefail

image="${GOHANDS_TEST_IMAGE:-gohands-test-sandbox:latest}"
force=0
[ "${1:-}" = "--force" ] && force=1

if ! docker info >/dev/null 2>&1; then
  echo "build.sh: no Docker engine answers; start one (as root: dockerd --bridge=none --iptables=false &)" >&2
  exit 1
fi
if [ "$force" = 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "build.sh: $image exists (use --force to rebuild)"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

download() { apt-get download -q -o APT::Sandbox::User=root busybox-static bash-static; }
if ! download >/dev/null 2>&1; then
  apt-get update -qq
  download
fi

root="$work/rootfs"
mkdir -p "$root"
for deb in ./*.deb; do dpkg-deb -x "$deb" "$root"; done
rm -rf "$root/usr/share"

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,workspace,dev,proc,sys,var/tmp}
chmod 1777 "$root/tmp" "$root/var/tmp"
# One symlink per busybox applet (what "busybox --install -s" does, without a chroot).
"$root/bin/busybox" --list-full | while read -r applet; do
  [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
ln -sf /bin/bash-static "$root/bin/bash"
ln -sf /bin/busybox "$root/bin/sh"
echo 'root:x:0:0:root:/root:/bin/bash' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"

tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'CMD ["/bin/sh"]' \
  -m 'gohands test sandbox: busybox-static and bash-static from Debian' \
  - "$image" >/dev/null
echo "build.sh: built $image"
