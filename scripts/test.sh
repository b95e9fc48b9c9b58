#!/usr/bin/env bash
# Every check and every test of the workspace, as CI runs them (.ci/run calls exactly this).
#
#   1. installs the real peer servers (npm, PyPI) into .peers/ — pinned, idempotent;
#   2. cargo fmt --check, clippy with -D warnings, rustdoc with -D warnings;
#   3. every test with cargo-nextest (one process per test, so per-process counts such as open
#      file descriptors are exact), with MCPTOOL_REQUIRE_PEERS=1: a missing peer fails loudly;
#   4. the long lifecycle tests (ignored by default) in release mode, building only the test
#      files that hold them;
#   5. the doctests (nextest does not run them);
#   6. the Python package: its wheel built with maturin (release, in the workspace's target
#      directory) and its pytest suite, with the frameworks pinned (scripts/python-test.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*" >&2; }

if ! cargo nextest --version >/dev/null 2>&1; then
    echo "cargo-nextest is required: cargo install cargo-nextest --locked" >&2
    exit 1
fi

step "install peer servers into .peers/"
bash scripts/install-peers.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo doc -D warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

export MCPTOOL_REQUIRE_PEERS=1
step "tests"
cargo nextest run --workspace --no-fail-fast

step "long lifecycle tests (release)"
# Only the test files that hold ignored tests are built in release: building every test
# binary of the workspace in release took longer than running them all in debug.
for dir in crates/*/; do
    package="$(basename "$dir")"
    targets=()
    for file in $(grep -l '#\[ignore' "$dir"tests/*.rs 2>/dev/null || true); do
        targets+=(--test "$(basename "$file" .rs)")
    done
    if [[ ${#targets[@]} -gt 0 ]]; then
        cargo nextest run -p "$package" --release --run-ignored only --no-fail-fast "${targets[@]}"
    fi
done

step "doctests"
cargo test --workspace --doc --quiet

step "Python package: wheel and pytest"
bash scripts/python-test.sh
