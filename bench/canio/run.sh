#!/bin/bash
# canio benchmark: burst receive rates, loss vs receive buffer, per-frame receive cost.
# Runs inside scripts/vcan-sandbox (real vcan, UML kernel with one CPU shared by cangen and
# loxcan); numbers are relative: a Raspberry Pi with a real controller sees at most ~1000
# frames/s on a 125 kbit/s Link bus, far below what is measured here.
#   scripts/vcan-sandbox --timeout 900 -- env LOXCAN=build/gateway/cli/loxcan bash bench/canio/run.sh
# or: cmake -DLOXCAN_BUILD_BENCH=ON ... && cmake --build build --target bench_canio
set -u
LOXCAN=${LOXCAN:?set LOXCAN to the loxcan binary}
N=${BENCH_FRAMES:-100000}
cd "$(mktemp -d)"

now_ns() { date +%s%N; }
field() { sed -nE "s/.* $2=([^ ]*).*/\1/p" <<<"$1"; }

# burst RCVBUF: prints "rcvbuf sent rx overflow send_s send_fps drain_s"
burst() {
  local rcvbuf=$1
  "$LOXCAN" record -i vcan0 --loxone-only --rcvbuf "$rcvbuf" --stats /dev/null 2>rec.err &
  local pid=$!
  until grep -q "vcan0: open (" rec.err 2>/dev/null; do sleep 0.05; done
  local t0 t1 t2 line rx ov
  t0=$(now_ns)
  cangen vcan0 -g 0 -e -I 10606005 -L 8 -D i -n "$N" -p 100
  t1=$(now_ns)
  # Drained when every frame is accounted for (received or reported as dropped).
  local deadline=$(( $(date +%s) + 120 ))
  while :; do
    kill -USR1 "$pid" 2>/dev/null || { echo "loxcan record died: $(tail -3 rec.err)" >&2; return 1; }
    sleep 0.05
    [ "$(date +%s)" -lt "$deadline" ] || { echo "not drained: $(grep '^stats' rec.err | tail -1)" >&2; break; }
    line=$(grep '^stats vcan0 ' rec.err | tail -1)
    rx=$(field "$line" rx); ov=$(field "$line" overflow)
    [ -n "$rx" ] && [ $((rx + ov)) -ge "$N" ] && break
  done
  t2=$(now_ns)
  kill -INT "$pid"; wait "$pid"
  printf '| %9s | %7d | %7d | %8d | %6.2f | %9.0f | %6.2f |\n' "$rcvbuf" "$N" "$rx" "$ov" \
    "$(echo "($t1-$t0)/1000000000" | bc -l)" "$(echo "$N/(($t1-$t0)/1000000000)" | bc -l)" \
    "$(echo "($t2-$t1)/1000000000" | bc -l)"
}

echo "## cangen -g 0 burst of $N extended 8-byte frames into \`loxcan record\`"
echo
echo "| rcvbuf B  |    sent | received | overflow | send s | frames/s | drain s |"
echo "|-----------|---------|----------|----------|--------|----------|---------|"
for b in 67108864 4194304 1048576 212992 32768; do burst "$b"; done

# Reference: candump with the same burst (its own drop counter, -d style output is not parsed).
t0=$(now_ns)
candump -r 4194304 -n "$N" -L vcan0 > cd.log &
cpid=$!
sleep 0.3
cangen vcan0 -g 0 -e -I 10606005 -L 8 -D i -n "$N" -p 100
timeout 30 tail --pid=$cpid -f /dev/null
kill "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null
echo
echo "candump -r 4194304 reference: wrote $(wc -l < cd.log) of $N lines"

# Per-frame receive cost: callgrind instructions for record (read + decode flags + format line +
# write) over a burst large enough to dwarf start-up, with a buffer that holds it all.
if command -v valgrind >/dev/null; then
  M=20000
  valgrind --tool=callgrind --callgrind-out-file=cg.out "$LOXCAN" record -i vcan0 --loxone-only \
    --rcvbuf 67108864 -n "$M" /dev/null 2>cg.err &
  vpid=$!
  until grep -q "vcan0: open (" cg.err 2>/dev/null; do sleep 0.1; done
  cangen vcan0 -g 0 -e -I 10606005 -L 8 -D i -n "$M" -p 100
  wait "$vpid"
  total=$(callgrind_annotate cg.out 2>/dev/null | sed -nE 's/^ *([0-9,]+) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
  onready=$(callgrind_annotate --inclusive=yes cg.out 2>/dev/null | grep -m1 'CanPort::on_ready' | sed -nE 's/^ *([0-9,]+).*/\1/p' | tr -d ,)
  echo
  echo "## callgrind, $M frames through \`loxcan record\`"
  echo
  echo "- whole process: $((total / M)) instructions per frame (incl. start-up)"
  [ -n "$onready" ] && echo "- CanPort::on_ready inclusive (recvmmsg, conversion, stats, log line, fwrite): $((onready / M)) instructions per frame"
fi
