//! `#[may::main]`: the body runs in a coroutine named "main" after the options configured the
//! runtime; a `Result` is reported like std's `main` does (`Error: ...`, failure exit code); a
//! panic unwinds out of `main` like a panicking `main`.
//!
//! The `main` functions are in modules and called by the tests; the options configure the
//! runtime of this test binary, so they all ask for the same values.

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

mod emulation;

static RAN: AtomicUsize = AtomicUsize::new(0);

mod plain {
    #[may::main(workers = 2, stack = "64KiB")]
    pub fn main() {
        let me = may::coroutine::current();
        assert_eq!(me.name(), Some("main"));
        assert_eq!(
            me.stack_size(),
            64 * 1024,
            "stack sets the default, main's included"
        );
        assert_eq!(may::runtime::metrics().workers, 2);
        let child = may::go!(|| may::coroutine::current().stack_size());
        assert_eq!(child.join().unwrap(), 64 * 1024);
        super::RAN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

mod fallible {
    #[may::main(stack = 64 * 1024, workers = 2)]
    pub fn main() -> Result<(), Box<dyn std::error::Error>> {
        super::RAN.fetch_add(10, std::sync::atomic::Ordering::SeqCst);
        let text = std::env::var("MACROS_MAIN_INPUT").unwrap_or_else(|_| "not a number".into());
        let n: u32 = text.parse()?;
        if n > 0 {
            return Ok(());
        }
        Err("zero".into())
    }
}

mod panicking {
    #[may::main(workers = 2)]
    pub fn main() {
        super::RAN.fetch_add(100, std::sync::atomic::Ordering::SeqCst);
        panic!("main gave up");
    }
}

#[test]
fn main_forms() {
    // In one test, so that the configuration calls are not interleaved with other tests.
    plain::main();
    assert_eq!(RAN.load(Ordering::SeqCst), 1);

    // The error is reported inside the coroutine (`Error: ParseIntError ...` on stderr), which
    // is why a `Box<dyn Error>`, not `Send`, can be returned.
    let code: ExitCode = fallible::main();
    assert_eq!(code, ExitCode::FAILURE);
    assert_eq!(RAN.load(Ordering::SeqCst), 11);

    let payload = panic::catch_unwind(AssertUnwindSafe(panicking::main)).unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"main gave up"));
    assert_eq!(RAN.load(Ordering::SeqCst), 111);
}

/// The process-level behaviour: this test binary runs itself with `--exact` on a child test
/// that calls `main` and exits the way the real `main` would.
#[test]
fn exit_status_like_std_main() {
    if let Ok(which) = std::env::var("MACROS_MAIN_CHILD") {
        let code = match which.as_str() {
            "ok" => fallible::main(),
            "err" => fallible::main(),
            _ => {
                panicking::main();
                ExitCode::SUCCESS
            }
        };
        std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 });
    }
    let run = |which: &str, input: &str| {
        emulation::test_binary()
            .args(["exit_status_like_std_main", "--exact", "--nocapture"])
            .env("MACROS_MAIN_CHILD", which)
            .env("MACROS_MAIN_INPUT", input)
            .output()
            .unwrap()
    };
    let ok = run("ok", "5");
    assert_eq!(ok.status.code(), Some(0));
    let err = run("err", "x");
    assert_eq!(err.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&err.stderr);
    assert!(stderr.contains("Error: ParseIntError"), "{stderr}");
    let panicked = run("panic", "");
    assert_eq!(
        panicked.status.code(),
        Some(101),
        "the test harness exits 101 on a panic"
    );
    let stderr = String::from_utf8_lossy(&panicked.stderr);
    assert!(stderr.contains("main gave up"), "{stderr}");
}
