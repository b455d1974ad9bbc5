#!/bin/bash
# The web view in a browser (inside the vcan sandbox): `loxcan sim` + etc/demo.yaml, the gateway
# with web.password_file, and Debian's chromium driven by browser_test.cjs (puppeteer-core from the
# test cache that the web_browser_deps fixture filled on the host). The relay extension is played
# by `loxcan emulate` and only monitored by the gateway, so that switching it from the page sends
# the Miniserver's command frame as it would on a real bus. Exit 77 (skipped) without chromium or
# puppeteer-core. Screenshots go to $WEB_SCREENSHOTS (default: build/tests/web/screenshots).
source "$TEST_LIB"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${LOXCAN_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/loxcan/puppeteer}
command -v chromium > /dev/null || { echo "skipped: chromium is not installed"; exit 77; }
[ -d "$CACHE/node_modules/puppeteer-core" ] || { echo "skipped: no puppeteer-core in $CACHE"; exit 77; }
SHOTS=${WEB_SCREENSHOTS:-$(dirname "$LOXCAN")/../../tests/web/screenshots}
mkdir -p "$SHOTS"
WORK=$(mktemp -d); cd "$WORK"

# etc/demo.yaml, with relay-cellar monitored instead of emulated and a web password.
sed -e '/name: relay-cellar/{n;s/mode: emulate/mode: monitor/;n;d}' \
    -e "s#/tmp/loxcan-demo-state.yaml#$WORK/state.yaml#" "$SRC/etc/demo.yaml" > gw.yaml
grep -A1 'name: relay-cellar' gw.yaml | grep -q 'mode: monitor' || fail "demo.yaml changed: relay-cellar not found"
printf 'web-test-%s\n' "$RANDOM$RANDOM" > password
printf 'discovery:\n  enabled: false\nweb:\n  password_file: %s\n' "$WORK/password" >> gw.yaml
cat > relay.yaml <<YAML
interfaces:
  - {name: vcan0, role: link}
devices:
  - {serial: 0BFF0001, type: relay_extension, name: relay-cellar, mode: emulate, interface: vcan0}
emulation: {auth: test, state_file: $WORK/relay-state.yaml}
YAML

# The simulated Miniserver changes an output of ao-garden every 3 s once every device is online, so
# the page sees values that the simulator set (for 10 minutes: the browser may start slowly).
{
  echo "- wait online 60000"
  for i in $(seq 200); do echo "- set ao-garden aq1 $((i % 10)).$((i % 4 * 25))"; echo "- wait 3000"; done
} > scenario.yaml
# The gateway first: it must see every device's start-up on the bus (legacy extensions announce
# themselves only at start and every ~6 min).
"$LOXCAN_GATEWAY" --config gw.yaml > gw.log 2>&1 &
GW=$!
wait_for 30 curl -sf 127.0.0.1:8088/api/stats || { cat gw.log; fail "the web view does not answer"; }
mkfifo emulate.in
"$LOXCAN" emulate --iface vcan0 --config relay.yaml < emulate.in > emulate.log 2>&1 &
EMU=$!
exec 3> emulate.in  # keeps its stdin open: `emulate` would stop at end of input
"$LOXCAN" sim --iface vcan0 --config "$SRC/etc/demo.yaml" --scenario scenario.yaml > sim.log 2>&1 &
SIM=$!
trap 'kill $SIM $GW $EMU 2>/dev/null' EXIT

all_online() { [ "$(curl -s 127.0.0.1:8088/api/devices | grep -o '"state":"online"' | wc -l)" -ge 14 ]; }
wait_for 120 all_online || { head -n 20 gw.log; curl -sS 127.0.0.1:8088/api/devices | grep -o '"name":"[^"]*"\|"state":"[a-z]*"' | paste -sd' '; fail "not all 14 demo devices online"; }
pass "14 demo devices online (API)"

BASE_URL=http://127.0.0.1:8088 PASSWORD=$(cat password) SCREENSHOTS="$SHOTS" USER_DATA_DIR="$WORK/chromium" \
  NODE_PATH="$CACHE/node_modules" node "$SRC/tests/web/browser_test.cjs" || { tail -20 gw.log; fail "browser test"; }
kill -0 $GW || fail "the gateway died"
grep -q 'rejected command on loxcan/touch-living/temperature/set' gw.log || fail "the rejection is not in the log"
pass "browser test"
