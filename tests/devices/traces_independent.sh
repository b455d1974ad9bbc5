#!/bin/bash
# The golden traces and the start-up capture against the independent encoder (tests/lib/
# check_frames.py builds every frame again with tests/lib/loxframes.py): the committed files, and
# what loxcan's encoder writes now (make_traces, canproto_make_capture), so a change in our encoder
# that changes the bytes on the wire fails here even after the golden files were regenerated.
# Then three planted faults (a fragment CRC, a direction bit, a legacy D0 bit) must each fail.
#   traces_independent.sh MAKE_TRACES MAKE_CAPTURE DATA_DIR   (RUN: an emulator prefix, may be empty)
set -u
make_traces=$1 make_capture=$2 data=$3
check="python3 $(dirname "$0")/../lib/check_frames.py"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

$check "$data"/traces/*.log "$data"/captures/startup.log || fail "committed golden files"
mkdir -p "$work/now"
${RUN:-} "$make_traces" "$work/now" >/dev/null || fail "make_traces"
${RUN:-} "$make_capture" > "$work/now/startup.log" || fail "canproto_make_capture"
$check "$work"/now/*.log || fail "what the encoder writes now"

# plant NAME SED_EXPR FILE: the changed copy must fail the check.
plant() {
  local name=$1 expr=$2 file=$3 out
  sed -E "$expr" "$file" > "$work/planted.log"
  cmp -s "$file" "$work/planted.log" && { fail "$name: the sed changed nothing"; return; }
  if out=$($check "$work/planted.log" 2>&1); then fail "$name: not caught"; else echo "ok: $name caught: $(head -1 <<<"$out")"; fi
}
plant "fragment CRC" 's/(101020F0#00021400)3F/\100/' "$data/traces/startup_di.log"
plant "direction bits" 's/ 106FF0FD#/ 102FF0FD#/' "$data/traces/startup_di.log"
plant "legacy D0 direction" 's/ 0BFF0A01#E0/ 0BFF0A01#60/' "$data/traces/legacy.log"

[ $fails -eq 0 ] && echo "traces_independent: all checks passed"
exit $((fails > 0))
