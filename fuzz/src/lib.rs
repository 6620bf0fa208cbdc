//! The rewriter's fuzz harness: decodes fuzzer bytes into SQL and checks every property.
//!
//! An input whose first byte is `0` drives the test kit's grammar-shaped generator
//! ([`generate`], `tenantry_testkit::grammar`);
//! any other input is SQL text as it is (invalid UTF-8 replaced). For each SQL string:
//! - the rewriter never panics, and `rewrite` agrees with `plan` + `render`;
//! - every accepted output parses again with `sqlparser`, and prepares on the migrated
//!   schema whenever the original prepares on the legacy schema, with the same result
//!   columns and parameters;
//! - run for tenant `A` on a two-tenant database, the output leaves every row of tenant `B`
//!   byte-identical and returns no value only `B`'s rows hold; and it returns exactly the
//!   same on a second database whose `B` rows hold other values under the same keys (so a
//!   result that depends on `B`'s data in any way shows up).

mod harness;

pub use harness::{Harness, MAX_INPUT};
pub use tenantry_testkit::grammar::generate;

/// What the fuzzer's bytes mean.
#[derive(Debug)]
pub enum Input {
    /// SQL text as the fuzzer gave it.
    Raw(String),
    /// SQL printed by the generator from the bytes after the selector.
    Generated(String),
}

impl Input {
    /// Decodes fuzzer bytes.
    pub fn decode(data: &[u8]) -> Input {
        match data.split_first() {
            Some((0, rest)) => Input::Generated(generate(rest)),
            _ => Input::Raw(String::from_utf8_lossy(data).into_owned()),
        }
    }

    /// The SQL to check.
    pub fn sql(&self) -> &str {
        match self {
            Input::Raw(s) | Input::Generated(s) => s,
        }
    }
}

impl<'a> arbitrary::Arbitrary<'a> for Input {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let len = u.len();
        Ok(Input::decode(u.bytes(len)?))
    }

    fn arbitrary_take_rest(u: arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Input::decode(u.take_rest()))
    }
}

/// Checks one input; panics (a fuzzer finding) when a property fails. SQL longer than
/// [`MAX_INPUT`] is skipped.
pub fn check(input: &Input) {
    if input.sql().len() > MAX_INPUT {
        return;
    }
    harness::with(|h| h.check(input.sql(), matches!(input, Input::Generated(_))));
}
