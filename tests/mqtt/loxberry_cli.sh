#!/bin/bash
# `loxcan loxberry-subscriptions`: golden V1/V2 output, --output writes the file, bad input exit codes.
# Env: LOXCAN (binary), TEST_DATA (tests/data), TEST_LIB (common.sh).
source "$TEST_LIB"
cfg=$TEST_DATA/mqtt/loxberry.yaml
expect_eq "$("$LOXCAN" loxberry-subscriptions --config "$cfg")" "$(cat "$TEST_DATA/mqtt/loxberry.v1.expected")" "v1 lines"
expect_eq "$("$LOXCAN" loxberry-subscriptions --config "$cfg" --format v2)" "$(cat "$TEST_DATA/mqtt/loxberry.v2.expected")" "v2 topics"
"$LOXCAN" loxberry-subscriptions --config "$cfg" | grep -q '#' && fail "a wildcard '#' in the subscriptions"
pass "no '#' subscription"
# the same topics as the V2 list, in the same order
"$LOXCAN" loxberry-subscriptions --config "$cfg" --format v2-json | python3 -c 'import json,sys
d = json.load(sys.stdin)
assert [s["Id"] for s in d["Subscriptions"]] == open(sys.argv[1]).read().split(), "topics differ"' \
  "$TEST_DATA/mqtt/loxberry.v2.expected" || fail "v2-json"
pass "v2-json parses"
expect_eq "$("$LOXCAN" loxberry-subscriptions --config "$cfg" --format conversions)" $'online=1\noffline=0' "conversions"
out=$(mktemp -d)
"$LOXCAN" loxberry-subscriptions --config "$cfg" --output "$out/mqtt_subscriptions.cfg" || fail "--output"
expect_eq "$(cat "$out/mqtt_subscriptions.cfg")" "$(cat "$TEST_DATA/mqtt/loxberry.v1.expected")" "--output file"
rm -rf "$out"
"$LOXCAN" loxberry-subscriptions --config /nonexistent/loxcan.yaml 2>/dev/null; expect_eq "$?" 78 "missing config -> EX_CONFIG"
"$LOXCAN" loxberry-subscriptions --format v3 --config "$cfg" 2>/dev/null; expect_eq "$?" 64 "bad format -> EX_USAGE"
