#!/bin/bash
# loxcan sim + loxcan emulate on vcan0: DI/AI/AO extensions, a Tree Extension with Tree devices on both
# branches, a legacy Extension and a Relay Extension. Authenticated with a key file made here.
#   1. everything online (authenticated, configured); outputs set by the simulator arrive as events;
#      input changes arrive at the simulator
#   2. the simulator restarts: every device is assigned again and back online
#   3. the simulator falls silent: devices go offline after their configured timeout and request NATs
#   4. every frame of the session decodes with `loxcan decode` without a malformed record
#   5. a wrong key file: the simulator reports an authorization failure, loxcan logs a clear error
source "$TEST_LIB"
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

make_keys() {  # random keys in the key-file format, mode 0600
  : > "$1" && chmod 600 "$1"
  { for k in algo_key algo_iv legacy_key legacy_iv; do echo "$k: $(od -An -tx4 -N16 /dev/urandom)"; done
    echo "master_device_id: $(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"; } >> "$1"
}
make_keys "$T/keys.yaml"
make_keys "$T/wrong.yaml"

nat() { printf '  - {serial: %s, type: %s, name: %s, mode: emulate, interface: vcan0}\n' "$@"; }
tree() { printf '  - {serial: %s, type: %s, name: %s, mode: emulate, interface: vcan0, parent: 13000001, branch: %s}\n' "$@"; }
{
  echo "interfaces: [{name: vcan0, role: link}]"
  echo "devices:"
  nat 14000001 di_extension di1
  nat 19000001 ai_extension ai1
  nat 17000001 ao_extension ao1
  nat 13000001 tree_extension tree1
  tree B0000001 touch touch1 left
  tree B0000002 touch_pure pure1 right
  tree B0000003 room_comfort_sensor rcs1 left
  tree B0000004 motion_sensor motion1 right
  tree B0000005 rgbw_dimmer dimmer1 left
  tree B0000006 led_spot_rgbw spot1 right
  tree B0000007 alarm_siren siren1 left
  tree B0000008 weather_station weather1 right
  tree B0000009 nano_di nano1 right
  tree B000000A valve_actuator valve1 left
  nat 01FF0001 extension ext1
  nat 0BFF0001 relay_extension relay1
  echo "emulation: {auth: on, keys_file: $T/keys.yaml, state_file: $T/state.yaml}"
} > "$T/map.yaml"
NAT_DEVICES="di1 ai1 ao1 tree1 touch1 pure1 rcs1 motion1 dimmer1 spot1 siren1 weather1 nano1 valve1"
ALL_DEVICES="$NAT_DEVICES ext1 relay1"

candump -L vcan0 > "$T/bus.log" & PIDS+=($!)
mkfifo "$T/emu.in"
"$LOXCAN" emulate --iface vcan0 --config "$T/map.yaml" --legacy-alive 30 < "$T/emu.in" > "$T/emu.out" 2> "$T/emu.err" &
PIDS+=($!)
exec 3> "$T/emu.in"   # keeps the emulator's stdin open

# ---- 1. start-up, outputs, inputs -------------------------------------------------------------
cat > "$T/sim1.yaml" <<'EOF'
- wait online 20000
- set ao1 aq1 5.5
- set dimmer1 rgbw 100,50,0,25
- set spot1 rgbw 0,0,100,0
- set siren1 strobe 1
- set valve1 position 40
- set relay1 q3 1
- set ext1 q2 1
- set ext1 aq4 7.5
- expect di1 i3 1 within 20000
- expect ai1 ai2 7.25 within 20000
- expect touch1 temperature 22.5 within 20000
- expect pure1 center 1 within 20000
- expect nano1 i6 1 within 20000
- expect weather1 wind 35 within 20000
- expect ext1 i5 1 within 20000
- expect ext1 ai1 3.3 within 20000
EOF
"$LOXCAN" sim --iface vcan0 --config "$T/map.yaml" --scenario "$T/sim1.yaml" --offline-timeout 5 --time-sync 1 \
  > "$T/sim1.out" 2> "$T/sim1.err" & SIM=$!
wait_for 25 grep -q "^output ao1 aq1 5.5$" "$T/emu.out" || { cat "$T/sim1.out" "$T/sim1.err" "$T/emu.err" >&2; fail "outputs did not arrive"; }
for line in "di1 i3 1" "ai1 ai2 7.25" "touch1 temperature 22.5" "pure1 center 1" "nano1 i6 1" \
            "weather1 wind 35" "ext1 i5 1" "ext1 ai1 3.3"; do
  echo "set $line" >&3
done
wait $SIM; rc=$?
[ $rc -eq 0 ] || { cat "$T/sim1.out" "$T/sim1.err" >&2; fail "sim scenario 1 exited $rc"; }
pass "all devices online, authenticated; inputs arrived at the simulator"
for d in $ALL_DEVICES; do grep -q "^state $d online$" "$T/sim1.out" || fail "$d never online at the simulator"; done
for d in $NAT_DEVICES; do grep -q "$d: configuration accepted (offline timeout 5 s" "$T/emu.err" || fail "$d: no config"; done
grep -q "authorized" "$T/sim1.err" || fail "no authorization in the simulator log"
for line in "ao1 aq1 5.5" "dimmer1 rgbw 100,50,0,25" "spot1 rgbw 0,0,100,0" "siren1 strobe 1" "valve1 position 40" \
            "relay1 q3 1" "ext1 q2 1" "ext1 aq4 7.5"; do
  grep -q "^output $line$" "$T/emu.out" || fail "output event '$line' missing"
done
pass "outputs set by the simulator arrived as events; configurations downloaded"

# ---- 2. restart --------------------------------------------------------------------------------
before=$(grep -c "^state di1 online$" "$T/emu.out")
printf -- '- wait online 20000\n- expect di1 i3 1 within 5000\n- expect touch1 temperature 22.5 within 5000\n' > "$T/sim2.yaml"
"$LOXCAN" sim --iface vcan0 --config "$T/map.yaml" --scenario "$T/sim2.yaml" --offline-timeout 5 --time-sync 1 \
  > "$T/sim2.out" 2> "$T/sim2.err" || { cat "$T/sim2.out" "$T/sim2.err" >&2; fail "sim after restart"; }
for d in $ALL_DEVICES; do
  [ "$(grep -c "^state $d online$" "$T/emu.out")" -ge 2 ] || fail "$d did not come online again after the restart"
done
for s in 14000001 19000001 17000001 13000001 B0000001 B0000008; do
  grep -q "send NAT offer to .* $s, new NAT index" "$T/sim2.err" || fail "no NAT offer to $s after the restart"
done
pass "after a simulator restart every device was assigned again and is online ($before -> $(grep -c "^state di1 online$" "$T/emu.out"))"

# ---- 3. silence --------------------------------------------------------------------------------
silent_since=$(date +%s.%N)
for d in $NAT_DEVICES; do
  wait_for 20 grep -q "^state $d offline$" "$T/emu.out" || fail "$d did not go offline"
done
grep -q "no frame from the Miniserver for 5 s: offline, requesting a NAT" "$T/emu.err" || fail "offline reason not logged"
# Offline devices ask for a NAT again and again: wait (no fixed sleep) until each asked twice.
cat > "$T/nat_requests.py" <<'EOF'
import sys
log, since = sys.argv[1], float(sys.argv[2])
serials = {0x14000001, 0x19000001, 0x17000001, 0x13000001} | {0xB0000000 + i for i in range(1, 11)}
count = {s: 0 for s in serials}
for line in open(log):
    parts = line.split()
    if len(parts) != 3 or not line.endswith('\n'):  # candump may be writing this line right now
        continue
    ts, _, frame = parts
    can_id, data = frame.split('#')
    can_id = int(can_id, 16)
    if float(ts.strip('()')) < since or can_id >> 24 != 0x10 or can_id & 0xFF != 0xFE or (can_id >> 21) & 3:
        continue
    serial = int.from_bytes(bytes.fromhex(data)[4:8], 'little')
    if serial in count: count[serial] += 1
missing = {f'{s:08X}': n for s, n in count.items() if n < 2}
print('NAT index requests per device after silence:', {f'{s:08X}': n for s, n in sorted(count.items())})
sys.exit(1 if missing else 0)
EOF
wait_for 20 python3 "$T/nat_requests.py" "$T/bus.log" "$silent_since"
python3 "$T/nat_requests.py" "$T/bus.log" "$silent_since" || fail "NAT index requests after going offline"
pass "silent Miniserver: devices went offline after 5 s and request NATs"

# ---- 4. decode the whole session -----------------------------------------------------------------
frames=$(wc -l < "$T/bus.log")
"$LOXCAN" decode --json "$T/bus.log" > "$T/decoded.jsonl" 2> "$T/decode.err" || { cat "$T/decode.err" >&2; fail "decode"; }
[ "$frames" -gt 500 ] || fail "only $frames frames captured"
if grep -q '"kind":"malformed"' "$T/decoded.jsonl"; then grep '"kind":"malformed"' "$T/decoded.jsonl" | head -5 >&2; fail "malformed records"; fi
summary=$("$LOXCAN" decode "$T/bus.log" | grep '^summary:')
echo "$summary"
[[ "$summary" == *" 0 malformed, "* && "$summary" == *"(0 bad checksum)"* && "$summary" == *" 0 unusable fragments"* ]] \
  || fail "decode summary: $summary"
pass "$frames frames decoded: no malformed record, every fragment's CRC good"

# ---- 5. wrong key file -------------------------------------------------------------------------
printf -- '- wait online 12000\n' > "$T/sim3.yaml"
"$LOXCAN" sim --iface vcan0 --config "$T/map.yaml" --keys "$T/wrong.yaml" --scenario "$T/sim3.yaml" \
  --offline-timeout 5 > "$T/sim3.out" 2> "$T/sim3.err"; rc=$?
expect_eq "$rc" 1 "sim with the wrong key file fails its scenario"
grep -q "Authorization failed: di1 (14000001) after 6 attempts" "$T/sim3.err" || { cat "$T/sim3.err" >&2; fail "no authorization failure"; }
grep -q "^auth_failed di1$" "$T/sim3.out" || fail "no auth_failed event"
grep -q "di1 (14000001): the Miniserver requests authentication but its challenge does not decrypt with our keys: the key file does not match this Miniserver" "$T/emu.err" \
  || { tail -20 "$T/emu.err" >&2; fail "loxcan emulate did not log a clear error"; }
pass "wrong key file: authorization failure at the simulator, clear error from loxcan"

# A key file readable by others is refused by name.
cp "$T/keys.yaml" "$T/open.yaml"; chmod 644 "$T/open.yaml"
"$LOXCAN" sim --iface vcan0 --config "$T/map.yaml" --keys "$T/open.yaml" --duration 1 > /dev/null 2> "$T/sim4.err"; rc=$?
expect_eq "$rc" 78 "sim refuses a key file with mode 0644"
grep -q "open.yaml: key file has mode 0644, must not be readable by group or others" "$T/sim4.err" || fail "mode error text"
echo "all vcan emulation checks passed"
