#!/bin/bash
# The plugin built from the real packages in dist/ (scripts/package deb --arch …, as test-all's
# package stage does first): the archive passes the plugininstall.pl checker, which also reads
# every .deb (package loxcan, architecture = its dpkg/<uname -m> folder). Skips (77) without debs.
# Args: SRC CHECKER.
set -u
SRC=$1 CHECKER=$2
ls "$SRC"/dist/loxcan_*.deb >/dev/null 2>&1 || { echo "no dist/loxcan_*.deb: run scripts/package deb first"; exit 77; }
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
zip=$("$SRC/scripts/package-loxberry" --debs "$SRC/dist" --output "$WORK") || exit 1
python3 "$CHECKER" "$zip" || exit 1
echo "ok: $(basename "$zip") from dist/ passes the checker:"
unzip -Z1 "$zip" | grep '\.deb$'
