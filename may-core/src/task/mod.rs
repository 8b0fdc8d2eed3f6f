//! The coroutine core: the context switch and the stacks it runs on.

pub(crate) mod context;
pub(crate) mod overflow;
pub(crate) mod stack;
