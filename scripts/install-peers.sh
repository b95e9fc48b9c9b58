#!/usr/bin/env bash
# Installs the real MCP servers that the interop tests run against, pinned, into .peers/ (git
# ignored):
#   .peers/node     npm ci of peers/node/package-lock.json (server-everything, TypeScript SDK
#                   1.x, the TypeScript client and server 2.x that speak 2026-07-28)
#   .peers/py-mcp2  venv with peers/python/requirements-mcp2.txt (Python SDK 2.x)
#   .peers/py-mcp1  venv with peers/python/requirements-mcp1.txt (Python SDK 1.x)
# The rmcp peer is a Cargo dev-dependency and needs nothing here.
#
# Idempotent and fast when nothing changed: each part records a hash of its lock file (and of
# this script) in a stamp and is skipped while the stamp matches. `--force` reinstalls all.
#
# Environment: PYTHON (default python3, must be >= 3.10), NODE (default node), NPM (default npm).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
peers="$root/.peers"
PYTHON="${PYTHON:-python3}"
NODE="${NODE:-node}"
NPM="${NPM:-npm}"
force=0
[[ "${1:-}" == "--force" ]] && force=1

log() { printf 'install-peers: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Hash of the given files plus this script, so that a changed recipe also reinstalls.
fingerprint() { cat "$@" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1; }

# Runs `install_fn` unless `stamp` holds `fp` already; writes the stamp only on success.
with_stamp() {
    local name="$1" stamp="$2" fp="$3" install_fn="$4"
    if [[ $force -eq 0 && -f "$stamp" && "$(cat "$stamp")" == "$fp" ]]; then
        log "$name: up to date"
        return
    fi
    rm -f "$stamp"
    log "$name: installing"
    "$install_fn"
    printf '%s\n' "$fp" >"$stamp"
    log "$name: installed"
}

install_node() {
    command -v "$NODE" >/dev/null || die "node not found (set NODE)"
    command -v "$NPM" >/dev/null || die "npm not found (set NPM)"
    mkdir -p "$peers/node"
    cp "$root/peers/node/package.json" "$root/peers/node/package-lock.json" "$peers/node/"
    # --ignore-scripts: no install hooks run; the peers are plain JavaScript.
    (cd "$peers/node" && "$NPM" ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    "$NODE" -e 'require.resolve("@modelcontextprotocol/server-everything/package.json", {paths: [process.argv[1]]})' \
        "$peers/node" || die "server-everything did not install"
    [[ -f "$peers/node/node_modules/@modelcontextprotocol/server/package.json" ]] ||
        die "@modelcontextprotocol/server did not install"
}

python_venv() {
    local dir="$1" requirements="$2"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
        die "$PYTHON is older than 3.10 (set PYTHON)"
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    "$dir/bin/python" -c 'import mcp.server' || die "mcp did not install into $dir"
}

install_py_mcp2() { python_venv "$peers/py-mcp2" "$root/peers/python/requirements-mcp2.txt"; }
install_py_mcp1() { python_venv "$peers/py-mcp1" "$root/peers/python/requirements-mcp1.txt"; }

mkdir -p "$peers"
with_stamp node "$peers/node/.stamp" \
    "$(fingerprint "$root/peers/node/package.json" "$root/peers/node/package-lock.json")" install_node
with_stamp py-mcp2 "$peers/py-mcp2/.stamp" \
    "$(fingerprint "$root/peers/python/requirements-mcp2.txt")" install_py_mcp2
with_stamp py-mcp1 "$peers/py-mcp1/.stamp" \
    "$(fingerprint "$root/peers/python/requirements-mcp1.txt")" install_py_mcp1
