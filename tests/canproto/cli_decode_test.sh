#!/bin/bash
# `loxcan decode` end to end: the real binary on committed captures, compared byte for byte with
# golden stdout/stderr files in tests/data/captures/. Usage: cli_decode_test.sh LOXCAN TEST_DATA
# Regenerate goldens after an intended change with: LOXCAN_UPDATE_GOLDEN=1 cli_decode_test.sh ...
set -uo pipefail
loxcan=$1
cd "$2" || exit 2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0

# check NAME EXPECTED_RC ARGS...: run `loxcan decode ARGS`, compare rc, stdout and stderr.
check() {
  local name=$1 want_rc=$2; shift 2
  "$loxcan" decode "$@" >"$out/$name.stdout" 2>"$out/$name.stderr"
  local rc=$?
  if [ "${LOXCAN_UPDATE_GOLDEN:-}" = 1 ]; then
    cp "$out/$name.stdout" "captures/$name.stdout"; cp "$out/$name.stderr" "captures/$name.stderr"
  fi
  if [ "$rc" -ne "$want_rc" ]; then echo "FAIL $name: exit $rc, want $want_rc"; fail=1; fi
  for s in stdout stderr; do
    if ! diff -u "captures/$name.$s" "$out/$name.$s"; then echo "FAIL $name: $s differs"; fail=1; fi
  done
}

check startup.json 0 --json captures/startup.log
check startup.text 0 captures/startup.log
check malformed.json 65 --json captures/malformed.log
# Standard input and --bus tree: the Link capture seen as if it were a Tree branch is all unknown.
check startup.tree 0 --json --bus tree - <captures/startup.log
# Usage errors.
check usage.bus 64 --bus can captures/startup.log
check missing.file 66 captures/does-not-exist.log
[ $fail -eq 0 ] && echo "ok: loxcan decode goldens match"
exit $fail
