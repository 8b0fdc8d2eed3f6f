//! A literal address (`"127.0.0.1:8000"`, `("::1", 80)`, a `SocketAddr`, a slice of them) is
//! converted where the call runs: `bind`, `connect` and `send_to` on it never go to the blocking
//! pool for a name lookup, so a listener bound from a literal exists before its coroutine first
//! yields. Only host names are looked up on the pool. `metrics().blocking_jobs` counts the
//! pool's jobs, so every test here that reads it holds `COUNTER` (the tests of a binary run in
//! parallel, and the count is the process's).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use may::go;
use may::net::{TcpListener, TcpStream, UdpSocket};

/// A coroutine-aware lock: the tests share the one worker.
static COUNTER: may::sync::Mutex<()> = may::sync::Mutex::new(());

fn counter() -> may::sync::MutexGuard<'static, ()> {
    COUNTER.lock().unwrap_or_else(|e| e.into_inner())
}

fn blocking_jobs() -> usize {
    may::runtime::metrics().blocking_jobs
}

/// With one worker, a coroutine spawned by the binder runs only when the binder yields. It
/// connects to the listener: had `bind` yielded (to resolve its string on the pool), it would
/// find no address published yet, which is what a client of a may 0.3 program saw as a refused
/// connection.
#[may::test(workers = 1)]
fn a_listener_bound_from_a_literal_exists_before_its_coroutine_yields() {
    let _serial = counter();
    let jobs = blocking_jobs();
    let published: Arc<Mutex<Option<SocketAddr>>> = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&published);
    let missed = Arc::new(AtomicBool::new(false));
    let missed_by_watcher = Arc::clone(&missed);
    let server = go!(move || {
        let watcher = go!(move || {
            let addr = *seen.lock().unwrap();
            missed_by_watcher.store(addr.is_none(), Ordering::SeqCst);
            let addr = addr.ok_or("the listener was missing")?;
            let mut conn = TcpStream::connect(addr).map_err(|_| "connect failed")?;
            let mut reply = [0u8; 2];
            conn.read_exact(&mut reply).map_err(|_| "no reply")?;
            Ok::<_, &str>(reply)
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        *published.lock().unwrap() = Some(listener.local_addr().unwrap());
        if missed.load(Ordering::SeqCst) {
            // It ran while `bind` was away and will not connect: no accept to hang in.
            return watcher.join().unwrap();
        }
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(b"ok").unwrap();
        watcher.join().unwrap()
    });
    assert_eq!(server.join().unwrap(), Ok(*b"ok"));
    assert_eq!(blocking_jobs(), jobs, "a literal address went to the pool");
}

/// Every form of literal address, for TCP and UDP: no pool job. A host name: one.
#[may::test(workers = 1)]
fn only_host_names_are_looked_up_on_the_pool() {
    let _serial = counter();
    let jobs = blocking_jobs();
    let listener = TcpListener::bind(String::from("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let port = addr.port();
    let server = go!(move || {
        let mut served = 0;
        for conn in listener.incoming().take(6) {
            served += usize::from(conn.is_ok());
        }
        served
    });
    let text = format!("127.0.0.1:{port}");
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    TcpStream::connect(text.as_str()).unwrap();
    TcpStream::connect(&text).unwrap();
    TcpStream::connect(("127.0.0.1", port)).unwrap();
    TcpStream::connect((ip, port)).unwrap();
    #[allow(clippy::needless_borrows_for_generic_args)] // `&SocketAddr` is a form under test
    TcpStream::connect(&addr).unwrap();
    TcpStream::connect(&[addr][..]).unwrap();
    assert_eq!(server.join().unwrap(), 6);

    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let b_addr = b.local_addr().unwrap();
    a.connect(b_addr.to_string()).unwrap();
    a.send(b"one").unwrap();
    a.send_to(b"two", format!("127.0.0.1:{}", b_addr.port()).as_str())
        .unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(b.recv(&mut buf).unwrap(), 3);
    assert_eq!(b.recv(&mut buf).unwrap(), 3);
    assert_eq!(blocking_jobs(), jobs, "a literal address went to the pool");

    // A name is looked up on the pool (whatever it resolves to here).
    let _ = TcpStream::connect(("localhost", port));
    assert_eq!(blocking_jobs(), jobs + 1);
}
