# Helpers for the canio integration tests (sourced after tests/lib/common.sh; inside the sandbox).

# start_bg OUT ERR CMD...: run CMD in the background with stdout/stderr to files; sets BG_PID.
start_bg() {
  local out=$1 err=$2; shift 2
  "$@" >"$out" 2>"$err" &
  BG_PID=$!
}

# wait_open ERR IFACE: until loxcan logged that IFACE is open (its signal handlers are installed
# before any port opens, so SIGUSR1 is safe afterwards).
wait_open() {
  wait_for 20 grep -q "$2: open (" "$1" || { cat "$1" >&2; fail "$2 did not open"; }
}

# stats_line PID ERR IFACE: ask for statistics (SIGUSR1) and print the newest line for IFACE.
stats_line() {
  local pid=$1 err=$2 iface=$3 before
  before=$(grep -c "^stats $iface " "$err")
  kill -USR1 "$pid" || fail "process $pid is gone"
  local deadline=$(( $(date +%s) + 20 ))
  until [ "$(grep -c "^stats $iface " "$err")" -gt "$before" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "no statistics from $pid"
    sleep 0.05
  done
  grep "^stats $iface " "$err" | tail -1
}

# field LINE KEY: value of KEY=value in a statistics line.
field() { sed -nE "s/.* $2=([^ ]*).*/\1/p" <<<"$1"; }

# wait_stat PID ERR IFACE KEY VALUE [TIMEOUT]: poll the statistics until KEY equals VALUE.
# (fail inside $(...) only ends the subshell, so callers check the value again themselves when
# it matters; wait_stat itself runs in the test's shell.)
wait_stat() {
  local pid=$1 err=$2 iface=$3 key=$4 want=$5 bound=${6:-30} line deadline
  deadline=$(( $(date +%s) + bound ))
  while :; do
    line=$(stats_line "$pid" "$err" "$iface")
    [ "$(field "$line" "$key")" == "$want" ] && return 0
    [ "$(date +%s)" -lt "$deadline" ] || fail "$iface: $key never became $want; last: $line"
    sleep 0.1
  done
}

# stop_bg PID: SIGINT and wait; sets STOP_RC to the exit status (not in a subshell: `wait` only
# knows children of this shell).
stop_bg() {
  kill -INT "$1"
  STOP_RC=0
  wait "$1" || STOP_RC=$?
}

# wait_count N TIMEOUT CMD...: until CMD (a function is fine) prints at least N lines.
wait_count() {
  local n=$1 deadline=$(( $(date +%s) + $2 )); shift 2
  until [ "$("$@" | wc -l)" -ge "$n" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
