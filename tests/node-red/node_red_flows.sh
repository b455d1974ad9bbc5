#!/bin/bash
# The example flows of examples/node-red/ in the real Node-RED (inside the vcan sandbox):
#   mosquitto on localhost:1883 (what the flows' broker node says), `loxcan sim` (the Miniserver),
#   `loxcan emulate` playing a Tree Extension with a Touch and a Room Comfort Sensor and a Relay
#   Extension (so the gateway *monitors* them), the gateway emulating the DI Extension di-hall, and
#   Node-RED headless with the three flows exactly as shipped.
#   1. a Touch button press on the bus -> Node-RED -> loxcan/relay-cellar/q1/set -> the Relay
#      Extension's command frame on vcan0 (and not before Node-RED runs);
#   2. CO2 above the threshold -> Node-RED -> loxcan/di-hall/i1/set -> the simulated Miniserver gets
#      the DI input; below it again -> the input goes back to 0;
#   3. the log flow names devices from loxcan/bridge/devices; the watchdog reports the gateway.
# Node-RED comes from NODE_RED_DIR (installed on the host by install.sh); exit 77 = skipped.
source "$TEST_LIB"
red="$NODE_RED_DIR/node_modules/node-red/red.js"
if [ ! -f "$red" ]; then
  echo "SKIP: Node-RED is not installed: $(cat "$NODE_RED_DIR/unavailable" 2>/dev/null || echo "run tests/node-red/install.sh")"
  exit 77
fi
WORK=$(mktemp -d); cd "$WORK"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
dump_logs() { for f in gw.log sim.out sim.err emu.out emu.err nr.log; do echo "--- $f"; tail -25 "$f"; done >&2; }

# The flows connect to localhost:1883: the sandbox has its own loopback, so that port is ours.
{ echo "listener 1883 127.0.0.1"; ip -6 addr show dev lo 2>/dev/null | grep -q '::1' && echo "listener 1883 ::1"
  echo "allow_anonymous true"; echo "persistence false"; } > mosquitto.conf
mosquitto -c mosquitto.conf > mosquitto.log 2>&1 & PIDS+=($!)
wait_for 10 mosquitto_sub -p 1883 -t probe -W 1 -E || fail "mosquitto did not start on 1883"

map() {  # map MODE: the devices of etc/demo.yaml the flows name; MODE emulate (loxcan emulate) or monitor
  local at="" tree=""
  [ "$1" = emulate ] && at=", interface: vcan0" tree=", parent: 13000001, branch: left"
  echo "interfaces: [{name: vcan0, role: link}]"
  echo "devices:"
  echo "  - {serial: 13000001, type: tree_extension, name: tree-ground, mode: $1$at}"
  echo "  - {serial: B0000001, type: touch, name: touch-living, mode: $1$at$tree}"
  echo "  - {serial: B0000003, type: room_comfort_sensor, name: climate-office, mode: $1$at$tree}"
  echo "  - {serial: 0BFF0001, type: relay_extension, name: relay-cellar, mode: $1$at}"
}
DI="  - {serial: 14000001, type: di_extension, name: di-hall, mode: emulate, interface: vcan0}"
{ map emulate; echo "emulation: {auth: test, state_file: $WORK/emu-state.yaml}"; } > emu.yaml
{ map emulate; echo "$DI"; echo "emulation: {auth: test}"; } > sim.yaml  # the Miniserver knows all five
{ map monitor; echo "$DI"
  echo "mqtt: {broker: 'tcp://127.0.0.1:1883', stats_interval_s: 10}"
  echo "discovery: {enabled: false}"
  echo "emulation: {auth: test, state_file: $WORK/gw-state.yaml}"; } > gw.yaml

candump -L vcan0 > bus.log & PIDS+=($!)
# The gateway first: a legacy extension (relay-cellar) announces itself once when it starts, and a
# gateway started after that would not see it until the extension next reports a change.
"$LOXCAN_GATEWAY" --config gw.yaml > gw.log 2>&1 & PIDS+=($!)
wait_for 60 retained_is 1883 loxcan/bridge/state online || { dump_logs; fail "gateway not connected"; }
mkfifo emu.in
"$LOXCAN" emulate --iface vcan0 --config emu.yaml < emu.in > emu.out 2> emu.err & PIDS+=($!)
exec 3> emu.in
"$LOXCAN" sim --iface vcan0 --config sim.yaml --time-sync 5 > sim.out 2> sim.err & PIDS+=($!)
for d in touch-living climate-office relay-cellar di-hall; do
  wait_for 60 retained_is 1883 "loxcan/$d/availability" online || { dump_logs; fail "$d not online at the gateway"; }
done
wait_for 60 grep -q "^state di-hall online$" sim.out || { dump_logs; fail "di-hall not online at the simulator"; }
pass "sim, emulate and gateway up: touch-living, climate-office, relay-cellar monitored, di-hall emulated"

relay_on() { grep -q " 1BFF0001#6000000001000000$" bus.log; }
press() { echo "set touch-living top_left 1" >&3; sleep 0.3; echo "set touch-living top_left 0" >&3; }

# Without Node-RED a press does nothing to the relay: the rule below is Node-RED's, not ours.
press
sleep 2
relay_on && fail "the relay switched before Node-RED ran"
pass "no relay frame without Node-RED"

# Node-RED: the three flows as shipped, merged into one flow file (the broker node is shared).
"$PY" - "$(dirname "$TEST_LIB")/../../examples/node-red" flows.json <<'PYEOF'
import json, pathlib, sys
seen, out = set(), []
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    for node in json.loads(f.read_text()):
        if node["id"] not in seen:
            seen.add(node["id"]); out.append(node)
pathlib.Path(sys.argv[2]).write_text(json.dumps(out))
PYEOF
mkdir nr
NODE_RED_USER_DIR=$WORK/nr NODE_RED_FLOWS=$WORK/flows.json \
  node "$red" --settings "$(dirname "$0")/settings.js" > nr.log 2>&1 & PIDS+=($!)
# Node-RED in a User-Mode Linux guest takes its time to start: be generous.
wait_for 240 grep -q "Started flows" nr.log || { dump_logs; fail "Node-RED did not start its flows"; }
wait_for 120 grep -q "Connected to broker" nr.log || { dump_logs; fail "Node-RED did not connect to localhost:1883"; }
pass "Node-RED $(grep -o 'Node-RED version: v[0-9.]*' nr.log | cut -d' ' -f3) running headless with the example flows"
if ss -ltn 2>/dev/null | grep -q ':1880 '; then fail "Node-RED serves HTTP (editor/admin) on 1880"; fi
pass "no editor, no HTTP listener"

# 1. Touch button -> Node-RED -> relay q1 command frame on the bus
press
wait_for 30 relay_on || { dump_logs; fail "no relay command frame 1BFF0001#6000000001000000 on vcan0"; }
pass "Touch top-left press -> Node-RED -> relay-cellar q1 on: $(grep -m1 ' 1BFF0001#6000000001000000$' bus.log)"
wait_for 10 grep -q "^output relay-cellar q1 1$" emu.out || fail "the emulated Relay Extension did not switch q1"
pass "the Relay Extension executed it"

# 2. CO2 rule -> emulated DI input at the simulated Miniserver
echo "set climate-office co2 1450" >&3
wait_for 30 grep -q "^input di-hall i1 1$" sim.out || { dump_logs; fail "the Miniserver did not get di-hall i1 = 1"; }
pass "CO2 1450 ppm -> Node-RED -> di-hall i1 = 1 at the simulated Miniserver"
echo "set climate-office co2 600" >&3
wait_for 30 grep -q "^input di-hall i1 0$" sim.out || { dump_logs; fail "the Miniserver did not get di-hall i1 = 0"; }
pass "CO2 600 ppm -> di-hall i1 = 0"

# 3. the log flow (device names from bridge/devices) and the watchdog
wait_for 30 grep -q "climate-office (room_comfort_sensor B0000003) co2 = 1450" nr.log \
  || { dump_logs; fail "the log flow did not log the CO2 change with the device's model and serial"; }
pass "log flow: $(grep -m1 -o 'climate-office (room_comfort_sensor B0000003) co2 = 1450' nr.log)"
grep -q "relay-cellar (relay_extension 0BFF0001) is online" nr.log || fail "the log flow did not log availability"
grep -q "loxcan gateway online" nr.log || fail "the watchdog did not report the gateway"
pass "watchdog: gateway online reported"

# 4. Home Assistant's identify button (device discovery): the gateway sends the Miniserver's
#    identify frames (NAT 0x10 for the Touch, legacy 0x08 for the Relay Extension); no button for
#    the emulated DI Extension.
retained 1883 homeassistant/device/loxcan_b0000001/config | grep -q '"identify":{' || fail "no identify button for touch-living"
retained 1883 homeassistant/device/loxcan_14000001/config | grep -q '"identify"' && fail "an emulated device got an identify button"
mosquitto_pub -p 1883 -t loxcan/touch-living/identify/set -m PRESS
mosquitto_pub -p 1883 -t loxcan/relay-cellar/identify/set -m PRESS
identified() { "$LOXCAN" decode bus.log 2>/dev/null | grep -q "$1"; }
wait_for 20 identified "identify .*serial=B0000001" || { dump_logs; fail "no NAT identify frame for B0000001"; }
wait_for 20 identified "identify_led type=11 serial=0BFF0001" || fail "no legacy identify frame for 0BFF0001"
pass "identify: $("$LOXCAN" decode bus.log 2>/dev/null | grep -m1 -o 'identify .*serial=B0000001.*')"
