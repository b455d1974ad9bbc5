#!/bin/bash
# Two buses on one host (inside the vcan sandbox): two gateways started exactly as the template
# unit loxcan-gateway@.service starts them (its ExecStart, %i = bus1 / bus2, configs in a test
# directory instead of /etc/loxcan), on vcan0 and vcan1, against one broker, with the same device
# name on both buses. Shows that neither overwrites a retained topic of the other (states, bridge
# topics, Home Assistant discovery), that all HA unique ids are distinct and that both stay
# connected (distinct MQTT client ids: a broker drops the older of two equal ones).
# Env (loxcan_add_vcan_test): LOXCAN_GATEWAY, TEST_LIB; Args: TEMPLATE_UNIT
source "$TEST_LIB"
unit=$1
WORK=$(mktemp -d); cd "$WORK"
PORT=$(free_port)
start_broker "$PORT"

exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[ -n "$exec_start" ] || fail "no ExecStart in $unit"
# start_instance NAME: the unit's command line with %i = NAME, our binary and our config directory.
start_instance() {
  local cmd=${exec_start//%i/$1}
  cmd=$(sed -E "s#^[^ ]+#$LOXCAN_GATEWAY#; s#--config [^ ]*/([^/ ]+\.yaml)#--config $WORK/\1#" <<<"$cmd")
  echo "instance $1: $cmd"
  $cmd > "$WORK/$1.log" 2>&1 &
}
# write_config NAME IFACE SERIAL: the same device name on both buses, nothing instance-specific.
write_config() {
  cat > "$1.yaml" <<YAML
interfaces:
  - name: $2
    role: link
devices:
  - serial: "$3"
    type: di_extension
    name: hall-di
mqtt:
  broker: tcp://127.0.0.1:$PORT
  stats_interval_s: 0
discovery:
  enabled: false
YAML
}
write_config bus1 vcan0 14111775
write_config bus2 vcan1 14222886
# all_retained FILE: every retained message as "topic payload", sorted.
all_retained() { timeout 5 mosquitto_sub -p "$PORT" -t '#' --retained-only -W 2 -v 2>/dev/null | sort > "$1" || true; }
# online NAME IFACE SERIAL INPUTS: a DI Extension on IFACE comes online and reports INPUTS (hex).
online() { { $LOXFRAMES offer 02 "$3"; $LOXFRAMES start 02 "$3" 14; echo "10002080#00000000${4}000000"; } | send_frames "$2"; }

start_instance bus1
wait_for 30 retained_is "$PORT" loxcan/bus1/bridge/state online || { cat bus1.log; fail "bus1: bridge/state not online"; }
online bus1 vcan0 14111775 01
wait_for 30 retained_is "$PORT" loxcan/bus1/hall-di/i1 1 || { cat bus1.log; fail "bus1: hall-di/i1 is not 1"; }
sleep 1; all_retained alone.txt
pass "bus1 alone: $(wc -l < alone.txt) retained topics"

start_instance bus2
wait_for 30 retained_is "$PORT" loxcan/bus2/bridge/state online || { cat bus2.log; fail "bus2: bridge/state not online"; }
online bus2 vcan1 14222886 02
wait_for 30 retained_is "$PORT" loxcan/bus2/hall-di/i2 1 || { cat bus2.log; fail "bus2: hall-di/i2 is not 1"; }
sleep 2; all_retained both.txt
pass "bus1 + bus2: $(wc -l < both.txt) retained topics"

# Nothing bus1 published was overwritten or cleared by bus2.
changed=$(comm -23 alone.txt both.txt)
[ -z "$changed" ] || { echo "$changed"; fail "bus2 changed retained topics of bus1"; }
pass "every retained topic of bus1 is unchanged with bus2 running"
[ "$(wc -l < both.txt)" -gt "$(wc -l < alone.txt)" ] || fail "bus2 published no retained topic of its own"
expect_eq "$(retained "$PORT" loxcan/bus1/hall-di/i2)" 0 "bus1 hall-di/i2 (bus2's input did not leak)"
expect_eq "$(retained "$PORT" loxcan/bus2/hall-di/i1)" 0 "bus2 hall-di/i1 (bus1's input did not leak)"
# Home Assistant: every discovery payload has a unique_id, none appears twice.
ids=$(grep '^homeassistant/' both.txt | grep -o '"unique_id":"[^"]*"' | sort)
[ -n "$ids" ] || fail "no Home Assistant discovery published"
dups=$(uniq -d <<<"$ids")
[ -z "$dups" ] || { echo "$dups"; fail "duplicate Home Assistant unique ids"; }
pass "$(wc -l <<<"$ids") Home Assistant unique ids, all distinct"
bridges=$(grep -o '"unique_id":"loxcan_bridge_[^"]*_state"' both.txt | sort -u | wc -l)
expect_eq "$bridges" 2 "two Home Assistant bridge devices (one per instance)"
# Both still connected (equal client ids would make the broker drop one) and still online.
sleep 1
expect_eq "$(retained "$PORT" loxcan/bus1/bridge/state)" online "bus1 still online"
expect_eq "$(retained "$PORT" loxcan/bus2/bridge/state)" online "bus2 still online"
grep -qi "already connected" "$WORK/mosquitto-$PORT.log" && fail "the broker saw a client id twice"
clients=$(grep -oE "New client connected from .* as [^ ]+" "$WORK/mosquitto-$PORT.log" | grep -oE "as loxcan-[^ ]+" | sort -u)
echo "$clients"
expect_eq "$(wc -l <<<"$clients")" 2 "two distinct gateway client ids"
pass "two instances on one broker: no collision"
