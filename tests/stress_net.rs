//! 10,000 abrupt client disconnects (SO_LINGER 0, so the server sees resets), then the open
//! descriptor count and the live coroutine count are back to their baseline: no descriptor,
//! registration or coroutine leaks. Scaled down in debug builds.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use may::coroutine::{self, JoinHandle};
use may::net::{TcpListener, TcpStream};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

#[test]
fn abrupt_disconnects_leak_nothing() {
    let total: usize = if cfg!(debug_assertions) {
        1_000
    } else {
        10_000
    };
    const BATCH: usize = 250;
    // Runtime and blocking pool up before the baseline is taken.
    coroutine::spawn(|| ()).join().unwrap();
    let base_fds = open_fds();
    let base_alive = may::runtime::metrics().alive;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let handlers: Arc<Mutex<Vec<JoinHandle<usize>>>> = Arc::default();
    let server = coroutine::spawn({
        let (stop, handlers) = (Arc::clone(&stop), Arc::clone(&handlers));
        move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let h = coroutine::spawn(move || {
                    let mut buf = [0u8; 512];
                    let mut echoed = 0;
                    while let Ok(n @ 1..) = stream.read(&mut buf) {
                        if stream.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        echoed += n;
                    }
                    echoed
                });
                handlers.lock().unwrap().push(h);
            }
        }
    });

    let round_trips = Arc::new(AtomicUsize::new(0));
    for _ in 0..total / BATCH {
        let clients: Vec<_> = (0..BATCH)
            .map(|_| {
                let round_trips = Arc::clone(&round_trips);
                coroutine::spawn(move || {
                    let mut s = TcpStream::connect(addr).unwrap();
                    s.write_all(b"ping").unwrap();
                    let mut back = [0u8; 4];
                    s.read_exact(&mut back).unwrap();
                    assert_eq!(&back, b"ping");
                    s.set_linger(Some(Duration::ZERO)).unwrap();
                    round_trips.fetch_add(1, Ordering::Relaxed);
                    // Dropped here: close with linger 0 sends RST.
                })
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
    }
    stop.store(true, Ordering::SeqCst);
    drop(std::net::TcpStream::connect(addr).unwrap());
    server.join().unwrap();
    let handlers = std::mem::take(&mut *handlers.lock().unwrap());
    assert_eq!(handlers.len(), total);
    let echoed: usize = handlers.into_iter().map(|h| h.join().unwrap()).sum();

    assert_eq!(round_trips.load(Ordering::Relaxed), total);
    assert_eq!(echoed, 4 * total);
    assert_eq!(open_fds(), base_fds, "descriptors leaked");
    assert_eq!(
        may::runtime::metrics().alive,
        base_alive,
        "coroutines leaked"
    );
}
