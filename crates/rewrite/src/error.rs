//! What can go wrong: a statement that cannot be parsed, a statement refused (and why), a
//! bad tenant id, or a schema that cannot be read.

pub use crate::refusal::Refusal;
pub use crate::tenant::InvalidTenantId;

/// Why the rewriter refused to rewrite a string of SQL.
///
/// Every error names the statement (its position in the string, counting from 1, and the
/// start of its text) and says what to do instead where there is something to do.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    /// `sqlparser` could not parse the statement. A statement the rewriter cannot read is
    /// never run unscoped.
    #[error(
        "statement {index} ({statement}) could not be parsed, so it cannot be scoped to a \
         tenant: {message}"
    )]
    Parse {
        /// Position of the statement in the string, from 1.
        index: usize,
        /// The start of the statement's text.
        statement: String,
        /// The parser's message.
        message: String,
    },
    /// The statement parses, but it cannot be proven to touch only the current tenant's rows.
    #[error("statement {index} ({statement}) refused: {reason}")]
    Refused {
        /// Position of the statement in the string, from 1.
        index: usize,
        /// The start of the statement's text.
        statement: String,
        /// What was refused, and why.
        reason: Refusal,
    },
    /// The tenant id breaks the rules of [`crate::TenantId`].
    #[error(transparent)]
    InvalidTenantId(#[from] InvalidTenantId),
}

impl RewriteError {
    /// The refusal, when the statement was refused rather than unparseable.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            RewriteError::Refused { reason, .. } => Some(reason),
            RewriteError::Parse { .. } | RewriteError::InvalidTenantId(_) => None,
        }
    }

    /// A short, stable name for the kind of error: `parse`, `refused` or `tenant`.
    pub fn kind(&self) -> &'static str {
        match self {
            RewriteError::Parse { .. } => "parse",
            RewriteError::Refused { .. } => "refused",
            RewriteError::InvalidTenantId(_) => "tenant",
        }
    }
}

/// A schema that cannot be read or built.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The tenant column name is not a plain identifier.
    #[error(
        "tenant column name {name:?} is not a plain identifier (ASCII letter or '_', then \
         letters, digits or '_', at most 64 characters)"
    )]
    InvalidColumnName {
        /// The name given.
        name: String,
    },
    /// Two tables with the same name (names compare without regard to ASCII case).
    #[error("table {name:?} is declared twice")]
    DuplicateTable {
        /// The table's name.
        name: String,
    },
    /// A `CREATE TABLE` statement that cannot be read.
    #[error("cannot read the schema: {message} (in: {statement})")]
    Parse {
        /// The start of the statement's text.
        statement: String,
        /// What went wrong.
        message: String,
    },
}
