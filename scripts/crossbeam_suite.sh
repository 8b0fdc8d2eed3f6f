#!/usr/bin/env bash
# Runs crossbeam-channel's own published test suite (all 14 files of the package's tests/)
# against may::sync::mpmc, in release mode.
#
# The test files are not in this repository: cargo fetches the published package (cargo vendor
# unpacks it, tests included) into the target directory, and ci/crossbeam-channel-shim, a crate
# named `crossbeam-channel` that re-exports may's channel API, builds them as its own tests.
#
#   scripts/crossbeam_suite.sh                 # the whole suite
#   scripts/crossbeam_suite.sh --test select   # one file; arguments go to `cargo test`
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.5.17
shim=ci/crossbeam-channel-shim
# The shim builds in the repository's target directory, next to the workspace's own builds.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
work=$CARGO_TARGET_DIR/crossbeam-suite

# Tests that check what may does differently on purpose, each with its reason (none today).
skips=()

echo "-- fetching crossbeam-channel $version with cargo"
mkdir -p "$work/fetch/src"
cat >"$work/fetch/Cargo.toml" <<TOML
[package]
name = "fetch-crossbeam-channel"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
crossbeam-channel = "=$version"

[workspace]
TOML
: >"$work/fetch/src/lib.rs"
cargo vendor --quiet --versioned-dirs --manifest-path "$work/fetch/Cargo.toml" "$work/vendor" >/dev/null
upstream=$work/vendor/crossbeam-channel-$version
test -f "$upstream/tests/select_macro.rs" || { echo "no tests in $upstream" >&2; exit 1; }
ln -sfn "$upstream" "$shim/upstream"
echo "-- $(ls "$upstream/tests" | wc -l) test files from $upstream/tests"

skip_args=()
for entry in "${skips[@]}"; do
    name=${entry%%:*}
    echo "-- skipped: $name (${entry#*: })"
    skip_args+=(--skip "$name")
done

echo "-- cargo test --release --manifest-path $shim/Cargo.toml $*"
log=$work/test.log
cargo test --release --manifest-path "$shim/Cargo.toml" "$@" -- "${skip_args[@]}" 2>&1 | tee "$log"
awk -v skipped="${#skips[@]}" '/^test result:/ { passed += $4; failed += $6 }
    END { printf "crossbeam-channel %s suite: %d passed, %d failed, %d skipped\n", "'"$version"'", passed, failed, skipped }' "$log"
