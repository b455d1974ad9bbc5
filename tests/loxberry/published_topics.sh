#!/bin/bash
# Inside the vcan sandbox: the daemon with a map on vcan0 and a real mosquitto. Every plain-valued
# topic it publishes is exactly the list `loxcan loxberry-subscriptions --format v2` prints for the
# same map (V2 matches topics exactly, so a missing or extra entry is a lost Virtual Input). Also:
# with LOXCAN_LOXBERRY_CONFIG_DIR the daemon keeps the plugin's mqtt_subscriptions.cfg and
# mqtt_conversions.cfg current, and adds a device that appears on the bus without being in the map.
source "$TEST_LIB"
WORK=$(mktemp -d); cd "$WORK"
PORT=$(free_port)
start_broker "$PORT"
mkdir plugincfg

{
  cat <<YAML
interfaces:
  - name: vcan0
    role: link
devices:
  - serial: "14111775"
    type: di_extension
    name: kitchen_di
    channels:
YAML
  # frequency inputs publish only when they count: not published in this map, so every listed
  # topic carries a value below.
  for n in $(seq 1 20); do echo "      f$n: {publish: false}"; done
  cat <<YAML
mqtt:
  broker: tcp://127.0.0.1:$PORT
  stats_interval_s: 10
discovery:
  enabled: false
YAML
} > loxcan.yaml

"$LOXCAN" loxberry-subscriptions --config loxcan.yaml --format v2 | sort > listed.txt
LOXCAN_LOXBERRY_CONFIG_DIR="$WORK/plugincfg" "$LOXCAN_GATEWAY" --config loxcan.yaml > gw.log 2>&1 &
GW=$!
wait_for 30 retained_is "$PORT" loxcan/bridge/state online || { cat gw.log; fail "bridge/state is not online"; }
{ $LOXFRAMES offer 02 14111775; $LOXFRAMES start 02 14111775 14; echo 10002080#0000000005000000; } | send_frames vcan0
wait_for 30 retained_is "$PORT" loxcan/kitchen-di/i1 1 || { cat gw.log; fail "kitchen-di/i1 is not 1"; }
wait_for 40 retained_is "$PORT" loxcan/bridge/stats/online 1 || { cat gw.log; fail "no bridge/stats/online"; }

# Every retained topic under loxcan/, minus the JSON documents (info, devices, stats, device state).
timeout 10 mosquitto_sub -p "$PORT" -t 'loxcan/#' -v -W 2 > seen-raw.txt 2>/dev/null || true
awk '{print $1}' seen-raw.txt \
  | grep -v -E '^loxcan/bridge/(info|devices|stats)$|^loxcan/[^/]+$' | sort -u > seen.txt
diff listed.txt seen.txt > topics.diff && pass "published topics == loxberry-subscriptions --format v2 ($(wc -l < seen.txt) topics)" \
  || { cat topics.diff; fail "published topics differ from the V2 list (< listed only, > published only)"; }
# A Miniserver stand-in on the UDP route: what gateway V1 would send for these messages reaches
# every command of the Virtual UDP Input template with its value.
"$LOXCAN" loxone-template --config loxcan.yaml --kind udp-in > udp-in.xml
"$PY" "$(dirname "$0")/miniserver_udp.py" udp-in.xml seen-raw.txt 2> udp.log || { cat udp.log; fail "UDP template vs gateway datagrams"; }
pass "Virtual UDP Input template: $(cat udp.log)"
busload=$(retained "$PORT" loxcan/bridge/stats/busload)
[[ "$busload" =~ ^[0-9]+(\.[0-9]{1,2})?$ ]] || fail "busload '$busload' has more than 2 decimals"
pass "busload '$busload' rounded to 0.01 %"

# The plugin files, written by the daemon.
expect_eq "$(cat plugincfg/mqtt_subscriptions.cfg)" "$("$LOXCAN" loxberry-subscriptions --config loxcan.yaml)" \
  "daemon wrote mqtt_subscriptions.cfg for the map"
expect_eq "$(cat plugincfg/mqtt_conversions.cfg)" $'online=1\noffline=0' "daemon wrote mqtt_conversions.cfg"
# A device not in the map shows up on the bus: its line is added.
{ $LOXFRAMES offer 03 14111776; $LOXFRAMES start 03 14111776 14; } | send_frames vcan0
wait_for 30 grep -q '14111776/+$' plugincfg/mqtt_subscriptions.cfg \
  || { cat plugincfg/mqtt_subscriptions.cfg; cat gw.log; fail "new bus device not added to mqtt_subscriptions.cfg"; }
pass "new bus device added: $(grep 14111776 plugincfg/mqtt_subscriptions.cfg)"

# The map changes (SIGHUP, device renamed): the file follows.
sed -i 's/name: kitchen_di/name: hall_di/' loxcan.yaml
kill -HUP $GW
wait_for 30 grep -q '^loxcan/hall-di/+$' plugincfg/mqtt_subscriptions.cfg \
  || { cat plugincfg/mqtt_subscriptions.cfg; fail "renamed device not in mqtt_subscriptions.cfg after SIGHUP"; }
grep -q 'kitchen-di' plugincfg/mqtt_subscriptions.cfg && fail "old device name still in mqtt_subscriptions.cfg"
pass "map changed (SIGHUP rename): mqtt_subscriptions.cfg follows"

kill -TERM $GW; wait $GW
kill $BROKER_PID
rm -rf "$WORK"
