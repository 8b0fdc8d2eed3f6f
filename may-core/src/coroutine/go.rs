//! What `go!(spawner, body)` spawns with: a [`Builder`] or a [`Scope`]. Not public API: for the
//! expansion of the `go!` macro, which cannot tell the two apart by syntax.

use std::io;

use super::{Builder, JoinHandle, Scope, ScopedJoinHandle};

/// Something `go!(spawner, body)` can spawn `body` with: a [`Builder`] (the result is
/// `io::Result<JoinHandle<T>>`, as from [`Builder::spawn`]) or a scope's `&Scope` (the result
/// is a [`ScopedJoinHandle`], as from [`Scope::spawn`]).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`go!(spawner, body)` spawns with a `Builder` or a scope, found `{Self}`",
    label = "not a `Builder` or a `&Scope`",
    note = "write `go!(Builder::new().name(..), body)`, `go!(s, body)` with the `s` of \
            `coroutine::scope(|s| ..)`, or `go!(body)` alone"
)]
pub trait GoSpawner<F> {
    /// What `go!` returns.
    type Output;
    /// Spawns `f`.
    fn go_spawn(self, f: F) -> Self::Output;
}

impl<F, T> GoSpawner<F> for Builder
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    type Output = io::Result<JoinHandle<T>>;

    fn go_spawn(self, f: F) -> io::Result<JoinHandle<T>> {
        self.spawn(f)
    }
}

impl<'scope, F, T> GoSpawner<F> for &'scope Scope<'scope, '_>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    type Output = ScopedJoinHandle<'scope, T>;

    fn go_spawn(self, f: F) -> ScopedJoinHandle<'scope, T> {
        self.spawn(f)
    }
}

/// `go!(spawner, body)`: `spawner.spawn(body)` for a [`Builder`] or a `&Scope`.
#[doc(hidden)]
pub fn __go_spawn<S: GoSpawner<F>, F>(spawner: S, f: F) -> S::Output {
    spawner.go_spawn(f)
}
