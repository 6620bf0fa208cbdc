//! Reads a `CREATE TABLE` text into its parts, with the byte range of each, so the tenant-first
//! form can be written by editing the table's own text: everything the rebuild does not
//! change (types, CHECK, DEFAULT, COLLATE, generated columns, comments) stays as written.

use std::ops::Range;

use super::lex::{self, Kind, Tok};

/// A referential action of a foreign key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
    /// `ON UPDATE CASCADE`: the composite key would write the child's tenant column too,
    /// which tenant connections may not, so a trigger runs it.
    Cascade,
    /// `ON DELETE CASCADE`, `RESTRICT` or `NO ACTION`: kept as written.
    Kept,
}

/// A foreign-key clause (`REFERENCES parent (cols) ON DELETE … ON UPDATE …`).
#[derive(Clone, Debug)]
pub(crate) struct Reference {
    /// The parent table.
    pub parent: String,
    /// The parent's columns, when named.
    pub parent_cols: Option<Vec<String>>,
    /// `ON DELETE`, when given.
    pub on_delete: Option<Action>,
    /// `ON UPDATE`, when given.
    pub on_update: Option<Action>,
    /// The text of the actions that are kept, and of `MATCH` and `DEFERRABLE`.
    pub kept: Vec<Range<usize>>,
}

/// A column constraint the rebuild moves to the table.
#[derive(Clone, Debug)]
pub(crate) enum Moved {
    /// `PRIMARY KEY [ASC|DESC] [ON CONFLICT x] [AUTOINCREMENT]`.
    PrimaryKey {
        desc: bool,
        conflict: Option<Range<usize>>,
        autoincrement: bool,
    },
    /// `UNIQUE [ON CONFLICT x]`.
    Unique { conflict: Option<Range<usize>> },
    /// `REFERENCES …`.
    References(Reference),
}

/// A column constraint the rebuild leaves where it stands (but on the tenant column, which
/// loses its `DEFAULT` and takes `NOT NULL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kept {
    /// `NOT NULL [ON CONFLICT x]`.
    NotNull,
    /// `NULL [ON CONFLICT x]`.
    Null,
    /// `DEFAULT …`.
    Default,
    /// `CHECK (…)`.
    Check,
    /// `COLLATE x`.
    Collate,
    /// `[GENERATED ALWAYS] AS (…) [STORED | VIRTUAL]`.
    Generated,
}

/// One column definition.
#[derive(Clone, Debug)]
pub(crate) struct ColumnDef {
    /// The whole definition.
    pub span: Range<usize>,
    /// The column's name, unquoted.
    pub name: String,
    /// The declared type, as written (empty when none).
    pub decl_type: String,
    /// The constraints the rebuild may move, each with the range it covers.
    pub moved: Vec<(Range<usize>, Moved)>,
    /// The other constraints, each with the range it covers.
    pub kept: Vec<(Range<usize>, Kept)>,
    /// Its `COLLATE`, when declared.
    pub collation: Option<String>,
}

/// A table constraint.
#[derive(Clone, Debug)]
pub(crate) enum Constraint {
    /// `PRIMARY KEY (…)` or `UNIQUE (…)`: the column names, and the byte just after `(`.
    Key {
        primary: bool,
        columns: Vec<String>,
        open: usize,
    },
    /// `FOREIGN KEY (cols) REFERENCES …`.
    ForeignKey {
        columns: Vec<String>,
        reference: Reference,
    },
    /// `CHECK (…)`: kept as written.
    Check,
}

/// One item between the parentheses of a `CREATE TABLE`.
#[derive(Clone, Debug)]
pub(crate) enum Item {
    /// A column.
    Column(ColumnDef),
    /// A table constraint: its whole range, the range of `CONSTRAINT name` when named (the
    /// keyword up to the constraint proper), and what it is.
    Constraint {
        span: Range<usize>,
        named: Option<Range<usize>>,
        constraint: Constraint,
    },
}

/// A `CREATE TABLE` statement, read.
#[derive(Clone, Debug)]
pub(crate) struct TableDdl {
    /// The definitions, in order.
    pub items: Vec<Item>,
    /// Each definition's text with what surrounds it up to the commas (comments, spaces).
    pub raws: Vec<Range<usize>>,
    /// `WITHOUT ROWID`.
    pub without_rowid: bool,
    /// `STRICT`.
    pub strict: bool,
}

/// Reads `sql`, the text of one `CREATE TABLE` as `sqlite_schema` holds it.
///
/// # Errors
/// A message saying what could not be read; the caller names the table.
pub(crate) fn read(sql: &str) -> Result<TableDdl, String> {
    let toks = lex::tokens(sql)?;
    let open = toks
        .iter()
        .position(|t| t.is('('))
        .ok_or("the table declares no columns")?;
    let close = matching(&toks, open).ok_or("its column list is not closed")?;
    let mut items = Vec::new();
    let mut raws = Vec::new();
    let mut start = open + 1;
    let mut depth = 0usize;
    for i in open + 1..=close {
        match &toks[i].kind {
            Kind::Punct('(') => depth += 1,
            Kind::Punct(')') if depth > 0 => depth -= 1,
            Kind::Punct(',' | ')') if depth == 0 => {
                if start == i {
                    return Err("an empty item in the column list".into());
                }
                items.push(item(sql, &toks[start..i])?);
                raws.push(toks[start - 1].span.end..toks[i].span.start);
                start = i + 1;
            }
            _ => {}
        }
    }
    let tail = &toks[close + 1..];
    let without_rowid = tail
        .windows(2)
        .any(|w| w[0].is_kw("WITHOUT") && w[1].is_kw("ROWID"));
    let strict = tail.iter().any(|t| t.is_kw("STRICT"));
    Ok(TableDdl {
        items,
        raws,
        without_rowid,
        strict,
    })
}

/// The index of the `)` that closes the `(` at `open`.
fn matching(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        if t.is('(') {
            depth += 1;
        } else if t.is(')') {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

const TABLE_CONSTRAINTS: [&str; 5] = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"];

fn item(sql: &str, toks: &[Tok]) -> Result<Item, String> {
    let first = &toks[0];
    let span = first.span.start..toks[toks.len() - 1].span.end;
    if TABLE_CONSTRAINTS.iter().any(|k| first.is_kw(k)) {
        let mut c = Cursor { toks, at: 0 };
        let named = if c.eat("CONSTRAINT") {
            c.name()?;
            Some(first.span.start..c.here())
        } else {
            None
        };
        let constraint = table_constraint(&mut c)?;
        return Ok(Item::Constraint {
            span,
            named,
            constraint,
        });
    }
    let name = first.name().ok_or("a column has no name")?.to_owned();
    let mut c = Cursor { toks, at: 1 };
    let type_start = c.at;
    while !c.done() && !c.at_column_constraint() {
        if c.peek_is('(') {
            c.skip_parens()?;
        } else {
            c.at += 1;
        }
    }
    let decl_type = if c.at > type_start {
        sql[toks[type_start].span.start..toks[c.at - 1].span.end].to_owned()
    } else {
        String::new()
    };
    let mut moved = Vec::new();
    let mut kept = Vec::new();
    while !c.done() {
        let start = c.here();
        if c.eat("CONSTRAINT") {
            c.name()?;
        }
        match column_constraint(&mut c)? {
            ColumnConstraint::Moved(m) => moved.push((start..c.end_of_last(), m)),
            ColumnConstraint::Kept(k) => kept.push((start..c.end_of_last(), k)),
        }
    }
    let mut depth = 0usize;
    let mut collation = None;
    for (i, t) in toks.iter().enumerate() {
        if t.is('(') {
            depth += 1;
        } else if t.is(')') {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is_kw("COLLATE") {
            collation = toks.get(i + 1).and_then(Tok::name).map(str::to_owned);
        }
    }
    Ok(Item::Column(ColumnDef {
        span,
        name,
        decl_type,
        moved,
        kept,
        collation,
    }))
}

/// One column constraint, as [`column_constraint`] reads it.
enum ColumnConstraint {
    /// One the rebuild moves to the table.
    Moved(Moved),
    /// One it leaves where it stands.
    Kept(Kept),
}

/// Reads one column constraint.
fn column_constraint(c: &mut Cursor<'_>) -> Result<ColumnConstraint, String> {
    if c.eat("PRIMARY") {
        c.expect("KEY")?;
        let desc = c.eat("DESC");
        if !desc {
            c.eat("ASC");
        }
        let conflict = c.conflict()?;
        let autoincrement = c.eat("AUTOINCREMENT");
        return Ok(ColumnConstraint::Moved(Moved::PrimaryKey {
            desc,
            conflict,
            autoincrement,
        }));
    }
    if c.eat("UNIQUE") {
        let conflict = c.conflict()?;
        return Ok(ColumnConstraint::Moved(Moved::Unique { conflict }));
    }
    if c.eat("REFERENCES") {
        return Ok(ColumnConstraint::Moved(Moved::References(reference(c)?)));
    }
    let kept = if c.eat("NOT") {
        c.expect("NULL")?;
        c.conflict()?;
        Kept::NotNull
    } else if c.eat("NULL") {
        c.conflict()?;
        Kept::Null
    } else if c.eat("CHECK") {
        c.skip_parens()?;
        Kept::Check
    } else if c.eat("DEFAULT") {
        if c.peek_is('(') {
            c.skip_parens()?;
        } else {
            if c.peek_is('-') || c.peek_is('+') {
                c.at += 1;
            }
            c.any()?;
        }
        Kept::Default
    } else if c.eat("COLLATE") {
        c.name()?;
        Kept::Collate
    } else if c.eat("GENERATED") {
        c.expect("ALWAYS")?;
        c.expect("AS")?;
        c.skip_parens()?;
        let _ = c.eat("STORED") || c.eat("VIRTUAL");
        Kept::Generated
    } else if c.eat("AS") {
        c.skip_parens()?;
        let _ = c.eat("STORED") || c.eat("VIRTUAL");
        Kept::Generated
    } else {
        return Err(format!(
            "a column constraint starts with a word it does not know, at byte {}",
            c.here()
        ));
    };
    Ok(ColumnConstraint::Kept(kept))
}

fn table_constraint(c: &mut Cursor<'_>) -> Result<Constraint, String> {
    if c.eat("PRIMARY") {
        c.expect("KEY")?;
        let (columns, open) = c.column_list()?;
        c.conflict()?;
        return Ok(Constraint::Key {
            primary: true,
            columns,
            open,
        });
    }
    if c.eat("UNIQUE") {
        let (columns, open) = c.column_list()?;
        c.conflict()?;
        return Ok(Constraint::Key {
            primary: false,
            columns,
            open,
        });
    }
    if c.eat("CHECK") {
        c.skip_parens()?;
        return Ok(Constraint::Check);
    }
    if c.eat("FOREIGN") {
        c.expect("KEY")?;
        let (columns, _) = c.column_list()?;
        c.expect("REFERENCES")?;
        let reference = reference(c)?;
        return Ok(Constraint::ForeignKey { columns, reference });
    }
    Err(format!(
        "a table constraint it does not know, at byte {}",
        c.here()
    ))
}

/// After `REFERENCES`: the parent, its columns, the actions, `MATCH` and `DEFERRABLE`.
fn reference(c: &mut Cursor<'_>) -> Result<Reference, String> {
    let parent = c.name()?;
    let parent_cols = if c.peek_is('(') {
        Some(c.column_list()?.0)
    } else {
        None
    };
    let mut r = Reference {
        parent,
        parent_cols,
        on_delete: None,
        on_update: None,
        kept: Vec::new(),
    };
    loop {
        let start = c.here();
        if c.eat("ON") {
            let delete = if c.eat("DELETE") {
                true
            } else {
                c.expect("UPDATE")?;
                false
            };
            let action = if c.eat("SET") {
                if c.eat("NULL") {
                    Action::SetNull
                } else {
                    c.expect("DEFAULT")?;
                    Action::SetDefault
                }
            } else if c.eat("CASCADE") {
                if delete {
                    Action::Kept
                } else {
                    Action::Cascade
                }
            } else if c.eat("RESTRICT") {
                Action::Kept
            } else {
                c.expect("NO")?;
                c.expect("ACTION")?;
                Action::Kept
            };
            if action == Action::Kept {
                r.kept.push(start..c.end_of_last());
            }
            if delete {
                r.on_delete = Some(action);
            } else {
                r.on_update = Some(action);
            }
        } else if c.eat("MATCH") {
            c.name()?;
            r.kept.push(start..c.end_of_last());
        } else if c.peek_kw("DEFERRABLE")
            || (c.peek_kw("NOT") && c.toks.get(c.at + 1).is_some_and(|t| t.is_kw("DEFERRABLE")))
        {
            c.eat("NOT");
            c.expect("DEFERRABLE")?;
            if c.eat("INITIALLY") && !c.eat("DEFERRED") {
                c.expect("IMMEDIATE")?;
            }
            r.kept.push(start..c.end_of_last());
        } else {
            return Ok(r);
        }
    }
}

struct Cursor<'a> {
    toks: &'a [Tok],
    at: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.at >= self.toks.len()
    }
    fn here(&self) -> usize {
        self.toks.get(self.at).or(self.toks.last()).map_or(0, |t| {
            if self.done() {
                t.span.end
            } else {
                t.span.start
            }
        })
    }
    fn end_of_last(&self) -> usize {
        self.at
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or(0, |t| t.span.end)
    }
    fn peek_kw(&self, kw: &str) -> bool {
        self.toks.get(self.at).is_some_and(|t| t.is_kw(kw))
    }
    fn peek_is(&self, p: char) -> bool {
        self.toks.get(self.at).is_some_and(|t| t.is(p))
    }
    fn eat(&mut self, kw: &str) -> bool {
        let yes = self.peek_kw(kw);
        if yes {
            self.at += 1;
        }
        yes
    }
    fn expect(&mut self, kw: &str) -> Result<(), String> {
        if self.eat(kw) {
            Ok(())
        } else {
            Err(format!("expected {kw} at byte {}", self.here()))
        }
    }
    fn any(&mut self) -> Result<(), String> {
        if self.done() {
            return Err("the text ends early".into());
        }
        self.at += 1;
        Ok(())
    }
    fn name(&mut self) -> Result<String, String> {
        let tok = self
            .toks
            .get(self.at)
            .ok_or("the text ends where a name belongs")?;
        let name = match &tok.kind {
            Kind::Word { value, .. } => value.clone(),
            // SQLite takes a string where a name belongs.
            Kind::Literal => {
                return Err(format!(
                    "a literal where a name belongs, at byte {}",
                    tok.span.start
                ));
            }
            Kind::Punct(_) => return Err(format!("expected a name at byte {}", tok.span.start)),
        };
        self.at += 1;
        Ok(name)
    }
    fn skip_parens(&mut self) -> Result<(), String> {
        if !self.peek_is('(') {
            return Err(format!("expected ( at byte {}", self.here()));
        }
        let close = matching(self.toks, self.at).ok_or("a parenthesis is not closed")?;
        self.at = close + 1;
        Ok(())
    }
    /// `[ON CONFLICT word]`, its range when present.
    fn conflict(&mut self) -> Result<Option<Range<usize>>, String> {
        if !(self.peek_kw("ON")
            && self
                .toks
                .get(self.at + 1)
                .is_some_and(|t| t.is_kw("CONFLICT")))
        {
            return Ok(None);
        }
        let start = self.here();
        self.at += 2;
        self.name()?;
        Ok(Some(start..self.end_of_last()))
    }
    /// `( name [COLLATE x] [ASC|DESC], … )`: the names, and the byte after `(`.
    fn column_list(&mut self) -> Result<(Vec<String>, usize), String> {
        if !self.peek_is('(') {
            return Err(format!("expected ( at byte {}", self.here()));
        }
        let open = self.toks[self.at].span.end;
        let close = matching(self.toks, self.at).ok_or("a parenthesis is not closed")?;
        let mut names = Vec::new();
        let mut expect_name = true;
        let mut depth = 0usize;
        for t in &self.toks[self.at + 1..close] {
            match &t.kind {
                Kind::Punct('(') => depth += 1,
                Kind::Punct(')') => depth = depth.saturating_sub(1),
                Kind::Punct(',') if depth == 0 => expect_name = true,
                Kind::Word { value, .. } if expect_name && depth == 0 => {
                    names.push(value.clone());
                    expect_name = false;
                }
                _ => expect_name = false,
            }
        }
        self.at = close + 1;
        Ok((names, open))
    }
    fn at_column_constraint(&self) -> bool {
        const STARTS: [&str; 11] = [
            "CONSTRAINT",
            "PRIMARY",
            "NOT",
            "NULL",
            "UNIQUE",
            "CHECK",
            "DEFAULT",
            "COLLATE",
            "REFERENCES",
            "GENERATED",
            "AS",
        ];
        STARTS.iter().any(|k| self.peek_kw(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_and_the_constraints_it_moves() {
        let sql = "CREATE TABLE t (\n  id INTEGER PRIMARY KEY AUTOINCREMENT,\n  name TEXT NOT NULL UNIQUE ON CONFLICT IGNORE COLLATE NOCASE, -- note\n  p INT CONSTRAINT fk REFERENCES parent(x) ON DELETE SET NULL ON UPDATE CASCADE DEFERRABLE INITIALLY DEFERRED,\n  g AS (id + 1) STORED,\n  d REAL DEFAULT -1.5 CHECK (d < 0),\n  CONSTRAINT u UNIQUE (name COLLATE BINARY, p DESC) ON CONFLICT ABORT,\n  FOREIGN KEY (p, name) REFERENCES other\n) STRICT";
        let t = read(sql).unwrap();
        assert!(t.strict && !t.without_rowid);
        let Item::Column(id) = &t.items[0] else {
            panic!()
        };
        assert_eq!((id.name.as_str(), id.decl_type.as_str()), ("id", "INTEGER"));
        assert_eq!(&sql[id.moved[0].0.clone()], "PRIMARY KEY AUTOINCREMENT");
        assert!(matches!(
            id.moved[0].1,
            Moved::PrimaryKey {
                autoincrement: true,
                desc: false,
                conflict: None
            }
        ));
        let Item::Column(name) = &t.items[1] else {
            panic!()
        };
        assert_eq!(&sql[name.moved[0].0.clone()], "UNIQUE ON CONFLICT IGNORE");
        let Item::Column(p) = &t.items[2] else {
            panic!()
        };
        assert_eq!(
            &sql[p.moved[0].0.clone()],
            "CONSTRAINT fk REFERENCES parent(x) ON DELETE SET NULL ON UPDATE CASCADE DEFERRABLE INITIALLY DEFERRED"
        );
        let Moved::References(r) = &p.moved[0].1 else {
            panic!()
        };
        assert_eq!(
            (r.parent.as_str(), r.parent_cols.as_deref()),
            ("parent", Some(&["x".to_owned()][..]))
        );
        // ON UPDATE CASCADE is run by a trigger on a composite key (it would write the tenant).
        assert_eq!(
            (r.on_delete, r.on_update),
            (Some(Action::SetNull), Some(Action::Cascade))
        );
        let kept: Vec<&str> = r.kept.iter().map(|k| &sql[k.clone()]).collect();
        assert_eq!(kept, ["DEFERRABLE INITIALLY DEFERRED"]);
        let Item::Column(g) = &t.items[3] else {
            panic!()
        };
        assert!(g.moved.is_empty() && g.decl_type.is_empty());
        let Item::Constraint {
            named: Some(n),
            constraint:
                Constraint::Key {
                    primary: false,
                    columns,
                    ..
                },
            ..
        } = &t.items[5]
        else {
            panic!()
        };
        assert_eq!(&sql[n.clone()], "CONSTRAINT u ");
        assert_eq!(columns, &["name", "p"]);
        let Item::Constraint {
            constraint: Constraint::ForeignKey { columns, reference },
            ..
        } = &t.items[6]
        else {
            panic!()
        };
        assert_eq!(
            (
                columns.as_slice(),
                reference.parent.as_str(),
                reference.parent_cols.is_none()
            ),
            (&["p".to_owned(), "name".to_owned()][..], "other", true)
        );
    }

    #[test]
    fn unknown_constraints_are_errors_not_guesses() {
        assert!(read("CREATE TABLE t (a INT PRIMARY INDEX)").is_err());
        // SQLite reads words after the type as more of the type.
        assert!(read("CREATE TABLE t (a INT FROBNICATE)").is_ok());
        assert!(
            read("CREATE TABLE t (a INT, FOREIGN KEY (a) REFERENCES p ON DELETE EXPLODE)").is_err()
        );
    }
}
