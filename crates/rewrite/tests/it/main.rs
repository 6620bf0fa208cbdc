//! Integration tests of the rewriter: every rewritten statement is run on SQLite.

mod fuzz_regressions;
mod golden;
mod guarded;
mod in_place;
mod keys_schema;
mod limits;
mod prop;
mod refusals;
mod rowid;
mod semantics;
mod support;
mod tenant_first;
mod tenant_first_insert;
mod tenant_first_keys;
mod tenant_first_rowid;
mod tenant_values;
mod trigger_when;
mod unreadable;
mod virtual_tables;
