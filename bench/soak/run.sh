#!/bin/bash
# loxcan-gateway soak under faults (issue 17): the gateway with the demo map and `loxcan sim`, a
# paced load at 3x a saturated Link bus, and a seeded random fault script (broker SIGKILL with and
# without persistence, CAN interface deleted and re-added, set down/up, bad /set payloads, SIGHUP
# with a valid and a broken map, Miniserver restarts, LoxBerry general.json broker changes). At the
# end soak.py checks that nothing was lost uncounted, that broker, gateway and a reference model
# agree on every state, and that the process stayed healthy; see soak.py's header for the checks.
# Prints a Markdown report; exit 0 only when every check passed.
#
#   bash bench/soak/run.sh [--seconds 600] [--rate 3] [--faults "broker=20,iface_del=20,..."]
#                          [--seed N] [--rss-from S] [--heap-check] [--massif] [--out FILE] [--keep DIR]
#   --heap-check   a shorter run with the gateway under valgrind memcheck (leaks, invalid accesses)
#                  instead of glibc's MALLOC_CHECK_; implies --rate 0.1 unless --rate is given
#   --massif       the same with valgrind massif: the heap in use over the run (growth from
#                  --rss-from to the end, the peak, the biggest allocation sites); massif.out in
#                  the --keep directory (ms_print it)
#   (--out and --keep outside /tmp: the sandbox has its own /tmp)
#   LOXCAN_GATEWAY=... LOXCAN=... override the binaries (default build/gateway/cli/)
#
# On the host it starts itself inside scripts/vcan-sandbox. The full run (10 minutes, the issue's
# fault counts) wrote bench/soak/results.md; ctest runs a 60 s version (soak_60s, labels vcan and soak; tests/soak/).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
gateway=${LOXCAN_GATEWAY:-$root/build/gateway/cli/loxcan-gateway}
loxcan=${LOXCAN:-$(dirname "$gateway")/loxcan}

if ! ip link show vcan0 >/dev/null 2>&1; then
  export BENCH_HOST_NPROC=$(nproc)
  export BENCH_HOST_CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
  export LOXCAN_GATEWAY=$(realpath "$gateway") LOXCAN=$(realpath "$loxcan")
  exec "$root/scripts/vcan-sandbox" --timeout "${SOAK_SANDBOX_TIMEOUT:-1800}" --ifaces "vcan0 vcan1" -- bash "$here/run.sh" "$@"
fi

args=() keep= heap=0 rate_given=0
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=$2; shift 2 ;;
    --heap-check) heap=1; shift ;;
    --massif) heap=2; shift ;;
    --rate) rate_given=1; args+=("$1" "$2"); shift 2 ;;
    --seconds|--faults|--seed|--rss-from|--out|--warmup|--tail|--watchdog-s|--malloc-check|--online-limit-ms|--rss-limit-pct|--frames-slack) args+=("$1" "$2"); shift 2 ;;
    *) echo "usage: run.sh [--seconds S] [--rate X] [--faults LIST] [--seed N] [--rss-from S] [--heap-check] [--massif] [--out FILE] [--keep DIR]" >&2
       exit 64 ;;
  esac
done
if [ $heap != 0 ]; then
  if [ $heap = 1 ]; then
    args+=(--wrap "valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite")
  else
    args+=(--wrap "valgrind --tool=massif --time-unit=ms --detailed-freq=4 --max-snapshots=200")
  fi
  [ $rate_given = 1 ] || args+=(--rate 0.1)
fi

work=$(mktemp -d)
ports=($(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])'))
python3 "$here/soak.py" --gateway "$gateway" --loxcan "$loxcan" --work "$work" \
  --port-a "${ports[0]}" --port-b "${ports[1]}" "${args[@]}"
rc=$?
[ -z "$keep" ] || { mkdir -p "$keep" && cp -r "$work"/. "$keep"/; }
[ $rc -eq 0 ] || { echo "== soak failed ($rc); gateway log tail:" >&2; tail -20 "$work/gw.log" >&2; }
exit $rc
