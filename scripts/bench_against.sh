#!/usr/bin/env bash
# Runs bench programs of this checkout and of an older commit alternately, in the same run, to
# measure what a change costs (each program prints may against its peer, so compare the ratios).
# Usage: scripts/bench_against.sh COMMIT [BIN...]   (default bins: spawn channel)
# Example: scripts/bench_against.sh ee0f4f6 spawn channel   (the dump's bookkeeping: none vs on)
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:?usage: scripts/bench_against.sh COMMIT [BIN...]}"
shift
if [ $# -eq 0 ]; then bins=(spawn channel); else bins=("$@"); fi

old=$(mktemp -d)
trap 'git worktree remove --force "$old" >/dev/null 2>&1 || true' EXIT
git worktree add -q --detach "$old" "$base"
for bin in "${bins[@]}"; do
    cargo build --release -q -p may-bench --bin "$bin"
    (cd "$old" && CARGO_TARGET_DIR="$PWD/target" cargo build --release -q -p may-bench --bin "$bin")
done

for round in 1 2 3; do
    for bin in "${bins[@]}"; do
        echo "## round $round, $bin, $base (before)"
        "$old/target/release/$bin"
        echo "## round $round, $bin, $(git rev-parse --short HEAD) (now)"
        target/release/"$bin"
    done
done
