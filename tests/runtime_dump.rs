//! `runtime::dump()`: every started coroutine with what it waits on, grouped for people by
//! `format_dump`; `runtime::metrics()`'s per-worker and stack numbers.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine::{self, Builder, JoinHandle};
use may::net::{TcpListener, TcpStream};
use may::runtime::{self, CoroutineInfo, CoroutineState, WaitReason};
use may::sync::{mpmc, Barrier, Blocker, Condvar, Mutex, Semaphore, WaitGroup};

/// The dump entry of the coroutine named `name`, once it is waiting (bounded: 5 s).
fn waiting(name: &str) -> (WaitReason, CoroutineInfo) {
    let start = Instant::now();
    loop {
        let found = runtime::dump()
            .into_iter()
            .find(|c| c.name.as_deref() == Some(name));
        if let Some(info) = found {
            if let CoroutineState::Waiting { on, .. } = info.state {
                return (on, info);
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{name} never showed up waiting in the dump"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn named<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    Builder::new().name(name).spawn(f).unwrap()
}

/// Each kind of wait shows up as what it is, on the coroutine's worker, with its stack size;
/// once released, the coroutines leave the dump.
#[test]
fn dump_names_what_each_coroutine_waits_on() {
    let (tx, rx) = mpmc::bounded::<u32>(0);
    let (full_tx, _full_rx) = mpmc::bounded::<u32>(1);
    full_tx.send(0).unwrap();
    let lock = Arc::new(Mutex::new(()));
    let held = lock.lock().unwrap();
    let sem = Arc::new(Semaphore::new(0));
    let barrier = Arc::new(Barrier::new(2));
    let wg = Arc::new(WaitGroup::new());
    wg.add(1);
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (blocker_tx, blocker_rx) = std::sync::mpsc::channel();

    let mut handles: Vec<JoinHandle<()>> = Vec::new();
    handles.push(named("recv", move || {
        let _ = rx.recv();
    }));
    handles.push(named("send", {
        let full_tx = full_tx.clone();
        move || {
            let _ = full_tx.send(1);
        }
    }));
    handles.push(named("mutex", {
        let lock = lock.clone();
        move || drop(lock.lock())
    }));
    handles.push(named("semaphore", {
        let sem = sem.clone();
        move || drop(sem.acquire())
    }));
    handles.push(named("barrier", {
        let barrier = barrier.clone();
        move || {
            barrier.wait();
        }
    }));
    handles.push(named("wait-group", {
        let wg = wg.clone();
        move || wg.wait()
    }));
    handles.push(named("condvar", {
        let pair = pair.clone();
        move || {
            let (m, c) = &*pair;
            let mut ready = m.lock().unwrap();
            while !*ready {
                ready = c.wait(ready).unwrap();
            }
        }
    }));
    handles.push(named("sleep", || {
        coroutine::sleep(Duration::from_secs(3600))
    }));
    // Parks until cancelled (a spurious return parks again).
    handles.push(named("park", || loop {
        coroutine::park();
    }));
    handles.push(named("blocker", move || {
        let b = Blocker::current();
        blocker_tx.send(b.clone()).unwrap();
        let _ = b.park(None);
    }));
    handles.push(named("socket", move || {
        let mut s = TcpStream::connect(addr).unwrap();
        let mut buf = [0u8; 1];
        let _ = s.read(&mut buf);
    }));
    handles.push(named("join", {
        let target = named("join-target", || {
            coroutine::sleep(Duration::from_secs(3600))
        });
        move || drop(target.join())
    }));
    handles.push(named("select", {
        let (a, ra) = mpmc::bounded::<u8>(0);
        let (b, rb) = mpmc::bounded::<u8>(0);
        let (c, rc) = mpmc::bounded::<u8>(0);
        move || {
            // The senders stay alive (connected channels) until the coroutine is cancelled.
            let _senders = (a, b, c);
            may::select! {
                recv(ra) -> _ => {},
                recv(rb) -> _ => {},
                recv(rc) -> _ => {},
            }
        }
    }));

    let expect = |name: &str, want: fn(&WaitReason) -> bool| {
        let (on, info) = waiting(name);
        assert!(want(&on), "{name} waits on {on:?}");
        assert!(info.worker < runtime::metrics().workers);
        assert_eq!(info.stack_size, may::config().stack_size());
        info
    };
    expect("recv", |on| *on == WaitReason::ChannelRecv);
    expect("send", |on| *on == WaitReason::ChannelSend);
    expect("mutex", |on| *on == WaitReason::Mutex);
    expect("semaphore", |on| *on == WaitReason::Semaphore);
    expect("barrier", |on| *on == WaitReason::Barrier);
    expect("wait-group", |on| *on == WaitReason::WaitGroup);
    expect("condvar", |on| *on == WaitReason::Condvar);
    expect("sleep", |on| *on == WaitReason::Sleep);
    expect("park", |on| *on == WaitReason::Park);
    expect("blocker", |on| *on == WaitReason::Blocker);
    let socket = expect("socket", |on| matches!(on, WaitReason::Readable { .. }));
    // The socket's addresses: connected to the test's listener.
    assert_eq!(socket.peer_addr, Some(addr));
    assert!(socket.local_addr.is_some_and(|a| a.ip() == addr.ip()));
    expect("join", |on| matches!(on, WaitReason::Join { .. }));
    expect("select", |on| *on == WaitReason::Select { operations: 3 });

    // The human form groups them (other tests' coroutines may share the bigger groups).
    let text = runtime::format_dump(&runtime::dump());
    assert!(text.contains("1 coroutine waiting on mutex lock"), "{text}");
    assert!(
        text.contains("  #") && text.contains("\"semaphore\" on worker"),
        "{text}"
    );

    // Release or cancel everything; then none of them is in the dump any more.
    drop(held);
    sem.add_permits(1);
    barrier.wait();
    wg.done();
    *pair.0.lock().unwrap() = true;
    pair.1.notify_all();
    drop(tx);
    let blocker: Blocker = blocker_rx.recv().unwrap();
    blocker.unpark();
    let ids: Vec<u64> = handles
        .iter()
        .map(|h| h.coroutine().id().as_u64())
        .collect();
    for h in &handles {
        h.coroutine().cancel();
    }
    for h in handles {
        let _ = h.join();
    }
    let left: Vec<u64> = runtime::dump()
        .into_iter()
        .map(|c| c.id)
        .filter(|id| ids.contains(id))
        .collect();
    assert!(
        left.is_empty(),
        "finished coroutines still listed: {left:?}"
    );
}

/// A thousand coroutines parked on one channel are one group of a thousand; the metrics count
/// them as started on the workers.
#[test]
fn a_thousand_parked_coroutines_group_together() {
    let (tx, rx) = mpmc::unbounded::<()>();
    let handles: Vec<_> = (0..1000)
        .map(|_| {
            let rx = rx.clone();
            named("grouped", move || rx.recv().unwrap())
        })
        .collect();
    let start = Instant::now();
    let counted = loop {
        let n = runtime::dump()
            .iter()
            .filter(|c| {
                c.name.as_deref() == Some("grouped")
                    && matches!(
                        c.state,
                        CoroutineState::Waiting {
                            on: WaitReason::ChannelRecv,
                            ..
                        }
                    )
            })
            .count();
        if n == 1000 || start.elapsed() > Duration::from_secs(5) {
            break n;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    assert_eq!(counted, 1000);
    let m = runtime::metrics();
    assert!(m.started >= 1000, "{m:?}");
    assert_eq!(m.per_worker.len(), m.workers);
    assert!(m.per_worker.iter().map(|w| w.live).sum::<usize>() >= 1000);
    assert!(m.stacks.in_use_or_kept >= 1000, "{:?}", m.stacks);
    let text = runtime::format_dump(&runtime::dump());
    assert!(
        text.contains("coroutines waiting on channel receive"),
        "{text}"
    );
    assert!(text.contains("... and"), "long groups are cut: {text}");
    for _ in 0..1000 {
        tx.send(()).unwrap();
    }
    for h in handles {
        h.join().unwrap();
    }
    let by_id: HashMap<u64, CoroutineInfo> =
        runtime::dump().into_iter().map(|c| (c.id, c)).collect();
    assert!(
        by_id.values().all(|c| c.name.as_deref() != Some("grouped")),
        "finished coroutines left the dump"
    );
}

/// `metrics().parked` counts coroutines by the kind of their wait, up and down exactly.
#[test]
fn metrics_count_parked_coroutines_by_kind() {
    // Futures: a kind no other test of this file waits on.
    let parked_on_futures = || runtime::metrics().parked["future"];
    let until = |want: usize| {
        let start = Instant::now();
        while parked_on_futures() != want {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "parked on futures: {} (want {want})",
                parked_on_futures()
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    until(0);
    let handles: Vec<_> = (0..100)
        .map(|_| coroutine::spawn(|| may::future::block_on(std::future::pending::<()>())))
        .collect();
    until(100);
    let metrics = runtime::metrics();
    assert!(metrics.parked.len() >= 19, "every kind is listed");
    assert!(metrics.parked.values().sum::<usize>() >= 100);
    assert_eq!(WaitReason::Future.kind_name(), "future");
    for h in &handles[..40] {
        h.coroutine().cancel();
    }
    for h in handles.iter().take(40) {
        h.wait();
    }
    until(60);
    for h in &handles[40..] {
        h.coroutine().cancel();
    }
    let cancelled = handles
        .into_iter()
        .filter_map(|h| h.join().err())
        .filter(|e| e.is_cancelled())
        .count();
    assert_eq!(cancelled, 100);
    until(0);
}
