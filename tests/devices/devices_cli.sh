#!/bin/bash
# `loxcan devices`: the real binary against the golden traces.
# usage: devices_cli.sh LOXCAN TEST_DATA
set -u
LOXCAN=$1 DATA=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
T=$DATA/traces

for t in startup_di tree legacy; do
  out=$("$LOXCAN" devices --json "$T/$t.log") || fail "$t: rc $?"
  [ "$out" == "$(cat "$T/$t.inventory.json")" ] || fail "$t: inventory differs from golden"
  out=$("$LOXCAN" devices --events --json < "$T/$t.log") || fail "$t events: rc $?"
  [ "$out" == "$(cat "$T/$t.events.jsonl")" ] || fail "$t: events differ from golden"
done

table=$("$LOXCAN" devices --config "$DATA/config/good/tree_names.yaml" "$T/tree.log") || fail "table rc"
echo "$table" | grep -q '^C0000001  0x8003  tree   touch-kitchen ' || fail "friendly name: $table"
echo "$table" | grep -q '^13112233  0x0013  nat    tree-cellar ' || fail "friendly name of the extension"
echo "$table" | grep -q '^    temperature     21 °C$' || fail "last value"
events=$("$LOXCAN" devices --events --config "$DATA/config/good/tree_names.yaml" "$T/tree.log")
echo "$events" | grep -qx '(1718000002.330000) channel touch-kitchen top_left = 1' || fail "event text"

err=$("$LOXCAN" devices /nonexistent.log 2>&1 >/dev/null); rc=$?
[ $rc -eq 66 ] || fail "missing input: rc $rc"
[ "$err" == "loxcan devices: cannot open /nonexistent.log: No such file or directory" ] || fail "stderr: $err"
"$LOXCAN" devices --config "$DATA/config/bad/type_typo.yaml" "$T/tree.log" >/dev/null 2>&1
[ $? -eq 78 ] || fail "bad config must give 78"
printf '(1.0) can0 10606005#00\n(2.0) can0 zz\n' | "$LOXCAN" devices >/dev/null 2>&1
[ $? -eq 65 ] || fail "bad line must give 65"
"$LOXCAN" devices --models | grep -q '^touch  .*0x8003' || fail "--models"
"$LOXCAN" devices --bus middle x 2>/dev/null; [ $? -eq 64 ] || fail "--bus middle"
out=$("$LOXCAN" decode --events --json "$T/tree.log") || fail "decode --events rc"
[ "$out" == "$(cat "$T/tree.events.jsonl")" ] || fail "decode --events differs from the golden"
"$LOXCAN" decode --events --iface vcan0 >/dev/null 2>&1; [ $? -eq 64 ] || fail "decode --events --iface"
echo "ok: devices"
