# `loxcan dns` against a fake Cloud DNS on 127.0.0.1 (runs inside scripts/vcan-sandbox; nothing
# leaves loopback: the redirect targets are RFC 5737 addresses that loxcan must never contact).
source "$TEST_LIB"
# A system python3 first: a pyenv shim takes seconds to start under User-Mode Linux.
export PATH="/usr/bin:$PATH"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
work=$(mktemp -d)
port=$(free_port)
python3 "$here/fake_cloud_dns.py" "$port" "$work/requests.log" &
fake=$!
trap 'kill $fake 2>/dev/null; rm -rf "$work"' EXIT
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" ||
  fail "fake Cloud DNS did not start"
base="http://127.0.0.1:$port"

# run EXPECTED_RC ARGS...: runs loxcan dns, keeps stdout/stderr in $out/$err.
run() {
  local want=$1; shift
  out=$("$LOXCAN" dns "$@" --base-url "$base" 2>"$work/err"); rc=$?
  err=$(cat "$work/err")
  expect_eq "$rc" "$want" "dns $* -> exit $want (stderr: $err)"
}
contains() { [[ "$1" == *"$2"* ]] || fail "$3: '$2' not in: $1"; pass "$3"; }

run 0 504F00000001
expect_eq "$out" "serial:  504F00000001
address: 203.0.113.7
port:    8080
https:   no
url:     http://203.0.113.7:8080/" "plain http redirect"

run 0 504f00000002 --json
expect_eq "$out" '{"serial":"504F00000002","host":"203-0-113-8.504f00000002.dyndns.loxonecloud.com","address":"203.0.113.8","port":4443,"https":true,"url":"https://203-0-113-8.504f00000002.dyndns.loxonecloud.com:4443/"}' "https redirect to a dashed name"

run 0 504F00000003 --json
expect_eq "$out" '{"serial":"504F00000003","host":"198.51.100.9","address":"198.51.100.9","port":443,"https":true,"url":"https://198.51.100.9/"}' "307 https, default port"

run 68 504FFFFFFFFF
contains "$err" "the Cloud DNS does not know Miniserver 504FFFFFFFFF (HTTP 404)" "unknown serial"
run 68 504FFFFFFFFF --json
expect_eq "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["error"])' "$out")" "unknown_serial" "unknown serial as JSON"

run 76 504F0000BAD0
contains "$err" "expected a redirect for 504F0000BAD0, got HTTP 200" "200 instead of a redirect"
run 76 504F0000BAD1
contains "$err" "unusable Location '::garbage::'" "garbage Location"
run 76 504F0000BAD2
contains "$err" "cannot query $base/504F0000BAD2" "garbage reply"
run 76 504F0000BAD3
contains "$err" "without a Location header" "redirect without Location"

run 75 504F0000DEAD --timeout 1
contains "$err" "no answer from $base/504F0000DEAD" "hanging Cloud DNS times out"

before=$(wc -l < "$work/requests.log")
run 64 504F1122334
contains "$err" "invalid serial '504F1122334': expected 12 hex digits" "short serial"
run 64 "504F11223344/../x"
run 64
contains "$err" "expects exactly one SERIAL" "missing serial"
expect_eq "$(wc -l < "$work/requests.log")" "$before" "invalid serials never reach the network"

closed=$(free_port)
out=$("$LOXCAN" dns 504F00000001 --base-url "http://127.0.0.1:$closed" 2>"$work/err"); rc=$?
expect_eq "$rc" 69 "connection refused -> unavailable ($(cat "$work/err"))"
echo "all dns tests passed"
