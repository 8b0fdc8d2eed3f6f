//! Release-mode stress of the cancellation-injection harness (run by .ci/run with `cargo test
//! --release --test stress_cancel_inject`; smaller in debug builds): every scenario of
//! `inject_scenarios/` with more messages and rounds, several times over (each repetition meets
//! other interleavings), checking the same totals after every run. Over the repetitions, a
//! scenario whose waits can park must have had its cancellation delivered to a parked wait at
//! least once, so the harness provably exercised that path.

mod cancel_support;
mod inject_scenarios;

use cancel_support::injection::{inject, Scenario};
use inject_scenarios::channels::{consumer, producer, How};
use inject_scenarios::coroutines::{
    block_on_futures, blocking_jobs, borrowing_children, join_children,
};
use inject_scenarios::locks::{condvar_queue, lock_counter, semaphore_rounds};
use inject_scenarios::net::{tcp_client, tcp_client_readiness, tcp_server, udp_echo};
use inject_scenarios::select::{selecting, timers, Selector};
use inject_scenarios::signals::{barrier_rounds, park_ping_pong, wait_group_rounds};
use may::sync::{mpmc, mpsc, Mutex, RwLock};

const fn scaled(release: u64, debug: u64) -> u64 {
    if cfg!(debug_assertions) {
        debug
    } else {
        release
    }
}

/// Repetitions of each scenario.
const REPEAT: u64 = scaled(4, 1);
/// Messages or rounds per run.
const N: u64 = scaled(60, 8);
/// Timer waits per run: each lasts about a millisecond.
const TIMER_WAITS: u64 = scaled(24, 12);

/// Repetitions a scenario that parks may take to have a cancellation reach a parked wait: on a
/// loaded machine a peer can run ahead for several repetitions in a row (an unbounded channel's
/// consumer then always finds a message), which is no failure of the code under test.
const MAX_REPEAT: u64 = 8 * REPEAT;

/// Runs `inject` `REPEAT` times; with `parks`, goes on (up to `MAX_REPEAT`) until some run
/// delivered its cancellation to a wait that was about to park, and asserts that one did.
fn stress<S: Scenario>(name: &str, parks: bool, setup: impl Fn() -> S) {
    let mut while_parked = 0;
    let mut runs = 0;
    while runs < REPEAT || (parks && while_parked == 0 && runs < MAX_REPEAT) {
        while_parked += inject(name, &setup).while_parked;
        runs += 1;
    }
    if parks && REPEAT > 1 {
        assert!(
            while_parked > 0,
            "{name}: no cancellation reached a parked wait in {runs} repetitions"
        );
    }
}

#[test]
fn channels() {
    stress("mpmc bounded(2) recv", true, || {
        consumer(mpmc::bounded(2), How::Block, N)
    });
    stress("mpmc bounded(2) send_timeout", true, || {
        producer(mpmc::bounded(2), How::Timeout, N)
    });
    stress("mpmc bounded(0) recv_timeout", true, || {
        consumer(mpmc::bounded(0), How::Timeout, N)
    });
    stress("mpmc bounded(0) send", true, || {
        producer(mpmc::bounded(0), How::Block, N)
    });
    stress("mpmc unbounded recv", true, || {
        consumer(mpmc::unbounded(), How::Block, N)
    });
    // An unbounded send never waits.
    stress("mpmc unbounded send", false, || {
        producer(mpmc::unbounded(), How::Block, N)
    });
    stress("mpsc sync_channel(1) recv", true, || {
        consumer(mpsc::sync_channel(1), How::Block, N)
    });
    stress("mpsc sync_channel(0) send", true, || {
        producer(mpsc::sync_channel(0), How::Block, N)
    });
}

#[test]
fn locks_and_signals() {
    stress("Mutex::lock", true, || lock_counter::<Mutex<u64>>(N / 2));
    stress("RwLock::write/read", true, || {
        lock_counter::<RwLock<u64>>(N / 2)
    });
    stress("Condvar::wait", true, || condvar_queue(N, false));
    stress("Condvar::wait_timeout", true, || condvar_queue(N, true));
    stress("Semaphore::acquire", true, || semaphore_rounds(N / 2));
    stress("Barrier::wait", true, || barrier_rounds(N / 2));
    stress("WaitGroup::wait", true, || wait_group_rounds(N / 2));
    stress("Blocker::park", true, || park_ping_pong(N, true));
    // `coroutine::park` parks outside the wait helper: its points are cancellation checks.
    stress("coroutine::park", false, || park_ping_pong(N, false));
}

#[test]
fn coroutines_and_selection() {
    stress("JoinHandle::join", true, || join_children(N / 2, false));
    stress("scope", true, || borrowing_children(N, false));
    stress("join!", true, || borrowing_children(N, true));
    stress("spawn_blocking", true, || blocking_jobs(N / 4));
    stress("future::block_on", true, || block_on_futures(N));
    stress("select! native", true, || selecting(N, Selector::Native));
    stress("select! general", true, || selecting(N, Selector::General));
    stress("Select::select", true, || selecting(N, Selector::Dynamic));
    stress("Select::select_timeout", true, || {
        selecting(N, Selector::DynamicTimeout)
    });
    stress("timers", true, || timers(TIMER_WAITS));
}

#[test]
fn sockets() {
    stress("TcpStream connect/write/read", true, || tcp_client(N / 10));
    stress(
        "TcpStream readable/try_read, writable/try_write",
        true,
        || tcp_client_readiness(N / 10),
    );
    stress("TcpListener::accept", true, || tcp_server(N / 2));
    stress("UdpSocket recv_from/send_to", true, || udp_echo(N / 2));
}
