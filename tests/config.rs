//! Runtime configuration: environment overrides, setters, and changes after start.

use may::coroutine;

mod emulation;

const CHILD_ENV: &str = "MAY_TEST_CONFIG_CHILD";

#[test]
fn environment_sets_workers_and_stack_size() {
    if std::env::var_os(CHILD_ENV).is_some() {
        let h = coroutine::spawn(|| coroutine::current().stack_size());
        assert_eq!(h.join().unwrap(), 64 * 1024);
        assert_eq!(may::runtime::metrics().workers, 3);
        println!("child-ok");
        return;
    }
    let out = emulation::test_binary()
        .args([
            "environment_sets_workers_and_stack_size",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .env("MAY_WORKERS", "3")
        .env("MAY_STACK_SIZE", "64KiB")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("child-ok"), "{stdout}");
}

#[test]
fn setters_chain_and_workers_are_fixed_after_start() {
    // Start the runtime (other tests may already have).
    coroutine::spawn(|| ()).join().unwrap();
    let running = may::config().workers();
    let err = may::config().try_set_workers(running + 1).unwrap_err();
    assert!(err.to_string().contains("already runs"), "{err}");
    // Setting the same count is not an error.
    assert!(may::config().try_set_workers(running).is_ok());
    assert_eq!(may::runtime::metrics().workers, running);
    // Stack size and pool capacity apply to later spawns.
    let previous = may::config().stack_size();
    may::config().set_stack_size(20_000).set_pool_capacity(10);
    assert_eq!(may::config().stack_size(), 20_480, "rounded up to pages");
    assert_eq!(may::config().pool_capacity(), 10);
    may::config()
        .set_stack_size(previous)
        .set_pool_capacity(1000);
}

#[test]
fn parse_size_accepts_units_and_rejects_garbage() {
    assert_eq!(coroutine::parse_size("4096"), Ok(4096));
    assert_eq!(coroutine::parse_size("64KiB"), Ok(65536));
    assert_eq!(coroutine::parse_size("64k"), Ok(65536));
    assert_eq!(coroutine::parse_size("2MiB"), Ok(2 << 20));
    assert!(coroutine::parse_size("").is_err());
    assert!(coroutine::parse_size("KiB").is_err());
    assert!(coroutine::parse_size("12 parsecs")
        .unwrap_err()
        .contains("unknown size unit"));
    assert!(coroutine::parse_size("99999999999999999999").is_err());
}
