#!/bin/bash
# `loxcan decode --json tests/data/captures/startup.log` prints byte-identical output from the
# packaged binaries of every architecture (byte order, alignment, char signedness, 32-bit size_t):
# each dist/loxcan_<version>_<arch>.deb is unpacked and its /usr/bin/loxcan runs: this machine's
# natively, arm64 and armhf under qemu-user inside their cross build roots of scripts/package
# (they have the ARM libraries).
# The output must equal the golden file of the native tests, startup.json.stdout.
# Args: SOURCE_DIR. Env: LOXCAN_PACKAGE_ARCHES (default "amd64 arm64 armhf"), LOXCAN_CACHE.
set -u
src=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (chroot)"; exit 77; }
cache=${LOXCAN_CACHE:-$HOME/.cache/loxcan}
version=$(sed -nE 's/^project\(loxcan VERSION ([0-9.]+).*/\1/p' "$src/CMakeLists.txt")
golden=$src/tests/data/captures/startup.json.stdout
host=$(dpkg --print-architecture)
work=$(mktemp -d)
mounted=()
trap 'for r in "${mounted[@]}"; do umount "$r/proc"; rm -rf "$r/decode-test"; done; rm -rf "$work"' EXIT
declare -A qemu=([amd64]=qemu-x86_64-static [arm64]=qemu-aarch64-static [armhf]=qemu-arm-static)
declare -A machine=([amd64]=x86-64 [arm64]=aarch64 [armhf]=ARM)
# decode ARCH DIR: runs DIR/usr/bin/loxcan on startup.log; output in $work/ARCH.json.
decode() {
  local arch=$1 dir=$2 root
  if [ "$arch" = "$host" ]; then
    "$dir/usr/bin/loxcan" decode --json "$src/tests/data/captures/startup.log" > "$work/$arch.json" 2> "$work/$arch.err"
    return
  fi
  root=$cache/build-root-bookworm-$arch
  [ -f "$root/.loxcan-ready" ] || fail "no cross build root $root: scripts/package deb --arch $arch"
  rm -rf "$root/decode-test" && mkdir -p "$root/decode-test"
  cp -a "$dir" "$root/decode-test/pkg" && cp "$src/tests/data/captures/startup.log" "$root/decode-test/"
  mount -t proc proc "$root/proc" && mounted+=("$root")
  chroot "$root" "${qemu[$arch]}" /decode-test/pkg/usr/bin/loxcan decode --json /decode-test/startup.log \
    > "$work/$arch.json" 2> "$work/$arch.err"
}
n=0
for arch in ${LOXCAN_PACKAGE_ARCHES:-amd64 arm64 armhf}; do
  deb=$src/dist/loxcan_${version}_$arch.deb
  [ -s "$deb" ] || fail "$deb is missing (scripts/package deb --arch $arch)"
  dpkg-deb -x "$deb" "$work/$arch"
  file -b "$work/$arch/usr/bin/loxcan" | grep -q "${machine[$arch]}" \
    || fail "$arch: /usr/bin/loxcan is $(file -b "$work/$arch/usr/bin/loxcan" | cut -d, -f1-2)"
  # The summary goes to stderr with --json; standard output is what must be identical.
  decode "$arch" "$work/$arch"
  rc=$?
  [ $rc -eq 0 ] || { cat "$work/$arch.err"; fail "$arch: loxcan decode exited $rc"; }
  cmp "$work/$arch.json" "$golden" || { diff "$golden" "$work/$arch.json" | head -20; fail "$arch: output differs from $golden"; }
  how=natively; [ "$arch" = "$host" ] || how="under ${qemu[$arch]}"
  pass "$arch ($(file -b "$work/$arch/usr/bin/loxcan" | cut -d, -f2 | sed 's/^ //'), $how): $(wc -l < "$work/$arch.json") lines, $(sha256sum < "$work/$arch.json" | cut -c1-16)"
  n=$((n + 1))
done
[ $n -ge 2 ] || fail "only $n architecture(s) compared"
pass "loxcan decode --json startup.log is byte-identical on: ${LOXCAN_PACKAGE_ARCHES:-amd64 arm64 armhf}"
