//! `#[may::coroutine]`: calling the function spawns its body as a coroutine with the given name
//! and stack size and returns its `JoinHandle`.

use std::fmt::Display;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use may::coroutine::{self, JoinHandle};

/// What a coroutine saw of itself.
#[derive(Debug, PartialEq)]
struct Seen {
    name: Option<String>,
    stack: usize,
    in_coroutine: bool,
}

fn seen() -> Seen {
    let me = coroutine::current();
    Seen {
        name: me.name().map(str::to_string),
        stack: me.stack_size(),
        in_coroutine: coroutine::is_coroutine(),
    }
}

#[may::coroutine(stack = "64KiB", name = "parser")]
fn parse(src: String) -> (usize, Seen) {
    (src.split_whitespace().count(), seen())
}

#[test]
fn name_and_stack_come_from_the_options() {
    let handle: JoinHandle<(usize, Seen)> = parse("a b c".to_string());
    assert_eq!(handle.coroutine().name(), Some("parser"));
    let (words, seen) = handle.join().unwrap();
    assert_eq!(words, 3);
    assert_eq!(
        seen,
        Seen {
            name: Some("parser".into()),
            stack: 64 * 1024,
            in_coroutine: true
        }
    );
}

#[may::coroutine(stack = 16 * 1024)]
fn unnamed() -> Seen {
    seen()
}

#[may::coroutine(name = format!("conn-{id}"), stack = size)]
fn named_after_args(id: u32, size: usize) -> Seen {
    assert!(id > 0, "the arguments reach the body");
    seen()
}

#[test]
fn integer_sizes_and_expressions_over_arguments() {
    let s = unnamed().join().unwrap();
    assert_eq!((s.name, s.stack), (None, 16 * 1024));
    let s = named_after_args(7, 128 * 1024).join().unwrap();
    assert_eq!((s.name.as_deref(), s.stack), (Some("conn-7"), 128 * 1024));
}

#[may::coroutine]
fn sum<T: Into<u64> + Send + 'static>(
    items: Vec<T>,
    extra: impl Display + Send + 'static,
) -> String {
    let total: u64 = items.into_iter().map(Into::into).sum();
    format!("{total}{extra}")
}

#[test]
fn generics_and_impl_trait_arguments() {
    assert_eq!(sum(vec![1u8, 2, 3], "!").join().unwrap(), "6!");
    assert_eq!(sum(vec![10u32, 20], 0.5).join().unwrap(), "300.5");
}

#[may::coroutine]
fn patterns((a, b): (u32, u32), mut acc: Vec<u32>, _: u8) -> Vec<u32> {
    acc.push(a + b);
    acc
}

#[may::coroutine]
fn fallible(text: String) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = text.trim().parse()?;
    if n == 0 {
        return Ok(100);
    }
    Ok(n * 2)
}

#[test]
fn patterns_return_and_question_mark() {
    assert_eq!(patterns((2, 3), vec![1], 0).join().unwrap(), vec![1, 5]);
    assert_eq!(fallible(" 21 ".into()).join().unwrap(), Ok(42));
    assert_eq!(fallible("0".into()).join().unwrap(), Ok(100));
    assert!(fallible("x".into()).join().unwrap().is_err());
}

struct Counter {
    hits: Arc<AtomicUsize>,
    step: usize,
}

impl Counter {
    #[may::coroutine(name = "counter")]
    fn run(self, times: usize) -> usize {
        for _ in 0..times {
            self.hits.fetch_add(self.step, Ordering::SeqCst);
        }
        assert_eq!(coroutine::current().name(), Some("counter"));
        self.hits.load(Ordering::SeqCst)
    }

    #[may::coroutine]
    fn shared(self: Arc<Self>) -> usize {
        self.hits.fetch_add(self.step, Ordering::SeqCst) + self.step
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        let place = if coroutine::is_coroutine() {
            1000
        } else {
            1_000_000
        };
        self.hits.fetch_add(place, Ordering::SeqCst);
    }
}

#[test]
fn methods_taking_self_by_value() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Counter {
        hits: Arc::clone(&hits),
        step: 2,
    };
    assert_eq!(counter.run(5).join().unwrap(), 10);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1010,
        "one drop, in the coroutine"
    );
    let shared = Arc::new(Counter {
        hits: Arc::clone(&hits),
        step: 5,
    });
    assert_eq!(Arc::clone(&shared).shared().join().unwrap(), 1015);
    assert_eq!(Arc::strong_count(&shared), 1);
    drop(shared);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1_001_015,
        "the last Arc dropped here"
    );
}

#[may::coroutine]
fn panics(msg: &'static str) {
    panic!("{msg}");
}

#[test]
fn a_panic_is_returned_by_join() {
    let err = panics("boom").join().unwrap_err();
    assert_eq!(err.panic_message(), Some("boom"));
}

#[may::coroutine]
fn shout(text: String) -> impl Display + Send + 'static {
    text.to_uppercase()
}

#[test]
fn impl_trait_return() {
    assert_eq!(shout("hey".into()).join().unwrap().to_string(), "HEY");
}
