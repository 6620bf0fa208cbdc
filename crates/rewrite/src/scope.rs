//! Name resolution and table scoping for every table reference in a statement.
//!
//! A visitor walks the whole statement (every subquery, CTE, join, function argument, CASE
//! branch and RETURNING list that `sqlparser` knows of). Each table it meets in a FROM or
//! JOIN is resolved the way SQLite resolves it: an unqualified name that matches a CTE of an
//! enclosing WITH is that CTE; anything else is a table of the schema, or refused. Each
//! tenant table is replaced in place by a derived table that holds only the current tenant's
//! rows and exactly the columns the table had before migration:
//!
//! `customers c` → `(SELECT "id", "name" FROM main."customers" WHERE +"tenant_id" = 'A') AS c`
//!
//! (only the columns the statement can name, unless a `*` or NATURAL join needs them all)
//!
//! Because every tenant table in a FROM becomes its tenant's slice, the statement means what
//! it meant on a database holding only that tenant's rows, whatever the join kind (LEFT,
//! RIGHT, FULL, NATURAL, USING), and `*` cannot reveal the tenant column.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, ObjectName, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr,
    Statement, TableFactor, TableIndexDirective, Visitor,
};
use sqlparser::keywords::Keyword;

use crate::error::Refusal;
use crate::objects::View;
use crate::rewriter::{Access, Policy, TableUse};
use crate::rowid::{self, Action, FromItem, ItemKind, ROWID_NAMES};
use crate::schema::{Schema, Table};
use crate::source::Source;
use crate::template::{Edits, Piece, text};

/// Table-valued functions that read no table rows and may appear in FROM.
pub const TABLE_FUNCTIONS: &[&str] = &[
    "json_each",
    "json_tree",
    "jsonb_each",
    "jsonb_tree",
    "pragma_table_info",
    "pragma_table_xinfo",
    "pragma_table_list",
    "pragma_index_list",
    "pragma_index_info",
    "pragma_index_xinfo",
    "pragma_foreign_key_list",
];

/// Functions refused anywhere in a statement.
pub const FORBIDDEN_FUNCTIONS: &[&str] = &["load_extension", "fts3_tokenizer"];

/// The schema tables a scoped statement may read: they describe tables, not tenants' rows.
const SCHEMA_TABLES: &[&str] = &[
    "sqlite_master",
    "sqlite_schema",
    "sqlite_temp_master",
    "sqlite_temp_schema",
];

/// Keywords that end a select list.
pub(crate) const SELECT_LIST_END: &[Keyword] = &[
    Keyword::FROM,
    Keyword::WHERE,
    Keyword::GROUP,
    Keyword::HAVING,
    Keyword::WINDOW,
    Keyword::ORDER,
    Keyword::LIMIT,
    Keyword::UNION,
    Keyword::INTERSECT,
    Keyword::EXCEPT,
    // A FROM-less SELECT as the source of INSERT: ON CONFLICT or RETURNING follow it.
    Keyword::ON,
    Keyword::RETURNING,
];

/// What a table name in a FROM (or after IN) resolves to.
enum Resolved<'s> {
    /// Nothing to scope: a CTE, a schema table, a global table.
    Plain,
    /// A tenant table.
    Scoped(&'s Table),
    /// A view, whose query takes its place.
    View(&'s View),
}

/// FNV-1a of a name's ASCII-lower-case bytes: words compare as SQLite compares names,
/// without allocating.
fn word_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Where a view's scoped query goes: filled in once the statement is planned.
fn view_placeholder(view: &View) -> Piece {
    Piece::View(view.name.to_ascii_lowercase())
}

/// A tenant table in a FROM, to be replaced by its derived table.
struct PendingDerived<'s> {
    /// The SELECT whose FROM holds it (none for UPDATE ... FROM).
    select: Option<usize>,
    start: usize,
    end: usize,
    table: &'s Table,
    qualifier: String,
    index_clause: String,
    alias_text: String,
}

/// What a SELECT does with the columns of its FROM.
#[derive(Default)]
struct SelectShape {
    wildcard: bool,
    qualified_wildcards: Vec<String>,
    natural: bool,
}

/// Whether a FROM clause has a NATURAL join, at any nesting.
fn has_natural_join(from: &[sqlparser::ast::TableWithJoins]) -> bool {
    use sqlparser::ast::{JoinConstraint, JoinOperator};
    fn factor(f: &TableFactor) -> bool {
        match f {
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => twj(table_with_joins),
            _ => false,
        }
    }
    fn twj(t: &sqlparser::ast::TableWithJoins) -> bool {
        factor(&t.relation)
            || t.joins.iter().any(|j| {
                let natural = match &j.join_operator {
                    JoinOperator::Join(c)
                    | JoinOperator::Inner(c)
                    | JoinOperator::Left(c)
                    | JoinOperator::LeftOuter(c)
                    | JoinOperator::Right(c)
                    | JoinOperator::RightOuter(c)
                    | JoinOperator::FullOuter(c)
                    | JoinOperator::CrossJoin(c) => matches!(c, JoinConstraint::Natural),
                    _ => false,
                };
                natural || factor(&j.relation)
            })
    }
    from.iter().any(twj)
}

/// A result column that keeps its legacy name only with an alias.
struct AliasCandidate {
    /// Bytes of the column's text.
    start: usize,
    end: usize,
    /// Where SQLite's name for it ends: at the next token, so comments after the
    /// expression are part of the name (trailing whitespace is not).
    name_end: usize,
    /// The name SQLite gave it before, when it is not the column's text.
    name: Option<String>,
    /// Alias even when no edit falls inside (a rowid read through a derived table).
    always: bool,
}

/// Walks one statement and records the edits that scope its FROM and JOIN tables.
pub(crate) struct Scoper<'s, 'a> {
    pub schema: &'s Schema,
    pub policy: &'s Policy,
    /// Per tenant table (lower-case name): its visible columns, quoted and joined.
    derived: &'s HashMap<String, String>,
    pub src: &'s Source<'a>,
    /// CTEs of each enclosing WITH, innermost last: name (lower case) and column names
    /// (see [`rowid::column_names`]; only when the statement reads a rowid).
    ctes: Vec<HashMap<String, Option<Vec<String>>>>,
    /// Start positions (line, column) of table names that are DML targets, scoped elsewhere.
    dml_targets: HashSet<(u64, u64)>,
    /// Start positions of relation names resolved here or as DML targets.
    handled: Vec<(u64, u64)>,
    /// Every relation name the visitor met: position and text.
    relations: Vec<(u64, u64)>,
    /// Rowid names written anywhere in the statement (lower case).
    rowid_names: Vec<String>,
    /// A hash of every word of the statement (ASCII lower case, without quotes): the names
    /// it can use. A collision only keeps a column it does not need.
    words: HashSet<u64>,
    /// Qualifiers (lower case) of rowid reads that need the derived table to expose its
    /// rowid, and whether such a read is unqualified.
    rowid_qualifiers: Vec<String>,
    rowid_unqualified: bool,
    /// The FROM clauses in scope, innermost last.
    scopes: Vec<Vec<FromItem<'s>>>,
    /// Indexes into `scopes` of the FROM clauses a subquery being visited cannot see: the
    /// FROM that holds it as a derived table.
    hidden: Vec<usize>,
    /// Per query being visited: its body is one SELECT, whose FROM stays in scope for the
    /// query's ORDER BY and LIMIT (which `sqlparser` keeps on the query, after the SELECT).
    select_bodies: Vec<bool>,
    /// The statement is a query: its outermost SELECT's columns are its result columns.
    /// (A write's queries are all subqueries.)
    statement_is_query: bool,
    /// Tenant tables met in FROM, written out once the statement has been seen.
    pending: Vec<PendingDerived<'s>>,
    /// A rowid name read through a scoped table: (name, table).
    rowid_through_scope: Vec<(Option<usize>, String, String, String)>,
    /// Per SELECT (by visiting order): whether its list has an unqualified `*`, the
    /// qualifiers of its `q.*` (lower case), and whether its FROM has a NATURAL join.
    selects: Vec<SelectShape>,
    /// The SELECTs being visited, innermost last (indexes into `selects`).
    select_stack: Vec<usize>,
    /// Result columns that may need an alias to keep their legacy name.
    aliases: Vec<AliasCandidate>,
    pub edits: Edits,
    pub tables: Vec<TableUse>,
    /// Every CTE name the statement declares (lower case).
    pub cte_names: Vec<String>,
    /// This is a view's query, to be placed inside other statements.
    in_view: bool,
    /// The end of the statement's tokens (its `;` excluded).
    seg_end: usize,
}

impl<'s, 'a> Scoper<'s, 'a> {
    pub fn new(
        schema: &'s Schema,
        policy: &'s Policy,
        derived: &'s HashMap<String, String>,
        src: &'s Source<'a>,
        seg: std::ops::Range<usize>,
        in_view: bool,
    ) -> Self {
        let seg_end = seg.end;
        let mut rowid_names = Vec::new();
        let mut words = HashSet::new();
        for i in seg {
            let Some(value) = src.word(i) else {
                continue;
            };
            words.insert(word_hash(value));
            // Cheap filter first: rowid names are 3 to 7 letters.
            if !(3..=7).contains(&value.len()) {
                continue;
            }
            if let Some(name) = ROWID_NAMES.iter().find(|r| value.eq_ignore_ascii_case(r)) {
                let name = (*name).to_owned();
                if !rowid_names.contains(&name) {
                    rowid_names.push(name);
                }
            }
        }
        Scoper {
            schema,
            policy,
            derived,
            src,
            ctes: Vec::new(),
            dml_targets: HashSet::new(),
            handled: Vec::new(),
            relations: Vec::new(),
            rowid_names,
            words,
            rowid_qualifiers: Vec::new(),
            rowid_unqualified: false,
            scopes: Vec::new(),
            hidden: Vec::new(),
            select_bodies: Vec::new(),
            statement_is_query: false,
            pending: Vec::new(),
            rowid_through_scope: Vec::new(),
            selects: Vec::new(),
            select_stack: Vec::new(),
            aliases: Vec::new(),
            edits: Edits::default(),
            tables: Vec::new(),
            cte_names: Vec::new(),
            in_view,
            seg_end,
        }
    }

    /// Marks a table name as a DML target: the statement handler scopes it with a WHERE
    /// predicate or inserted values, so the visitor must not turn it into a derived table.
    pub fn mark_target(&mut self, name: &ObjectName) {
        if let Some(pos) = name_pos(name) {
            self.dml_targets.insert(pos);
            self.handled.push(pos);
        }
    }

    /// Records that a table was used.
    pub fn record(&mut self, name: &str, scoped: bool, access: Access) {
        self.tables.push(TableUse {
            name: name.to_owned(),
            scoped,
            access,
        });
    }

    /// Checks made after the walk: every relation the visitor met was resolved, and rowid
    /// is not read through a scope alongside `*`.
    pub fn finish(&mut self) -> Result<(), Refusal> {
        self.write_derived_tables();
        for pos in &self.relations {
            if !self.handled.contains(pos) {
                let name = self.tok(*pos).map_or("?", |i| self.src.tok_text(i));
                return Err(Refusal::Internal {
                    detail: format!("table reference {name} was not resolved"),
                });
            }
        }
        for (select, qualifier, name, table) in &self.rowid_through_scope {
            // The exposed rowid is an extra column of its derived table: it shows in a `*`
            // over that table and joins in a NATURAL join with it.
            let shape = select.and_then(|i| self.selects.get(i));
            let construct = match shape {
                Some(s) if s.wildcard || s.qualified_wildcards.contains(qualifier) => Some("*"),
                Some(s) if s.natural => Some("a NATURAL join"),
                _ => None,
            };
            if let Some(construct) = construct {
                return Err(Refusal::RowidAmbiguous {
                    name: name.clone(),
                    table: table.clone(),
                    construct: construct.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Registers the result columns of a select list or RETURNING list (token ranges from
    /// [`Source::list_items`], one per AST item) as alias candidates. `select`: a select
    /// list, whose FROM is the innermost scope (RETURNING reads its target's own rowid).
    pub fn note_items(
        &mut self,
        items: &[SelectItem],
        ranges: &[(usize, usize)],
        select: bool,
    ) -> Result<(), Refusal> {
        // `x ISNULL` / `x NOTNULL`: SQLite's postfix operators, which `sqlparser` reads as an
        // alias (in a select list or RETURNING). The statement would mean one thing to the
        // rewriter and another to SQLite.
        for item in items {
            if let SelectItem::ExprWithAlias { alias, .. } = item
                && alias.quote_style.is_none()
                && (alias.value.eq_ignore_ascii_case("isnull")
                    || alias.value.eq_ignore_ascii_case("notnull"))
            {
                return Err(Refusal::Unsupported {
                    construct: format!(
                        "postfix {} (write IS NULL or IS NOT NULL)",
                        alias.value.to_ascii_uppercase()
                    ),
                });
            }
        }
        if items.len() != ranges.len() {
            return Err(Refusal::Internal {
                detail: format!(
                    "{} result columns found in the text, {} parsed",
                    ranges.len(),
                    items.len()
                ),
            });
        }
        for (item, &(first, last)) in items.iter().zip(ranges) {
            let SelectItem::UnnamedExpr(expr) = item else {
                continue;
            };
            let start = self.src.toks[first].start;
            let end = self.src.toks[last].end;
            let name_end = match self.src.next_sig(last, self.seg_end) {
                Some(next) => self.src.toks[next].start,
                None => self.src.toks[self.seg_end.max(last + 1) - 1].end,
            };
            // SQLite names a column by what is inside parentheses; a subquery's column also by
            // what is under COLLATE (the statement's own: by its text).
            let expr = if select { self.named_part(expr) } else { expr };
            // A bare rowid reference through a scoped table: SQLite names it after the
            // INTEGER PRIMARY KEY column, or "rowid".
            if let Some(name) = self.rowid_result_name(expr).filter(|_| select) {
                self.aliases.push(AliasCandidate {
                    start,
                    end,
                    name_end,
                    name: Some(name),
                    always: true,
                });
                continue;
            }
            // A column reference is named after the column, whatever its qualifier.
            if matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
                continue;
            }
            self.aliases.push(AliasCandidate {
                start,
                end,
                name_end,
                name: None,
                always: false,
            });
        }
        Ok(())
    }

    /// The part of a select-list expression SQLite takes a column's name from.
    fn named_part<'e>(&self, expr: &'e Expr) -> &'e Expr {
        let subquery = self.ctes.len() > 1 || !self.statement_is_query;
        match expr {
            Expr::Nested(inner) => self.named_part(inner),
            Expr::Collate { expr: inner, .. } if subquery => self.named_part(inner),
            other => other,
        }
    }

    /// The name SQLite gave a result column that is a bare rowid read through a tenant
    /// table, when the rewritten text would give it another.
    fn rowid_result_name(&self, expr: &Expr) -> Option<String> {
        let (qualifier, written) = match expr {
            Expr::Identifier(id) => (None, id.value.as_str()),
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => (
                Some(parts[parts.len() - 2].value.to_ascii_lowercase()),
                parts[parts.len() - 1].value.as_str(),
            ),
            _ => return None,
        };
        let word = written.to_ascii_lowercase();
        if !ROWID_NAMES.contains(&word.as_str()) {
            return None;
        }
        let (table, replaced) = match self.resolve_rowid(qualifier.as_deref(), &word) {
            Action::Keep | Action::Expose { table: None } => return None,
            Action::Replace { table, .. } => (table, true),
            Action::Expose { table: Some(table) } => (table, false),
        };
        // A subquery's or CTE's column (a query inside the statement's) is named by the
        // word as written, which an exposed rowid keeps; the statement's own result column
        // reading a rowid is named after the INTEGER PRIMARY KEY column (which a replaced
        // read now reads), or "rowid".
        if self.ctes.len() > 1 || !self.statement_is_query {
            return replaced.then(|| written.to_owned());
        }
        match &table.integer_primary_key {
            Some(_) if replaced => None,
            Some(ipk) => Some(ipk.clone()),
            None => Some("rowid".to_owned()),
        }
    }

    /// Resolves a rowid read against the FROM clauses in scope (see [`rowid::resolve`]).
    fn resolve_rowid(&self, qualifier: Option<&str>, word: &str) -> Action<'s> {
        rowid::resolve(
            &self.scopes,
            &self.hidden,
            qualifier,
            word,
            self.schema.tenant_column(),
        )
    }

    /// Adds `AS "<legacy name>"` to each result column whose text now differs from what
    /// the caller wrote (it holds a derived table), or that reads a rowid through a scope.
    pub fn add_aliases(&mut self) {
        let replaced: Vec<(usize, usize)> = self
            .edits
            .list
            .iter()
            .filter(|e| e.start < e.end)
            .map(|e| (e.start, e.end))
            .collect();
        for c in std::mem::take(&mut self.aliases) {
            let changed = replaced.iter().any(|&(s, e)| c.start <= s && e <= c.end);
            if c.always || changed {
                // SQLite names a column by its text up to the next token, trailing
                // whitespace trimmed (comments kept).
                let spelled = self.src.sql[c.start..c.name_end.max(c.end)]
                    .trim_end_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
                let name = c.name.as_deref().unwrap_or(spelled);
                self.edits
                    .insert_first(c.end, vec![text(format!(" AS {}", quote_ident(name)))]);
            }
        }
    }

    /// The items of a FROM clause (with joins), by the name that qualifies their columns.
    fn tables_in_from(&self, from: &[sqlparser::ast::TableWithJoins]) -> Vec<FromItem<'s>> {
        fn walk<'s>(scoper: &Scoper<'s, '_>, factor: &TableFactor, out: &mut Vec<FromItem<'s>>) {
            match factor {
                TableFactor::Table {
                    name, alias, args, ..
                } => {
                    let parts: Vec<String> = name
                        .0
                        .iter()
                        .filter_map(|p| p.as_ident().map(|i| i.value.clone()))
                        .collect();
                    let Some(last) = parts.last() else {
                        return;
                    };
                    let qualifier = alias
                        .as_ref()
                        .map_or(last.as_str(), |a| a.name.value.as_str())
                        .to_ascii_lowercase();
                    let kind = if args.is_some() {
                        ItemKind::Opaque
                    } else if let Some(columns) =
                        (parts.len() == 1).then(|| scoper.cte(last)).flatten()
                    {
                        ItemKind::Query(columns)
                    } else if let Some(table) = scoper.schema.table(last) {
                        ItemKind::Read(table)
                    } else if let Some(view) = scoper.schema.view(last) {
                        let columns = &view.columns;
                        ItemKind::Query(
                            (!columns.is_empty())
                                .then(|| columns.iter().map(|c| c.to_ascii_lowercase()).collect()),
                        )
                    } else {
                        ItemKind::Opaque
                    };
                    out.push(FromItem { qualifier, kind });
                }
                TableFactor::NestedJoin {
                    table_with_joins, ..
                } => {
                    walk(scoper, &table_with_joins.relation, out);
                    for j in &table_with_joins.joins {
                        walk(scoper, &j.relation, out);
                    }
                }
                TableFactor::Derived {
                    alias, subquery, ..
                } => out.push(FromItem {
                    qualifier: alias
                        .as_ref()
                        .map(|a| a.name.value.to_ascii_lowercase())
                        .unwrap_or_default(),
                    // Its column names matter only to a rowid read.
                    kind: ItemKind::Query(if scoper.rowid_names.is_empty() {
                        None
                    } else {
                        rowid::column_names(subquery)
                    }),
                }),
                _ => {}
            }
        }
        let mut out = Vec::new();
        for twj in from {
            walk(self, &twj.relation, &mut out);
            for j in &twj.joins {
                walk(self, &j.relation, &mut out);
            }
        }
        out
    }

    /// The CTE in scope of that name: its column names, `None` inside when unknown.
    fn cte(&self, name: &str) -> Option<Option<Vec<String>>> {
        let lower = name.to_ascii_lowercase();
        self.ctes
            .iter()
            .rev()
            .find_map(|level| level.get(&lower).cloned())
    }

    fn in_cte_scope(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        self.ctes.iter().any(|level| level.contains_key(&lower))
    }

    /// Resolves a FROM/JOIN table and, for a tenant table, records the derived-table edit.
    fn scope_table(&mut self, factor: &TableFactor) -> Result<(), Refusal> {
        let TableFactor::Table {
            name,
            alias,
            args,
            with_hints,
            version,
            with_ordinality,
            partitions,
            json_path,
            sample,
            index_directives,
            inheritance,
        } = factor
        else {
            return Ok(());
        };
        let Some(pos) = name_pos(name) else {
            return Err(Refusal::Unsupported {
                construct: format!("table name {name}"),
            });
        };
        if self.dml_targets.contains(&pos) {
            return Ok(());
        }
        if !with_hints.is_empty()
            || version.is_some()
            || *with_ordinality
            || !partitions.is_empty()
            || json_path.is_some()
            || sample.is_some()
            || inheritance.is_some()
            || alias.as_ref().is_some_and(|a| !a.columns.is_empty())
        {
            return Err(Refusal::Unsupported {
                construct: format!("table modifiers on {name}"),
            });
        }
        let parts = ident_parts(name)?;
        if args.is_some() {
            return self.allow_table_function(&parts, pos);
        }
        let table = match self.resolve_read(name, &parts, pos)? {
            Resolved::Plain => return Ok(()),
            Resolved::Scoped(table) => table,
            Resolved::View(view) => {
                if !index_directives.is_empty() {
                    return Err(Refusal::Unsupported {
                        construct: format!("INDEXED BY or NOT INDEXED on view {name}"),
                    });
                }
                return self.inline_view(view, name, alias.as_ref().map(|a| &a.name), pos);
            }
        };

        // The bytes to replace: the name, the alias and any INDEXED BY / NOT INDEXED.
        let (first, mut last) = self.name_tokens(name, pos)?;
        let alias_tok = match alias {
            Some(a) => Some(self.tok(loc_of(&a.name))?),
            None => None,
        };
        if let Some(a) = alias_tok {
            last = last.max(a);
        }
        let mut index_clause = String::new();
        for directive in index_directives {
            match directive {
                TableIndexDirective::IndexedBy(ident) => {
                    let i = self.tok(loc_of(ident))?;
                    last = last.max(i);
                    index_clause = format!(" INDEXED BY {}", self.src.tok_text(i));
                }
                TableIndexDirective::NotIndexed => {
                    // NOT INDEXED follows the name or alias.
                    let not = self.src.next_sig(last, self.src.toks.len());
                    let indexed = not.and_then(|n| self.src.next_sig(n, self.src.toks.len()));
                    match (not, indexed) {
                        (Some(n), Some(i))
                            if self.src.is_kw(n, sqlparser::keywords::Keyword::NOT)
                                && self.src.is_kw(i, sqlparser::keywords::Keyword::INDEXED) =>
                        {
                            last = i;
                            index_clause = " NOT INDEXED".to_owned();
                        }
                        _ => {
                            return Err(Refusal::Internal {
                                detail: format!("NOT INDEXED of {name} not found"),
                            });
                        }
                    }
                }
                TableIndexDirective::MySql(_) => {
                    return Err(Refusal::Unsupported {
                        construct: "MySQL index hints".to_owned(),
                    });
                }
            }
        }
        let alias_text = self.src.tok_text(alias_tok.unwrap_or_else(|| {
            // The table name's last part names the derived table.
            name.0
                .last()
                .and_then(|p| p.as_ident())
                .and_then(|i| self.src.index_at(i.span.start))
                .unwrap_or(first)
        }));

        let qualifier = alias
            .as_ref()
            .map_or_else(|| table.name.clone(), |a| a.name.value.clone())
            .to_ascii_lowercase();
        self.pending.push(PendingDerived {
            select: self.select_stack.last().copied(),
            start: self.src.toks[first].start,
            end: self.src.toks[last].end,
            table,
            qualifier,
            index_clause,
            alias_text: alias_text.to_owned(),
        });
        Ok(())
    }

    /// `x IN t`: a tenant table becomes `(SELECT <legacy columns> FROM main."t" WHERE
    /// "tenant_id" = 'A')`; a table-valued function must be on the allowlist.
    fn scope_in_table(&mut self, name: &ObjectName, function: bool) -> Result<(), Refusal> {
        let Some(pos) = name_pos(name) else {
            return Err(Refusal::Unsupported {
                construct: format!("IN {name}"),
            });
        };
        let parts = ident_parts(name)?;
        if function {
            return self.allow_table_function(&parts, pos);
        }
        let resolved = self.resolve_read(name, &parts, pos)?;
        let first = self.tok(pos)?;
        let last = match name.0.last().and_then(|p| p.as_ident()) {
            Some(ident) => self.tok(loc_of(ident))?,
            None => first,
        };
        let table = match resolved {
            Resolved::Plain => return Ok(()),
            Resolved::Scoped(table) => table,
            Resolved::View(view) => {
                // A placeholder for the view's scoped query (see `crate::views`).
                let pieces = vec![text("("), view_placeholder(view), text(")")];
                let (start, end) = (self.src.toks[first].start, self.src.toks[last].end);
                self.edits.replace(start, end, pieces);
                return Ok(());
            }
        };
        let columns = match self.derived.get(&table.name.to_ascii_lowercase()) {
            Some(list) => list.clone(),
            None => visible_columns(table, self.schema, self.policy)
                .map(|c| quote_ident(&c.name))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let pieces = vec![
            text(format!(
                "(SELECT {columns} FROM main.{} WHERE {}",
                quote_ident(&table.name),
                self.tenant_test(),
            )),
            Piece::Tenant,
            text(")"),
        ];
        let (start, end) = (self.src.toks[first].start, self.src.toks[last].end);
        self.edits.replace(start, end, pieces);
        Ok(())
    }

    /// A table-valued function: allowed when it reads no table rows.
    fn allow_table_function(&mut self, parts: &[String], pos: (u64, u64)) -> Result<(), Refusal> {
        let func = parts.join(".");
        if parts.len() == 1 && TABLE_FUNCTIONS.contains(&func.to_ascii_lowercase().as_str()) {
            self.handled.push(pos);
            return Ok(());
        }
        Err(Refusal::TableFunction {
            name: func,
            allowed: TABLE_FUNCTIONS.join(", "),
        })
    }

    /// Resolves a table read by name: `None` when it needs no scoping (a CTE, a schema
    /// table, a global table), the table when it is tenant-scoped. Records the use.
    fn resolve_read(
        &mut self,
        name: &ObjectName,
        parts: &[String],
        pos: (u64, u64),
    ) -> Result<Resolved<'s>, Refusal> {
        let table_name = match parts {
            [table] => {
                if self.in_cte_scope(table) {
                    self.handled.push(pos);
                    return Ok(Resolved::Plain);
                }
                table.clone()
            }
            [schema, table] => {
                if !schema.eq_ignore_ascii_case("main") {
                    return Err(Refusal::OtherSchema {
                        schema: schema.clone(),
                        name: name.to_string(),
                    });
                }
                table.clone()
            }
            _ => {
                return Err(Refusal::Unsupported {
                    construct: format!("table name {name} with more than two parts"),
                });
            }
        };
        let lower = table_name.to_ascii_lowercase();
        if SCHEMA_TABLES.contains(&lower.as_str()) && self.policy.allow_schema_reads {
            self.handled.push(pos);
            self.record(&table_name, false, Access::Read);
            self.qualify_in_view(parts, pos)?;
            return Ok(Resolved::Plain);
        }
        if lower.starts_with("sqlite_") {
            return Err(Refusal::SystemTable { name: table_name });
        }
        let Some(table) = self.schema.table(&table_name) else {
            if let Some(view) = self.schema.view(&table_name) {
                self.handled.push(pos);
                return Ok(Resolved::View(view));
            }
            return Err(Refusal::UnknownTable {
                name: name.to_string(),
            });
        };
        if self.policy.is_protected(&table.name) {
            return Err(Refusal::Protected {
                name: table.name.clone(),
            });
        }
        self.handled.push(pos);
        if !table.has_column(self.schema.tenant_column()) {
            self.record(&table.name, false, Access::Read);
            self.qualify_in_view(parts, pos)?;
            return Ok(Resolved::Plain);
        }
        self.record(&table.name, true, Access::Read);
        Ok(Resolved::Scoped(table))
    }

    /// In a view's query, an unqualified global table becomes `main.<name>`: the query is
    /// placed inside the caller's statement, whose CTEs must not capture its names.
    fn qualify_in_view(&mut self, parts: &[String], pos: (u64, u64)) -> Result<(), Refusal> {
        if self.in_view && parts.len() == 1 {
            let at = self.src.toks[self.tok(pos)?].start;
            self.edits.insert(at, vec![text("main.")]);
        }
        Ok(())
    }

    /// The first and last tokens of a (possibly qualified) table name.
    fn name_tokens(&self, name: &ObjectName, pos: (u64, u64)) -> Result<(usize, usize), Refusal> {
        let mut first = self.tok(pos)?;
        let mut last = first;
        for part in &name.0 {
            if let Some(ident) = part.as_ident() {
                last = last.max(self.tok(loc_of(ident))?);
                first = first.min(self.tok(loc_of(ident))?);
            }
        }
        Ok((first, last))
    }

    /// A view in a FROM: its name (and alias) becomes `(<its scoped query>) AS <alias>`.
    /// SQLite reads a view as exactly such a subquery, so the columns, their names and
    /// the rows are the view's, restricted to the tenant.
    fn inline_view(
        &mut self,
        view: &'s View,
        name: &ObjectName,
        alias: Option<&sqlparser::ast::Ident>,
        pos: (u64, u64),
    ) -> Result<(), Refusal> {
        let (first, mut last) = self.name_tokens(name, pos)?;
        let name_end = last;
        if let Some(a) = alias {
            last = last.max(self.tok(loc_of(a))?);
        }
        let alias_text = match alias {
            Some(a) => self.src.tok_text(self.tok(loc_of(a))?),
            None => self.src.tok_text(name_end),
        };
        let pieces = vec![
            text("("),
            view_placeholder(view),
            text(format!(") AS {alias_text}")),
        ];
        self.edits
            .replace(self.src.toks[first].start, self.src.toks[last].end, pieces);
        Ok(())
    }

    /// Writes the derived tables, now that the whole statement has been seen: a derived
    /// table exposes `rowid` only when a rowid read could not be turned into a read of the
    /// INTEGER PRIMARY KEY column.
    fn write_derived_tables(&mut self) {
        for p in std::mem::take(&mut self.pending) {
            let mut columns: Vec<String> = if self.needs_every_column(&p) {
                match self.derived.get(&p.table.name.to_ascii_lowercase()) {
                    Some(list) => vec![list.clone()],
                    None => visible_columns(p.table, self.schema, self.policy)
                        .map(|c| quote_ident(&c.name))
                        .collect(),
                }
            } else {
                self.named_columns(p.table)
            };
            let reads_rowid =
                self.rowid_unqualified || self.rowid_qualifiers.contains(&p.qualifier);
            // The table's rowid by a name none of its columns takes.
            let source = ROWID_NAMES.iter().find(|n| !p.table.has_column(n));
            if let (false, true, Some(source)) = (p.table.without_rowid, reads_rowid, source) {
                for rowid in &self.rowid_names {
                    if !p.table.has_column(rowid) {
                        columns.push(format!("{source} AS {}", quote_ident(rowid)));
                        self.rowid_through_scope.push((
                            p.select,
                            p.qualifier.clone(),
                            rowid.clone(),
                            p.table.name.clone(),
                        ));
                    }
                }
            }
            let pieces = vec![
                text(format!(
                    "(SELECT {} FROM main.{}{} WHERE {}",
                    columns.join(", "),
                    quote_ident(&p.table.name),
                    p.index_clause,
                    self.tenant_test(),
                )),
                Piece::Tenant,
                text(format!(") AS {}", p.alias_text)),
            ];
            self.edits.replace(p.start, p.end, pieces);
        }
    }

    /// `+"tenant_id" = ` (or without the `+`; see [`crate::TenantFilter`]).
    fn tenant_test(&self) -> String {
        self.policy
            .tenant_filter
            .prefix(&quote_ident(self.schema.tenant_column()))
    }

    /// Whether a derived table must list every column of its table: a `*` or `t.*` over it,
    /// or a NATURAL join in its SELECT, reads columns the text does not name.
    fn needs_every_column(&self, p: &PendingDerived<'_>) -> bool {
        match p.select.and_then(|i| self.selects.get(i)) {
            Some(shape) => {
                shape.wildcard || shape.natural || shape.qualified_wildcards.contains(&p.qualifier)
            }
            None => false,
        }
    }

    /// The columns of `table` a statement can reach: those whose name it spells somewhere
    /// (as any word, quoted or not, whatever it qualifies), and the INTEGER PRIMARY KEY when
    /// a rowid read may become a read of it. A column whose name the text never spells
    /// cannot be referenced, so leaving it out changes nothing but the length of the text
    /// SQLite parses, and names resolve exactly as over the whole table. Never empty: a
    /// statement that names no column (`count(*)`) gets the first one.
    fn named_columns(&self, table: &Table) -> Vec<String> {
        let ipk = table
            .integer_primary_key
            .as_deref()
            .filter(|_| !self.rowid_names.is_empty());
        let mut columns: Vec<String> = visible_columns(table, self.schema, self.policy)
            .filter(|c| {
                self.words.contains(&word_hash(&c.name))
                    || ipk.is_some_and(|k| k.eq_ignore_ascii_case(&c.name))
            })
            .map(|c| quote_ident(&c.name))
            .collect();
        if columns.is_empty()
            && let Some(first) = visible_columns(table, self.schema, self.policy).next()
        {
            columns.push(quote_ident(&first.name));
        }
        columns
    }

    /// A rowid read (`rowid`, `t.oid`, ...), resolved as SQLite resolves it (see
    /// [`crate::rowid`]): it becomes a read of the INTEGER PRIMARY KEY column (the same
    /// value, and the same result-column name), or the derived tables expose their rowid.
    fn rowid_read(
        &mut self,
        qualifier: Option<&sqlparser::ast::Ident>,
        word: &sqlparser::ast::Ident,
    ) -> Result<(), Refusal> {
        let lower = word.value.to_ascii_lowercase();
        let q = qualifier.map(|q| q.value.to_ascii_lowercase());
        match self.resolve_rowid(q.as_deref(), &lower) {
            Action::Keep => {}
            Action::Replace { table, qualifier } => {
                let Some(ipk) = &table.integer_primary_key else {
                    return Err(Refusal::Internal {
                        detail: format!("{} has no INTEGER PRIMARY KEY", table.name),
                    });
                };
                let i = self.tok(loc_of(word))?;
                let (start, end) = (self.src.toks[i].start, self.src.toks[i].end);
                let column = match qualifier {
                    Some(q) => format!("{}.{}", quote_ident(&q), quote_ident(ipk)),
                    None => quote_ident(ipk),
                };
                self.edits.replace(start, end, vec![text(column)]);
            }
            Action::Expose { .. } => match q {
                Some(q) => self.rowid_qualifiers.push(q),
                None => self.rowid_unqualified = true,
            },
        }
        Ok(())
    }

    fn tok(&self, pos: (u64, u64)) -> Result<usize, Refusal> {
        self.src
            .index_at(sqlparser::tokenizer::Location {
                line: pos.0,
                column: pos.1,
            })
            .ok_or_else(|| Refusal::Internal {
                detail: format!("no token at line {} column {}", pos.0, pos.1),
            })
    }
}

impl<'s> Visitor for Scoper<'s, '_> {
    type Break = Refusal;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Refusal> {
        let mut level = HashMap::new();
        for cte in query.with.iter().flat_map(|w| &w.cte_tables) {
            let name = cte.alias.name.value.to_ascii_lowercase();
            let columns = if self.rowid_names.is_empty() {
                None
            } else if cte.alias.columns.is_empty() {
                rowid::column_names(&cte.query)
            } else {
                Some(
                    cte.alias
                        .columns
                        .iter()
                        .map(|c| c.name.value.to_ascii_lowercase())
                        .collect(),
                )
            };
            if !self.cte_names.contains(&name) {
                self.cte_names.push(name.clone());
            }
            level.insert(name, columns);
        }
        self.ctes.push(level);
        self.select_bodies
            .push(matches!(query.body.as_ref(), SetExpr::Select(_)));
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<Refusal> {
        self.ctes.pop();
        if self.select_bodies.pop() == Some(true) {
            self.scopes.pop();
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<Refusal> {
        let start = select.select_token.0.span.start;
        let Some(select_tok) = self.src.index_at(start) else {
            return ControlFlow::Break(Refusal::Internal {
                detail: "SELECT keyword not found".to_owned(),
            });
        };
        // Skip DISTINCT / ALL.
        let mut after = select_tok;
        while let Some(next) = self.src.next_sig(after, self.src.toks.len()) {
            if self.src.is_kw(next, Keyword::DISTINCT) || self.src.is_kw(next, Keyword::ALL) {
                after = next;
            } else {
                break;
            }
        }
        let ranges = self.src.list_items(after, self.seg_end, SELECT_LIST_END);
        let from = self.tables_in_from(&select.from);
        self.scopes.push(from);
        if let Err(refusal) = self.note_items(&select.projection, &ranges, true) {
            return ControlFlow::Break(refusal);
        }
        let mut shape = SelectShape {
            natural: has_natural_join(&select.from),
            ..SelectShape::default()
        };
        for item in &select.projection {
            match item {
                SelectItem::Wildcard(_) => shape.wildcard = true,
                SelectItem::QualifiedWildcard(kind, _) => match kind {
                    SelectItemQualifiedWildcardKind::ObjectName(name) => {
                        if let Some(last) = name.0.last().and_then(|p| p.as_ident()) {
                            shape
                                .qualified_wildcards
                                .push(last.value.to_ascii_lowercase());
                        }
                    }
                    SelectItemQualifiedWildcardKind::Expr(_) => shape.wildcard = true,
                },
                SelectItem::UnnamedExpr(_)
                | SelectItem::ExprWithAlias { .. }
                | SelectItem::ExprWithAliases { .. } => {}
            }
        }
        self.selects.push(shape);
        self.select_stack.push(self.selects.len() - 1);
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<Refusal> {
        self.statement_is_query = matches!(statement, Statement::Query(_));
        // The target of a write is the real table: its rowid is its own.
        let target = |name: &ObjectName, alias: Option<&sqlparser::ast::Ident>| {
            let last = name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(|i| i.value.clone())
                .unwrap_or_default();
            FromItem {
                kind: ItemKind::Target(self.schema.table(&last)),
                qualifier: alias.map_or(last, |a| a.value.clone()).to_ascii_lowercase(),
            }
        };
        let level: Vec<FromItem<'s>> = match statement {
            Statement::Insert(insert) => match &insert.table {
                sqlparser::ast::TableObject::TableName(name) => vec![target(name, None)],
                _ => Vec::new(),
            },
            Statement::Update(update) => {
                let mut level = Vec::new();
                if let TableFactor::Table { name, alias, .. } = &update.table.relation {
                    level.push(target(name, alias.as_ref().map(|a| &a.name)));
                }
                if let Some(
                    sqlparser::ast::UpdateTableFromKind::AfterSet(from)
                    | sqlparser::ast::UpdateTableFromKind::BeforeSet(from),
                ) = &update.from
                {
                    level.extend(self.tables_in_from(from));
                }
                level
            }
            Statement::Delete(delete) => {
                let (sqlparser::ast::FromTable::WithFromKeyword(from)
                | sqlparser::ast::FromTable::WithoutKeyword(from)) = &delete.from;
                from.iter()
                    .filter_map(|twj| match &twj.relation {
                        TableFactor::Table { name, alias, .. } => {
                            Some(target(name, alias.as_ref().map(|a| &a.name)))
                        }
                        _ => None,
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        self.scopes.push(level);
        ControlFlow::Continue(())
    }

    fn post_visit_statement(&mut self, _statement: &Statement) -> ControlFlow<Refusal> {
        self.scopes.pop();
        ControlFlow::Continue(())
    }

    fn post_visit_select(&mut self, _select: &Select) -> ControlFlow<Refusal> {
        // The SELECT that is its query's whole body keeps its FROM until the query ends.
        if self.select_bodies.last() != Some(&true) {
            self.scopes.pop();
        }
        self.select_stack.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<Refusal> {
        match name_pos(relation) {
            Some(pos) => {
                self.relations.push(pos);
                ControlFlow::Continue(())
            }
            None => ControlFlow::Break(Refusal::Unsupported {
                construct: format!("table name {relation}"),
            }),
        }
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Refusal> {
        let result = match factor {
            TableFactor::Table { .. } => self.scope_table(factor),
            TableFactor::Derived { .. } => {
                // Its query cannot see the other items of the FROM that holds it.
                if let Some(depth) = self.scopes.len().checked_sub(1) {
                    self.hidden.push(depth);
                }
                Ok(())
            }
            TableFactor::NestedJoin { .. } => Ok(()),
            other => Err(Refusal::Unsupported {
                construct: format!("table expression {other}"),
            }),
        };
        match result {
            Ok(()) => ControlFlow::Continue(()),
            Err(refusal) => ControlFlow::Break(refusal),
        }
    }

    fn post_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Refusal> {
        if matches!(factor, TableFactor::Derived { .. }) && !self.scopes.is_empty() {
            self.hidden.pop();
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<Refusal> {
        if let Expr::Function(f) = expr {
            let name = f.name.to_string();
            let bare = f
                .name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(|i| i.value.to_ascii_lowercase())
                .unwrap_or_default();
            if FORBIDDEN_FUNCTIONS.contains(&bare.as_str()) {
                return ControlFlow::Break(Refusal::Function { name });
            }
        }
        // `main.t.col` names the table by its schema; a scoped table is now a derived table
        // aliased `t`, so the column is `t.col`. (Every source is scoped whatever a name
        // resolves to, so this can change which same-tenant row is meant only in queries
        // that shadow `t` and name `main.t` at once.)
        if let Expr::CompoundIdentifier(parts) = expr
            && let [schema, table, _] = parts.as_slice()
            && schema.value.eq_ignore_ascii_case("main")
            && self.schema.is_scoped(&table.value)
        {
            let (Ok(a), Ok(b)) = (self.tok(loc_of(schema)), self.tok(loc_of(table))) else {
                return ControlFlow::Break(Refusal::Internal {
                    detail: format!("column reference {expr} not found"),
                });
            };
            let (start, end) = (self.src.toks[a].start, self.src.toks[b].start);
            self.edits.replace(start, end, Vec::new());
        }
        let rowid = match expr {
            Expr::Identifier(word) => Some((None, word)),
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [q, word] => Some((Some(q), word)),
                [_, q, word] => Some((Some(q), word)),
                _ => None,
            },
            _ => None,
        };
        if let Some((q, word)) = rowid
            && ROWID_NAMES.contains(&word.value.to_ascii_lowercase().as_str())
            && let Err(refusal) = self.rowid_read(q, word)
        {
            return ControlFlow::Break(refusal);
        }
        // `x IN t`: SQLite reads the table as `(SELECT * FROM t)`.
        if let Expr::In {
            target: sqlparser::ast::InTarget::Table { name, args },
            ..
        } = expr
            && let Err(refusal) = self.scope_in_table(name, args.is_some())
        {
            return ControlFlow::Break(refusal);
        }
        // `t.*` can also appear as an expression (inside a function's arguments, say).
        if matches!(expr, Expr::Wildcard(_) | Expr::QualifiedWildcard(..))
            && let Some(shape) = self
                .select_stack
                .last()
                .and_then(|&i| self.selects.get_mut(i))
        {
            shape.wildcard = true;
        }
        ControlFlow::Continue(())
    }
}

/// The identifier parts of a name, unquoted.
pub(crate) fn ident_parts(name: &ObjectName) -> Result<Vec<String>, Refusal> {
    name.0
        .iter()
        .map(|p| {
            p.as_ident()
                .map(|i| i.value.clone())
                .ok_or_else(|| Refusal::Unsupported {
                    construct: format!("table name {name}"),
                })
        })
        .collect()
}

/// Where a name starts, as (line, column).
pub(crate) fn name_pos(name: &ObjectName) -> Option<(u64, u64)> {
    name.0
        .first()
        .and_then(|p| p.as_ident())
        .map(loc_of)
        .filter(|&(line, _)| line > 0)
}

pub(crate) fn loc_of(ident: &sqlparser::ast::Ident) -> (u64, u64) {
    (ident.span.start.line, ident.span.start.column)
}

/// An identifier in double quotes, with inner quotes doubled.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The columns a statement sees of `table`: all but the tenant column unless the policy
/// exposes it.
pub(crate) fn visible_columns<'t>(
    table: &'t Table,
    schema: &Schema,
    policy: &Policy,
) -> impl Iterator<Item = &'t crate::schema::Column> {
    let tenant = schema.tenant_column().to_owned();
    let expose = policy.expose_tenant_column;
    table
        .columns
        .iter()
        .filter(move |c| expose || !c.name.eq_ignore_ascii_case(&tenant))
}
