#!/bin/bash
# The vcan sandbox itself, for one back-end (run on the host, not inside a sandbox):
#   sandbox_test.sh netns|uml VECTOR_CHECKSUM_BINARY
# When the host cannot run that back-end, forcing it must fail with a clear message and exit 2;
# the test then reports itself skipped (exit 77). Otherwise the guest must boot with vcan0, vcan1
# and lan0 up, carry a cansend frame to candump, and keep two processes' vector registers
# (AVX2 and, where the CPU has it, AVX-512) apart across context switches.
source "$(dirname "$0")/../lib/common.sh"
backend=$1 checksum=$2
sandbox="$(cd "$(dirname "$0")/../.." && pwd)/scripts/vcan-sandbox"
export LOXCAN_SANDBOX=$backend

host_can_run() {
  case "$backend" in
    netns) [ "$(id -u)" -eq 0 ] && { modprobe -q vcan 2>/dev/null; unshare --net ip link add p0 type vcan 2>/dev/null; } ;;
    uml) command -v linux.uml >/dev/null ;;
  esac
}

if ! host_can_run; then
  out=$("$sandbox" -- true 2>&1); rc=$?
  expect_eq "$rc" 2 "forcing $backend where the host cannot run it exits 2"
  grep -q "vcan-sandbox: " <<<"$out" || fail "no clear message: $out"
  echo "skip: this host cannot run the $backend back-end ($out)"
  exit 77
fi

t0=$(date +%s%N)
"$sandbox" --timeout 120 -- bash -c "$(cat <<INSIDE
set -u
source '$(dirname "$0")/../lib/common.sh'
expect_eq "\$LOXCAN_SANDBOX_BACKEND" "$backend" "the guest runs the $backend back-end"
for i in vcan0 vcan1 lan0; do
  ip link show "\$i" | grep -q ',UP' || fail "\$i is not up"; pass "\$i exists and is up"
done
candump -n 1 -T 10000 vcan0 > candump.out &
dump=\$!
wait_for 5 grep -q vcan0 /proc/net/can/rcvlist_all 2>/dev/null || sleep 0.5
cansend vcan0 10600000#0102030405060708
wait \$dump
grep -q '10600000.*01 02 03 04 05 06 07 08' candump.out || fail "candump did not see the frame: \$(cat candump.out)"
pass "a cansend frame reaches candump"
'$checksum' 11 > c1.out & a=\$!
'$checksum' 22 > c2.out & b=\$!
wait \$a || fail "vector checksum 11: \$(cat c1.out)"
wait \$b || fail "vector checksum 22: \$(cat c2.out)"
pass "two parallel vector checksums: \$(cat c1.out) / \$(cat c2.out)"
INSIDE
)"
rc=$?
echo "sandbox $backend: $(( ($(date +%s%N) - t0) / 1000000 )) ms in all"
exit $rc
