//! Cancellation injected at every blocking point of a channel's producer or consumer (issue 12):
//! mpmc bounded, rendezvous and unbounded channels, mpsc `channel` and `sync_channel`, with
//! `send`/`recv` and `send_timeout`/`recv_timeout`. The coroutine under test is one side of a
//! producer/consumer pair; after every run each message sent was received exactly once (by
//! the body, its peer, or the check draining the channel) and each message was dropped exactly
//! once. Harness: `cancel_support/injection.rs`; scenarios: `inject_scenarios/channels.rs`.

mod cancel_support;
mod inject_scenarios;

use cancel_support::injection::inject;
use inject_scenarios::channels::{consumer, producer, How};
use may::sync::{mpmc, mpsc};

/// Messages per run: enough for a backlog in a bounded channel, few enough for a quick file.
const N: u64 = 12;

#[test]
fn mpmc_bounded_recv() {
    inject("mpmc bounded(2) recv", || {
        consumer(mpmc::bounded(2), How::Block, N)
    });
    inject("mpmc bounded(2) recv_timeout", || {
        consumer(mpmc::bounded(2), How::Timeout, N)
    });
}

#[test]
fn mpmc_bounded_send() {
    inject("mpmc bounded(2) send", || {
        producer(mpmc::bounded(2), How::Block, N)
    });
    inject("mpmc bounded(2) send_timeout", || {
        producer(mpmc::bounded(2), How::Timeout, N)
    });
}

#[test]
fn mpmc_rendezvous() {
    inject("mpmc bounded(0) recv", || {
        consumer(mpmc::bounded(0), How::Block, N)
    });
    inject("mpmc bounded(0) recv_timeout", || {
        consumer(mpmc::bounded(0), How::Timeout, N)
    });
    inject("mpmc bounded(0) send", || {
        producer(mpmc::bounded(0), How::Block, N)
    });
    inject("mpmc bounded(0) send_timeout", || {
        producer(mpmc::bounded(0), How::Timeout, N)
    });
}

#[test]
fn mpmc_unbounded() {
    inject("mpmc unbounded recv", || {
        consumer(mpmc::unbounded(), How::Block, N)
    });
    inject("mpmc unbounded recv_timeout", || {
        consumer(mpmc::unbounded(), How::Timeout, N)
    });
    inject("mpmc unbounded send", || {
        producer(mpmc::unbounded(), How::Block, N)
    });
}

#[test]
fn mpsc_channels() {
    inject("mpsc channel recv", || {
        consumer(mpsc::channel(), How::Block, N)
    });
    inject("mpsc channel recv_timeout", || {
        consumer(mpsc::channel(), How::Timeout, N)
    });
    inject("mpsc channel send", || {
        producer(mpsc::channel(), How::Block, N)
    });
    inject("mpsc sync_channel(1) recv", || {
        consumer(mpsc::sync_channel(1), How::Block, N)
    });
    inject("mpsc sync_channel(1) send", || {
        producer(mpsc::sync_channel(1), How::Block, N)
    });
    inject("mpsc sync_channel(0) recv_timeout", || {
        consumer(mpsc::sync_channel(0), How::Timeout, N)
    });
    inject("mpsc sync_channel(0) send", || {
        producer(mpsc::sync_channel(0), How::Block, N)
    });
}
