#!/usr/bin/env bash
# Runs crossbeam-channel's own published test suite (all 14 files of the package's tests/)
# against may::sync::mpmc, in release mode.
#
# The test files are not in this repository: cargo fetches the published package (cargo vendor
# unpacks it, tests included) into the target directory, and ci/crossbeam-channel-shim, a crate
# named `crossbeam-channel` that re-exports may's channel API, builds them as its own tests.
#
#   scripts/crossbeam_suite.sh                 # the whole suite
#   scripts/crossbeam_suite.sh --test select   # one file: arguments go to `cargo test` as given
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

# Every test file of the package, as the shim's manifest names them.
files=(after array golang iter list mpsc never ready same_channel select select_macro thread_locals tick zero)
found=$(cd "$upstream/tests" && LC_ALL=C ls -- *.rs | sed 's/\.rs$//' | tr '\n' ' ')
if [ "$found" != "${files[*]} " ]; then
    echo "the package's tests ($found) are not the shim's (${files[*]})" >&2
    exit 1
fi

# golang.rs runs on one test thread: its select2 test counts the heap bytes of the whole
# process (a counting global allocator) to check that a second burst leaves nothing behind, and
# the file's other tests allocate too when they run alongside it.
serial=(golang)

skip_args=()
for entry in "${skips[@]}"; do
    name=${entry%%:*}
    echo "-- skipped: $name (${entry#*: })"
    skip_args+=(--skip "$name")
done

log=$work/test.log
: >"$log"
run() {
    echo "-- cargo test --release --manifest-path $shim/Cargo.toml $*"
    cargo test --release --manifest-path "$shim/Cargo.toml" "$@" 2>&1 | tee -a "$log"
}
if (($#)); then
    run "$@"
else
    parallel=()
    for file in "${files[@]}"; do
        [[ " ${serial[*]} " == *" $file "* ]] || parallel+=(--test "$file")
    done
    run "${parallel[@]}" -- "${skip_args[@]}"
    for file in "${serial[@]}"; do
        run --test "$file" -- --test-threads=1 "${skip_args[@]}"
    done
fi
awk -v skipped="${#skips[@]}" '/^test result:/ { passed += $4; failed += $6 }
    END { printf "crossbeam-channel %s suite: %d passed, %d failed, %d skipped\n", "'"$version"'", passed, failed, skipped }' "$log"
