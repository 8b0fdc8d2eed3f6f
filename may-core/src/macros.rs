//! Crate-internal macros.

/// Declares a coroutine-local variable: each coroutine gets its own lazily initialised copy, and
/// code running outside any coroutine (a plain thread) falls back to a per-thread copy.
///
/// The value is dropped when the coroutine finishes, inside the coroutine.
///
/// ```
/// use std::cell::Cell;
/// may_core::coroutine_local!(static COUNT: Cell<u32> = Cell::new(0));
///
/// let h = may_core::coroutine::spawn(|| {
///     COUNT.with(|c| c.set(c.get() + 1));
///     COUNT.with(|c| c.get())
/// });
/// assert_eq!(h.join().unwrap(), 1);
/// ```
#[macro_export]
macro_rules! coroutine_local {
    ($(#[$attr:meta])* $vis:vis static $name:ident : $t:ty = $init:expr ; $($rest:tt)*) => {
        $(#[$attr])*
        $vis static $name: $crate::coroutine::LocalKey<$t> = {
            fn __may_init() -> $t {
                $init
            }
            ::std::thread_local!(static __MAY_THREAD_FALLBACK: $t = __may_init());
            fn __may_thread_key() -> &'static ::std::thread::LocalKey<$t> {
                &__MAY_THREAD_FALLBACK
            }
            $crate::coroutine::LocalKey::__new(__may_init, __may_thread_key)
        };
        $crate::coroutine_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident : $t:ty = $init:expr) => {
        $crate::coroutine_local!($(#[$attr])* $vis static $name: $t = $init;);
    };
    () => {};
}
