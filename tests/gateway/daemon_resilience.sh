#!/bin/bash
# loxcan-gateway start-up errors and retries (inside the vcan sandbox): exact stderr and exit 78 for
# a missing or broken configuration; a missing CAN interface and an unreachable broker are retried
# and shown in STATUS, and picked up once they appear.
source "$TEST_LIB"
WORK=$(mktemp -d); cd "$WORK"

err=$("$LOXCAN_GATEWAY" --config "$WORK/missing.yaml" 2>&1 >/dev/null); rc=$?
expect_eq "$rc" 78 "exit code for a missing config"
expect_eq "$err" "$WORK/missing.yaml: cannot read: No such file or directory" "stderr for a missing config"

printf 'mqtt:\n  brokr: tcp://127.0.0.1:1\n' > broken.yaml
err=$("$LOXCAN_GATEWAY" --config broken.yaml 2>&1 >/dev/null); rc=$?
expect_eq "$rc" 78 "exit code for a broken config"
expect_eq "$err" "broken.yaml:2:3: mqtt.brokr: unknown key (did you mean 'broker'?)" "stderr for a broken config"

"$LOXCAN_GATEWAY" --config broken.yaml --check-config > /dev/null 2>&1; rc=$?
expect_eq "$rc" 78 "--check-config exit code for a broken config"

PORT=$(free_port)
cat > loxcan.yaml <<YAML
interfaces:
  - name: vcan7
    role: link
mqtt:
  broker: tcp://127.0.0.1:$PORT
discovery:
  enabled: false
YAML
"$PY" "$(dirname "$TEST_LIB")/notify_listener.py" "$WORK/notify.sock" "$WORK/notify.log" &
wait_for 90 test -S "$WORK/notify.sock" || fail "notify listener did not start"
NOTIFY_SOCKET="$WORK/notify.sock" "$LOXCAN_GATEWAY" --config loxcan.yaml > gw.log 2>&1 &
GW=$!
wait_for 30 grep -q '^READY=1' notify.log || { cat gw.log; fail "no READY=1 without interface and broker"; }
grep '^STATUS=' notify.log | head -1 | grep -q 'vcan7 closed (retrying)' || { cat notify.log; fail "STATUS does not name the missing interface"; }
grep '^STATUS=' notify.log | head -1 | grep -q "broker unreachable: tcp://127.0.0.1:$PORT (retrying)" || { cat notify.log; fail "STATUS does not name the unreachable broker"; }
pass "READY with STATUS naming the missing interface and the unreachable broker"
grep -q 'vcan7' gw.log || fail "no log line about vcan7"

# Both appear: the daemon picks them up without a restart.
ip link add vcan7 type vcan && ip link set vcan7 up
start_broker "$PORT"
wait_for 30 retained_is "$PORT" loxcan/bridge/state online || { cat gw.log; fail "did not connect once the broker appeared"; }
pass "connected once the broker appeared"
{ $LOXFRAMES offer 03 14111776; $LOXFRAMES start 03 14111776 14; echo 10003080#0000000002000000; } | send_frames vcan7
wait_for 30 retained_is "$PORT" loxcan/di-extension-14111776/i2 1 || { cat gw.log; fail "no traffic once vcan7 appeared"; }
pass "traffic flows once the interface appeared"
kill -TERM $GW; wait $GW; expect_eq "$?" 0 "exit code after SIGTERM"

# On a LoxBerry (LBSCONFIG set, mqtt.loxberry: auto) the broker comes from general.json and a change
# of that file moves the gateway to the new broker without a restart.
P1=$(free_port); P2=$(free_port)
start_broker "$P1"; start_broker "$P2"
mkdir -p lbs
printf '{"Mqtt":{"Uselocalbroker":"0","Brokerhost":"127.0.0.1","Brokerport":"%s"}}\n' "$P1" > lbs/general.json
cat > loxberry.yaml <<YAML
interfaces:
  - name: vcan0
    role: link
mqtt:
  broker: tcp://127.0.0.1:1
discovery:
  enabled: false
YAML
LBSCONFIG="$WORK/lbs" "$LOXCAN_GATEWAY" --config loxberry.yaml > lbs.log 2>&1 &
GW=$!
wait_for 30 retained_is "$P1" loxcan/bridge/state online || { cat lbs.log; fail "not connected to the broker of general.json"; }
pass "broker taken from \$LBSCONFIG/general.json"
{ $LOXFRAMES offer 03 14111776; $LOXFRAMES start 03 14111776 14; echo 10003080#0000000002000000; } | send_frames vcan0
wait_for 30 retained_is "$P1" loxcan/di-extension-14111776/i2 1 || { cat lbs.log; fail "no state on the first broker"; }
printf '{"Mqtt":{"Uselocalbroker":"0","Brokerhost":"127.0.0.1","Brokerport":"%s"}}\n' "$P2" > lbs/general.json
wait_for 60 retained_is "$P2" loxcan/bridge/state online || { cat lbs.log; fail "did not follow the change of general.json"; }
expect_eq "$(retained "$P1" loxcan/bridge/state)" offline "old broker told offline"
pass "followed the change of general.json to the new broker"
# Regression (soak, issue 17): the new broker connection started with an empty state cache, so
# every state that did not change again was missing on the new broker (and from the gateway's own
# republish) until it changed.
expect_eq "$(retained "$P2" loxcan/di-extension-14111776/i2)" 1 "states carried over to the new broker"
kill -TERM $GW; wait $GW; expect_eq "$?" 0 "exit code after SIGTERM"
