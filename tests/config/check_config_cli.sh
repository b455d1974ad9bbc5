#!/bin/bash
# `loxcan check-config`: exact output and exit status of the real binary.
# usage: check_config_cli.sh LOXCAN TEST_DATA ETC_YAML
set -u
LOXCAN=$1 DATA=$2 ETC=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$DATA/config/bad" || fail "no corpus"

out=$("$LOXCAN" check-config "$ETC" 2>&1); rc=$?
[ $rc -eq 0 ] || fail "shipped file: rc $rc: $out"
[ "$out" == "$ETC: OK (1 interface, 0 devices)" ] || fail "shipped file output: $out"

err=$("$LOXCAN" check-config many_errors.yaml 2>&1 >/dev/null); rc=$?
[ $rc -eq 78 ] || fail "bad file: rc $rc"
[ "$err" == "$(cat many_errors.err)" ] || fail "bad file stderr: $err"

err=$("$LOXCAN" check-config /nonexistent/loxcan.yaml 2>&1 >/dev/null); rc=$?
[ $rc -eq 78 ] || fail "missing file: rc $rc"
[ "$err" == "/nonexistent/loxcan.yaml: cannot read: No such file or directory" ] ||
  fail "missing file stderr: $err"

"$LOXCAN" check-config a b >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ] || fail "two files: rc $rc"
"$LOXCAN" check-config --help | grep -q "EX_CONFIG" || fail "--help"
echo "ok: check-config"
