#!/bin/bash
# loxcan-gateway end to end (inside the vcan sandbox): READY over NOTIFY_SOCKET, CAN -> MQTT,
# MQTT /set -> CAN, SIGHUP renaming a device, SIGHUP with a broken map, SIGTERM -> offline, exit 0.
source "$TEST_LIB"
WORK=$(mktemp -d); cd "$WORK"
PORT=$(free_port)
start_broker "$PORT"

write_config() {  # write_config DI_NAME
  cat > loxcan.yaml <<YAML
interfaces:
  - name: vcan0
    role: link
devices:
  - serial: "14111775"
    type: di_extension
    name: $1
    channels:
      i3: {name: door, invert: true}
  - serial: "0BFF0A01"
    type: relay_extension
    name: relays
mqtt:
  broker: tcp://127.0.0.1:$PORT
discovery:
  enabled: false
YAML
}
write_config kitchen_di

"$PY" "$(dirname "$TEST_LIB")/notify_listener.py" "$WORK/notify.sock" "$WORK/notify.log" &
wait_for 90 test -S "$WORK/notify.sock" || fail "notify listener did not start"
NOTIFY_SOCKET="$WORK/notify.sock" "$LOXCAN_GATEWAY" --config loxcan.yaml > gw.log 2>&1 &
GW=$!
wait_for 30 grep -q '^READY=1' notify.log || { cat gw.log; fail "no READY=1"; }
pass "READY=1 reported"
grep -q '^STATUS=.*devices online' notify.log || fail "no STATUS= line"
pass "STATUS reported: $(grep '^STATUS=' notify.log | head -1)"
wait_for 30 retained_is "$PORT" loxcan/bridge/state online || fail "bridge/state is not online"
pass "bridge/state online (retained)"

# A DI Extension comes online (NAT offer + Start, from an independent encoder) and reports inputs 1+3.
{ $LOXFRAMES offer 02 14111775; $LOXFRAMES start 02 14111775 14; echo 10002080#0000000005000000; } | send_frames vcan0
wait_for 30 retained_is "$PORT" loxcan/kitchen-di/i1 1 || { cat gw.log; fail "kitchen-di/i1 is not 1"; }
expect_eq "$(retained "$PORT" loxcan/kitchen-di/door)" 0 "DI input 3, renamed 'door' and inverted"
expect_eq "$(retained "$PORT" loxcan/kitchen-di/i2)" 0 "DI input 2 retained"
expect_eq "$(retained "$PORT" loxcan/kitchen-di/availability)" online "DI availability"

# MQTT -> CAN: switching relay 2 of a (monitored) Relay Extension sends the legacy 0x60 frame.
cansend vcan0 0BFF0A01#8701000003109900   # its Start (hw 1, fw 10.3.11.7)
wait_for 30 retained_is "$PORT" loxcan/relays/availability online || { cat gw.log; fail "relays not online"; }
candump -L -n 1 vcan0,1BFF0A01:1FFFFFFF > relay.log &
CANDUMP=$!
sleep 0.3
mosquitto_pub -p "$PORT" -t loxcan/relays/q2/set -m on
wait $CANDUMP
expect_eq "$(awk '{print $3}' relay.log)" "1BFF0A01#6000000002000000" "relay command frame on vcan0"

# SIGHUP with a renamed device: new topics carry the state, the old ones are cleared.
write_config hall_di
kill -HUP $GW
wait_for 30 retained_is "$PORT" loxcan/hall-di/i1 1 || { cat gw.log; fail "hall-di/i1 not published after rename"; }
wait_for 30 retained_is "$PORT" loxcan/kitchen-di/i1 "" || fail "kitchen-di/i1 still retained after rename"
pass "SIGHUP rename: topics moved from kitchen-di to hall-di"

# SIGHUP with a broken map: rejected with file:line:column, the old map stays.
cat > loxcan.yaml <<YAML
devices:
  - serial: "13G1"
YAML
kill -HUP $GW
wait_for 30 grep -q "loxcan.yaml:2:13: devices\[0\].serial: expected 8 hex digits, got '13G1'" gw.log \
  || { cat gw.log; fail "broken reload not reported with file:line:column"; }
pass "broken reload reported with file:line:column"
grep -q "reload rejected" gw.log || fail "no 'reload rejected' line"
kill -0 $GW || fail "daemon died on a broken reload"
cansend vcan0 10002080#0000000001000000
wait_for 30 retained_is "$PORT" loxcan/hall-di/door 1 || fail "old map not in force after a broken reload"
pass "old map still in force after the broken reload"

# SIGTERM: offline published, exit 0.
kill -TERM $GW
wait $GW; rc=$?
expect_eq "$rc" 0 "exit code after SIGTERM"
expect_eq "$(retained "$PORT" loxcan/bridge/state)" offline "bridge/state after SIGTERM"
grep -q '^STOPPING=1' notify.log || fail "no STOPPING=1"
pass "STOPPING=1 reported"
# The interface's counters at exit: the relay frame sent (tx) and its echo read back (own_echo).
grep -Eq "final statistics: vcan0 role=link .* tx=1 .*own_echo=1( |$)" gw.log \
  || { grep "final statistics" gw.log; fail "no final statistics line with tx=1 and own_echo=1"; }
pass "final statistics logged: $(grep -o 'final statistics: vcan0 role=link state=[a-z]*' gw.log)"
