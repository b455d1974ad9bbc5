#!/bin/bash
# scripts/check-layering: passes on the tree as it is; on a copy of the rooms it must fail, naming
# the file and line, for each planted fault: an include that goes up, one that goes sideways, a
# folder under gateway/ missing from layers.txt, a circle between headers of one room.
#   layering_test.sh SOURCE_DIR
set -u
src=$1
check=$src/scripts/check-layering
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

out=$(python3 "$check" --root "$src" 2>&1) || fail "the tree itself: $out"
echo "$out"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fresh() {  # a clean copy of the rooms in $work/t
  rm -rf "$work/t" && mkdir -p "$work/t/scripts"
  cp -r "$src/layers.txt" "$src/canproto" "$src/devices" "$src/mqtt" "$src/gateway" "$work/t/"
  python3 "$check" --root "$work/t" >/dev/null 2>&1 || fail "the clean copy does not pass"
}
# expect_fail NAME PATTERN: the check must exit 1 and print PATTERN.
expect_fail() {
  local name=$1 pattern=$2 rc
  out=$(python3 "$check" --root "$work/t" 2>&1); rc=$?
  if [ $rc -ne 1 ]; then fail "$name: exit $rc, expected 1; output: $out"; return; fi
  grep -qF -- "$pattern" <<<"$out" || fail "$name: no '$pattern' in: $out"
  echo "ok: $name -> $(grep -F -- "$pattern" <<<"$out" | head -1)"
}

# Up: the transport includes the daemon.
fresh
sed -i '0,/^#include "/s//#include "gateway\/daemon\/gateway.hpp"\n#include "/' "$work/t/gateway/canio/can_port.hpp"
expect_fail "wrong-way include (canio -> daemon)" \
  'gateway/canio/can_port.hpp:' 
expect_fail "wrong-way include names the rule" 'gateway/canio may not look up into gateway/daemon'

# Up across libraries: the protocol library includes MQTT.
fresh
echo '#include "mqtt/topics.hpp"' >> "$work/t/canproto/frame.cpp"
expect_fail "wrong-way include (canproto -> mqtt)" 'canproto/frame.cpp:'

# Sideways: the simulator includes the emulation runtime (siblings on one line).
fresh
echo '#include "gateway/emulation/runtime.hpp"' >> "$work/t/gateway/sim/simulator.cpp"
expect_fail "sideways include (sim -> emulation)" 'may not look sideways into its sibling gateway/emulation'

# A new room nobody declared.
fresh
mkdir -p "$work/t/gateway/attic" && echo 'int x;' > "$work/t/gateway/attic/x.cpp"
expect_fail "undeclared folder" 'gateway/attic/: folder not declared in layers.txt'

# A circle between two headers of one room.
fresh
printf '#pragma once\n#include "gateway/loop/b.hpp"\n' > "$work/t/gateway/loop/a.hpp"
printf '#pragma once\n#include "gateway/loop/a.hpp"\n' > "$work/t/gateway/loop/b.hpp"
expect_fail "circle between headers" 'circle between headers: gateway/loop/a.hpp -> gateway/loop/b.hpp -> gateway/loop/a.hpp'

# A circle between rooms: the loop (ground floor) includes the CLI, which includes the loop.
fresh
echo '#include "gateway/cli/commands.hpp"' >> "$work/t/gateway/loop/event_loop.cpp"
expect_fail "circle between rooms" 'circle between rooms:'

[ $fails -eq 0 ] && echo "layering: all checks passed"
exit $((fails > 0))
