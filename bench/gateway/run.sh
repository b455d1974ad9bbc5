#!/bin/bash
# loxcan-gateway end-to-end benchmark (issue 7): frames lost, CAN->MQTT and MQTT->CAN latency,
# CPU and peak RSS under 1x, 2x and 3x a saturated Link bus (954 frames/s), READY latency.
# Prints a Markdown report and writes it to bench/gateway/results.md. Nothing is asserted.
#
#   bash bench/gateway/run.sh [--seconds 60] [--rates "1 2 3"] [--samples 1000]
#                             [--callgrind-frames 3000 (0 = skip)] [--out FILE] [--keep DIR]
#   (--out and --keep outside /tmp: the sandbox has its own /tmp)
#   LOXCAN_GATEWAY=build-bench/gateway/cli/loxcan-gateway bash bench/gateway/run.sh
#
# On the host it starts itself inside scripts/vcan-sandbox (so the report can name the host CPU);
# inside (vcan0 exists) it starts mosquitto on a free 127.0.0.1 port and runs e2e.py, which starts
# loxcan-gateway and drives it. Needs python3, mosquitto; ~5 minutes with the defaults.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
gateway=${LOXCAN_GATEWAY:-$root/build-bench/gateway/cli/loxcan-gateway}
[ -x "$gateway" ] || gateway=$root/build/gateway/cli/loxcan-gateway
gateway=$(realpath "$gateway")

if ! ip link show vcan0 >/dev/null 2>&1; then
  export BENCH_HOST_NPROC=$(nproc)
  export BENCH_HOST_CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
  export LOXCAN_GATEWAY=$gateway
  exec "$root/scripts/vcan-sandbox" --timeout 1200 -- bash "$here/run.sh" "$@"
fi

seconds=60 rates="1 2 3" samples=1000 grind=3000 out=$here/results.md keep= web=off
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --callgrind-frames) grind=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --web) web=$2; shift 2 ;;  # off (default) | idle | stream: the web view, and one live-stream client  # copy the logs, config and callgrind output there
    --out) out=$2; shift 2 ;;
    *) echo "usage: run.sh [--seconds S] [--rates \"1 2 3\"] [--samples N] [--callgrind-frames N] [--out FILE]" >&2
       exit 64 ;;
  esac
done

# The build type from the CMake cache next to the binary (…/<build>/gateway/cli/loxcan-gateway).
cache=$(dirname "$(dirname "$(dirname "$gateway")")")/CMakeCache.txt
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$cache" 2>/dev/null)

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" > "$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
broker=$!
trap 'kill $broker 2>/dev/null' EXIT
for _ in $(seq 100); do mosquitto_sub -p "$port" -t probe -W 1 -E 2>/dev/null && break; sleep 0.1; done

python3 "$here/e2e.py" --gateway "$gateway" --port "$port" --broker-pid "$broker" --seconds "$seconds" --rates "$rates" \
  --samples "$samples" --callgrind-frames "$grind" --build-type "${build_type:-unknown}" --work "$work" --out "$out" --web "$web"
rc=$?
[ -z "$keep" ] || { mkdir -p "$keep" && cp -r "$work"/. "$keep"/; }
[ $rc -eq 0 ] || { echo "== e2e.py failed ($rc); gateway log:" >&2; tail -30 "$work/gw.log" >&2; }
exit $rc
