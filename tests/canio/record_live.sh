#!/bin/bash
# `loxcan record` on live vcan interfaces, with cansend/cangen as the independent peers.
source "$TEST_LIB"
source "$(dirname "$0")/lib.sh"
cd "$(mktemp -d)"

# Two interfaces at once: the Link bus and a Tree branch, each with its own statistics.
start_bg rec.out rec.err "$LOXCAN" record --iface vcan0 --iface vcan1:tree-left --stats rec.log
pid=$BG_PID
wait_open rec.err vcan0
wait_open rec.err vcan1
cansend vcan0 10606005#0102030405060708
cansend vcan0 123#DEADBEEF
cansend vcan1 11041081#0011223344556677
cangen vcan0 -e -I 10000000 -L 8 -D i -g 1 -n 50
wait_stat "$pid" rec.err vcan0 rx 52
wait_stat "$pid" rec.err vcan1 rx 1
line=$(stats_line "$pid" rec.err vcan1)
expect_eq "$(field "$line" role)" tree-left "vcan1 role"
expect_eq "$(field "$line" bitrate)" "50000(nominal)" "vcan has no bitrate: nominal tree bitrate"
line=$(stats_line "$pid" rec.err vcan0)
expect_eq "$(field "$line" bitrate)" "125000(nominal)" "nominal link bitrate"
expect_eq "$(field "$line" overflow)" 0 "no overflow at this pace"
stop_bg "$pid"; expect_eq "$STOP_RC" 0 "record exits 0 on SIGINT"
grep -q "^stats vcan0 .* rx=52 " rec.err || fail "final statistics missing: $(cat rec.err)"

expect_eq "$(wc -l < rec.log)" 53 "every frame written"
grep -Eq '^\([0-9]{10}\.[0-9]{6}\) vcan0 10606005#0102030405060708$' rec.log || fail "frame 1: $(head -3 rec.log)"
grep -Eq '^\([0-9]{10}\.[0-9]{6}\) vcan0 123#DEADBEEF$' rec.log || fail "11-bit frame recorded (no filter by default)"
grep -Eq '^\([0-9]{10}\.[0-9]{6}\) vcan1 11041081#0011223344556677$' rec.log || fail "tree frame"
expect_eq "$(grep -c ' vcan0 10000000#' rec.log)" 50 "cangen frames"
# can-utils reads the file too.
log2asc -I rec.log vcan0 >/dev/null 2>&1 && pass "log2asc reads the log" || fail "log2asc rejects the log"

# --loxone-only: the kernel drops 11-bit frames.
start_bg lox.out lox.err "$LOXCAN" record -i vcan0 --loxone-only -n 2 lox.log
pid=$BG_PID
wait_open lox.err vcan0
cansend vcan0 123#00
cansend vcan0 10606005#00
cansend vcan0 10006006#00
wait "$pid" || fail "record --count exits 0"
expect_eq "$(awk '{print $3}' lox.log | tr '\n' ' ')" "10606005#00 10006006#00 " "--loxone-only and --count 2"

# stdout, --count, --duration.
start_bg cnt.out cnt.err "$LOXCAN" record -i vcan0 -n 3 -
pid=$BG_PID
wait_open cnt.err vcan0
cangen vcan0 -e -L 8 -g 1 -n 10
wait "$pid" || fail "record -n 3 - exits 0"
expect_eq "$(wc -l < cnt.out)" 3 "--count 3 to stdout"
"$LOXCAN" record -i vcan0 --duration 0.3 dur.log 2>dur.err || fail "--duration exits 0: $(cat dur.err)"
pass "--duration stops"

# Errors: a missing interface, bad arguments, an unwritable output.
rc=0; "$LOXCAN" record -i vcan9 x.log 2>err.txt || rc=$?
expect_eq "$rc" 69 "missing interface: EX_UNAVAILABLE"
grep -q "vcan9: if_nametoindex: No such device (ENODEV)" err.txt || fail "error names iface and errno: $(cat err.txt)"
rc=0; "$LOXCAN" record -i vcan0:bogus x.log 2>/dev/null || rc=$?
expect_eq "$rc" 64 "bad role: EX_USAGE"
rc=0; "$LOXCAN" record x.log 2>/dev/null || rc=$?
expect_eq "$rc" 64 "no --iface: EX_USAGE"
rc=0; "$LOXCAN" record -i vcan0 /nonexistent/dir/x.log 2>/dev/null || rc=$?
expect_eq "$rc" 73 "unwritable output: EX_CANTCREAT"
echo "all record_live checks passed"
