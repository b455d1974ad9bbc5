#!/bin/bash
# The generated unit passes `systemd-analyze verify` and scores "OK" or better in
# `systemd-analyze security` (offline). Args: UNIT BINARY DOC_DIR
set -u
unit=$1 binary=$2 doc=$3
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/man/man8" && cp "$doc/loxcan-gateway.8" "$work/man/man8/"
# Point ExecStart at the freshly built binary (verify checks that it exists).
sed "s#^ExecStart=[^ ]*#ExecStart=$binary#" "$unit" > "$work/loxcan-gateway.service"
out=$(MANPATH="$work/man" systemd-analyze verify "$work/loxcan-gateway.service" 2>&1) || { echo "$out"; echo "FAIL: verify"; exit 1; }
[ -z "$out" ] || { echo "$out"; echo "FAIL: verify printed warnings"; exit 1; }
echo "ok: systemd-analyze verify"
line=$(systemd-analyze security --offline=true "$work/loxcan-gateway.service" 2>&1 | grep 'Overall exposure level')
echo "$line"
case "$line" in *" OK "*|*" SAFE "*|*" PERFECT "*) echo "ok: security score";; *) echo "FAIL: security score"; exit 1;; esac
