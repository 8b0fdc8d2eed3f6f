//! Coroutine-local storage, declared with [`coroutine_local!`](crate::coroutine_local).

use std::any::Any;

/// A key to a coroutine-local value. Created by [`coroutine_local!`](crate::coroutine_local).
///
/// Inside a coroutine each coroutine sees its own value, created on first access and dropped
/// when the coroutine finishes. Outside coroutines the key behaves like a `thread_local!`.
pub struct LocalKey<T: 'static> {
    init: fn() -> T,
    thread_key: fn() -> &'static std::thread::LocalKey<T>,
}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn __new(
        init: fn() -> T,
        thread_key: fn() -> &'static std::thread::LocalKey<T>,
    ) -> LocalKey<T> {
        LocalKey { init, thread_key }
    }

    /// Runs `f` with a reference to this coroutine's (or thread's) value.
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        let Some(task) = crate::task::current() else {
            return (self.thread_key)().with(f);
        };
        let key = self as *const LocalKey<T> as usize;
        let found: Option<*const T> = task.with_locals(|locals| {
            locals
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, boxed)| downcast(boxed))
        });
        let value = match found {
            Some(value) => value,
            None => {
                // `init` may itself access coroutine-locals, so no borrow is held while it runs.
                let boxed: Box<dyn Any> = Box::new((self.init)());
                let ptr = downcast(&boxed);
                task.with_locals(|locals| locals.push((key, boxed)));
                ptr
            }
        };
        // SAFETY: the value is boxed, so its address survives pushes to the map, and it is only
        // dropped by `clear_locals` when the coroutine finishes, after every `with` returned.
        f(unsafe { &*value })
    }
}

fn downcast<T: 'static>(boxed: &Box<dyn Any>) -> *const T {
    match boxed.downcast_ref::<T>() {
        Some(value) => value as *const T,
        None => unreachable!("coroutine-local keys are unique per type and static"),
    }
}

impl<T: 'static> std::fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalKey { .. }")
    }
}
