//! Run-time support for the expansions of the procedural macros. Not a public API: the items are
//! `#[doc(hidden)]` and may change in any release.
//!
//! `#[may::test(workers = N)]` needs it: all tests of a binary share one runtime, whose worker
//! count is fixed when it starts. A test asking for a count the running runtime does not have is
//! run again, alone, in a child process of the test binary with `MAY_WORKERS=N`, and its outcome
//! is reported by the parent test.

use std::process::Command;

/// Set in the child process to the name of the one test it runs.
const CHILD_ENV: &str = "MAY_TEST_CHILD";

/// Makes sure the test runs on a runtime with `workers` workers.
///
/// Returns `None` when the test can run in this process (the runtime now has that many workers),
/// or the outcome of the test run in a child process: `Err` holds why it failed. The child's
/// output is printed (so the test harness shows it on failure).
///
/// `module_path` is `module_path!()` at the test and `name` the test function's name; together
/// they give the name the harness knows the test by.
pub fn test_with_workers(
    workers: usize,
    module_path: &str,
    name: &str,
) -> Option<Result<(), String>> {
    let wanted = if workers == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        workers
    };
    let _ = crate::runtime::config().try_set_workers(workers);
    // Starting the runtime fixes the worker count; then look at what it really is (another test
    // may have set a different count between our call and the start).
    let _ = crate::coroutine::spawn(|| ()).join();
    let running = crate::runtime::metrics().workers;
    if running == wanted {
        return None;
    }
    let test = match module_path.split_once("::") {
        Some((_crate, path)) => format!("{path}::{name}"),
        None => name.to_string(),
    };
    if std::env::var_os(CHILD_ENV).is_some() {
        return Some(Err(format!(
            "may: test `{test}` asked for {wanted} workers but its child process runs {running}"
        )));
    }
    Some(run_child(&test, workers))
}

/// Runs `test` alone in a child process of the current test binary with `MAY_WORKERS=workers`.
/// An emulated test binary (qemu-user) starts it through its runner, named in `MAY_TEST_RUNNER`
/// (a command and its arguments, split at whitespace).
fn run_child(test: &str, workers: usize) -> Result<(), String> {
    let exe = std::env::current_exe()
        .map_err(|err| format!("may: cannot find the test binary to run `{test}`: {err}"))?;
    let runner = std::env::var("MAY_TEST_RUNNER").unwrap_or_default();
    let mut runner = runner.split_whitespace();
    let mut command = match runner.next() {
        Some(program) => {
            let mut command = Command::new(program);
            command.args(runner).arg(exe);
            command
        }
        None => Command::new(exe),
    };
    let output = command
        .args([
            test,
            "--exact",
            "--include-ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env("MAY_WORKERS", workers.to_string())
        .env(CHILD_ENV, test)
        .output()
        .map_err(|err| format!("may: cannot run `{test}` in a child process: {err}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("--- `{test}` ran in a child process with MAY_WORKERS={workers} ---");
    print!("{stdout}");
    eprint!("{stderr}");
    if !stdout.contains("test result: ok. 1 passed") && output.status.success() {
        return Err(format!(
            "may: the child process did not run test `{test}` (was it filtered out?)"
        ));
    }
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "may: test `{test}` failed in its child process with {workers} workers ({}); \
             its output is above",
            output.status
        ))
    }
}
