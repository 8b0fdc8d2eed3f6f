//! `crate = "path"`: the expansions name the runtime through the given path instead of `::may`.
//!
//! `counting_rt` stands in for a renamed runtime crate: it forwards to `may` but counts the
//! spawns made through it, so a count proves the expansion used the path. `my_may` is the
//! renaming a user would do with `extern crate` (or a dependency alias in Cargo.toml).

extern crate may as my_may;

use std::sync::atomic::{AtomicUsize, Ordering};

static SPAWNS: AtomicUsize = AtomicUsize::new(0);

/// A runtime facade with the layout the macros expect, counting every spawn.
mod counting_rt {
    #[allow(unused_imports)] // `config` is used by #[may::main] only
    pub use my_may::{__private, config};

    pub mod coroutine {
        use std::io;
        use std::sync::atomic::Ordering;

        pub use my_may::coroutine::{JoinHandle, Scope};

        pub fn spawn<F, T>(f: F) -> JoinHandle<T>
        where
            F: FnOnce() -> T + Send + 'static,
            T: Send + 'static,
        {
            super::super::SPAWNS.fetch_add(1, Ordering::SeqCst);
            my_may::coroutine::spawn(f)
        }

        pub fn scope<'env, F, T>(f: F) -> T
        where
            F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
        {
            super::super::SPAWNS.fetch_add(1, Ordering::SeqCst);
            my_may::coroutine::scope(f)
        }

        #[derive(Default)]
        pub struct Builder(my_may::coroutine::Builder);

        impl Builder {
            pub fn new() -> Builder {
                Builder(my_may::coroutine::Builder::new())
            }
            pub fn name(self, name: impl Into<String>) -> Builder {
                Builder(self.0.name(name))
            }
            pub fn stack_size(self, bytes: usize) -> Builder {
                Builder(self.0.stack_size(bytes))
            }
            pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
            where
                F: FnOnce() -> T + Send + 'static,
                T: Send + 'static,
            {
                super::super::SPAWNS.fetch_add(1, Ordering::SeqCst);
                self.0.spawn(f)
            }
        }

        impl From<Builder> for my_may::coroutine::Builder {
            fn from(b: Builder) -> Self {
                b.0
            }
        }
    }
}

#[my_may::coroutine(crate = "crate::counting_rt", name = "counted")]
fn counted(x: u32) -> u32 {
    x + 1
}

#[my_may::test(crate = "crate::counting_rt")]
fn every_macro_goes_through_the_path() {
    let before = SPAWNS.load(Ordering::SeqCst);
    assert!(
        before >= 1,
        "the test itself was spawned through counting_rt"
    );
    assert_eq!(counted(1).join().unwrap(), 2);
    assert_eq!(
        my_may::go!(crate = "crate::counting_rt", || 5)
            .join()
            .unwrap(),
        5
    );
    let h = my_may::go!(name = "n", crate = "crate::counting_rt", || 6);
    assert_eq!(h.join().unwrap(), 6);
    let mut local = 0;
    let (a, ()) = my_may::join!(crate = "crate::counting_rt", 7, local += 1);
    assert_eq!((a, local), (7, 1));
    // 3 spawns above, then the scope of join! (its Builders come from the path too).
    assert_eq!(SPAWNS.load(Ordering::SeqCst), before + 3 + 1);
}

#[my_may::test(crate = "my_may")]
fn the_renamed_facade_works() {
    assert!(my_may::coroutine::is_coroutine());
    #[my_may::coroutine(crate = "my_may", stack = "16KiB")]
    fn small() -> usize {
        my_may::coroutine::current().stack_size()
    }
    assert_eq!(small().join().unwrap(), 16 * 1024);
    let (a, b) = my_may::join!(crate = "my_may", 1, 2);
    assert_eq!(a + b, 3);
}
