//! `#[may::test]`: the test body runs in a coroutine named after the test; `#[should_panic]`,
//! `-> Result` and the `workers` / `stack` options work.
//!
//! The tests with `workers = N` ask for different worker counts in one test binary: at most one
//! of them can run on the shared runtime, the others are run again in a child process of this
//! binary with `MAY_WORKERS=N`. Each asserts the count it really runs with.

use may::coroutine;

#[may::test]
fn runs_in_a_coroutine_named_after_the_test() {
    assert!(coroutine::is_coroutine());
    let me = coroutine::current();
    assert_eq!(me.name(), Some("runs_in_a_coroutine_named_after_the_test"));
    assert_eq!(me.stack_size(), may::config().stack_size());
}

#[may::test(stack = "256KiB")]
fn stack_option_sizes_the_test_coroutine() {
    assert_eq!(coroutine::current().stack_size(), 256 * 1024);
    // Only this coroutine: the default for others is unchanged.
    let other = coroutine::spawn(|| coroutine::current().stack_size());
    assert_eq!(other.join().unwrap(), may::config().stack_size());
}

#[may::test]
#[should_panic(expected = "boom in a coroutine")]
fn should_panic_sees_the_coroutine_panic() {
    let n = 3;
    if n == 3 {
        panic!("boom in a coroutine");
    }
}

#[may::test]
fn returns_ok() -> Result<(), String> {
    let n: u32 = "42".parse().map_err(|e| format!("{e}"))?;
    if n != 42 {
        return Err("wrong".into());
    }
    Ok(())
}

#[may::test]
fn returns_a_non_send_error_type() -> Result<(), Box<dyn std::error::Error>> {
    let n: u32 = "7".parse()?;
    assert_eq!(n, 7);
    Ok(())
}

#[may::test]
#[ignore = "shows that an Err fails the test: run with --ignored, it must fail"]
fn returns_err_and_fails() -> Result<(), String> {
    Err("this test fails on purpose".into())
}

fn workers_now() -> usize {
    may::runtime::metrics().workers
}

#[may::test(workers = 1)]
fn runs_on_one_worker() {
    assert_eq!(workers_now(), 1);
}

#[may::test(workers = 2)]
fn runs_on_two_workers() {
    assert_eq!(workers_now(), 2);
}

#[may::test(workers = 3, stack = 64 * 1024)]
fn runs_on_three_workers_with_options_combined() -> Result<(), String> {
    assert_eq!(coroutine::current().stack_size(), 64 * 1024);
    if workers_now() == 3 {
        Ok(())
    } else {
        Err(format!("{} workers", workers_now()))
    }
}

#[may::test(workers = 4)]
#[should_panic(expected = "on four workers")]
fn should_panic_with_workers() {
    panic!("on four workers: {}", workers_now());
}

mod nested {
    #[may::test(workers = 5)]
    fn the_child_process_finds_a_test_in_a_module() {
        assert_eq!(may::runtime::metrics().workers, 5);
    }
}
