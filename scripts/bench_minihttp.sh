#!/usr/bin/env bash
# HTTP hello-world throughput, plain and pipelined, in one run: examples/http and
# examples/minihttp (this crate) against hyper 1.x on tokio (bench/src/bin/http_hyper.rs) and
# may_minihttp on may 0.3. may_minihttp is fetched from crates.io at bench time into a
# throwaway crate under a temporary directory (its code is never part of this repository).
#
# Usage: scripts/bench_minihttp.sh [seconds per run, default 5] [rounds, default 3]
#   BENCH_MODES="plain pipelined" and BENCH_WORKERS="1 2" (the defaults) pick the cases.
#   plain:     wrk -c 100 -t 1, one request per write
#   pipelined: the same with a Lua script that writes 16 requests at a time
# For 1 server worker the server is pinned to CPU 0 and wrk to CPU 1; for 2 workers nothing is
# pinned (wrk shares the 2 cores). Every case runs `rounds` times, the servers interleaved;
# the table gives medians (req/s and wrk's p99) and ratios. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"
rounds="${2:-3}"
command -v wrk >/dev/null || { echo "bench_minihttp: needs wrk (apt-get install wrk)" >&2; exit 2; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/bench_minihttp.XXXXXX")"
server_pid=""
cleanup() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

cargo build --release -q -p may --example http --example minihttp
cargo build --release -q -p may-bench --bin http_hyper

# may_minihttp's hello world (its documented HttpService API) on may 0.3, with -t and -p.
# Its build directory is kept across runs (MAY_MINIHTTP_DIR) so that it compiles once.
mmh="${MAY_MINIHTTP_DIR:-${TMPDIR:-/tmp}/may_minihttp_bench}"
mkdir -p "$mmh/src"
cat >"$mmh/Cargo.toml" <<'EOF'
[package]
name = "may-minihttp-bench"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
may = "0.3"
may_minihttp = "0.1"

[workspace]
EOF
cat >"$mmh/src/main.rs" <<'EOF'
use may_minihttp::{HttpServer, HttpService, Request, Response};

#[derive(Clone)]
struct Hello;

impl HttpService for Hello {
    fn call(&mut self, _req: Request, rsp: &mut Response) -> std::io::Result<()> {
        rsp.header("Content-Type: text/plain");
        rsp.body("Hello, world!");
        Ok(())
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str, default: u16| {
        let at = args.iter().position(|a| a == flag);
        at.and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(default)
    };
    may::config().set_workers(arg("-t", 1) as usize);
    let port = arg("-p", 8080);
    let server = HttpServer(Hello).start(("127.0.0.1", port)).unwrap();
    println!("may_minihttp: listening on 127.0.0.1:{port}");
    server.wait();
}
EOF
(cd "$mmh" && cargo build --release -q)

# 16 requests per write; wrk counts each response.
cat >"$tmp/pipeline.lua" <<'EOF'
init = function(args)
    local batch = {}
    for i = 1, 16 do
        batch[i] = wrk.format(nil, "/")
    end
    request_batch = table.concat(batch)
end

request = function()
    return request_batch
end
EOF

declare -A bin=(
    [http]=target/release/examples/http
    [minihttp]=target/release/examples/minihttp
    [hyper]=target/release/http_hyper
    [may_minihttp]="$mmh/target/release/may-minihttp-bench"
)
servers=(http minihttp hyper may_minihttp)

# run MODE WORKERS SERVER PORT: prints "req/s p99-in-us".
run() {
    local mode=$1 workers=$2 server=$3 port=$4 server_cpu=() client_cpu=() lua=()
    if [[ $workers == 1 ]]; then server_cpu=(taskset -c 0); client_cpu=(taskset -c 1); fi
    if [[ $mode == pipelined ]]; then lua=(-s "$tmp/pipeline.lua"); fi
    "${server_cpu[@]}" "${bin[$server]}" -t "$workers" -p "$port" >/dev/null &
    server_pid=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.05
    done
    "${client_cpu[@]}" wrk -c 100 -t 1 -d 1 "${lua[@]}" "http://127.0.0.1:$port/" >/dev/null
    local cpu_before cpu_after
    cpu_before=$(cpu_ticks "$server_pid")
    "${client_cpu[@]}" wrk -c 100 -t 1 -d "$secs" --latency "${lua[@]}" "http://127.0.0.1:$port/" >"$tmp/wrk.out"
    cpu_after=$(cpu_ticks "$server_pid")
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
    # Errors or non-200 answers make a number meaningless: say so next to the table.
    grep -E "Non-2xx|Socket errors" "$tmp/wrk.out" | sed "s/^ */# $server, $mode, $workers worker(s): /" >&2 || true
    awk -v ticks=$((cpu_after - cpu_before)) -v secs="$secs" '
        /^Requests\/sec:/ { rps = $2 }
        $1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                      p99 = v * (u == "ms" ? 1000 : u == "s" ? 1000000 : 1) }
        END { if (rps == "" || p99 == "") exit 1
              # Server CPU (user + system, 100 ticks a second) per request, in microseconds.
              printf "%s %.0f %.2f\n", rps, p99, ticks * 10000 / (rps * secs) }' "$tmp/wrk.out"
}

# cpu_ticks PID: user + system CPU time of a process, in clock ticks (fields 14 and 15).
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg); $secs s per run, median of $rounds"
port=19400
for mode in ${BENCH_MODES:-plain pipelined}; do
    for workers in ${BENCH_WORKERS:-1 2}; do
        : >"$tmp/results"
        for round in $(seq "$rounds"); do
            for server in "${servers[@]}"; do
                port=$((port + 1))
                echo "$server $(run "$mode" "$workers" "$server" "$port")" >>"$tmp/results"
            done
        done
        declare -A rps=() p99=() cpu=() all=()
        for server in "${servers[@]}"; do
            rps[$server]=$(awk -v s="$server" '$1 == s { print $2 }' "$tmp/results" | median)
            p99[$server]=$(awk -v s="$server" '$1 == s { print $3 }' "$tmp/results" | median)
            cpu[$server]=$(awk -v s="$server" '$1 == s { print $4 }' "$tmp/results" | median)
            all[$server]=$(awk -v s="$server" '$1 == s { printf "%s%.0f", sep, $2; sep = "/" }' "$tmp/results")
        done
        best=$(awk -v a="${rps[hyper]}" -v b="${rps[may_minihttp]}" 'BEGIN { print (a > b ? a : b) }')
        echo
        echo "## $mode, $workers server worker(s), wrk -c 100 -t 1$([[ $mode == pipelined ]] && echo ' -s pipeline.lua (16 per write)')"
        echo "| server | req/s (median) | runs | p99 | server CPU per request | vs hyper | vs best of hyper, may_minihttp |"
        echo "|---|---|---|---|---|---|---|"
        for server in "${servers[@]}"; do
            # wrk's percentiles are broken with pipelining (its 90% and 99% print 0.00us).
            awk -v s="$server" -v r="${rps[$server]}" -v p="${p99[$server]}" -v runs="${all[$server]}" \
                -v c="${cpu[$server]}" -v h="${rps[hyper]}" -v b="$best" \
                'BEGIN { printf "| %s | %.0f | %s | %s | %.2f us | %.2fx | %.2fx |\n", s, r, runs,
                         (p > 0 ? sprintf("%.0f us", p) : "n/a"), c, r / h, r / b }'
        done
    done
done
echo
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
