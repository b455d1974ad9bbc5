#!/bin/bash
# The interface goes down and up, is deleted and re-created, and error frames are injected while
# `loxcan record` runs: it recovers by itself and keeps counting.
source "$TEST_LIB"
source "$(dirname "$0")/lib.sh"
cd "$(mktemp -d)"

send_n() {  # send_n N FIRST_ID_SUFFIX
  local i
  for i in $(seq 1 "$1"); do cansend vcan0 "106060$2#000000000000000$((i % 10))"; done
}

start_bg rec.out rec.err "$LOXCAN" record -i vcan0 --errors --stats rec.log
pid=$BG_PID
wait_open rec.err vcan0
send_n 10 01
wait_stat "$pid" rec.err vcan0 rx 10

ip link set vcan0 down
wait_stat "$pid" rec.err vcan0 state down
ip link set vcan0 up
wait_stat "$pid" rec.err vcan0 state up
send_n 10 02
wait_stat "$pid" rec.err vcan0 rx 20
line=$(stats_line "$pid" rec.err vcan0)
expect_eq "$(field "$line" link_down)" 1 "down counted"
expect_eq "$(field "$line" reopens)" 1 "back after down/up"

ip link del vcan0
wait_stat "$pid" rec.err vcan0 state closed
ip link add vcan0 type vcan
ip link set vcan0 up
wait_stat "$pid" rec.err vcan0 state up
send_n 10 03
wait_stat "$pid" rec.err vcan0 rx 30
line=$(stats_line "$pid" rec.err vcan0)
expect_eq "$(field "$line" link_down)" 2 "deletion counted"
expect_eq "$(field "$line" reopens)" 2 "reopened after del/add"

# Error frames as a broken bus would deliver them (vcan passes them like any frame).
cansend vcan0 20000004#0010000000000000   # controller: rx error-passive
cansend vcan0 20000040#0000000000000000   # bus-off
cansend vcan0 20000100#0000000000000000   # restarted
cansend vcan0 20000204#0004000000008005   # controller rx-warning + counters tx=128 rx=5
cansend vcan0 20000004#0001000000000000   # controller rx-overflow
wait_stat "$pid" rec.err vcan0 err_frames 5
line=$(stats_line "$pid" rec.err vcan0)
expect_eq "$(field "$line" bus_off)" 1 "bus-off decoded"
expect_eq "$(field "$line" error_passive)" 1 "error-passive decoded"
expect_eq "$(field "$line" error_warning)" 1 "error-warning decoded"
expect_eq "$(field "$line" restarted)" 1 "restart decoded"
expect_eq "$(field "$line" err.controller)" 3 "controller errors by class"
expect_eq "$(field "$line" err.counters)" 1 "counter frames"
expect_eq "$(field "$line" hw_overflow)" 1 "controller overflow counted"
expect_eq "$(field "$line" ctrl)" error-warning "controller state follows the error frames"
expect_eq "$(field "$line" rx)" 30 "error frames are not data frames"
grep -q "bus-off" rec.err || fail "bus-off logged"

stop_bg "$pid"; expect_eq "$STOP_RC" 0 "record exits 0"
expect_eq "$(grep -c ' vcan0 106060' rec.log)" 30 "all data frames written across the outages"
expect_eq "$(grep -cE ' vcan0 20000[0-9A-F]{3}#' rec.log)" 5 "error frames written with --errors"
grep -q ' vcan0 20000040#0000000000000000$' rec.log || fail "bus-off frame written as candump does"
echo "all link_recovery checks passed"
