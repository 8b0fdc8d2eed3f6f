#!/usr/bin/env bash
# Regenerates the numbers of docs/performance.md: every comparison runs may and its peer
# (tokio, hyper, Go, std, crossbeam) in the same run on this machine and prints ratio rows.
# Usage: scripts/bench.sh [all|core|net] [seconds per network run, default 5]
#   core: coroutines (spawn, yield, a million parked), memory, locks, channels, select, dump
#   net:  echo against tokio, HTTP against hyper (plain and pipelined, when wrk is installed)
# Absolute numbers are noisy on a shared machine: compare the ratios, and run when it is quiet.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
secs="${2:-5}"
case $what in
    all | core | net) ;;
    *) echo "usage: scripts/bench.sh [all|core|net] [seconds]" >&2; exit 2 ;;
esac

cargo build --release -q -p may-bench --bins
cargo build --release -q -p may --example echo --example echo_client --example http

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r), $(date -u +%F)"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ $what != net ]]; then
    echo "## coroutines";           target/release/spawn
    echo "## yield among 1,000";    target/release/yield_many
    echo "## a million parked";     target/release/parked
    echo "## memory";               target/release/memory
    echo "## sync locks";           target/release/mutex
    echo "## channels";             target/release/channel
    echo "## select";               target/release/select
    echo "## dump";                 target/release/dump
fi
if [[ $what != core ]]; then
    echo "## echo";                 NET_BENCH_SECS="$secs" target/release/net
    if command -v wrk >/dev/null; then
        echo "## http";             HTTP_BENCH_SECS="$secs" target/release/http
        if [[ -x scripts/bench_minihttp.sh ]]; then
            echo "## http, pipelined and may_minihttp"; scripts/bench_minihttp.sh "$secs"
        fi
    else
        echo "## http: skipped (needs wrk: apt-get install wrk)"
    fi
fi
