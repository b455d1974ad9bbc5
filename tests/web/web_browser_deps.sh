#!/bin/bash
# Fills the test cache with puppeteer-core (on the host: the sandbox has no network). Test only:
# nothing from npm is built into or shipped with loxcan. Exit 77 (skipped) without npm or network.
CACHE=${LOXCAN_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/loxcan/puppeteer}
[ -d "$CACHE/node_modules/puppeteer-core" ] && { echo "puppeteer-core already in $CACHE"; exit 0; }
command -v npm > /dev/null || { echo "skipped: npm is not installed"; exit 77; }
mkdir -p "$CACHE"
cd "$CACHE" && timeout 300 npm install --no-audit --no-fund puppeteer-core > npm.log 2>&1 || { tail -5 npm.log; exit 77; }
echo "puppeteer-core installed into $CACHE"
