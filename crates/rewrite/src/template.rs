//! Rewritten SQL before the tenant is known: the caller's text with edits spliced in and
//! holes where the tenant literal goes. Rendering fills the holes; nothing else changes, so a
//! template built once can serve every tenant without carrying one tenant's id to another.

use crate::tenant::TenantId;

/// A piece of inserted text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Fixed text.
    Text(String),
    /// The current tenant's id as an SQL string literal.
    Tenant,
    /// The scoped query of the view of this (lower-case) name: a placeholder filled in
    /// before a template is built (see `crate::views`).
    View(String),
}

/// Replace bytes `start..end` of the original text with `pieces` (an insertion when
/// `start == end`).
#[derive(Clone, Debug)]
pub(crate) struct Edit {
    pub start: usize,
    pub end: usize,
    pub pieces: Vec<Piece>,
    /// Among insertions at the same place, lower goes first (a column alias must stay next
    /// to its expression, and a SELECT's tenant test next to its FROM or WHERE, before
    /// anything that closes an enclosing construct).
    pub rank: u8,
}

/// Collects edits in the order they are made.
#[derive(Default)]
pub(crate) struct Edits {
    pub list: Vec<Edit>,
}

impl Edits {
    pub fn insert(&mut self, at: usize, pieces: Vec<Piece>) {
        self.replace(at, at, pieces);
    }

    pub fn replace(&mut self, start: usize, end: usize, pieces: Vec<Piece>) {
        self.list.push(Edit {
            start,
            end,
            pieces,
            rank: 1,
        });
    }

    /// An insertion that goes before any other insertion at the same place.
    pub fn insert_first(&mut self, at: usize, pieces: Vec<Piece>) {
        self.list.push(Edit {
            start: at,
            end: at,
            pieces,
            rank: 0,
        });
    }
}

/// Shorthand for a text piece.
pub(crate) fn text(s: impl Into<String>) -> Piece {
    Piece::Text(s.into())
}

/// SQL text with holes for the tenant literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    parts: Vec<Piece>,
    len: usize,
}

impl Template {
    /// Applies `edits` to `sql`. Edits must not overlap; insertions at the same place keep
    /// the order in which they were made.
    pub fn build(sql: &str, edits: Vec<Edit>) -> Result<Template, String> {
        let parts = splice(sql, edits)?;
        let mut len = 0;
        for p in &parts {
            len += match p {
                Piece::Text(s) => s.len(),
                Piece::Tenant => 2,
                Piece::View(name) => {
                    return Err(format!("view {name:?} was not put in place"));
                }
            };
        }
        Ok(Template { parts, len })
    }

    /// The SQL with each hole filled by `expr` as it is (an SQL expression such as
    /// `NEW."tenant_id"`, not a tenant id).
    pub fn render_expr(&self, expr: &str) -> String {
        let mut out = String::with_capacity(self.len + 8 * expr.len());
        for part in &self.parts {
            match part {
                Piece::Text(s) => out.push_str(s),
                Piece::Tenant => out.push_str(expr),
                // `build` lets no placeholder through.
                Piece::View(_) => {}
            }
        }
        out
    }

    /// The SQL for `tenant`.
    pub fn render(&self, tenant: &TenantId) -> String {
        let holes = self
            .parts
            .iter()
            .filter(|p| matches!(p, Piece::Tenant))
            .count();
        let mut out = String::with_capacity(self.len + holes * tenant.as_str().len());
        for part in &self.parts {
            match part {
                Piece::Text(s) => out.push_str(s),
                Piece::Tenant => {
                    out.push('\'');
                    out.push_str(tenant.as_str());
                    out.push('\'');
                }
                Piece::View(_) => {}
            }
        }
        out
    }
}

/// Applies `edits` to `sql`: the text with the edits' pieces in place. Edits must not
/// overlap; insertions at the same place keep the order in which they were made.
pub(crate) fn splice(sql: &str, mut edits: Vec<Edit>) -> Result<Vec<Piece>, String> {
    // Stable sort: same-start edits keep creation order within a rank; a replacement
    // [a, b) sorts before an insertion at b.
    edits.sort_by_key(|e| (e.start, e.end, e.rank));
    let mut parts: Vec<Piece> = Vec::new();
    let mut at = 0;
    for edit in edits {
        if edit.start < at || edit.end < edit.start || edit.end > sql.len() {
            return Err(format!(
                "edits overlap at byte {} (previous edit ends at {at})",
                edit.start
            ));
        }
        push_text(&mut parts, &sql[at..edit.start]);
        for piece in edit.pieces {
            match piece {
                Piece::Text(s) => push_text(&mut parts, &s),
                other => parts.push(other),
            }
        }
        at = edit.end;
    }
    push_text(&mut parts, &sql[at..]);
    Ok(parts)
}

fn push_text(parts: &mut Vec<Piece>, s: &str) {
    if s.is_empty() {
        return;
    }
    if let Some(Piece::Text(last)) = parts.last_mut() {
        last.push_str(s);
    } else {
        parts.push(Piece::Text(s.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(id: &str) -> TenantId {
        TenantId::new(id).unwrap()
    }

    #[test]
    fn splices_in_order_and_fills_holes() {
        let sql = "SELECT a FROM t WHERE b";
        let mut edits = Edits::default();
        edits.replace(14, 15, vec![text("(x "), Piece::Tenant, text(")")]);
        edits.insert(22, vec![text("(")]);
        edits.insert(23, vec![text(") AND k = "), Piece::Tenant]);
        let t = Template::build(sql, edits.list).unwrap();
        assert_eq!(
            t.render(&tenant("s1")),
            "SELECT a FROM (x 's1') WHERE (b) AND k = 's1'"
        );
        assert_eq!(
            t.render(&tenant("other")),
            "SELECT a FROM (x 'other') WHERE (b) AND k = 'other'"
        );
    }

    #[test]
    fn overlapping_edits_are_an_error() {
        let mut edits = Edits::default();
        edits.replace(0, 5, vec![text("x")]);
        edits.replace(3, 6, vec![text("y")]);
        assert!(Template::build("0123456789", edits.list).is_err());
    }
}
