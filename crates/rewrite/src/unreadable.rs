//! Schema objects the rewriter cannot read: a virtual table of an unknown module, a table,
//! view or trigger whose text the parser does not understand. Reading the schema never fails
//! because of one of them; each is recorded, and every statement that could touch it is
//! refused ([`crate::Refusal::UnreadableObject`]), while the others rewrite as before.

use std::fmt;

/// What kind of schema object could not be read.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    /// `CREATE TABLE`.
    Table,
    /// `CREATE VIRTUAL TABLE`.
    VirtualTable,
    /// `CREATE VIEW`.
    View,
    /// `CREATE TRIGGER`.
    Trigger,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Table => "table",
            ObjectKind::VirtualTable => "virtual table",
            ObjectKind::View => "view",
            ObjectKind::Trigger => "trigger",
        })
    }
}

/// A schema object whose text could not be read.
///
/// ```
/// use tenantry_rewrite::{ObjectKind, Schema};
/// let schema = Schema::from_objects(
///     [
///         "CREATE TABLE t (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL)",
///         "CREATE VIRTUAL TABLE x USING my_module(a, b)",
///     ],
///     "tenant_id",
/// )?;
/// let [x] = schema.unreadable() else { panic!() };
/// assert_eq!((x.name.as_str(), x.kind), ("x", ObjectKind::VirtualTable));
/// # Ok::<(), tenantry_rewrite::SchemaError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// Its name as declared.
    pub name: String,
    /// What it is.
    pub kind: ObjectKind,
    /// Why it could not be read (the parser's or the reader's message).
    pub reason: String,
    /// For a trigger: the table it is on, when its header could be read.
    pub table: Option<String>,
}
