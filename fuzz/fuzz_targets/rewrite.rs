//! The rewriter's fuzz target: see `tenantry_fuzz` (fuzz/src/lib.rs) for the input format
//! and the properties checked. `cargo fuzz fmt rewrite <file>` prints an input's SQL.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: tenantry_fuzz::Input| tenantry_fuzz::check(&input));
