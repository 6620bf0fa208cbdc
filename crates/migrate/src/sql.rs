//! Small helpers for writing SQL text safely: quoting identifiers and string literals.

/// Quotes an identifier for SQLite: `"name"`, with any `"` doubled.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal for SQLite: `'text'`, with any `'` doubled.
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The name of the index the migrator creates on a table's tenant column.
pub(crate) fn tenant_index_name(table: &str, column: &str) -> String {
    format!("idx_{table}_{column}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_awkward_names() {
        assert_eq!(ident("order"), "\"order\"");
        assert_eq!(ident("a \"b\""), "\"a \"\"b\"\"\"");
        assert_eq!(literal("it's"), "'it''s'");
    }
}
