//! Finding out why a program is stuck: a small server with some typical bugs (a lock-order
//! deadlock, idle connections, a pool with no work, a join on a deadlocked coroutine, a
//! thousand long sleeps), then `may::runtime::print_dump()` of what every coroutine waits on,
//! grouped like Go's goroutine dump. The example checks the dump shows each group, then cancels
//! everything and exits.
//!
//! Run: `cargo run --release -p may --example debug_dump`

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use may::coroutine::{Builder, JoinHandle};
use may::net::{TcpListener, TcpStream};
use may::runtime::{CoroutineState, WaitReason};
use may::sync::{mpmc, Mutex};

fn named<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    Builder::new()
        .name(name)
        .spawn(f)
        .expect("a valid stack size")
}

/// Locks `first` then, a moment later, `second`: two of these with the locks swapped deadlock.
/// (A lock whose holder was cancelled is poisoned: then the transfer gives up.)
fn transfer(first: Arc<Mutex<u64>>, second: Arc<Mutex<u64>>) {
    let Ok(mut from) = first.lock() else { return };
    may::coroutine::sleep(Duration::from_millis(20));
    let Ok(mut to) = second.lock() else { return };
    *from -= 1;
    *to += 1;
}

#[may::main]
fn main() -> std::io::Result<()> {
    let mut all: Vec<JoinHandle<()>> = Vec::new();

    // A server whose three clients connected and then said nothing.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    all.push(named("acceptor", move || {
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            named(&format!("conn-{i}"), move || {
                let mut buf = [0u8; 512];
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    }));
    let clients: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(addr))
        .collect::<Result<_, _>>()?;

    // A pool of workers nobody sends jobs to.
    let (jobs, job_rx) = mpmc::unbounded::<u64>();
    for i in 0..4 {
        let rx = job_rx.clone();
        all.push(named(&format!("job-worker-{i}"), move || {
            while let Ok(job) = rx.recv() {
                println!("job {job}");
            }
        }));
    }

    // A lock-order deadlock, and an auditor waiting for one of its coroutines.
    let (a, b) = (Arc::new(Mutex::new(100)), Arc::new(Mutex::new(100)));
    let ab = named("transfer-a-to-b", {
        let (a, b) = (a.clone(), b.clone());
        move || transfer(a, b)
    });
    all.push(named("transfer-b-to-a", move || transfer(b, a)));
    let stuck_id = ab.coroutine().id().as_u64();
    all.push(named("auditor", move || {
        let _ = ab.join();
    }));

    // Sessions that time out in an hour.
    for i in 0..1_000 {
        all.push(named(&format!("session-{i}"), || {
            may::coroutine::sleep(Duration::from_secs(3600))
        }));
    }

    may::coroutine::sleep(Duration::from_millis(200));
    may::runtime::print_dump();

    // Check the dump says what the bugs are.
    let mut waiting: HashMap<WaitReason, usize> = HashMap::new();
    for info in may::runtime::dump() {
        if let CoroutineState::Waiting { on, .. } = info.state {
            let kind = match on {
                WaitReason::Readable { .. } => WaitReason::Readable { fd: 0 },
                other => other,
            };
            *waiting.entry(kind).or_default() += 1;
        }
    }
    let expect = [
        (WaitReason::Readable { fd: 0 }, 4), // the acceptor and three connections
        (WaitReason::ChannelRecv, 4),
        (WaitReason::Mutex, 2),
        (WaitReason::Join { id: stuck_id }, 1),
        (WaitReason::Sleep, 1_000),
    ];
    for (reason, count) in expect {
        let seen = waiting.get(&reason).copied().unwrap_or(0);
        assert_eq!(seen, count, "coroutines waiting on {reason}");
    }

    // Clean up: cancel every coroutine and wait for them to unwind.
    drop(jobs);
    drop(clients);
    for h in &all {
        h.coroutine().cancel();
    }
    let cancelled = all.into_iter().filter_map(|h| h.join().err()).count();
    println!("\ncancelled {cancelled} stuck coroutines; only main is left:");
    may::coroutine::sleep(Duration::from_millis(50));
    may::runtime::print_dump();
    Ok(())
}
