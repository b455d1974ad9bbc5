#!/bin/bash
# Installs the real Node-RED from npm into a cache directory, ON THE HOST (the test sandbox has no
# network). Used as the ctest fixture `node_red` before node_red_flows runs. Never fails: when npm
# or its registry cannot be reached it writes the reason to $CACHE/unavailable, and the test then
# skips with that message.
#   install.sh CACHE_DIR [VERSION]
set -u
cache=$1 version=${2:-${LOXCAN_NODE_RED_VERSION:-4.1.15}}
mkdir -p "$cache"
rm -f "$cache/unavailable"
red="$cache/node_modules/node-red/red.js"
if [ -f "$red" ] && grep -q "\"version\": \"$version\"" "$cache/node_modules/node-red/package.json"; then
  echo "node-red $version already in $cache"; exit 0
fi
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "node and npm are not installed (scripts/install-deps installs them)" | tee "$cache/unavailable"; exit 0
fi
echo "installing node-red $version into $cache (npm)"
if ! timeout 600 npm install --prefix "$cache" --no-audit --no-fund --no-save --loglevel=error \
    "node-red@$version" > "$cache/npm.log" 2>&1 || [ ! -f "$red" ]; then
  { echo "npm could not install node-red $version (no network?):"; tail -5 "$cache/npm.log"; } | tee "$cache/unavailable"
fi
exit 0
