//! `go!`: closures, Go-style calls whose arguments are evaluated by the caller (after the
//! spawner of `go!(builder, ..)`), options.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use may::coroutine;
use may::go;

#[test]
fn spawns_a_closure_and_returns_its_handle() {
    let data = [1u64, 2, 3];
    let handle = go!(move || data.iter().sum::<u64>());
    assert!(handle.coroutine().name().is_none());
    assert_eq!(handle.join().unwrap(), 6);

    fn seven() -> u32 {
        7
    }
    assert_eq!(
        go!(seven).join().unwrap(),
        7,
        "a callable value is spawned as is"
    );
}

/// Records who evaluated what, in order.
#[derive(Default)]
struct Log(Mutex<Vec<String>>);

impl Log {
    fn note<T>(&self, what: &str, value: T) -> T {
        let place = if coroutine::is_coroutine() {
            "coroutine"
        } else {
            "caller"
        };
        self.0.lock().unwrap().push(format!("{what}@{place}"));
        value
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn add(log: Arc<Log>, a: u32, b: u32) -> u32 {
    log.note("call", a + b)
}

#[test]
fn call_arguments_are_evaluated_by_the_caller_left_to_right() {
    let log = Arc::new(Log::default());
    let handle = go!(add(Arc::clone(&log), log.note("a", 1), log.note("b", 2)));
    // The arguments were evaluated before go! returned, on the caller's side.
    let before_join = log.take();
    assert_eq!(&before_join[..2], ["a@caller", "b@caller"]);
    assert_eq!(handle.join().unwrap(), 3);
    let mut all = before_join;
    all.extend(log.take());
    assert_eq!(all, ["a@caller", "b@caller", "call@coroutine"]);
}

#[test]
fn with_a_builder_the_spawner_is_evaluated_before_the_arguments() {
    let log = Arc::new(Log::default());
    let handle = go!(
        log.note("builder", coroutine::Builder::new()),
        add(Arc::clone(&log), log.note("a", 1), log.note("b", 2))
    )
    .unwrap();
    assert_eq!(handle.join().unwrap(), 3);
    assert_eq!(
        log.take(),
        ["builder@caller", "a@caller", "b@caller", "call@coroutine"]
    );
}

#[test]
fn the_function_value_and_receiver_are_evaluated_first() {
    let log = Arc::new(Log::default());
    let pick = |log: &Log| log.note("func", |x: u32| x * 10);
    let h = go!(pick(&log)(log.note("arg", 4)));
    assert_eq!(log.take(), ["func@caller", "arg@caller"]);
    assert_eq!(h.join().unwrap(), 40);

    struct Acc(Vec<u32>);
    impl Acc {
        fn push_all(mut self, more: Vec<u32>) -> Vec<u32> {
            self.0.extend(more);
            self.0
        }
    }
    let h = go!(log
        .note("receiver", Acc(vec![1]))
        .push_all(log.note("more", vec![2, 3])));
    assert_eq!(log.take(), ["receiver@caller", "more@caller"]);
    assert_eq!(h.join().unwrap(), vec![1, 2, 3]);
}

#[test]
fn a_value_changed_after_go_is_not_seen_by_the_call() {
    fn report(n: usize) -> usize {
        n
    }
    let counter = AtomicUsize::new(5);
    let handle = go!(report(counter.load(Ordering::SeqCst)));
    counter.store(99, Ordering::SeqCst);
    assert_eq!(handle.join().unwrap(), 5);
}

fn whoami() -> (Option<String>, usize) {
    let me = coroutine::current();
    (me.name().map(str::to_string), me.stack_size())
}

#[test]
fn options_in_any_order() {
    let a = go!(stack = "8KiB", name = "conn", move || whoami());
    let b = go!(name = "other", stack = 1 << 16, whoami);
    let c = go!(name = format!("job-{}", 3), whoami());
    let d = go!(stack = 20 * 1024, move || whoami(),);
    assert_eq!(a.join().unwrap(), (Some("conn".to_string()), 8 * 1024));
    assert_eq!(b.join().unwrap(), (Some("other".to_string()), 64 * 1024));
    let (name, _) = c.join().unwrap();
    assert_eq!(name.as_deref(), Some("job-3"));
    assert_eq!(d.join().unwrap(), (None, 20 * 1024));
}

#[test]
fn many_coroutines_all_joined() {
    let total = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (1..=100usize)
        .map(|i| {
            let total = Arc::clone(&total);
            go!(move || {
                total.fetch_add(i, Ordering::SeqCst);
                i
            })
        })
        .collect();
    let returned: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(returned, 5050);
    assert_eq!(total.load(Ordering::SeqCst), 5050);
}
