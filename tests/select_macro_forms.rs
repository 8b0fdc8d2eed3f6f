//! `select!` accepts every form crossbeam-channel's `select!` does: `default()` (the same as
//! `default`), trailing commas in arguments and after the last branch, block bodies without a
//! comma, a `select!` with only a `default` branch, `select_biased!`, and both macros under
//! `may::sync::mpmc`, where crossbeam-channel users look for them.

use std::time::{Duration, Instant};

use may::sync::mpmc;

#[test]
fn default_with_empty_parentheses_is_default() {
    let (_tx, rx) = mpmc::unbounded::<u8>();
    let picked = may::select! {
        recv(rx) -> _m => 1,
        default() => 2,
    };
    assert_eq!(picked, 2);
}

#[test]
fn trailing_commas_and_bodies() {
    let (tx, rx) = mpmc::bounded::<u8>(1);
    let mut log = Vec::new();
    may::select! {
        send(tx, 7,) -> res => { res.unwrap(); log.push("sent") }
        recv(rx,) -> _m => log.push("received"),
        default(Duration::from_secs(10),) => log.push("timed out"),
    }
    may::select! {
        recv(rx) -> m => { log.push("received"); assert_eq!(m, Ok(7)) },
        send(tx, 8) -> _r => log.push("sent again")
    }
    assert_eq!(log, ["sent", "received"]);
}

#[test]
fn only_a_default_branch() {
    let ran = may::select! { default => "now" };
    assert_eq!(ran, "now");
    let ran = may::select! { default() => "now", };
    assert_eq!(ran, "now");
    let start = Instant::now();
    let ran = may::select! { default(Duration::from_millis(20)) => "later" };
    assert_eq!(ran, "later");
    assert!(
        start.elapsed() >= Duration::from_millis(20),
        "waited the timeout"
    );
}

#[test]
fn biased_macro_takes_the_first_ready_branch() {
    let (tx1, rx1) = mpmc::unbounded::<u8>();
    let (tx2, rx2) = mpmc::unbounded::<u8>();
    let mut first = 0;
    for _ in 0..100 {
        tx1.send(1).unwrap();
        tx2.send(2).unwrap();
        first += may::select_biased! {
            recv(rx1) -> m => usize::from(m == Ok(1)),
            recv(rx2) -> _m => 0,
        };
        assert_eq!(rx2.recv(), Ok(2));
    }
    assert_eq!(first, 100);
}

#[test]
fn macros_under_the_mpmc_module() {
    use may::sync::mpmc::{select, select_biased};
    let (tx, rx) = mpmc::unbounded::<u8>();
    tx.send(3).unwrap();
    let got = select! { recv(rx) -> m => m.unwrap() };
    tx.send(4).unwrap();
    let got2 = select_biased! { recv(rx) -> m => m.unwrap(), default => 0 };
    assert_eq!((got, got2), (3, 4));
    let got3 = mpmc::select! { recv(rx) -> _m => 5, default => 6 };
    assert_eq!(got3, 6);
}
