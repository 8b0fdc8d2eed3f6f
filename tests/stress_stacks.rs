//! Release-mode stress tests of the stacks (run by .ci/run with `cargo test --release --test
//! stress_stacks`); smaller counts in debug builds.
//!
//! - A million parked coroutines at the default `vm.max_map_count`: every one woken and joined,
//!   with the process's memory mappings counted.
//! - A burst of deep coroutines: the memory goes back once it is over.
//! - The `mprotect` guard pages (forced with `MAY_STACK_GUARD=mprotect`, in a child process):
//!   the map-count limit gives a clear error and nothing else breaks.

use std::process::Command;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine::{self, Builder};
use may::sync::mpmc;

const fn scaled(release: usize, debug: usize) -> usize {
    if cfg!(debug_assertions) {
        debug
    } else {
        release
    }
}

fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("resident pages");
    pages * 4096
}

fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .expect("/proc/self/maps")
        .lines()
        .count()
}

fn max_map_count() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Spawns `n` coroutines that each block receiving from one channel, then wakes and joins every
/// one: each message is received exactly once. Returns the mappings seen while all were parked.
fn park_and_wake(n: usize) -> usize {
    let (tx, rx) = mpmc::unbounded::<u64>();
    let parked = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (rx, parked) = (rx.clone(), parked.clone());
            coroutine::spawn(move || {
                parked.fetch_add(1, SeqCst);
                rx.recv().expect("a message for every coroutine")
            })
        })
        .collect();
    wait_for("every coroutine to park", Duration::from_secs(60), || {
        parked.load(SeqCst) == n
    });
    let maps = mappings();
    for i in 1..=n as u64 {
        tx.send(i).unwrap();
    }
    let mut sum = 0;
    let mut joined = 0;
    for h in handles {
        sum += h.join().expect("a parked coroutine");
        joined += 1;
    }
    assert_eq!(joined, n);
    assert_eq!(sum, (n as u64) * (n as u64 + 1) / 2, "each message once");
    maps
}

/// A million parked coroutines fit in a stock kernel's `vm.max_map_count`: their stacks are
/// carved out of a few dozen mappings.
#[test]
fn a_million_parked_coroutines() {
    if std::env::var("MAY_STACK_GUARD").is_ok_and(|v| v.eq_ignore_ascii_case("mprotect")) {
        println!("skipped: MAY_STACK_GUARD=mprotect makes each stack two mappings");
        return;
    }
    let n = scaled(1_000_000, 20_000);
    let before = mappings();
    let maps = park_and_wake(n);
    println!(
        "{n} parked coroutines: {} memory mappings (max_map_count {:?})",
        maps,
        max_map_count()
    );
    assert!(
        maps < before + 1_000,
        "{n} stacks took {} mappings",
        maps - before
    );
}

#[inline(never)]
fn go_deep(depth: usize) -> u64 {
    let frame = std::hint::black_box([depth as u8; 1024]);
    if depth == 0 {
        return u64::from(frame[3]);
    }
    u64::from(frame[1]) + go_deep(depth - 1)
}

/// A burst of coroutines that each use 20 KiB or more of their 64 KiB stack and wait: once they
/// are woken and finished, the memory goes back (stacks kept for reuse keep their top two
/// pages, the others are given back by the idle workers' sweeps).
#[test]
fn a_deep_burst_gives_its_memory_back() {
    // Alone in a child process: the other tests of this binary would move the resident size.
    if std::env::var_os(DEEP_CHILD_ENV).is_none() {
        run_child(
            "a_deep_burst_gives_its_memory_back",
            &[(DEEP_CHILD_ENV, "1")],
            "deep child: ok",
        );
        return;
    }
    let n = scaled(20_000, 2_000);
    // Frames of 1 KiB and more (debug builds make them larger).
    let depth = scaled(20, 10);
    coroutine::spawn(|| ()).join().unwrap();
    let base = resident_bytes();
    let (tx, rx) = mpmc::unbounded::<()>();
    let parked = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (rx, parked, total) = (rx.clone(), parked.clone(), total.clone());
            Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    total.fetch_add(go_deep(depth), SeqCst);
                    parked.fetch_add(1, SeqCst);
                    rx.recv().unwrap();
                })
                .unwrap()
        })
        .collect();
    wait_for("the burst to park", Duration::from_secs(60), || {
        parked.load(SeqCst) == n
    });
    let peak = resident_bytes();
    for _ in 0..n {
        tx.send(()).unwrap();
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        total.load(SeqCst),
        (n * depth * (depth + 1) / 2) as u64,
        "every coroutine went deep"
    );
    let grown = peak.saturating_sub(base);
    assert!(
        grown > n * 10 * 1024,
        "the burst should have touched at least 10 KiB of stack each: grew {grown} bytes"
    );
    // Stacks kept for reuse (64 per thread cache, 1000 per worker shared) keep two pages each.
    let kept = (2 * 64 + 2 * 1000) * 8 * 1024;
    let allowed = base + kept + grown / 10;
    let mut now = resident_bytes();
    let start = Instant::now();
    while now > allowed && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
        now = resident_bytes();
    }
    println!("{n} deep coroutines: {base} bytes resident before, {peak} at the peak, {now} after");
    assert!(
        now <= allowed,
        "memory did not go back: {now} bytes resident, {base} before, {peak} at the peak"
    );
    println!("deep child: ok");
}

const DEEP_CHILD_ENV: &str = "MAY_TEST_DEEP_CHILD";

/// Runs `test` alone in a child process of this test binary with `envs` set (besides this
/// process's variables); it must succeed and print `ok_line`.
fn run_child(test: &str, envs: &[(&str, &str)], ok_line: &str) {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([test, "--exact", "--nocapture"])
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains(ok_line),
        "the child failed:\n{stdout}\n{stderr}"
    );
}

const MPROTECT_CHILD_ENV: &str = "MAY_TEST_MPROTECT_CHILD";

/// With `mprotect` guard pages, each stack is two mappings: past `vm.max_map_count` a
/// coroutine cannot start, and its `join` says why (naming the limit), while the coroutines that
/// did start run and finish normally.
#[test]
fn mprotect_guards_hit_the_map_count_with_a_clear_error() {
    if std::env::var_os(MPROTECT_CHILD_ENV).is_some() {
        mprotect_child();
        return;
    }
    let Some(limit) = max_map_count() else {
        println!("skipped: no /proc/sys/vm/max_map_count on this system");
        return;
    };
    if limit > 100_000 {
        println!("skipped: vm.max_map_count is {limit}, too high to reach in a test");
        return;
    }
    run_child(
        "mprotect_guards_hit_the_map_count_with_a_clear_error",
        &[(MPROTECT_CHILD_ENV, "1"), ("MAY_STACK_GUARD", "mprotect")],
        "mprotect child: ok",
    );
}

fn mprotect_child() {
    let limit = max_map_count().expect("max_map_count");
    let n = limit / 2 + 4_000;
    let (tx, rx) = mpmc::unbounded::<()>();
    let started = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (rx, started) = (rx.clone(), started.clone());
            coroutine::spawn(move || {
                started.fetch_add(1, SeqCst);
                rx.recv().unwrap();
            })
        })
        .collect();
    // Every coroutine either started (and waits) or could not start (and is done).
    wait_for(
        "every coroutine to start or fail",
        Duration::from_secs(60),
        || started.load(SeqCst) + handles.iter().filter(|h| h.is_done()).count() == n,
    );
    let ran = started.load(SeqCst);
    assert!(ran < n, "{n} stacks fit under vm.max_map_count {limit}");
    assert!(ran > limit / 4, "only {ran} coroutines started");
    for _ in 0..ran {
        tx.send(()).unwrap();
    }
    let (mut ok, mut failed) = (0, 0);
    for h in handles {
        match h.join() {
            Ok(()) => ok += 1,
            Err(err) => {
                let msg = err.panic_message().unwrap_or_default().to_string();
                assert!(
                    msg.contains("vm.max_map_count") && msg.contains("could not start"),
                    "unclear error: {msg}"
                );
                failed += 1;
            }
        }
    }
    assert_eq!(ok, ran);
    assert_eq!(ok + failed, n);
    println!("mprotect child: ok ({ok} ran, {failed} could not start under max_map_count {limit})");
}
