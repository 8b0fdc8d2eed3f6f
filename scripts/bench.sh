#!/usr/bin/env bash
# Regenerates the numbers of docs/performance.md: every comparison runs may and its peer
# (tokio, hyper, std, crossbeam) in the same run on this machine and prints ratio rows.
# Usage: scripts/bench.sh [seconds per network run, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"

cargo build --release -q -p may-bench --bins
cargo build --release -q -p may --example echo --example echo_client --example http

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r), $(date -u +%F)"
echo "## coroutines";  target/release/spawn
echo "## memory";      target/release/memory
echo "## sync locks";  target/release/mutex
echo "## channels";    target/release/channel
echo "## echo";        NET_BENCH_SECS="$secs" target/release/net
if command -v wrk >/dev/null; then
    echo "## http";    HTTP_BENCH_SECS="$secs" target/release/http
else
    echo "## http: skipped (needs wrk: apt-get install wrk)"
fi
