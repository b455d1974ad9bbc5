#!/bin/bash
# The simulated Miniserver as a strict oracle (issue 19), with loxcan sim + loxcan emulate on vcan0:
#   1. a DI Extension whose keys do not match the Miniserver's is refused: its values are ignored
#      and counted, `expect auth_failed` holds, an `expect` on one of its inputs fails
#   2. legacy temperatures (0x53) and frequencies (0x51) of the Extension / Relay Extension reach the
#      simulator as `input` lines
#   3. one NAT offer per device and one Start per device during the start-up
#   4. `loxcan decode` of the session agrees with the simulator on the legacy temperatures
source "$TEST_LIB"
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

# The refused device's key file: random keys (the simulator uses its built-in TEST keys).
: > "$T/wrong.yaml" && chmod 600 "$T/wrong.yaml"
{ for k in algo_key algo_iv legacy_key legacy_iv; do echo "$k: $(od -An -tx4 -N16 /dev/urandom)"; done
  echo "master_device_id: $(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"; } >> "$T/wrong.yaml"

dev() { printf '  - {serial: %s, type: %s, name: %s, mode: emulate, interface: vcan0, auth: %s}\n' "$@"; }
{
  echo "interfaces: [{name: vcan0, role: link}]"
  echo "devices:"
  dev 14000001 di_extension di1 test
  dev 19000001 ai_extension ai1 test
  dev 14000002 di_extension di-peer on       # emulation.keys_file: the wrong keys
  dev 01FF0001 extension ext1 test
  dev 0BFF0001 relay_extension relay1 test
  echo "emulation: {auth: on, keys_file: $T/wrong.yaml, state_file: $T/state.yaml}"
} > "$T/map.yaml"

cat > "$T/sim.yaml" <<'SCENARIO'
- expect auth_failed di-peer within 20000
- state di1 online within 5000
- state ext1 online within 5000
- expect di1 i3 1 within 20000
- expect ext1 temperature 22.53 within 20000
- expect relay1 temperature 44.9 within 20000
- expect ext1 f3 42 within 20000
- expect ext1 f12 7 within 20000
- wait 1000
- expect di-peer i2 1 within 2000
SCENARIO

stdbuf -oL candump -L vcan0 > "$T/bus.log" & CANDUMP=$!; PIDS+=($CANDUMP)
# candump is listening once it logs a frame (before any Loxone node runs).
wait_for 10 bash -c "cansend vcan0 1F0B0000#0011223344556677; sleep 0.1; grep -q 1F0B0000 '$T/bus.log'" \
  || fail "candump does not capture"
mkfifo "$T/emu.in"
"$LOXCAN" emulate --iface vcan0 --config "$T/map.yaml" < "$T/emu.in" > "$T/emu.out" 2> "$T/emu.err" &
PIDS+=($!)
exec 3> "$T/emu.in"   # keeps the emulator's stdin open
# The emulator runs (its NAT index requests are on the bus) before the Miniserver starts, so that no
# offer goes to a device that is not listening yet: then every device must get exactly one.
wait_for 10 grep -q 'FE#' "$T/bus.log" || fail "the emulated devices do not request NATs"
"$LOXCAN" sim --iface vcan0 --config "$T/map.yaml" --auth test --scenario "$T/sim.yaml" --time-sync 1 \
  > "$T/sim.out" 2> "$T/sim.err" & SIM=$!
show() { cat "$T/sim.out" "$T/sim.err" >&2; tail -30 "$T/emu.err" >&2; }
for d in di1 di-peer ext1 relay1; do
  wait_for 20 grep -q "^state $d online$" "$T/emu.out" || { show; fail "$d did not come online at the emulator"; }
done
for line in "di1 i3 1" "di-peer i2 1" "di-peer i5 1" "ext1 temperature 22.5" "relay1 temperature 45" "ext1 f3 42" \
            "ext1 f12 7"; do
  echo "set $line" >&3
done
wait $SIM; rc=$?

# ---- 1. the refused device ---------------------------------------------------------------------
expect_eq "$rc" 1 "the scenario fails exactly where the refused device is expected to report"
grep -q "^ok: expect auth_failed di-peer within 20000 (after " "$T/sim.out" || { show; fail "expect auth_failed"; }
[ "$(grep -c '^FAIL' "$T/sim.out")" -eq 1 ] || { show; fail "more than one failed step"; }
grep -q "^FAIL: .*sim.yaml:10: expect di-peer i2 1 within 2000: no value$" "$T/sim.out" || { show; fail "expect on di-peer"; }
grep -q "^auth_failed di-peer$" "$T/sim.out" || fail "no auth_failed line"
if grep -q "^input di-peer" "$T/sim.out"; then show; fail "the simulator used values of the refused device"; fi
ignored=$(sed -n 's/.*di-peer: \([0-9]*\) value frame(s) ignored: the device did not authenticate.*/\1/p' "$T/sim.err")
[ -n "$ignored" ] && [ "$ignored" -ge 2 ] || { show; fail "ignored values not counted: '$ignored'"; }
grep -q "di-peer (14000002): ignoring its values: authentication failed" "$T/sim.err" || fail "ignore not logged"
# The device did send them: i2 and i5 set, frames from NAT 0x80 of its serial's offer on the bus.
grep -q "di-peer (14000002): the Miniserver requests authentication but its challenge does not decrypt" "$T/emu.err" \
  || fail "the emulator did not say why"
pass "refused device: $ignored value frames ignored and counted, no input line, expect on it failed"

# ---- 2. legacy temperatures and frequencies -----------------------------------------------------
for line in "ext1 temperature 22.53" "relay1 temperature 44.9" "ext1 f3 42" "ext1 f12 7" "di1 i3 1"; do
  grep -q "^input $line$" "$T/sim.out" || { show; fail "no 'input $line' at the simulator"; }
done
pass "legacy 0x53 temperatures and 0x51 frequencies arrived at the simulator"

# ---- 3. one offer, one Start per device -------------------------------------------------------------
kill -INT "$CANDUMP"; wait "$CANDUMP" 2>/dev/null  # flushes its output
"$LOXCAN" decode --json "$T/bus.log" > "$T/decoded.jsonl" 2> "$T/decode.err" || { cat "$T/decode.err" >&2; fail "decode"; }
"$PY" - "$T/decoded.jsonl" <<'PY' || fail "duplicate NAT offers or Starts"
import json, sys
offers, starts = {}, {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("protocol") != "nat":
        continue
    if d.get("kind") == "frame" and d.get("cmd_name") == "nat_offer":
        offers[d["serial"]] = offers.get(d["serial"], 0) + 1
        print("offer", d["ts"], d["serial"], d["new_nat"])
    if d.get("kind") == "packet" and d.get("cmd_name") == "start":
        starts[d["serial"]] = starts.get(d["serial"], 0) + 1
print("NAT offers:", offers, "Starts:", starts)
want = {"14000001", "19000001", "14000002"}
bad = [s for s in want if offers.get(s) != 1 or starts.get(s) != 1]
sys.exit(1 if bad or not want <= set(offers) else 0)
PY
pass "one NAT offer and one Start per NAT extension"

# ---- 4. decode agrees with the simulator on the legacy temperatures --------------------------------
grep '"cmd_name":"temperature"' "$T/decoded.jsonl" | grep -q '"serial":"01FF0001".*"temperature_rule":"adc","value":22.53' \
  || { grep '"cmd_name":"temperature"' "$T/decoded.jsonl" >&2; fail "decode of ext1's temperature"; }
echo "all vcan sim-oracle checks passed"
