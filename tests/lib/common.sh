# Shared helpers for the bash integration tests (sourced; run inside scripts/vcan-sandbox).
set -u
# The system interpreter: a pyenv shim (as on some CI images) costs seconds per start in the guest.
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
# expect_eq ACTUAL EXPECTED WHAT
expect_eq() { [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"; pass "$3"; }
# wait_for TIMEOUT_S CMD...: poll CMD every 50 ms until it succeeds or the time is up.
wait_for() {
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%N)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
# A free TCP port on 127.0.0.1.
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- broker and daemon helpers ---------------------------------------------------------------
LOXFRAMES="$PY $(dirname "${BASH_SOURCE[0]}")/loxframes.py"
# start_broker PORT: a throw-away mosquitto on 127.0.0.1 (no persistence); sets BROKER_PID.
start_broker() {
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$1" > "$WORK/mosquitto-$1.conf"
  mosquitto -c "$WORK/mosquitto-$1.conf" > "$WORK/mosquitto-$1.log" 2>&1 &
  BROKER_PID=$!
  wait_for 10 mosquitto_sub -p "$1" -t probe -W 1 -E || fail "mosquitto did not start on port $1"
}
# retained PORT TOPIC: the retained payload of TOPIC ('' if none).
retained() { timeout 5 mosquitto_sub -p "$1" -t "$2" -W 1 -C 1 2>/dev/null || true; }
# retained_is PORT TOPIC VALUE: succeeds when the retained payload equals VALUE (for wait_for).
retained_is() { [ "$(retained "$1" "$2")" == "$3" ]; }
# send_frames IFACE: cansend every frame read from stdin.
send_frames() { while read -r f; do cansend "$1" "$f"; done; }
