//! Stack sizes: overflow is reported clearly (in a child process), usage can be measured.

use std::process::Command;

use may::coroutine::{self, Builder};

const CHILD_ENV: &str = "MAY_TEST_STACK_OVERFLOW_CHILD";

#[inline(never)]
fn recurse(depth: u64, sink: &mut [u8; 512]) -> u64 {
    let mut frame = [0u8; 512];
    frame[(depth % 512) as usize] = depth as u8;
    sink[0] = sink[0].wrapping_add(frame[0]);
    if depth == u64::MAX {
        return 0;
    }
    1 + recurse(depth + 1, std::hint::black_box(&mut frame))
}

/// Runs in the child process: overflows a named 16 KiB coroutine.
fn overflow_in_child() {
    let h = Builder::new()
        .name("deep-recursion")
        .stack_size(16 * 1024)
        .spawn(|| recurse(0, &mut [0u8; 512]))
        .unwrap();
    let _ = h.join();
    unreachable!("the overflow must abort the process");
}

#[test]
fn stack_overflow_aborts_with_a_clear_message() {
    if std::env::var_os(CHILD_ENV).is_some() {
        overflow_in_child();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([
            "stack_overflow_aborts_with_a_clear_message",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the child must not exit successfully"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGABRT),
            "child status {:?}",
            out.status
        );
    }
    let line = stderr
        .lines()
        .find(|l| l.starts_with("may: coroutine #") && l.contains("has overflowed its stack"))
        .unwrap_or_else(|| panic!("no overflow message in stderr:\n{stderr}"));
    assert!(
        line.contains("\"deep-recursion\""),
        "names the coroutine: {line}"
    );
    assert!(line.contains("16384 bytes"), "names the stack size: {line}");
    assert!(line.contains("stack_size"), "says how to raise it: {line}");
    assert!(line.contains('#'), "names the coroutine id: {line}");
}

#[inline(never)]
fn small_frame() -> u8 {
    std::hint::black_box(1u8)
}

#[inline(never)]
fn big_frame() -> u8 {
    let mut frame = [1u8; 64 * 1024];
    std::hint::black_box(&mut frame);
    frame[64 * 1024 - 1]
}

#[test]
fn measured_stack_usage_matches_a_known_frame() {
    let page = 4096;
    let baseline = Builder::new()
        .stack_size(128 * 1024)
        .measure_stack(true)
        .spawn(small_frame)
        .unwrap();
    let co = baseline.coroutine().clone();
    baseline.join().unwrap();
    let base_used = co.stack_used().expect("measured");

    let big = Builder::new()
        .stack_size(128 * 1024)
        .measure_stack(true)
        .spawn(big_frame)
        .unwrap();
    let co = big.coroutine().clone();
    assert_eq!(big.join().unwrap(), 1);
    let used = co.stack_used().expect("measured");
    let frame = 64 * 1024;
    assert!(
        used >= base_used + frame - page && used <= base_used + frame + page,
        "a 64 KiB frame measured as {used} bytes over a baseline of {base_used}"
    );
    assert!(used <= co.stack_size());
}

#[test]
fn unmeasured_coroutines_report_nothing() {
    let h = coroutine::spawn(|| 1);
    let co = h.coroutine().clone();
    h.join().unwrap();
    assert_eq!(co.stack_used(), None);
}
