#!/bin/bash
# `cmake --install` puts the binaries, the unit, the man page and the example config where the
# configured prefix says, and a second install keeps a config the user edited.
# Args: BUILD_DIR BINDIR SBINDIR SYSCONFDIR MANDIR PREFIX UNITDIR (the configured full paths;
# UNITDIR relative to PREFIX unless absolute, as Debian's /lib/systemd/system)
set -u
build=$1 bindir=$2 sbindir=$3 sysconfdir=$4 mandir=$5 prefix=$6 unitdir=${7:-lib/systemd/system}
[[ $unitdir == /* ]] || unitdir=$prefix/$unitdir
dest=$(mktemp -d); trap 'rm -rf "$dest" "$dest.log"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
DESTDIR=$dest cmake --install "$build" > "$dest.log" 2>&1 || { cat "$dest.log"; fail "install"; }
for f in "$bindir/loxcan" "$sbindir/loxcan-gateway" "$unitdir/loxcan-gateway.service" \
         "$unitdir/loxcan-gateway@.service" "$mandir/man1/loxcan.1" \
         "$prefix/lib/sysusers.d/loxcan.conf" "$mandir/man8/loxcan-gateway.8" \
         "$sysconfdir/loxcan/loxcan.yaml" "$sysconfdir/loxcan/loxcan.yaml.example"; do
  [ -e "$dest/$f" ] || fail "missing after install: $f"
done
unit="$dest/$unitdir/loxcan-gateway.service"
grep -q "^ExecStart=$sbindir/loxcan-gateway --config $sysconfdir/loxcan/loxcan.yaml" "$unit" \
  || fail "unit ExecStart paths: $(grep ExecStart "$unit")"
echo "ok: files installed, the unit points at the installed binary and config"
cfg="$dest/$sysconfdir/loxcan/loxcan.yaml"
echo "# edited by the user" >> "$cfg"
DESTDIR=$dest cmake --install "$build" > "$dest.log" 2>&1 || fail "second install"
grep -q '# edited by the user' "$cfg" || fail "the user's loxcan.yaml was overwritten"
echo "ok: a second install keeps the user's loxcan.yaml"
