//! Procedural macros of `may`. Use them through the `may` facade.
