//! Choosing stack sizes: measure what a coroutine uses, then give it enough.
//!
//! Run: `cargo run --release -p may --example stack_size`

use may::coroutine::Builder;

/// Recursion that uses about `depth` * 256 bytes of stack.
#[inline(never)]
fn recurse(depth: u32) -> u64 {
    let frame = std::hint::black_box([depth as u8; 200]);
    if depth == 0 {
        return u64::from(frame[0]);
    }
    u64::from(frame[1]) + recurse(depth - 1)
}

#[may::main]
fn main() {
    for depth in [10u32, 100, 400] {
        let h = Builder::new()
            .name(format!("recurse-{depth}"))
            .stack_size(256 * 1024)
            .measure_stack(true)
            .spawn(move || recurse(depth))
            .expect("a 256 KiB stack can be mapped");
        let co = h.coroutine().clone();
        h.join().expect("no overflow with 256 KiB");
        let used = co.stack_used().expect("measured");
        println!(
            "depth {depth:>3}: used {used:>6} bytes of {} -> a stack of {} KiB is plenty",
            co.stack_size(),
            (used * 2).div_ceil(4096) * 4
        );
    }
    let small = may::go!(stack = "16KiB", move || recurse(10));
    assert_eq!(small.coroutine().stack_size(), 16 * 1024);
    small.join().expect("16 KiB is enough for depth 10");
}
