#!/bin/bash
# SIGHUP re-reads the web section of a running loxcan-gateway (inside the vcan sandbox): a new
# listen address moves the server (the old port closes, the history stays), a new password ends
# the old one, a broken web section is rejected at file:line:column and the server keeps running.
source "$TEST_LIB"
WORK=$(mktemp -d); cd "$WORK"
P1=$(free_port); P2=$(free_port)
[ "$P1" != "$P2" ] || P2=$((P1 + 1))
printf 'first-%s\n' "$RANDOM" > pw1
printf 'second-%s\n' "$RANDOM" > pw2

write_config() {  # write_config LISTEN [PASSWORD_FILE]
  cat > gw.yaml <<YAML
interfaces:
  - {name: vcan0, role: link}
devices:
  - {serial: "14111775", type: di_extension, name: kitchen-di}
discovery:
  enabled: false
web:
  listen: $1
YAML
  [ -z "${2:-}" ] || echo "  password_file: $2" >> gw.yaml
}
login() {  # login PORT PASSWORD -> HTTP status
  curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data "{\"password\":\"$2\"}" "127.0.0.1:$1/api/login"
}
i1_is_1() { curl -s "127.0.0.1:$1/api/devices" | grep -q '"i1":true'; }

write_config "127.0.0.1:$P1" "$WORK/pw1"
"$LOXCAN_GATEWAY" --config gw.yaml > gw.log 2>&1 &
GW=$!
trap 'kill $GW 2>/dev/null' EXIT
wait_for 30 curl -sf "127.0.0.1:$P1/api/stats" > /dev/null || { cat gw.log; fail "the web view does not answer on $P1"; }
# A DI Extension comes online and reports input 1: a value the web view keeps in memory.
{ $LOXFRAMES offer 02 14111775; $LOXFRAMES start 02 14111775 14; echo 10002080#0000000001000000; } | send_frames vcan0
wait_for 30 i1_is_1 "$P1" || { cat gw.log; curl -s "127.0.0.1:$P1/api/devices"; fail "no value on the page"; }
pass "web view on $P1 with a value"

# A new address and a new password file: the server moves, the value stays.
write_config "127.0.0.1:$P2" "$WORK/pw2"
kill -HUP $GW
wait_for 30 curl -sf "127.0.0.1:$P2/api/stats" > /dev/null || { cat gw.log; fail "no web view on $P2 after SIGHUP"; }
curl -s -m 2 "127.0.0.1:$P1/api/stats" > /dev/null && fail "the old port $P1 still answers"
i1_is_1 "$P2" || fail "the value was lost with the restart"
expect_eq "$(login "$P2" "$(cat pw1)")" 401 "the old password after SIGHUP"
expect_eq "$(login "$P2" "$(cat pw2)")" 200 "the new password after SIGHUP"
grep -q "web view restarted on http://127.0.0.1:$P2/" gw.log || fail "no restart line in the log"
pass "SIGHUP moved the web view to $P2, history kept, new password in force"

# The same file name with new content: a changed password takes effect too.
printf 'third-%s\n' "$RANDOM" > pw2
kill -HUP $GW
wait_for 30 test "$(login "$P2" "$(cat pw2)")" = 200 || { cat gw.log; fail "the rewritten password file not in force"; }
pass "a rewritten password file is re-read on SIGHUP"

# A broken web section: rejected with file:line:column; the server stays where it is.
write_config "0.0.0.0:$P1"
kill -HUP $GW
wait_for 30 grep -q "gw.yaml:8:11: web.listen" gw.log || { cat gw.log; fail "broken web section not reported at file:line:column"; }
grep -q "reload rejected" gw.log || fail "no 'reload rejected' line"
curl -sf "127.0.0.1:$P2/api/stats" > /dev/null || fail "the web view stopped after a broken reload"
i1_is_1 "$P2" || fail "the value was lost with the broken reload"
pass "broken web section rejected at file:line:column, web view still on $P2"

# web.enabled: false stops it.
write_config "127.0.0.1:$P2"
echo "  enabled: false" >> gw.yaml
kill -HUP $GW
wait_for 30 grep -q "web view stopped" gw.log || { cat gw.log; fail "web view not stopped"; }
curl -s -m 2 "127.0.0.1:$P2/api/stats" > /dev/null && fail "the web view still answers after enabled: false"
kill -0 $GW || fail "the gateway died"
pass "web.enabled: false on SIGHUP stops the web view"
