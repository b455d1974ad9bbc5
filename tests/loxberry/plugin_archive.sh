#!/bin/bash
# The LoxBerry plugin archive (scripts/package-loxberry): the archive checker (plugininstall.pl's
# rules) passes on it and catches planted mistakes; golden file list and plugin.cfg; a missing
# package is an error; the same inputs give the same archive. The .deb files are test fixtures
# built here with dpkg-deb (package loxcan, one per architecture, no program inside).
# Env: SRC (source tree), TEST_DATA, TEST_LIB, CHECKER.
source "$TEST_LIB"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT; cd "$WORK"
check() { "$PY" "$CHECKER" "$@"; }

fixture_deb() {  # fixture_deb ARCH DIR: a minimal valid loxcan_9.9.9_ARCH.deb (test fixture)
  local root=$WORK/debroot-$1
  mkdir -p "$root/DEBIAN" "$root/usr/share/doc/loxcan"
  printf 'Package: loxcan\nVersion: 9.9.9\nArchitecture: %s\nMaintainer: test <test@example.invalid>\nDescription: loxcan test fixture (empty)\n' "$1" > "$root/DEBIAN/control"
  echo "test fixture for the plugin archive test" > "$root/usr/share/doc/loxcan/README.fixture"
  dpkg-deb --root-owner-group --build "$root" "$2/loxcan_9.9.9_$1.deb" >/dev/null || fail "dpkg-deb --build $1"
}
mkdir debs
for a in arm64 armhf amd64; do fixture_deb $a debs; done

zip1=$("$SRC/scripts/package-loxberry" --debs debs --output out1 --version 9.9.9 2>pkg.log) || { cat pkg.log; fail "package-loxberry"; }
expect_eq "$(basename "$zip1")" "loxcan-loxberry-9.9.9.zip" "archive name"
check "$zip1" || fail "the archive fails the checker"
pass "the archive passes the plugininstall.pl checker"

# Golden: the file list with modes, and plugin.cfg.
"$PY" - "$zip1" > files.txt <<'PY'
import sys, zipfile
for i in zipfile.ZipFile(sys.argv[1]).infolist():
    print(f"{oct(i.external_attr >> 16 & 0o7777)[2:]:>4} {i.filename}")
PY
unzip -p "$zip1" loxcan/plugin.cfg > plugin.cfg
for f in files.txt plugin.cfg; do
  [ -n "${LOXCAN_UPDATE_GOLDEN:-}" ] && cp "$f" "$TEST_DATA/loxberry/plugin.$f"
  cmp -s "$f" "$TEST_DATA/loxberry/plugin.$f" || { diff "$TEST_DATA/loxberry/plugin.$f" "$f"; fail "$f differs from the golden file"; }
  pass "$f matches the golden file"
done
title=$(sed -n 's/^TITLE=//p' plugin.cfg)
[ ${#title} -le 25 ] || fail "title '$title' longer than 25"
pass "title '$title' (${#title} characters)"

zip2=$("$SRC/scripts/package-loxberry" --debs debs --output out2 --version 9.9.9 2>/dev/null)
cmp -s "$zip1" "$zip2" || fail "two builds from the same inputs differ"
pass "reproducible: two builds are byte-identical"

mkdir nodebs
"$SRC/scripts/package-loxberry" --debs nodebs --output out3 --version 9.9.9 >/dev/null 2>err.log \
  && fail "no packages accepted"
grep -q "no loxcan_\*.deb" err.log || fail "no clear error without packages: $(cat err.log)"
pass "no packages -> error: $(head -1 err.log)"
mkdir twodebs; cp debs/*arm64.deb debs/*amd64.deb twodebs/
"$SRC/scripts/package-loxberry" --debs twodebs --output out4 --version 9.9.9 --require-all >/dev/null 2>&1 \
  && fail "--require-all accepted a missing armhf"
pass "--require-all refuses a missing architecture"

# Planted mistakes: unpack, break one thing, pack again (permissions kept), the checker must fail.
plant() {  # plant WHAT EXPECTED_MESSAGE_REGEX SHELL_CODE (run inside the unpacked plugin folder)
  rm -rf planted planted.zip; mkdir planted
  (cd planted && unzip -q "$zip1" && cd loxcan && eval "$3") || fail "planting $1"
  (cd planted && find loxcan | LC_ALL=C sort | zip -X -q ../planted.zip -@)
  check planted.zip > planted.log && fail "checker missed: $1"
  grep -q -E "$2" planted.log || { cat planted.log; fail "checker did not name the problem for: $1"; }
  pass "checker catches $1: $(grep -E "$2" planted.log | head -1)"
}
plant "a missing TITLE" "PLUGIN.TITLE missing" "sed -i '/^TITLE=/d' plugin.cfg"
plant "a missing SYSTEM.INTERFACE" "SYSTEM.INTERFACE missing" "sed -i '/^INTERFACE=/d' plugin.cfg"
plant "a 26-character title" "longer than 25" "sed -i 's/^TITLE=.*/TITLE=abcdefghijklmnopqrstuvwxyz/' plugin.cfg"
plant "a wrong folder" "folder 'scripts'" "mkdir scripts && cp daemon/daemon scripts/"
plant "a page in webfrontend/cgi" "webfrontend/cgi" "mkdir webfrontend/cgi && mv webfrontend/htmlauth/index.cgi webfrontend/cgi/"
plant "a hook script without run bit" "postroot.sh: script without the run bit" "chmod -x postroot.sh"
plant "a daemon without run bit" "daemon/daemon: script without the run bit" "chmod -x daemon/daemon"
plant "a misspelt hook" "postinstal.sh: not a hook script name" "mv postroot.sh postinstal.sh"
plant "a log folder" "must not ship a log folder" "mkdir log && touch log/x.log"
plant "a package in the wrong arch folder" "architecture arm64 in dpkg/x86_64" "mv dpkg/aarch64/*.deb dpkg/x86_64/"
plant "a hard-coded /opt/loxberry" "hard-coded /opt/loxberry" "echo 'cd /opt/loxberry' >> daemon/daemon"
plant "a missing icon" "icon_256.png missing" "rm icons/icon_256.png"
