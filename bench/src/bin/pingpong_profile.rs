//! Profiling driver: two coroutines bouncing a counter over two `mpmc::bounded(1)` channels, in a
//! loop (for `perf record`). `MAY_WORKERS=1 cargo run --release -p may-bench --bin pingpong_profile`
use may::coroutine;
use may::sync::mpmc;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    let (tx1, rx1) = mpmc::bounded::<usize>(1);
    let (tx2, rx2) = mpmc::bounded::<usize>(1);
    let start = std::time::Instant::now();
    let pong = coroutine::spawn(move || {
        for v in rx1.iter() {
            tx2.send(v + 1).expect("ping is alive");
        }
    });
    coroutine::spawn(move || {
        for i in 0..n {
            tx1.send(i).expect("pong is alive");
            assert_eq!(rx2.recv(), Ok(i + 1));
        }
    })
    .join()
    .expect("ping");
    pong.join().expect("pong");
    println!(
        "{:.1} ns per round trip",
        start.elapsed().as_nanos() as f64 / n as f64
    );
}
