#!/bin/bash
# `loxcan loxone-template`: golden files for udp-in / out / http-in, the structure checker
# (LoxoneTemplateBuilder's element and attribute names, CRLF, recognition strings, commands) on the
# golden map and on etc/demo.yaml, XML escaping of & " < > and umlauts, planted mistakes the
# checker must catch, bad arguments. Env: LOXCAN, TEST_DATA, TEST_LIB, CHECKER, DEMO_MAP.
source "$TEST_LIB"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT; cd "$WORK"
cfg=$TEST_DATA/loxberry/template.yaml
gold=$TEST_DATA/loxberry
title='Küche & "Bad" <1>'
check() { "$PY" "$CHECKER" "$@"; }

"$LOXCAN" loxone-template --config "$cfg" --kind udp-in --loxberry 192.168.1.5 --title "$title" > udp-in.xml || fail "udp-in"
"$LOXCAN" loxone-template --config "$cfg" --kind out --loxberry 192.168.1.5 > out.xml || fail "out"
"$LOXCAN" loxone-template --config "$cfg" --kind http-in > http-in.txt || fail "http-in"
for f in udp-in.xml out.xml http-in.txt; do
  [ -n "${LOXCAN_UPDATE_GOLDEN:-}" ] && cp "$f" "$gold/template.$f"
  cmp -s "$f" "$gold/template.$f" || { diff "$gold/template.$f" "$f" | head -20; fail "$f differs from the golden file"; }
  pass "$f matches the golden file"
done

"$LOXCAN" loxberry-subscriptions --config "$cfg" --format v2 > v2.txt
check udp-in.xml --topics v2.txt || fail "checker rejects udp-in.xml"
pass "udp-in.xml passes the checker; its commands cover exactly the V2 topic list"
check out.xml || fail "checker rejects out.xml"
pass "out.xml passes the checker"
for k in udp-in out; do "$LOXCAN" loxone-template --config "$DEMO_MAP" --kind $k > demo-$k.xml; done
"$LOXCAN" loxberry-subscriptions --config "$DEMO_MAP" --format v2 > demo-v2.txt
check demo-udp-in.xml --topics demo-v2.txt && check demo-out.xml || fail "checker rejects the demo map's templates"
pass "demo map: $(grep -c VirtualInUdpCmd demo-udp-in.xml) inputs, $(grep -c VirtualOutCmd demo-out.xml) outputs pass"

# A Miniserver stand-in: the gateway's UDP text for some values (q1 next to q10, availability
# converted, the RGBW JSON expanded) reaches exactly the right commands; a recognition without
# the "=" after the topic would not.
printf '%s\n' 'home/loxcan/relays/q1 on' 'home/loxcan/relays/q10 0' 'home/loxcan/relays/availability online' \
  'home/loxcan/relays/temperature 41.5' 'home/loxcan/rgbw-living/rgbw {"state":"ON","brightness":80,"color":{"r":255,"g":0,"b":10,"w":40}}' \
  > messages.txt
"$PY" "$(dirname "$CHECKER")/miniserver_udp.py" udp-in.xml messages.txt 2> udp.log || { cat udp.log; fail "UDP recognition"; }
pass "UDP recognition: $(cat udp.log)"
sed 's/=\\i\\v"/\\i\\v"/' udp-in.xml > loose.xml
"$PY" "$(dirname "$CHECKER")/miniserver_udp.py" loose.xml messages.txt > /dev/null 2>&1 && fail "a recognition without '=' passed"
pass "a recognition without the '=' after the topic is caught"

# Escaping: the raw text carries entities, a parser gets the original text back.
grep -q 'Title="Küche &amp; &quot;Bad&quot; &lt;1&gt;"' udp-in.xml || fail "title not escaped as &amp; &quot; &lt; &gt;"
grep -q 'CmdOn="publish home/loxcan/ao-garden/aq1/set &lt;v&gt;"' out.xml || fail "<v> not escaped"
grep -q 'Title="relays temperature \[°C\]"' udp-in.xml || fail "unit °C not kept as UTF-8"
expect_eq "$("$PY" -c 'import sys,xml.etree.ElementTree as E; print(E.parse(sys.argv[1]).getroot().get("Title"))' udp-in.xml)" \
  "$title" "title round-trips through an XML parser"

# Planted mistakes: each must be caught.
plant() {  # plant WHAT SED_EXPR FILE
  sed "$2" "$3" > planted.xml
  check planted.xml > planted.log && fail "checker missed: $1"
  pass "checker catches $1: $(head -1 planted.log | cut -c1-110)"
}
plant "a missing attribute" '3s/ Signed="true"//' udp-in.xml
plant "a wrong root element" 's/VirtualInUdp /VirtualInHttp /; s/<\/VirtualInUdp>/<\/VirtualInHttp>/' udp-in.xml
plant "LF line ends" 's/\r$//' udp-in.xml
plant "a recognition without \\\\v" '3s/=\\i\\v"/="/' udp-in.xml
plant "an Analog value that is not true/false" '3s/Analog="false"/Analog="no"/' udp-in.xml
plant "a duplicate ID" '4s/ID="2"/ID="1"/' out.xml
plant "a command without /set" '3s|/set 1"|/state 1"|' out.xml
plant "an unescaped &" '2s/&amp;/\&/' udp-in.xml

# Arguments and exit codes.
"$LOXCAN" loxone-template --config "$cfg" --kind udp-in --output written.xml && cmp -s written.xml <("$LOXCAN" loxone-template --config "$cfg" --kind udp-in) \
  || fail "--output"
pass "--output writes the file"
"$LOXCAN" loxone-template --config "$cfg" --kind csv 2>/dev/null; expect_eq "$?" 64 "bad --kind -> EX_USAGE"
"$LOXCAN" loxone-template --config "$cfg" 2>/dev/null; expect_eq "$?" 64 "no --kind -> EX_USAGE"
"$LOXCAN" loxone-template --config "$cfg" --kind out --port 70000 2>/dev/null; expect_eq "$?" 64 "bad --port -> EX_USAGE"
"$LOXCAN" loxone-template --config /nonexistent.yaml --kind out 2>/dev/null; expect_eq "$?" 78 "missing config -> EX_CONFIG"
"$LOXCAN" loxone-template --config "$cfg" --kind out --output /nonexistent/dir/x.xml 2>/dev/null; expect_eq "$?" 74 "unwritable --output -> EX_IOERR"
