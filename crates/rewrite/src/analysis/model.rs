//! The resolution model of one statement, what the analysis builds and the emitters read:
//! plain data, with the byte ranges each edit will cover.

use std::ops::Range;

use crate::analysis::raising::RaisingColumns;
use crate::objects::TriggerEvent;
use crate::plan::TenantCheck;
use crate::policy::Policy;
use crate::schema::{Schema, Table};
use crate::source::Source;
use crate::statement::TableUse;

pub(crate) use super::words::Words;

/// What the analysis reads a statement against.
#[derive(Clone)]
pub(crate) struct Context<'s, 'a> {
    pub schema: &'s Schema,
    pub policy: &'s Policy,
    pub src: &'s Source<'a>,
    /// The statement's tokens (its `;` excluded).
    pub seg: Range<usize>,
    /// This is a view's query, to be placed inside other statements.
    pub in_view: bool,
    /// Wrap the keys an INSERT allocates in `tenantry_key(...)` ([`Policy::report_keys`]; a
    /// trigger body never does).
    pub report_keys: bool,
    /// Which tenant values the statement may give the tenant column itself.
    pub tenant_values: TenantValues,
    /// Read every tenant table through its tenant index whatever the statement's
    /// conditions ([`Model::bounded`]): a view's query for statements that need it.
    pub bounded: bool,
    /// The views' result columns that may raise (`views::raising_columns`): a statement
    /// that names one in a condition is bounded.
    pub raising_columns: &'s RaisingColumns,
}

/// Which values a statement may give the tenant column itself (in an INSERT, or compared
/// with it in an UPDATE's or DELETE's WHERE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TenantValues {
    /// String literals only, checked when the plan is rendered (plain rewrites).
    Literal,
    /// Any value, checked when the statement runs ([`Policy::check_tenant_values`]).
    Checked,
    /// In the body (or WHEN) of a trigger fired by this event: only the firing row's
    /// tenant column, `NEW."tenant_id"` (INSERT, UPDATE) or `OLD."tenant_id"` (UPDATE,
    /// DELETE), which is the scoping value by construction.
    FiringRow(TriggerEvent),
}

/// One statement, resolved: everything the emitters need, nothing they must work out.
pub(crate) struct Model<'s> {
    /// Every table it reads or writes, in the order met (the write target first).
    pub tables: Vec<TableUse>,
    /// Every CTE name it declares (lower case), in the order met.
    pub ctes: Vec<String>,
    /// The write target, when it is a tenant table: where its scoping goes.
    pub write: Option<Write<'s>>,
    /// Tenant values an INSERT writes explicitly, checked when the tenant is known.
    pub checks: Vec<TenantCheck>,
    /// Tenant values checked when the statement runs ([`TenantValues::Checked`]).
    pub checked: Vec<CheckedValue>,
    /// An upsert's `DO UPDATE` assigns the tenant column a value in [`Model::checked`].
    pub assigns_tenant: bool,
    /// Tenant tables read in a FROM or JOIN that become derived tables.
    pub reads: Vec<TenantRead<'s>>,
    /// Tenant tables read by `x IN t`.
    pub in_tables: Vec<InTable<'s>>,
    /// Tenant tables (and every tenant virtual table) read in a FROM and scoped in place,
    /// by a tenant test in their SELECT's WHERE.
    pub in_place: Vec<InPlaceRead<'s>>,
    /// Views read in a FROM or by `x IN v`, in the order met.
    pub views: Vec<ViewUse>,
    /// Rowid reads through a tenant table, and what the lookup decided for each.
    pub rowid_reads: Vec<RowidRead>,
    /// `main.` of `main.t.col` where `t` is a tenant table (now a derived table named `t`):
    /// the bytes to drop.
    pub schema_prefixes: Vec<Range<usize>>,
    /// In a view's query: where `main.` goes before an unqualified global table, so the
    /// caller's CTEs cannot capture it.
    pub main_prefixes: Vec<usize>,
    /// Per SELECT, in visiting order: what it does with its FROM's columns.
    pub selects: Vec<SelectShape>,
    /// Result columns that may need an alias to keep their legacy name.
    pub columns: Vec<ResultColumn>,
    /// Facts about the statement's words.
    pub words: Words,
    /// A condition may raise an error on the values it reads (`analysis/raising.rs`): every
    /// tenant table read or written that has no per-tenant keys is read through its tenant
    /// index, with a tenant test the index can use, so SQLite visits no other tenant's row.
    pub bounded: bool,
    /// The conditions that may raise, guarded by the tenant test instead
    /// (`analysis/guard.rs`).
    pub guard: Option<Guard>,
    /// The analysis tries to guard the statement, a query: its SELECT's tenant tables are
    /// read in place even under a `*` or `t.*`, which the guard's emitter then spells out.
    pub spell_out_stars: bool,
}

/// Terms of a WHERE each wrapped in `CASE WHEN <tenant tests> THEN (<term>) END`.
pub(crate) struct Guard {
    /// Alias or name, as written, of each table whose tenant the CASE tests.
    pub qualifiers: Vec<String>,
    /// The bytes of each term.
    pub terms: Vec<Range<usize>>,
}

/// A value a statement gives the tenant column of `table` (or compares with it), wrapped
/// in `tenantry_tenant(...)` so the statement fails when it is not the tenant.
pub(crate) struct CheckedValue {
    /// The table whose tenant column it is.
    pub table: String,
    /// The bytes of the value's expression.
    pub span: Range<usize>,
}

/// A tenant table in a FROM: replaced by its derived table, unless the walk's end finds
/// it can be scoped in place (see `analysis/in_place.rs`).
pub(crate) struct TenantRead<'s> {
    /// The SELECT whose FROM holds it (index into [`Model::selects`]; none for UPDATE ...
    /// FROM).
    pub select: Option<usize>,
    /// The bytes it replaces: the name, the alias and any INDEXED BY / NOT INDEXED.
    pub span: Range<usize>,
    pub table: &'s Table,
    /// The name that qualifies its columns (alias or table name), lower case.
    pub qualifier: String,
    /// ` INDEXED BY i` or ` NOT INDEXED`, as written, or empty.
    pub index_clause: String,
    /// The derived table's alias, as written.
    pub alias_text: String,
    /// The rowid it must expose: by which of its names no column takes, and under which
    /// names the statement reads it.
    pub rowid: Option<ExposedRowid>,
    /// It is on the nullable side of an outer join.
    pub nullable: bool,
    /// In a view's query, where `main.` goes before its bare name if it is read in place
    /// (the caller's CTEs must not capture it).
    pub main_prefix: Option<usize>,
}

/// A tenant table in a FROM, read in place: its tenant test goes into the WHERE of the
/// SELECT whose FROM holds it (see `analysis/in_place.rs`).
pub(crate) struct InPlaceRead<'s> {
    /// The SELECT whose FROM holds it (index into [`Model::selects`]).
    pub select: usize,
    pub table: &'s Table,
    /// Its alias or name, as written: what qualifies its tenant column.
    pub qualifier: String,
    /// The same name as SQLite reads it (unquoted, unescaped), lower case: what a `t.*`
    /// names.
    pub name: String,
    /// Where its SELECT's tenant tests go.
    pub place: FilterPlace,
}

/// A rowid a derived table exposes as a column.
pub(crate) struct ExposedRowid {
    /// `rowid`, `oid` or `_rowid_`: one no column of the table takes; or the quoted key
    /// column a tenant-first table keeps its legacy rowid in.
    pub source: String,
    /// The names the statement reads it by (lower case).
    pub names: Vec<String>,
}

/// `x IN t` on a tenant table: `t` becomes a subquery of the tenant's rows.
pub(crate) struct InTable<'s> {
    pub span: Range<usize>,
    pub table: &'s Table,
}

/// A view read by a statement: its name (and alias) becomes its scoped query.
pub(crate) struct ViewUse {
    pub span: Range<usize>,
    /// The view's name, lower case.
    pub view: String,
    /// In a FROM, the alias the subquery gets (as written); none after IN.
    pub alias: Option<String>,
}

/// A rowid read through a tenant table, and what the lookup decided for it.
pub(crate) enum RowidRead {
    /// It becomes a read of the table's INTEGER PRIMARY KEY column `key`: the same value,
    /// and the same result-column name. Qualified by `qualifier` when the read was not.
    Replace {
        /// The bytes of the rowid word.
        span: Range<usize>,
        key: String,
        qualifier: Option<String>,
    },
    /// The derived tables it may reach (those of its qualifier, lower case, or all when it
    /// has none) expose the rowid, which it reads where it read it before.
    Expose { qualifier: Option<String> },
}

/// What a SELECT does with the columns of its FROM.
#[derive(Default)]
pub(crate) struct SelectShape {
    pub wildcard: bool,
    pub qualified_wildcards: Vec<String>,
    pub natural: bool,
    /// Each `*` (no qualifier) and `t.*` (its qualifier, lower case) of its result columns,
    /// with its bytes; `stars_complete` when every one was found in the text.
    pub stars: Vec<(Option<String>, Range<usize>)>,
    pub stars_complete: bool,
    /// Its FROM is one table, without joins.
    pub single_item: bool,
}

/// A result column that keeps its legacy name only with an alias.
pub(crate) struct ResultColumn {
    /// Bytes of the column's text.
    pub start: usize,
    pub end: usize,
    /// Where SQLite's name for it ends: at the next token, so comments after the
    /// expression are part of the name (trailing whitespace is not).
    pub name_end: usize,
    /// The name SQLite gave it before, when it is not the column's text.
    pub name: Option<String>,
    /// Alias even when no edit falls inside (a rowid read through a derived table).
    pub always: bool,
}

/// The write target of an INSERT, UPDATE or DELETE that is a tenant table, and where the
/// clauses that scope it go.
pub(crate) struct Write<'s> {
    pub table: &'s Table,
    pub clauses: WriteClauses,
    /// Bytes of each `*` of RETURNING, to become the table's legacy columns.
    pub returning_stars: Vec<Range<usize>>,
}

/// Where a write target's scoping goes.
pub(crate) enum WriteClauses {
    /// UPDATE or DELETE: the tenant test before the statement's own condition.
    Filter(Filter),
    /// INSERT: the tenant column and value.
    Insert(InsertClauses),
}

/// A tenant test on a write target: `qualifier."tenant_id" = 'A'`.
pub(crate) struct Filter {
    /// The target's alias or name, as written.
    pub qualifier: String,
    pub place: FilterPlace,
    /// Where ` INDEXED BY <tenant index>` goes, after the target's name and alias, when
    /// the statement is [`Model::bounded`]; none for an upsert's `DO UPDATE`.
    pub index_at: Option<usize>,
}

/// Where a tenant test goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FilterPlace {
    /// Before an existing condition (bytes `start..end`), which gets parentheses.
    Before { start: usize, end: usize },
    /// In a new `WHERE` after this byte.
    After { at: usize },
}

/// Where an INSERT's tenant column and value go.
pub(crate) struct InsertClauses {
    /// Where `, "tenant_id"` goes in the statement's column list.
    pub column: Option<usize>,
    /// Where ` (<every column>, "tenant_id")` goes when the statement has no column list.
    pub column_list: Option<usize>,
    pub source: InsertSource,
    /// The tenant test of an upsert's `DO UPDATE`.
    pub upsert: Option<Filter>,
    /// Where `, "tenant_id"` goes in an upsert's conflict target (`ON CONFLICT (sku)`), so
    /// that it names the per-tenant key.
    pub conflict_target: Option<usize>,
    /// The key column allocated per tenant (a table the tenant-first migration keyed by a
    /// legacy rowid).
    pub key: Option<KeyAlloc>,
}

/// An INSERT into a table whose legacy rowid is a key column: where each row's key is
/// allocated (one more than the largest the tenant holds, or its AUTOINCREMENT mark).
pub(crate) struct KeyAlloc {
    /// The key column's name.
    pub column: String,
    /// Its table's name.
    pub table: String,
    /// The legacy column was AUTOINCREMENT.
    pub autoincrement: bool,
    /// Wrap each row's key in `tenantry_key(...)`, so the connection sees it as
    /// `last_insert_rowid()`.
    pub report: bool,
    pub place: KeyPlace,
    /// Bytes of each `last_insert_rowid()` of RETURNING that becomes the key column: SQLite
    /// evaluated it after writing the row, when it was that row's rowid
    /// ([`crate::analysis::keys::returned_key_reads`]).
    pub returned: Vec<Range<usize>>,
}

/// Where an INSERT's key allocation goes.
pub(crate) enum KeyPlace {
    /// The column list omits the key: `, "<key>"` after byte `column_at` (after the tenant
    /// column, if it goes there too; none for DEFAULT VALUES, which gets its own list), and
    /// the key of the k-th row, the source's last column: before the `)` of each VALUES row
    /// (`rows`), or in the wrapping SELECT or DEFAULT VALUES ([`InsertClauses::source`]).
    Omitted {
        column_at: Option<usize>,
        rows: Option<Vec<usize>>,
    },
    /// A single VALUES row gives the key as the expression at these bytes: `coalesce(<it>,
    /// <allocation>)`.
    Item { start: usize, end: usize },
    /// The source ([`InsertSource::Windowed`]) gives the key in column `index` (0-based)
    /// of `count`: NULLs are allocated row by row as SQLite did.
    Windowed { index: usize, count: usize },
}

/// Where the tenant value goes in an INSERT's rows.
pub(crate) enum InsertSource {
    /// `DEFAULT VALUES` (these bytes) becomes a one-column VALUES.
    DefaultValues { span: Range<usize> },
    /// The statement writes the tenant column itself ([`Model::checks`]).
    Explicit,
    /// Before the `)` of each VALUES row (byte offsets).
    Values { closes: Vec<usize> },
    /// After the last item of the SELECT list; named when a WINDOW clause follows.
    SelectList { at: usize, before_window: bool },
    /// Any other source (bytes `start..end`) is wrapped in a SELECT that adds the column
    /// (unless the statement writes it itself: `add_tenant` false, the wrapping SELECT then
    /// only adds an omitted key).
    Wrapped {
        start: usize,
        end: usize,
        add_tenant: bool,
    },
    /// A source (bytes `start..end`) that gives an allocated key column: wrapped in SELECTs
    /// that number its rows and allocate the NULL keys ([`KeyPlace::Windowed`]), adding the
    /// tenant column unless the statement writes it itself (`add_tenant`).
    Windowed {
        start: usize,
        end: usize,
        add_tenant: bool,
    },
}

impl Model<'_> {
    /// Whether `table`, read or written by this statement, is read through its tenant
    /// index ([`Model::bounded`]): a table without per-tenant keys (whose indexes may lack
    /// the tenant column, or whose tenant test keeps the legacy plan). Not a virtual table,
    /// which has no index to name.
    pub fn through_tenant_index(&self, table: &Table) -> bool {
        self.bounded && table.module.is_none() && !table.tenant_keys
    }

    /// An empty model of a statement with these words.
    pub(super) fn new(words: Words) -> Self {
        Model {
            tables: Vec::new(),
            ctes: Vec::new(),
            write: None,
            checks: Vec::new(),
            checked: Vec::new(),
            assigns_tenant: false,
            reads: Vec::new(),
            in_tables: Vec::new(),
            in_place: Vec::new(),
            views: Vec::new(),
            rowid_reads: Vec::new(),
            schema_prefixes: Vec::new(),
            main_prefixes: Vec::new(),
            selects: Vec::new(),
            columns: Vec::new(),
            words,
            bounded: false,
            guard: None,
            spell_out_stars: false,
        }
    }
}
