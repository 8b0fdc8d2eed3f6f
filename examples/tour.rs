//! A tour of may in one program that finishes on its own: an echo server driven by a few
//! hundred client coroutines for a few seconds, `select!` with a timeout, a cancellation and a
//! contained panic, then what the runtime measured.
//!
//! Run: `cargo run --release --example tour` (from the repository root, or with `-p may`).
//! `TOUR_SECONDS=1` shortens the load phase.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine::Builder;
use may::go;
use may::net::{TcpListener, TcpStream};
use may::sync::mpmc;

const CLIENTS: usize = 300;
const MESSAGE: &[u8] = b"hello from a coroutine, 40 bytes long..";

/// Echoes everything it reads until the client hangs up.
fn serve(mut conn: TcpStream) {
    let mut buf = [0u8; 512];
    loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if conn.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
}

/// Sends a message, reads the echo back, checks it, counts it; until `stop`.
fn client(addr: std::net::SocketAddr, stop: Arc<AtomicBool>, done: Arc<AtomicU64>) -> u64 {
    let mut conn = TcpStream::connect(addr).expect("the server accepts");
    conn.set_nodelay(true).expect("nodelay");
    let mut echo = [0u8; MESSAGE.len()];
    let mut mine = 0;
    while !stop.load(Ordering::Relaxed) {
        conn.write_all(MESSAGE).expect("the server reads");
        conn.read_exact(&mut echo).expect("the server echoes");
        assert_eq!(&echo, MESSAGE, "byte-exact echo");
        mine += 1;
        done.fetch_add(1, Ordering::Relaxed);
    }
    mine
}

#[may::main]
fn main() {
    let seconds: u64 = std::env::var("TOUR_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);

    // 1. An echo server: one coroutine per connection.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let server = go!(move || {
        for conn in listener.incoming() {
            match conn {
                Ok(conn) => drop(go!(serve(conn))),
                Err(err) => eprintln!("accept failed: {err}"),
            }
        }
    });

    // 2. A few hundred clients for a few seconds.
    println!("echo server on {addr}; {CLIENTS} client coroutines for {seconds} s ...");
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| go!(client(addr, stop.clone(), done.clone())))
        .collect();
    may::coroutine::sleep(Duration::from_millis(200));
    let alive_under_load = may::runtime::metrics().alive;
    may::coroutine::sleep(Duration::from_secs(seconds).saturating_sub(Duration::from_millis(200)));
    stop.store(true, Ordering::Relaxed);
    let per_client: Vec<u64> = clients
        .into_iter()
        .map(|c| c.join().expect("client"))
        .collect();
    let elapsed = start.elapsed();
    let total: u64 = per_client.iter().sum();
    assert_eq!(total, done.load(Ordering::Relaxed));
    println!(
        "  {total} round trips, {:.0} requests/s, {alive_under_load} coroutines alive under load",
        total as f64 / elapsed.as_secs_f64()
    );

    // 3. select!: a reply or a timeout, whichever comes first.
    let (reply_tx, replies) = mpmc::bounded::<&str>(1);
    let slow = go!(move || {
        may::coroutine::sleep(Duration::from_millis(300));
        let _ = reply_tx.send("late reply");
    });
    let outcome = may::select! {
        recv(replies) -> r => r.unwrap_or("closed"),
        default(Duration::from_millis(50)) => "timed out after 50 ms",
    };
    println!("select!: {outcome}");
    slow.join().expect("the slow sender");

    // 4. Cancellation: a coroutine blocked for an hour stops now, destructors run.
    let sleeper = go!(move || may::coroutine::sleep(Duration::from_secs(3600)));
    may::coroutine::sleep(Duration::from_millis(10));
    sleeper.coroutine().cancel();
    let cancelled = sleeper.join().expect_err("cancelled").is_cancelled();
    println!("cancel: the hour-long sleeper was cancelled: {cancelled}");

    // 5. A panic is contained in its coroutine.
    let boom = go!(|| -> u32 { panic!("this coroutine fails on purpose") });
    let err = boom.join().expect_err("it panicked");
    println!("panic: contained, join() says: {err}");

    // 6. Stack use of a typical handler, measured.
    let measured = Builder::new()
        .name("measured")
        .measure_stack(true)
        .spawn(|| format!("{:?}", (1..20).collect::<Vec<u32>>()).len())
        .expect("spawn");
    let co = measured.coroutine().clone();
    measured.join().expect("measured coroutine");
    println!(
        "stack: a formatting coroutine used {} of its {} bytes",
        co.stack_used().unwrap_or(0),
        co.stack_size()
    );

    let m = may::runtime::metrics();
    println!(
        "runtime: {} workers, {} coroutines spawned, {} still alive (main and the accept loop)",
        m.workers, m.spawned, m.alive
    );
    drop(server); // detached: the process exits with main
}
