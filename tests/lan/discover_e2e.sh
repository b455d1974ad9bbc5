# `loxcan discover` end to end, inside scripts/vcan-sandbox: two fake Miniservers, each in its own
# network namespace behind a veth pair, so the UDP broadcast and the SSDP multicast really cross
# an interface (and never leave the sandbox).
#   ms1  10.78.0.2  (guest side veth1 10.78.0.1)  UDP probe + SSDP M-SEARCH answers + upnp.xml
#   ms2  10.79.0.2  (guest side veth2 10.79.0.1)  UDP probe + SSDP NOTIFY only + upnp.xml;
#                                                  its name looks like an address on purpose
source "$TEST_LIB"
# A system python3 first: a pyenv shim takes seconds to start under User-Mode Linux.
export PATH="/usr/bin:$PATH"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for n in 1 2; do ip netns del "ms$n" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

# make_ns N: namespace msN with 10.7(7+N).0.2/24, linked to vethN (10.7(7+N).0.1/24) here.
make_ns() {
  local n=$1
  local net="10.7$((7 + n)).0"
  ip netns add "ms$n" || fail "ip netns add ms$n"
  ip link add "veth$n" type veth peer name "veth$n-ms" || fail "veth$n"
  ip link set "veth$n-ms" netns "ms$n"
  ip addr add "$net.1/24" dev "veth$n" && ip link set "veth$n" up
  ip -n "ms$n" link set lo up
  ip -n "ms$n" addr add "$net.2/24" dev "veth$n-ms" && ip -n "ms$n" link set "veth$n-ms" up
  ip -n "ms$n" route add default via "$net.1"
}
make_ns 1
make_ns 2

name2='Haus 2.0 10.1.1.1:80 Süd'
ip netns exec ms1 python3 "$here/fake_miniserver.py" --ip 10.78.0.2 --serial 504F0A000001 \
  --name "Loxone Miniserver" --firmware 14.5.9.1 --prog "2024-03-01 12:34:56" --type 2 \
  --hwid A0002 --ipv6 ",0c112233:10020217/O" --udn uuid:11111111-0000-0000-0000-000000000001 \
  --ssdp answer --log "$work/ms1.log" --ready "$work/ms1.ready" 2>"$work/ms1.err" &
pids+=($!)
ip netns exec ms2 python3 "$here/fake_miniserver.py" --ip 10.79.0.2 --serial 504f0a000002 \
  --name "$name2" --firmware 12.0.2.24 --prog "2021-06-01 23:40:59" --type 0 --hwid A0000 \
  --ipv6 ",00000000:0/X,13106567:11021110/O" --udn uuid:22222222-0000-0000-0000-000000000002 \
  --http-port 80 --ssdp notify --log "$work/ms2.log" --ready "$work/ms2.ready" 2>"$work/ms2.err" &
pids+=($!)
wait_for 90 test -f "$work/ms1.ready" || fail "fake ms1 did not start: $(cat "$work/ms1.err")"
wait_for 90 test -f "$work/ms2.ready" || fail "fake ms2 did not start: $(cat "$work/ms2.err")"

# check JSON PYTHON-ASSERTIONS WHAT: evaluates assertions with `ms` = list, `by` = dict by serial.
check() {
  python3 - "$1" "$2" <<'PY' || fail "$3"
import json, sys
ms = json.loads(sys.argv[1]); by = {m["serial"]: m for m in ms}
exec(sys.argv[2])
PY
  pass "$3"
}

# Listening times are generous: the fakes are python in a UML guest on a possibly busy host.
out=$("$LOXCAN" discover --json --timeout 5 2>"$work/err"); rc=$?
expect_eq "$rc" 0 "discover --json finds Miniservers (stderr: $(cat "$work/err"))"
check "$out" '
assert len(ms) == 2, ms
assert by["504F0A000001"] == {
  "serial": "504F0A000001", "name": "Loxone Miniserver", "address": "10.78.0.2", "port": 8080,
  "firmware": "14.5.9.1", "config_date": "2024-03-01 12:34:56", "type": 2, "hw_id": "A0002",
  "ipv6": ",0c112233:10020217/O", "friendly_name": "Loxone Miniserver", "model_number": "2",
  "udn": "uuid:11111111-0000-0000-0000-000000000001",
  "presentation_url": "http://10.78.0.2:8080/index.html",
  "location": "http://10.78.0.2:8080/upnp.xml", "source": "10.78.0.2",
  "found_by": ["udp", "ssdp"]}, by["504F0A000001"]
m = by["504F0A000002"]
assert m["name"] == "Haus 2.0 10.1.1.1:80 Süd", m
assert (m["address"], m["port"], m["firmware"]) == ("10.79.0.2", 80, "12.0.2.24"), m
assert (m["type"], m["hw_id"], m["ipv6"]) == (0, "A0000", ",00000000:0/X,13106567:11021110/O"), m
assert m["udn"] == "uuid:22222222-0000-0000-0000-000000000002", m
assert m["found_by"] == ["udp", "ssdp"], m
' "both Miniservers with every field, merged by serial"

grep -q "^probe 10.78.0.1 00$" "$work/ms1.log" || fail "ms1 never saw the 0x00 probe"
pass "the probe is one 0x00 byte from the guest side of the veth"
grep -q "^msearch 10.78.0.1" "$work/ms1.log" || fail "ms1 never saw an M-SEARCH"
pass "M-SEARCH crossed the veth"

out=$("$LOXCAN" discover --json --timeout 4 --no-udp 2>"$work/err"); rc=$?
expect_eq "$rc" 0 "--no-udp (stderr: $(cat "$work/err"))"
check "$out" '
assert sorted(by) == ["504F0A000001", "504F0A000002"], ms
assert all(m["found_by"] == ["ssdp"] and m["firmware"] is None for m in ms), ms
assert by["504F0A000002"]["name"] == "Haus 2.0 10.1.1.1:80 Süd", "hidden hex name from upnp.xml"
assert by["504F0A000001"]["port"] == 8080
' "SSDP alone: M-SEARCH answer (ms1) and NOTIFY (ms2), names from upnp.xml"

out=$("$LOXCAN" discover --json --timeout 4 --no-ssdp 2>"$work/err"); rc=$?
expect_eq "$rc" 0 "--no-ssdp"
check "$out" '
assert sorted(by) == ["504F0A000001", "504F0A000002"], ms
assert all(m["found_by"] == ["udp"] and m["udn"] is None for m in ms), ms
' "UDP alone"

out=$("$LOXCAN" discover --json --timeout 4 --interface veth2 2>"$work/err"); rc=$?
expect_eq "$rc" 0 "--interface veth2"
check "$out" 'assert [m["serial"] for m in ms] == ["504F0A000002"], ms' "--interface by name limits to ms2"
out=$("$LOXCAN" discover --json --timeout 4 --bind 10.78.0.1 2>"$work/err"); rc=$?
expect_eq "$rc" 0 "--bind 10.78.0.1"
check "$out" 'assert [m["serial"] for m in ms] == ["504F0A000001"], ms' "--bind by address limits to ms1"

out=$("$LOXCAN" discover --timeout 4 2>"$work/err"); rc=$?
expect_eq "$rc" 0 "table output"
expect_eq "$(echo "$out" | head -1 | tr -s ' ')" "SERIAL ADDRESS FIRMWARE FOUND BY NAME" "table header"
echo "$out" | grep -q "^504F0A000002  10.79.0.2:80 .* udp,ssdp  $name2\$" || fail "table row for ms2: $out"
pass "table row for ms2"

# A NOTIFY whose LOCATION points at another host is never fetched (no request on behalf of
# whoever can send multicast).
ip netns exec ms1 python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("10.78.0.2"))
m = (b"NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n"
     b"SERVER: Loxone Miniserver Evil UPnP/1.0\r\nLOCATION: http://10.79.0.2:80/upnp.xml\r\n\r\n")
for _ in range(40):
    s.sendto(m, ("239.255.255.250", 1900)); time.sleep(0.2)
' &
spoofer=$!
http_before=$(grep -c '^http' "$work/ms2.log")
out=$("$LOXCAN" discover --json --timeout 4 --no-udp --interface veth1 2>"$work/err"); rc=$?
kill $spoofer 2>/dev/null
grep -q "SSDP from 10.78.0.2: not fetching LOCATION 'http://10.79.0.2:80/upnp.xml'" "$work/err" ||
  fail "spoofed LOCATION: stderr was: $(cat "$work/err")"
expect_eq "$(grep -c '^http' "$work/ms2.log")" "$http_before" "spoofed LOCATION is not fetched"
check "$out" 'assert [m["serial"] for m in ms] == ["504F0A000001"], ms' "spoofed NOTIFY adds nothing"

out=$("$LOXCAN" discover --json --timeout 1 --interface lan0 2>"$work/err"); rc=$?
expect_eq "$rc" 1 "nobody on lan0 -> exit 1"
expect_eq "$out" "[]" "empty JSON list"
grep -q "no Miniserver answered within 1.0 s" "$work/err" || fail "stderr: $(cat "$work/err")"
pass "none found is reported"

"$LOXCAN" discover --interface nosuch0 --timeout 1 2>"$work/err"; rc=$?
expect_eq "$rc" 69 "unknown interface -> 69"
grep -q "no IPv4 interface matches 'nosuch0'" "$work/err" || fail "stderr: $(cat "$work/err")"
"$LOXCAN" discover --timeout 0 2>/dev/null; expect_eq "$?" 64 "--timeout 0 is a usage error"
"$LOXCAN" discover --no-udp --no-ssdp 2>/dev/null; expect_eq "$?" 64 "nothing to do is a usage error"
# The daemon runs the same discovery at start and publishes the list, retained, on
# <base>/bridge/miniservers. It reads no upnp.xml (it loads no HTTP client): the UDP answers carry
# name, address and serial, and SSDP adds the LOCATION.
if [ -n "${LOXCAN_GATEWAY:-}" ]; then
  WORK=$work
  port=$(free_port)
  start_broker "$port"
  pids+=("$BROKER_PID")
  printf '%s\n' "interfaces:" "  - name: vcan0" "    role: link" "mqtt:" "  broker: tcp://127.0.0.1:$port" \
    "  homeassistant: {enabled: false}" "discovery:" "  enabled: true" "  at_start: true" \
    "  interval_min: 0" "  timeout_s: 4" > "$work/gw.yaml"
  http_before=$(cat "$work/ms1.log" "$work/ms2.log" | grep -c '^http')
  "$LOXCAN_GATEWAY" --config "$work/gw.yaml" >"$work/gw.log" 2>&1 &
  pids+=($!)
  has_list() { [ -n "$(retained "$port" loxcan/bridge/miniservers)" ]; }
  wait_for 60 has_list || fail "no retained loxcan/bridge/miniservers; daemon log: $(tail -20 "$work/gw.log")"
  check "$(retained "$port" loxcan/bridge/miniservers)" '
assert sorted(by) == ["504F0A000001", "504F0A000002"], ms
m = by["504F0A000001"]
assert (m["name"], m["address"], m["port"], m["firmware"]) == ("Loxone Miniserver", "10.78.0.2", 8080, "14.5.9.1"), m
assert m["found_by"] == ["udp", "ssdp"] and m["location"] == "http://10.78.0.2:8080/upnp.xml", m
assert m["udn"] is None and m["friendly_name"] is None, "the daemon reads no upnp.xml"
assert by["504F0A000002"]["name"] == "Haus 2.0 10.1.1.1:80 Süd", by["504F0A000002"]
' "the daemon publishes both Miniservers on loxcan/bridge/miniservers"
  expect_eq "$(cat "$work/ms1.log" "$work/ms2.log" | grep -c '^http')" "$http_before" "the daemon fetched no upnp.xml"
  grep -q "discovery: 2 Miniserver(s) found" "$work/gw.log" || fail "daemon log: $(tail -20 "$work/gw.log")"
  pass "the daemon logs what it found"
fi
echo "all discover tests passed"
