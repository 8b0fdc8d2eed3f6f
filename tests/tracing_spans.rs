//! The `tracing` feature: every coroutine runs inside a `coroutine` span carrying its id and
//! name, entered whenever it runs (across yields, sleeps and channel waits, on whichever worker)
//! and closed when it finishes. Run with `cargo test -p may --features tracing --test
//! tracing_spans`.
#![cfg(feature = "tracing")]

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use may::coroutine::{self, Builder};
use may::sync::mpmc;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// What a coroutine span said about itself.
#[derive(Debug, Default, Clone)]
struct SpanFields {
    span_name: &'static str,
    id: Option<u64>,
    name: Option<String>,
}

/// An event: the span current on its thread, and its `i` and `phase` fields.
#[derive(Debug, Default, Clone, Copy)]
struct EventSeen {
    current: Option<u64>,
    i: u64,
    phase: u64,
}

#[derive(Default)]
struct Recorder {
    next_id: AtomicU64,
    spans: Mutex<HashMap<u64, SpanFields>>,
    closed: Mutex<Vec<u64>>,
    events: Mutex<Vec<EventSeen>>,
}

thread_local! {
    /// The spans entered on this thread, innermost last.
    static ENTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

impl Visit for SpanFields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "id" {
            self.id = Some(value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "name" {
            self.name = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

impl Visit for EventSeen {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "i" => self.i = value,
            "phase" => self.phase = value,
            _ => {}
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

/// The recorder behind the global dispatcher (a global default reaches the worker threads).
#[derive(Clone)]
struct Shared(Arc<Recorder>);

impl Subscriber for Shared {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.0.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = SpanFields {
            span_name: attrs.metadata().name(),
            ..SpanFields::default()
        };
        attrs.record(&mut fields);
        self.0.spans.lock().unwrap().insert(id, fields);
        Id::from_u64(id)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut seen = EventSeen {
            current: ENTERED.with(|e| e.borrow().last().copied()),
            ..EventSeen::default()
        };
        event.record(&mut seen);
        self.0.events.lock().unwrap().push(seen);
    }

    fn enter(&self, span: &Id) {
        ENTERED.with(|e| e.borrow_mut().push(span.into_u64()));
    }

    fn exit(&self, span: &Id) {
        ENTERED.with(|e| {
            let mut e = e.borrow_mut();
            assert_eq!(e.pop(), Some(span.into_u64()), "spans exit in order");
        });
    }

    fn try_close(&self, span: Id) -> bool {
        self.0.closed.lock().unwrap().push(span.into_u64());
        true
    }
}

#[test]
fn every_coroutine_runs_in_its_own_span() {
    let recorder = Arc::new(Recorder::default());
    tracing::subscriber::set_global_default(Shared(Arc::clone(&recorder))).unwrap();
    may::config().set_workers(2);

    const N: u64 = 200;
    let (tx, rx) = mpmc::unbounded::<()>();
    let handles: Vec<_> = (0..N)
        .map(|i| {
            let rx = rx.clone();
            Builder::new()
                .name(format!("co-{i}"))
                .spawn(move || {
                    tracing::info!(i, phase = 0u64);
                    coroutine::yield_now();
                    tracing::info!(i, phase = 1u64);
                    coroutine::sleep(Duration::from_millis(1));
                    tracing::info!(i, phase = 2u64);
                    rx.recv().unwrap();
                    tracing::info!(i, phase = 3u64);
                })
                .unwrap()
        })
        .collect();
    let ids: Vec<u64> = handles
        .iter()
        .map(|h| h.coroutine().id().as_u64())
        .collect();
    // An unnamed coroutine has a span too, without a name.
    let unnamed = coroutine::spawn(|| tracing::info!(i = N, phase = 0u64));
    let unnamed_id = unnamed.coroutine().id().as_u64();
    for _ in 0..N {
        tx.send(()).unwrap();
    }
    for h in handles {
        h.join().unwrap();
    }
    unnamed.join().unwrap();
    // Outside any coroutine: no span.
    tracing::info!(i = u64::MAX, phase = 0u64);

    let spans = recorder.spans.lock().unwrap().clone();
    let events = recorder.events.lock().unwrap().clone();
    assert_eq!(events.len() as u64, 4 * N + 2);
    let mut phases = vec![0u64; N as usize + 1];
    for e in &events {
        if e.i == u64::MAX {
            assert_eq!(e.current, None, "an event outside coroutines has no span");
            continue;
        }
        let span = e
            .current
            .and_then(|s| spans.get(&s))
            .unwrap_or_else(|| panic!("event {e:?} outside a span"));
        assert_eq!(span.span_name, "coroutine");
        if e.i == N {
            assert_eq!(span.id, Some(unnamed_id));
            assert_eq!(span.name, None);
        } else {
            assert_eq!(span.id, Some(ids[e.i as usize]), "event {e:?} in {span:?}");
            assert_eq!(span.name.as_deref(), Some(format!("co-{}", e.i).as_str()));
        }
        phases[e.i as usize] += 1 << (8 * e.phase);
    }
    assert!(phases[..N as usize].iter().all(|&p| p == 0x0101_0101));

    // Each coroutine's span was closed when it finished (the worker drops it before the join
    // returns).
    let closed = recorder.closed.lock().unwrap().clone();
    let coroutine_spans: Vec<u64> = spans
        .iter()
        .filter(|(_, f)| f.span_name == "coroutine")
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(coroutine_spans.len() as u64, N + 1);
    for s in coroutine_spans {
        assert!(closed.contains(&s), "span {s} never closed");
    }
}
