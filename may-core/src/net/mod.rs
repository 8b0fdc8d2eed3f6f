//! Coroutine-aware networking with `std::net`'s signatures.
