//! Placeholder; the rewrite benchmark is being written.
fn main() {}
