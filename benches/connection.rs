//! Placeholder; the tenant connection benchmark is being written.
fn main() {}
