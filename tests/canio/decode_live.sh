#!/bin/bash
# `loxcan decode --iface`: frames from cansend/cangen (and from `loxcan replay`) arrive decoded.
source "$TEST_LIB"
source "$(dirname "$0")/lib.sh"
cd "$(mktemp -d)"

start_bg out.txt err.txt "$LOXCAN" decode --iface vcan0 --iface vcan1:tree-left --stats
pid=$BG_PID
wait_open err.txt vcan0
wait_open err.txt vcan1
cansend vcan0 10606005#0000000000000000   # Miniserver pings extension NAT 6
cansend vcan0 10006006#0000000000000000   # its pong
cansend vcan0 123#00                      # not a Loxone frame: filtered by the kernel
cansend vcan1 11041081#4100000000000000   # a Tree branch frame
wait_count 2 20 grep ' vcan0 ' out.txt || fail "live frames not decoded: $(cat out.txt err.txt)"
grep -Eq '^[0-9]+\.[0-9]+ vcan0 10606005#0000000000000000 .*ping nat=6' out.txt || fail "ping: $(cat out.txt)"
grep -Eq '^[0-9]+\.[0-9]+ vcan0 10006006#0000000000000000 .*pong nat=6' out.txt || fail "pong: $(cat out.txt)"
pass "cansend frames decoded live (output not held back)"
wait_stat "$pid" err.txt vcan1 rx 1

# A burst from cangen and a replay from loxcan itself.
cangen vcan0 -e -I 10606005 -L 8 -D 0000000000000000 -g 1 -n 100
printf '(1700000000.000000) can0 10006006#0000000000000000\n(1700000000.001000) can0 10006006#0000000000000000\n' > r.log
"$LOXCAN" replay r.log vcan0=can0 || fail "replay"
wait_stat "$pid" err.txt vcan0 rx 104
stop_bg "$pid"; expect_eq "$STOP_RC" 0 "decode exits 0 on SIGINT"
expect_eq "$(grep -c ' vcan0 10606005#.*ping nat=6' out.txt)" 101 "pings decoded"
expect_eq "$(grep -c ' vcan0 10006006#.*pong nat=6' out.txt)" 3 "pongs decoded (1 cansend + 2 replayed)"
grep -q ' vcan0 123#' out.txt && fail "11-bit frame must be filtered"
grep -q '^stats vcan0 role=link .* rx=104 ' err.txt || fail "final stats: $(grep '^stats' err.txt)"
grep -q '^stats vcan1 role=tree-left .*bitrate=50000(nominal) .* rx=1 ' err.txt || fail "tree stats"
pass "final statistics per interface"

rc=0; "$LOXCAN" decode --iface vcan9 2>e.txt || rc=$?
expect_eq "$rc" 69 "missing interface: EX_UNAVAILABLE"
rc=0; "$LOXCAN" decode --iface vcan0 file.log 2>/dev/null || rc=$?
expect_eq "$rc" 64 "--iface with a file: EX_USAGE"
echo "all decode_live checks passed"
