//! The channel errors convert into std's `std::sync::mpsc` errors of the same names (may 0.3's
//! channels returned std's types), so code that states std's types takes them with `?`; the
//! variants map one to one and a failed send's message comes back intact.

use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use may::sync::{mpmc, mpsc};

/// Written against std's error types, as may 0.3 code was.
fn add_two(rx: &mpsc::Receiver<u32>) -> Result<u32, std_mpsc::RecvError> {
    Ok(rx.recv()? + rx.recv()?)
}

/// Matches std's variants, as may 0.3 code did.
fn poll(rx: &mpsc::Receiver<u32>) -> &'static str {
    match rx.try_recv().map_err(std_mpsc::TryRecvError::from) {
        Ok(_) => "message",
        Err(std_mpsc::TryRecvError::Empty) => "empty",
        Err(std_mpsc::TryRecvError::Disconnected) => "disconnected",
    }
}

#[test]
fn receive_errors_convert_with_question_mark() {
    let (tx, rx) = mpsc::channel();
    let producer = may::go!(move || {
        for v in 1..=10 {
            tx.send(v).unwrap();
        }
    });
    let mut total = 0;
    let mut pairs = 0;
    while let Ok(two) = add_two(&rx) {
        total += two;
        pairs += 1;
    }
    producer.join().unwrap();
    assert_eq!((pairs, total), (5, 55));
    assert_eq!(add_two(&rx), Err(std_mpsc::RecvError));

    let (tx, rx) = mpsc::channel();
    assert_eq!(poll(&rx), "empty");
    tx.send(1).unwrap();
    assert_eq!(poll(&rx), "message");
    drop(tx);
    assert_eq!(poll(&rx), "disconnected");
}

#[test]
fn every_variant_maps_to_its_namesake() {
    let (tx, rx) = mpsc::sync_channel::<String>(1);
    tx.send("first".into()).unwrap();
    match std_mpsc::TrySendError::from(tx.try_send("full".into()).unwrap_err()) {
        std_mpsc::TrySendError::Full(msg) => assert_eq!(msg, "full"),
        other => panic!("expected Full, got {other:?}"),
    }
    let timeout = rx.recv_timeout(Duration::from_millis(1));
    assert_eq!(timeout.as_deref(), Ok("first"));
    let timeout = rx.recv_timeout(Duration::from_millis(1)).unwrap_err();
    assert_eq!(
        std_mpsc::RecvTimeoutError::from(timeout),
        std_mpsc::RecvTimeoutError::Timeout
    );
    drop(rx);
    let err: std_mpsc::SendError<String> = tx.send("lost".into()).unwrap_err().into();
    assert_eq!(err.0, "lost");
    match std_mpsc::TrySendError::from(tx.try_send("gone".into()).unwrap_err()) {
        std_mpsc::TrySendError::Disconnected(msg) => assert_eq!(msg, "gone"),
        other => panic!("expected Disconnected, got {other:?}"),
    }

    let (tx, rx) = mpmc::unbounded::<u8>();
    assert_eq!(
        std_mpsc::TryRecvError::from(rx.try_recv().unwrap_err()),
        std_mpsc::TryRecvError::Empty
    );
    drop(tx);
    assert_eq!(
        std_mpsc::TryRecvError::from(rx.try_recv().unwrap_err()),
        std_mpsc::TryRecvError::Disconnected
    );
    assert_eq!(
        std_mpsc::RecvTimeoutError::from(rx.recv_timeout(Duration::ZERO).unwrap_err()),
        std_mpsc::RecvTimeoutError::Disconnected
    );
}
