#!/bin/bash
# `record` then `replay` reproduces the same frames byte for byte, as candump (the independent
# observer) sees them; plus canplayer-style remapping, --iface, --rate and error handling.
source "$TEST_LIB"
source "$(dirname "$0")/lib.sh"
cd "$(mktemp -d)"

# 1. Capture mixed traffic on two interfaces: Loxone frames, 11-bit frames of random length, RTR
#    and CAN FD frames.
start_bg rec.out rec.err "$LOXCAN" record -i vcan0 -i vcan1 rec.log
pid=$BG_PID
wait_open rec.err vcan0
wait_open rec.err vcan1
cangen vcan0 -e -L 8 -g 1 -n 200
cangen vcan1 -g 1 -n 100
cangen vcan0 -f -g 1 -n 20
cansend vcan1 123#R
cansend vcan1 00000123#R3
wait_stat "$pid" rec.err vcan0 rx 220
wait_stat "$pid" rec.err vcan1 rx 102
stop_bg "$pid"; expect_eq "$STOP_RC" 0 "record exits 0"
expect_eq "$(wc -l < rec.log)" 322 "recorded"

# frames IFACE FILE: the frame tokens of one interface, in order (timestamps ignored). The CAN FD
# flags nibble is compared without the FDF bit: can-utils before v2025.01 (Debian 12 ships
# 2020.11) logs "##0"/"##1" where current candump and loxcan write "##4"/"##5".
fdf() { sed -E 's/##4/##0/; s/##5/##1/; s/##6/##2/; s/##7/##3/'; }
frames() { awk -v ifc="$1" '$2 == ifc {print $3}' "$2" | fdf; }

# start_candump OUT IFACES...: candump -L with a big buffer; returns once it demonstrably listens.
start_candump() {
  local out=$1; shift
  candump -L -r 4194304 "$@" >"$out" &
  CANDUMP_PID=$!
  local ifc
  for ifc in "$@"; do
    wait_for 20 bash -c "cansend $ifc 1FFFFFFF#5A; grep -q ' $ifc 1FFFFFFF#5A' '$out'" || fail "candump on $ifc"
  done
}
stop_candump() { kill "$CANDUMP_PID"; wait "$CANDUMP_PID" 2>/dev/null || true; }
# same WHAT EXPECTED_FILE ACTUAL_FILE: byte-for-byte equal (files: no /dev/fd in the UML guest).
same() {
  cmp -s "$2" "$3" || fail "$1 differs: $(diff "$2" "$3" | head -5)"
}
# observed IFACE FILE: what candump saw on IFACE minus the readiness markers.
observed() { frames "$1" "$2" | grep -v '^1FFFFFFF#5A$'; }

# 2. Replay with the original timing onto the same interfaces.
start_candump cd1.log vcan0 vcan1
"$LOXCAN" replay --stats rec.log 2>rp1.err || fail "replay failed: $(cat rp1.err)"
wait_count 220 30 observed vcan0 cd1.log || fail "candump saw only $(observed vcan0 cd1.log | wc -l) frames on vcan0"
wait_count 102 30 observed vcan1 cd1.log || fail "candump saw only $(observed vcan1 cd1.log | wc -l) frames on vcan1"
stop_candump
frames vcan0 rec.log > want1.txt; observed vcan0 cd1.log > got1.txt
same "vcan0 differs" want1.txt got1.txt
pass "vcan0: 220 frames byte for byte (incl. CAN FD)"
frames vcan1 rec.log > want2.txt; observed vcan1 cd1.log > got2.txt
same "vcan1 differs" want2.txt got2.txt
pass "vcan1: 102 frames byte for byte (incl. RTR)"
grep -q '^replay sent=322 skipped=0 parse_errors=0 failed=0 unsent=0$' rp1.err || fail "summary: $(cat rp1.err)"
pass "replay summary"

# 3. canplayer-style remapping at full speed: frames logged on vcan0 go out on vcan2; vcan1's
#    frames are skipped.
start_candump cd2.log vcan2
"$LOXCAN" replay --rate max --stats rec.log vcan2=vcan0 2>rp2.err || fail "replay remap: $(cat rp2.err)"
wait_count 220 30 observed vcan2 cd2.log || fail "candump saw only $(observed vcan2 cd2.log | wc -l) frames on vcan2"
stop_candump
frames vcan0 rec.log > want3.txt; observed vcan2 cd2.log > got3.txt
same "remapped frames differ" want3.txt got3.txt
pass "vcan2=vcan0 remaps 220 frames"
grep -q '^replay sent=220 skipped=102 ' rp2.err || fail "remap summary: $(cat rp2.err)"
pass "unmapped interfaces skipped"

# 4. --iface sends everything to one interface, in file order; --rate 4 (faster, same frames).
start_candump cd3.log vcan2
"$LOXCAN" replay --rate 4 --iface vcan2 rec.log || fail "replay --iface"
wait_count 322 30 observed vcan2 cd3.log || fail "candump saw only $(observed vcan2 cd3.log | wc -l) frames on vcan2"
stop_candump
awk '{print $3}' rec.log | fdf > want4.txt; observed vcan2 cd3.log > got4.txt
same "--iface frames differ" want4.txt got4.txt
pass "--iface vcan2 --rate 4: 322 frames in file order"

# 5. A candump log written by candump itself replays too (interoperability), from stdin.
start_candump cd4.log vcan1
"$LOXCAN" replay --rate max - vcan1=vcan2 < cd3.log || fail "replay of a candump log from stdin"
wait_count 322 30 observed vcan1 cd4.log || fail "candump saw only $(observed vcan1 cd4.log | wc -l) frames on vcan1"
stop_candump
observed vcan2 cd3.log > want5.txt; observed vcan1 cd4.log > got5.txt
same "candump log replay differs" want5.txt got5.txt
pass "candump's own log replays byte for byte"

# 6. Errors: bad lines are reported with file:line:column and skipped; missing file; bad args.
printf '(1700000000.000000) vcan0 10606005#00\n(1700000000.000100) vcan0 123#1\nnot a frame line\n(1700000000.12345) vcan0 123#00\n(1700000000.000200) vcan0 10606006#00\n' > bad.log
rc=0; "$LOXCAN" replay --rate max --stats bad.log 2>bad.err || rc=$?
expect_eq "$rc" 65 "bad lines: EX_DATAERR"
grep -q '^loxcan replay: bad.log:2:' bad.err || fail "line 2 reported: $(cat bad.err)"
grep -q '^loxcan replay: bad.log:4:' bad.err || fail "line 4 reported: $(cat bad.err)"
grep -q '^replay sent=2 ' bad.err || fail "good lines still sent: $(cat bad.err)"
pass "bad lines reported and skipped"
rc=0; "$LOXCAN" replay missing.log 2>/dev/null || rc=$?
expect_eq "$rc" 66 "missing input: EX_NOINPUT"
rc=0; "$LOXCAN" replay --iface vcan9 rec.log 2>err.txt || rc=$?
expect_eq "$rc" 69 "missing interface: EX_UNAVAILABLE"
grep -q 'vcan9: .*ENODEV' err.txt || fail "names interface and errno: $(cat err.txt)"
rc=0; "$LOXCAN" replay --rate 0 rec.log 2>/dev/null || rc=$?
expect_eq "$rc" 64 "--rate 0: EX_USAGE"
rc=0; "$LOXCAN" replay rec.log vcan0 2>/dev/null || rc=$?
expect_eq "$rc" 64 "mapping without '=': EX_USAGE"
echo "all record_replay checks passed"
