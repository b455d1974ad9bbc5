#!/bin/bash
# The plugin's install hooks, uninstall script and web page, run outside a LoxBerry with stand-ins:
# dpkg and systemctl are recording fakes (the fake dpkg -i replaces loxcan.yaml as a package
# upgrade could), LoxBerry's Perl modules are stubs, the CLI and loxcan-gateway are the real ones.
#  - preroot + postroot keep the user's loxcan.yaml, install the package for `uname -m`, write the
#    systemd drop-in (LBSCONFIG, LOXCAN_LOXBERRY_CONFIG_DIR, ReadWritePaths), enable and start the
#    gateway only with a valid configuration;
#  - uninstall stops it, removes drop-in and package, keeps loxcan.yaml;
#  - the page shows the service state and serves templates that pass the template checker.
# Env: SRC, TEST_DATA, TEST_LIB, LOXCAN, LOXCAN_GATEWAY, TEMPLATE_CHECKER.
source "$TEST_LIB"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT; cd "$WORK"
P=$SRC/loxberry/plugin
export LOXCAN_ETC=$WORK/etc LOXCAN_KEEP=$WORK/keep LOXCAN_UNITDIR=$WORK/units LOXCAN_GATEWAY
mkdir -p etc fakebin lbhome/config/plugins/loxcan lbhome/config/system tempfolder/dpkg/"$(uname -m)"
cp "$P"/config/* lbhome/config/plugins/loxcan/
deb_version=9.9.9
: > tempfolder/dpkg/"$(uname -m)"/loxcan_${deb_version}_test.deb
cat > fakebin/dpkg <<SH
#!/bin/bash
echo "dpkg \$*" >> $WORK/calls.log
case \$1 in
  --field) echo $deb_version ;;
  -s) [ -f $WORK/installed ] && echo "Version: \$(cat $WORK/installed)" || exit 1 ;;
  -i) echo "$deb_version" > $WORK/installed; echo "shipped: true" > $WORK/etc/loxcan.yaml ;;
  -r) rm -f $WORK/installed ;;
esac
SH
cat > fakebin/systemctl <<SH
#!/bin/bash
echo "systemctl \$*" >> $WORK/calls.log
[ "\$1" = show ] && printf 'ActiveState=active\nSubState=running\nStatusText=3 devices online, 12 frames/s, broker connected\n'
exit 0
SH
chmod +x fakebin/*
export DPKG=$WORK/fakebin/dpkg SYSTEMCTL=$WORK/fakebin/systemctl PATH=$WORK/fakebin:$PATH

# LoxBerry's MQTT Gateway settings with a conversion of the user's own.
printf '{"Main":{"msno":1},"conversions":["ein=1"],"subscriptions":[]}' > lbhome/config/system/mqttgateway.json

# The user's map (valid, with a comment the package's file does not have).
printf '# my own map\ninterfaces:\n  - name: can0\n    role: link\n' > etc/loxcan.yaml
cp etc/loxcan.yaml user.yaml
args=(tmp123 loxcan loxcan 9.9.9 "$WORK/lbhome" "$WORK/tempfolder")
"$P/preroot.sh" "${args[@]}" > preroot.log || { cat preroot.log; fail "preroot.sh"; }
"$P/postroot.sh" "${args[@]}" > postroot.log || { cat postroot.log; fail "postroot.sh"; }
grep -q "dpkg -i --force-confold $WORK/tempfolder/dpkg/$(uname -m)/loxcan_${deb_version}_test.deb" calls.log \
  || { cat calls.log; fail "package for $(uname -m) not installed"; }
pass "postroot installs dpkg/$(uname -m)/ with --force-confold"
cmp -s etc/loxcan.yaml user.yaml || fail "the user's loxcan.yaml was not kept: $(cat etc/loxcan.yaml)"
pass "the user's loxcan.yaml survives a package that replaces it"
dropin=units/loxcan-gateway.service.d/loxberry.conf
grep -qx "Environment=LOXCAN_LOXBERRY_CONFIG_DIR=$WORK/lbhome/config/plugins/loxcan" $dropin || { cat $dropin; fail "drop-in config dir"; }
grep -qx "Environment=LBSCONFIG=$WORK/lbhome/config/system" $dropin || fail "drop-in LBSCONFIG"
grep -qx "ReadWritePaths=-$WORK/lbhome/config/plugins/loxcan" $dropin || fail "drop-in ReadWritePaths"
pass "systemd drop-in: LoxBerry broker settings and the plugin config folder"
grep -q "systemctl enable loxcan-gateway.service" calls.log && grep -q "systemctl restart loxcan-gateway.service" calls.log \
  || { cat calls.log; fail "gateway not enabled and started"; }
pass "gateway enabled and started (valid configuration)"

"$PY" -c 'import json,sys; c=json.load(open(sys.argv[1]))["conversions"]; assert c == ["ein=1","online=1","offline=0"], c' \
  lbhome/config/system/mqttgateway.json || fail "conversions not added to mqttgateway.json"
pass "online=1 / offline=0 added to mqttgateway.json (gateway V2), the user's conversion kept"

# Upgrade with the same package version: no dpkg -i; a broken map: not started, exit 1 (error shown).
: > calls.log
printf 'interfaces: [\n' > etc/loxcan.yaml
"$P/preroot.sh" "${args[@]}" >/dev/null
"$P/postroot.sh" "${args[@]}" > postroot2.log; rc=$?
expect_eq "$rc" 1 "postroot with an invalid loxcan.yaml -> exit 1 (LoxBerry shows an error)"
expect_eq "$(grep -o 'online=1' lbhome/config/system/mqttgateway.json | wc -l)" 1 "conversions not added twice"
grep -q "dpkg -i" calls.log && fail "same version installed again"
grep -q "restart" calls.log && fail "gateway restarted with an invalid configuration"
grep -q "loxcan.yaml:" postroot2.log || { cat postroot2.log; fail "no file:line error shown"; }
pass "invalid map: not restarted, error shown: $(grep 'loxcan.yaml:' postroot2.log | head -1)"
cp user.yaml etc/loxcan.yaml

# The boot daemon script.
: > calls.log
"$P/daemon/daemon" || fail "daemon script"
grep -q "systemctl start loxcan-gateway.service" calls.log || fail "daemon script does not start the gateway"
pass "daemon script starts the enabled gateway at boot"

# The web page: page frame, state, template downloads.
mkdir -p perl/LoxBerry
cat > perl/LoxBerry/System.pm <<'PM'
package LoxBerry::System; sub get_localip { return "192.168.1.5"; } 1;
PM
cat > perl/LoxBerry/Web.pm <<'PM'
package LoxBerry::Web; sub lbheader { print "<!-- lbheader $_[0] -->\n"; } sub lbfooter { print "<!-- lbfooter -->\n"; } 1;
PM
page() { PERL5LIB=$WORK/perl LOXCAN_CLI="${CLI:-$LOXCAN}" LOXCAN_CONFIG="$TEST_DATA/loxberry/template.yaml" \
  REQUEST_METHOD=GET QUERY_STRING="$1" perl "$P/webfrontend/htmlauth/index.cgi"; }
page "" > page.html || fail "index.cgi"
head -1 page.html | grep -q "^Content-Type: text/html; charset=utf-8" || fail "no HTTP header before the page"
grep -q "lbheader loxcan" page.html && grep -q "lbfooter" page.html || fail "page not in LoxBerry's frame"
grep -q 'id="loxcan-active">active (running)' page.html || fail "service state missing"
grep -q '3 devices online, 12 frames/s, broker connected' page.html || fail "status line missing"
for k in udp-in out http-in v2; do grep -q "index.cgi?download=$k" page.html || fail "no $k download link"; done
pass "page: LoxBerry frame, service state, status line, four downloads"
page "download=udp-in" > udp.raw || fail "download udp-in"
grep -q 'Content-Disposition: attachment; filename="loxcan-VIU.xml"' udp.raw || { head -5 udp.raw; fail "no attachment header"; }
sed '1,/^\r\{0,1\}$/d' udp.raw > udp.xml
"$PY" "$TEMPLATE_CHECKER" udp.xml || fail "downloaded udp-in template fails the checker"
grep -q 'Address="192.168.1.5"' udp.xml || fail "the LoxBerry's address is not in the template"
pass "download udp-in: attachment, passes the template checker, LoxBerry address set"
page "download=out" | sed '1,/^\r\{0,1\}$/d' > out.xml
"$PY" "$TEMPLATE_CHECKER" out.xml && grep -q '/dev/udp/192.168.1.5/11884' out.xml || fail "download out"
pass "download out: passes the checker, sends to /dev/udp/192.168.1.5/11884"
CLI=/bin/false page "download=out" | head -1 | grep -q "500" || fail "CLI failure not reported as 500"
pass "a failing CLI gives HTTP 500"

# Uninstall: gateway stopped, drop-in and package gone, loxcan.yaml kept.
: > calls.log
"$P/uninstall/uninstall" > uninstall.log || fail "uninstall"
grep -q "systemctl disable --now loxcan-gateway.service" calls.log || fail "not stopped"
grep -q "dpkg -r loxcan" calls.log || fail "package not removed"
[ ! -e "$dropin" ] || fail "drop-in left behind"
cmp -s etc/loxcan.yaml user.yaml || fail "uninstall touched loxcan.yaml"
pass "uninstall: stopped, drop-in and package removed, loxcan.yaml kept"
