#!/bin/bash
# LoxBerry plugin hook, run as root before anything is copied (args: tempfile name folder
# version lbhomedir tempfolder). Keeps the user's loxcan.yaml: a copy goes aside so that
# postroot.sh can put it back should the package installation replace it.
set -u
ETC=${LOXCAN_ETC:-/etc/loxcan}
KEEP=${LOXCAN_KEEP:-/var/backups/loxcan-plugin}
if [ -f "$ETC/loxcan.yaml" ]; then
  mkdir -p "$KEEP" && cp -p "$ETC/loxcan.yaml" "$KEEP/loxcan.yaml" \
    || { echo "<ERROR> cannot keep a copy of $ETC/loxcan.yaml in $KEEP"; exit 2; }
  echo "<OK> kept a copy of $ETC/loxcan.yaml"
fi
exit 0
