#!/bin/bash
# A cangen burst (-g 0, 29-bit Loxone-range ids, 8 bytes) must arrive without loss, or the loss
# must be reported exactly: received + reported overflow == sent. Run twice: with the default
# large receive buffer, and with a tiny one that forces the kernel to drop frames.
source "$TEST_LIB"
source "$(dirname "$0")/lib.sh"
cd "$(mktemp -d)"
sent=20000

burst() {  # burst NAME RCVBUF
  local name=$1 rcvbuf=$2 pid line rx overflow lines
  start_bg "$name.out" "$name.err" "$LOXCAN" record -i vcan0 --loxone-only --rcvbuf "$rcvbuf" --stats "$name.log"
  pid=$BG_PID
  wait_open "$name.err" vcan0
  cangen vcan0 -g 0 -e -I 10606005 -L 8 -D i -n "$sent" -p 100 || fail "cangen failed"
  # Wait until every frame is accounted for (stats also collect drops not yet reported).
  local deadline=$(( $(date +%s) + 120 ))
  while :; do
    line=$(stats_line "$pid" "$name.err" vcan0)
    rx=$(field "$line" rx); overflow=$(field "$line" overflow)
    [ $((rx + overflow)) -ge "$sent" ] && break
    [ "$(date +%s)" -lt "$deadline" ] || break
    sleep 0.2
  done
  stop_bg "$pid"; expect_eq "$STOP_RC" 0 "$name: record exits 0"
  line=$(grep '^stats vcan0 ' "$name.err" | tail -1)
  rx=$(field "$line" rx); overflow=$(field "$line" overflow)
  lines=$(grep -c ' vcan0 10606005#' "$name.log")
  echo "$name: rcvbuf=$rcvbuf sent=$sent received=$rx overflow=$overflow written=$lines"
  expect_eq $((rx + overflow)) "$sent" "$name: received + reported overflow == sent"
  expect_eq "$lines" "$rx" "$name: every received frame written"
}

burst large 4194304
burst tiny 2048
echo "all burst checks passed"
