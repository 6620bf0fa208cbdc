//! Replays inputs without libFuzzer, on the stable toolchain: prints each input's SQL, its
//! rewrite, and whether every property held.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --bin replay -- FILE...` (fuzzer inputs), or
//! `... -- --sql 'SELECT ...'` (SQL text).

use std::panic::{AssertUnwindSafe, catch_unwind};

use tenantry_fuzz::{Harness, Input};
use tenantry_rewrite::TenantId;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let inputs: Vec<(String, Input)> = if args.first().map(String::as_str) == Some("--sql") {
        args[1..]
            .iter()
            .map(|s| (s.clone(), Input::Raw(s.clone())))
            .collect()
    } else {
        args.iter()
            .map(|f| {
                let data = std::fs::read(f).unwrap_or_else(|e| panic!("{f}: {e}"));
                (f.clone(), Input::decode(&data))
            })
            .collect()
    };
    let harness = Harness::new();
    let tenant = TenantId::new("A").expect("tenant");
    let mut failed = 0;
    for (name, input) in &inputs {
        println!("== {name}\n{input:?}");
        match harness.rewriter().rewrite(input.sql(), &tenant) {
            Ok(out) => println!("rewrite: {}", out.sql()),
            Err(e) => println!("refused: {e}"),
        }
        let generated = matches!(input, Input::Generated(_));
        match catch_unwind(AssertUnwindSafe(|| harness.check(input.sql(), generated))) {
            Ok(()) => println!("ok"),
            Err(_) => {
                failed += 1;
                println!("FAILED");
            }
        }
    }
    println!("{} passed, {failed} failed", inputs.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}
