//! Stack sizes: overflow is reported clearly (in child processes), usage can be measured.

use may::coroutine::{self, Builder};

mod emulation;

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

#[may::coroutine(stack = "24KiB", name = "attr-24k")]
fn overflow_attr_24k() -> u64 {
    recurse(0, &mut [0u8; 512])
}

#[may::coroutine(stack = "128KiB")]
fn overflow_attr_128k_unnamed() -> u64 {
    recurse(0, &mut [0u8; 512])
}

mod overflowing {
    #[may::main(stack = "16KiB")]
    pub fn main() {
        super::recurse(0, &mut [0u8; 512]);
    }
}

/// How a child process overflows a coroutine: `(name, stack bytes)`, spawned through one of
/// the ways a user sets a stack size (see `overflow_in_child`).
const CASES: &[(Option<&str>, usize)] = &[
    (Some("deep-recursion"), 16 * 1024),
    (None, 4 * 1024),
    (Some("four-pages"), 16 * 1024),
    (None, 8 * 1024),
    (Some("odd-size"), 20 * 1024),
    (None, 32 * 1024),
    (Some("default-size"), 32 * 1024),
    (None, 64 * 1024),
    (Some("sixty-four"), 64 * 1024),
    (None, 256 * 1024),
    (Some("a-mebibyte"), 1024 * 1024),
    (None, 2 * 1024 * 1024),
    // go!(stack = .., name = ..):
    (Some("go-8k"), 8 * 1024),
    (Some("go-48k"), 48 * 1024),
    (Some("go-96k"), 96 * 1024),
    // #[may::coroutine(stack = ..)]:
    (Some("attr-24k"), 24 * 1024),
    (None, 128 * 1024),
    // The configured default stack size:
    (None, 40 * 1024),
    (Some("config-12k"), 12 * 1024),
    // #[may::main(stack = ..)]: the main coroutine.
    (Some("main"), 16 * 1024),
];

/// Runs in the child process: overflows case `index` and never returns.
fn overflow_in_child(index: usize) {
    let (name, size) = CASES[index];
    let named = |name: Option<&str>| match name {
        Some(name) => Builder::new().name(name),
        None => Builder::new(),
    };
    let h = match index {
        12 => may::go!(stack = "8KiB", name = "go-8k", || recurse(
            0,
            &mut [0u8; 512]
        )),
        13 => may::go!(stack = "48KiB", name = "go-48k", || recurse(
            0,
            &mut [0u8; 512]
        )),
        14 => may::go!(stack = "96KiB", name = "go-96k", || recurse(
            0,
            &mut [0u8; 512]
        )),
        19 => {
            overflowing::main();
            unreachable!("the overflow must abort the process");
        }
        15 => overflow_attr_24k(),
        16 => overflow_attr_128k_unnamed(),
        17 | 18 => {
            may::config().set_stack_size(size);
            named(name).spawn(|| recurse(0, &mut [0u8; 512])).unwrap()
        }
        _ => named(name)
            .stack_size(size)
            .spawn(|| recurse(0, &mut [0u8; 512]))
            .unwrap(),
    };
    let _ = h.join();
    unreachable!("the overflow must abort the process");
}

/// Runs the test binary again with `env` set, for `test`; returns its stderr and exit status.
fn run_child(test: &str, env: &str, value: &str) -> (String, std::process::ExitStatus) {
    let out = emulation::test_binary()
        .args([test, "--exact", "--nocapture"])
        .env(env, value)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status,
    )
}

/// Twenty overflows, of named and unnamed coroutines of sizes from 4 KiB to 2 MiB spawned with
/// `Builder`, `go!`, `#[may::coroutine]` and the configured default: every one prints the clear
/// line (id, name if any, stack size, how to raise it) and aborts.
#[test]
fn stack_overflow_aborts_with_a_clear_message() {
    if let Ok(index) = std::env::var(CHILD_ENV) {
        overflow_in_child(index.parse().unwrap());
        return;
    }
    let mut clear = 0;
    for (index, &(name, size)) in CASES.iter().enumerate() {
        let (stderr, status) = run_child(
            "stack_overflow_aborts_with_a_clear_message",
            CHILD_ENV,
            &index.to_string(),
        );
        assert!(
            !status.success(),
            "case {index}: the child must not succeed"
        );
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(
                status.signal(),
                Some(libc::SIGABRT),
                "case {index}: child status {status:?}"
            );
        }
        let line = stderr
            .lines()
            .find(|l| l.starts_with("may: coroutine #") && l.contains("has overflowed its stack"))
            .unwrap_or_else(|| panic!("case {index}: no overflow message in stderr:\n{stderr}"));
        if let Some(name) = name {
            assert!(
                line.contains(&format!("{name:?}")),
                "names the coroutine: {line}"
            );
        }
        assert!(
            line.contains(&format!("of {size} bytes")),
            "case {index}: names the stack size {size}: {line}"
        );
        assert!(line.contains("stack_size"), "says how to raise it: {line}");
        clear += 1;
    }
    assert_eq!(clear, CASES.len());
    assert_eq!(clear, 20);
}

const THREAD_CHILD_ENV: &str = "MAY_TEST_THREAD_OVERFLOW_CHILD";

#[inline(never)]
fn recurse_on_thread(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth as u8; 4096]);
    if depth == u64::MAX {
        return 0;
    }
    u64::from(frame[7]) + recurse_on_thread(depth + 1)
}

/// The runtime's fault handler passes on the faults that are not a coroutine's guard page: a
/// plain thread that overflows its own stack still gets std's report.
#[test]
fn a_thread_overflow_is_still_reported_by_std() {
    if std::env::var_os(THREAD_CHILD_ENV).is_some() {
        // Start the runtime, which installs its handler, then overflow this thread.
        coroutine::spawn(|| ()).join().unwrap();
        recurse_on_thread(0);
        unreachable!("the overflow must abort the process");
    }
    if emulation::skip_under(
        "wine",
        "a_thread_overflow_is_still_reported_by_std",
        "wine ends only the overflowing thread (Windows ends the process), so the child never \
         exits",
    ) {
        return;
    }
    let (stderr, status) = run_child(
        "a_thread_overflow_is_still_reported_by_std",
        THREAD_CHILD_ENV,
        "1",
    );
    assert!(!status.success());
    assert!(
        stderr.contains("has overflowed its stack"),
        "std's report is missing:\n{stderr}"
    );
    assert!(
        !stderr.contains("may: coroutine #"),
        "a thread is not a coroutine:\n{stderr}"
    );
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
