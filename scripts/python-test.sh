#!/usr/bin/env bash
# Builds the Python package (python/: the PyO3 crate and the pure-Python package) as a wheel
# with maturin, installs it into .peers/py-mcptool (made by scripts/install-peers.sh) and runs
# its tests with pytest. Arguments go to pytest (e.g. `-k agent_framework -x`).
#
# Environment: PYTHON_BUILD=release (default; the wheel users get) or debug (faster to build
# while working on the bindings); PYTHON_SKIP_BUILD=1 runs the tests on the installed wheel.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.peers/py-mcptool"
[[ -x "$venv/bin/python" ]] || { echo "python-test: run scripts/install-peers.sh first" >&2; exit 1; }

if [[ -z "${PYTHON_SKIP_BUILD:-}" ]]; then
    profile=(--release)
    [[ "${PYTHON_BUILD:-release}" == debug ]] && profile=()
    wheels="$(mktemp -d)"
    trap 'rm -rf "$wheels"' EXIT
    # The wheel is built in the workspace's target directory, so that it shares the
    # dependencies the release lifecycle tests built.
    "$venv/bin/maturin" build --quiet "${profile[@]}" --manifest-path python/Cargo.toml \
        --interpreter "$venv/bin/python" --out "$wheels"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        --force-reinstall "$wheels"/mcptool-*.whl
fi

# The tests start `mcptool serve`: the debug binary, which the Rust tests built already.
cargo build --quiet -p mcptool-cli --bin mcptool
export MCPTOOL_BIN="$root/target/debug/mcptool"
cd python
# pytest (not `python -m pytest`): the working directory stays off sys.path, so `import mcptool`
# finds the installed wheel, not the sources beside it.
"$venv/bin/pytest" -q -p no:cacheprovider "$@"
