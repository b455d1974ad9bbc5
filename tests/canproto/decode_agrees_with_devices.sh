#!/bin/bash
# `loxcan decode` and `loxcan devices` agree on every legacy 0x53 temperature of the committed
# captures and golden traces: decode keeps the hardware version of each extension's last Start /
# Alive (LOXONE_CAN.md section 6) and says which rule it applied; devices decodes with the same
# state. For every temperature frame, decode's value (rounded to 0.01 as devices rounds) must be the
# device's temperature in the `devices --events` timeline at that frame's time.
# usage: decode_agrees_with_devices.sh LOXCAN TEST_DATA
set -uo pipefail
LOXCAN=$1 DATA=$2
fail=0
checked=0
for log in "$DATA"/captures/startup.log "$DATA"/captures/legacy_temperature.log "$DATA"/traces/*.log; do
  n=$(python3 - "$log" <("$LOXCAN" decode --json "$log" 2>/dev/null) <("$LOXCAN" devices --events --json "$log") <<'PY'
import json, re, sys
from decimal import Decimal
log, decoded, events = sys.argv[1], sys.argv[2], sys.argv[3]
timeline = {}  # serial -> [(ts, value)]
for line in open(events):
    e = json.loads(line)
    if e.get("event") == "channel_changed" and e.get("channel") == "temperature" and e["device"]["type"] in ("0x1", "0xB"):
        timeline.setdefault(e["device"]["serial"], []).append((Decimal(e["ts"]), e["value"]))
bad = checked = 0
for line in open(decoded):
    d = json.loads(line)
    if d.get("kind") != "frame" or d.get("protocol") != "legacy" or d.get("cmd_name") != "temperature":
        continue
    if d["dir"] != "from_device" or d["type"] not in (1, 11):
        continue
    ts = Decimal(re.search(r'"ts":([0-9.]+)', line).group(1))
    rule, raw, value = d.get("temperature_rule"), d["raw"], d["value"]
    want = (1475 - raw * 2245 / 1024) / 10 if rule == "adc" else raw / 10
    known = [v for (t, v) in timeline.get(d["serial"], []) if t <= ts]
    checked += 1
    if rule not in ("adc", "deci_celsius") or abs(value - want) > 1e-9:
        print(f"FAIL {log}: {d['id']}#{d['data']} at {ts}: rule {rule!r} does not give value {value}", file=sys.stderr)
        bad += 1
    elif not known or abs(known[-1] - round(value, 2)) > 0.0051:
        print(f"FAIL {log}: {d['id']}#{d['data']} at {ts}: decode {value} ({rule}, hw_version "
              f"{d.get('hw_version')}), devices {known[-1] if known else 'nothing'}", file=sys.stderr)
        bad += 1
print(-1 if bad else checked)
PY
  )
  if [ "$n" = -1 ] || [ -z "$n" ]; then fail=1; else checked=$((checked + n)); fi
done
# The captures must exercise both rules, or the comparison proves little.
rules=$(cat "$DATA"/captures/*.log "$DATA"/traces/*.log | "$LOXCAN" decode --json - 2>/dev/null |
        grep -o '"temperature_rule":"[a-z_]*"' | sort -u | wc -l)
[ "$rules" -eq 2 ] || { echo "FAIL: the captures do not use both temperature rules"; fail=1; }
[ "$checked" -ge 10 ] || { echo "FAIL: only $checked temperature frames compared"; fail=1; }
[ $fail -eq 0 ] && echo "ok: decode and devices agree on $checked legacy temperature frames"
exit $fail
