#!/bin/bash
# LoxBerry plugin hook, run as root at the end of the installation (args: tempfile name folder
# version lbhomedir tempfolder).
#  1. the loxcan package for this machine from dpkg/<uname -m>/ (LoxBerry versions that pick the
#     folder by other names install nothing themselves), keeping /etc/loxcan/loxcan.yaml;
#  2. the user's loxcan.yaml back, if the package replaced it;
#  3. a systemd drop-in: broker settings from LoxBerry's general.json, the plugin config folder
#     where the daemon keeps mqtt_subscriptions.cfg / mqtt_conversions.cfg current;
#  4. the conversions online=1 / offline=0 in the MQTT Gateway's own settings (mqttgateway.json):
#     gateway V2 reads conversions only there (V1 also reads the plugin's mqtt_conversions.cfg);
#  5. the gateway enabled, and started when its configuration is valid.
# Exit 1 = error shown by LoxBerry (installation goes on), 2 = installation fails.
set -u
FOLDER=${3:-loxcan}
LBHOME=${5:-${LBHOMEDIR:?LoxBerry passes its home folder as the 5th argument}}
TEMPFOLDER=${6:-$(dirname "$(readlink -f "$0")")}
ETC=${LOXCAN_ETC:-/etc/loxcan}
KEEP=${LOXCAN_KEEP:-/var/backups/loxcan-plugin}
UNITDIR=${LOXCAN_UNITDIR:-/etc/systemd/system}
SYSTEMCTL=${SYSTEMCTL:-systemctl}
DPKG=${DPKG:-dpkg}
GATEWAY=${LOXCAN_GATEWAY:-/usr/sbin/loxcan-gateway}
PLUGINCFG=$LBHOME/config/plugins/$FOLDER
status=0

deb_for_this_machine() {
  local arch
  arch=$(uname -m)
  case $arch in armv6l|armv8l) arch=armv7l ;; arm64) arch=aarch64 ;; amd64) arch=x86_64 ;; esac
  ls "$TEMPFOLDER/dpkg/$arch"/loxcan_*.deb 2>/dev/null | head -1
}

install_package() {
  local deb want have
  deb=$(deb_for_this_machine)
  if [ -z "$deb" ]; then
    echo "<FAIL> no loxcan package for $(uname -m) in this plugin (dpkg/aarch64, dpkg/armv7l, dpkg/x86_64)"
    exit 2
  fi
  want=$($DPKG --field "$deb" Version)
  have=$($DPKG -s loxcan 2>/dev/null | sed -n 's/^Version: //p')
  if [ "$want" = "$have" ]; then
    echo "<OK> loxcan $have is installed"
    return
  fi
  echo "<INFO> installing $(basename "$deb") (installed: ${have:-none})"
  $DPKG -i --force-confold "$deb" || { echo "<FAIL> dpkg -i $deb failed"; exit 2; }
}

restore_config() {
  [ -f "$KEEP/loxcan.yaml" ] || return 0
  if ! cmp -s "$KEEP/loxcan.yaml" "$ETC/loxcan.yaml"; then
    cp -p "$KEEP/loxcan.yaml" "$ETC/loxcan.yaml" && echo "<OK> your loxcan.yaml was put back"
  fi
  rm -f "$KEEP/loxcan.yaml"
}

write_dropin() {
  mkdir -p "$UNITDIR/loxcan-gateway.service.d"
  cat > "$UNITDIR/loxcan-gateway.service.d/loxberry.conf" <<CONF
# Written by the loxcan LoxBerry plugin (postroot.sh); removed by its uninstall script.
[Service]
Environment=LBSCONFIG=$LBHOME/config/system
Environment=LOXCAN_LOXBERRY_CONFIG_DIR=$PLUGINCFG
ReadWritePaths=-$PLUGINCFG
SupplementaryGroups=loxberry
CONF
  # The daemon (user loxcan, group loxberry) rewrites the gateway files in the plugin folder.
  if [ -d "$PLUGINCFG" ]; then
    chgrp -R loxberry "$PLUGINCFG" 2>/dev/null
    chmod g+w "$PLUGINCFG" "$PLUGINCFG"/mqtt_*.cfg 2>/dev/null
  fi
  echo "<OK> systemd drop-in $UNITDIR/loxcan-gateway.service.d/loxberry.conf"
}

add_conversions() {
  local json=$LBHOME/config/system/mqttgateway.json
  [ -f "$json" ] || { echo "<INFO> no $json: conversions only through mqtt_conversions.cfg (gateway V1)"; return 0; }
  perl -MJSON::PP -e '
    my ($file) = @ARGV;
    open(my $in, "<", $file) or die "cannot read $file: $!\n";
    my $cfg = JSON::PP->new->relaxed->decode(do { local $/; <$in> });
    close($in);
    $cfg->{conversions} = [] unless ref $cfg->{conversions} eq "ARRAY";
    my %have = map { s/\s+//gr => 1 } @{ $cfg->{conversions} };
    my @add = grep { !$have{$_} } ("online=1", "offline=0");
    exit 0 unless @add;
    push @{ $cfg->{conversions} }, @add;
    open(my $out, ">", "$file.loxcan.tmp") or die "cannot write $file.loxcan.tmp: $!\n";
    print $out JSON::PP->new->pretty->canonical->encode($cfg);
    close($out) or die "cannot write $file.loxcan.tmp: $!\n";
    my @st = stat($file);
    chown $st[4], $st[5], "$file.loxcan.tmp";
    chmod $st[2] & 07777, "$file.loxcan.tmp";
    rename("$file.loxcan.tmp", $file) or die "cannot replace $file: $!\n";
    print "<OK> MQTT Gateway conversions added: @add\n";
  ' "$json" || { echo "<ERROR> could not add online=1 / offline=0 to $json: add them on the MQTT Gateway page"; status=1; }
}

start_gateway() {
  $SYSTEMCTL daemon-reload
  $SYSTEMCTL enable loxcan-gateway.service
  if out=$($GATEWAY --check-config --config "$ETC/loxcan.yaml" 2>&1); then
    $SYSTEMCTL restart loxcan-gateway.service && echo "<OK> loxcan-gateway started"
  else
    echo "<ERROR> $ETC/loxcan.yaml is not valid yet, the gateway was not started:"
    printf '%s\n' "$out"
    status=1
  fi
}

install_package
restore_config
write_dropin
add_conversions
start_gateway
exit $status
