//! What the rewriter knows about the database: its tables, their columns in order, and which
//! tables are tenant-scoped (they have the tenant column) and which are global.

use std::collections::{HashMap, HashSet};

use crate::dialect::SqliteDialect;
use sqlparser::ast::{ColumnOption, SqliteTableOption, Statement};
use sqlparser::parser::Parser;

use crate::error::SchemaError;
use crate::keys::{self, RowKey, UniqueKey};
use crate::objects::{self, Header, Trigger, View};
use crate::source::{self, Source};
use crate::tenant::is_plain_column_name;
use crate::unreadable::{ObjectKind, Unreadable};
use crate::vtab::{self, Module};

/// The name prefix of the triggers the tenant-first migration creates to run a foreign
/// key's `SET NULL` / `SET DEFAULT` action within a tenant.
pub const FK_ACTION_TRIGGER_PREFIX: &str = "tenantry_fk_";

/// One column of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The column's name as declared.
    pub name: String,
    /// A generated column (`GENERATED ALWAYS AS ...`): read like any column, never inserted.
    pub generated: bool,
}

impl Column {
    /// An ordinary (stored, writable) column.
    pub fn new(name: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            generated: false,
        }
    }
}

/// A table of the main schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The table's name as declared.
    pub name: String,
    /// The columns in declaration order, the tenant column included when the table has it.
    pub columns: Vec<Column>,
    /// `WITHOUT ROWID`: the table has no `rowid`.
    pub without_rowid: bool,
    /// The `INTEGER PRIMARY KEY` column, which is the table's rowid (SQLite names a result
    /// column that reads `rowid` after it).
    pub integer_primary_key: Option<String>,
    /// A constraint of the table says `ON CONFLICT REPLACE`: a plain INSERT or UPDATE may
    /// delete the conflicting row, whoever owns it.
    pub replaces_on_conflict: bool,
    /// A constraint of the table says `ON CONFLICT IGNORE`: a plain INSERT may skip a row.
    pub ignores_on_conflict: bool,
    /// Its foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Its PRIMARY KEY and UNIQUE constraints and the unique indexes on it.
    pub unique_keys: Vec<UniqueKey>,
    /// What became of the legacy rowid of a table the tenant-first migration rebuilt (its
    /// PRIMARY KEY's marker); `None` for any other table.
    pub key: Option<RowKey>,
    /// Per-tenant keys: a WITHOUT ROWID table (a rowid is a key all tenants share) with the
    /// tenant column, and every key of [`Table::unique_keys`] includes it, so every conflict
    /// is with the tenant's own row. Kept by [`Schema`] as tables and indexes are added.
    pub tenant_keys: bool,
    /// The module of a virtual table (its columns read from its module arguments); `None`
    /// for an ordinary table.
    pub module: Option<Module>,
}

/// A foreign key of a table, as far as the rewriter cares: the table it references and
/// whether SQLite changes this table's rows when the referenced row is deleted or its key
/// updated (`CASCADE`, `SET NULL`, `SET DEFAULT`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignKey {
    /// The referenced table.
    pub parent: String,
    /// `ON DELETE` changes the referencing rows.
    pub acts_on_delete: bool,
    /// `ON UPDATE` changes the referencing rows.
    pub acts_on_update: bool,
}

impl Table {
    /// A rowid table with ordinary columns.
    ///
    /// ```
    /// use tenantry_rewrite::Table;
    /// let t = Table::new("customers", ["id", "name", "tenant_id"]);
    /// assert_eq!(t.columns.len(), 3);
    /// ```
    pub fn new<I, S>(name: impl Into<String>, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table {
            name: name.into(),
            columns: columns.into_iter().map(Column::new).collect(),
            without_rowid: false,
            integer_primary_key: None,
            replaces_on_conflict: false,
            ignores_on_conflict: false,
            foreign_keys: Vec::new(),
            unique_keys: Vec::new(),
            key: None,
            tenant_keys: false,
            module: None,
        }
    }

    /// Whether a statement's `*` over the table shows its tenant column: a virtual table's
    /// columns are all the application's own (its tenant column included, which it declared
    /// and reads itself), so all of them stay visible.
    ///
    /// ```
    /// use tenantry_rewrite::{Module, Table};
    /// let mut t = Table::new("psi", ["body", "tenant_id"]);
    /// assert!(!t.shows_tenant_column());
    /// t.module = Some(Module::Fts5);
    /// assert!(t.shows_tenant_column());
    /// ```
    pub fn shows_tenant_column(&self) -> bool {
        self.module.is_some()
    }

    /// Whether the table has a column of this name (ASCII case-insensitive, as SQLite).
    pub fn has_column(&self, name: &str) -> bool {
        self.columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Whether a legacy statement could read a rowid of this table: a rowid table, or a
    /// table the tenant-first migration rebuilt from one (marked [`Table::key`]).
    pub fn had_rowid(&self) -> bool {
        !self.without_rowid || self.key.is_some()
    }

    /// The column a legacy rowid read of this table means: the INTEGER PRIMARY KEY, or the
    /// key column a tenant-first table kept it in.
    pub fn rowid_column(&self) -> Option<&str> {
        match &self.key {
            Some(RowKey::Column { name, .. }) => Some(name),
            Some(RowKey::Gone) => None,
            None => self.integer_primary_key.as_deref(),
        }
    }

    /// The key column an INSERT allocates per tenant when it is omitted or NULL, and whether
    /// it is AUTOINCREMENT.
    pub fn allocated_key(&self) -> Option<(&str, bool)> {
        match &self.key {
            Some(RowKey::Column {
                name,
                autoincrement,
            }) => Some((name, *autoincrement)),
            Some(RowKey::Gone) | None => None,
        }
    }

    /// Per-tenant keys: a WITHOUT ROWID table (a rowid table's rowid is a key every tenant
    /// shares) with the tenant column in every key; never when an index was unreadable.
    fn compute_tenant_keys(&mut self, tenant_column: &str, unreadable_index: bool) {
        self.tenant_keys = !unreadable_index
            && self.without_rowid
            && self.has_column(tenant_column)
            && self.unique_keys.iter().all(|k| k.includes(tenant_column));
    }
}

/// The tables the rewriter knows and the name of the tenant column.
///
/// A table is *tenant-scoped* when it has the tenant column, and *global* otherwise: that is
/// exactly what `tenantry migrate` leaves behind (every table gets the column except the
/// ones it keeps global).
///
/// ```
/// use tenantry_rewrite::{Schema, Table};
/// let mut schema = Schema::new("tenant_id").unwrap();
/// schema.add_table(Table::new("customers", ["id", "name", "tenant_id"])).unwrap();
/// schema.add_table(Table::new("settings", ["key", "value"])).unwrap();
/// assert!(schema.is_scoped("CUSTOMERS"));
/// assert!(!schema.is_scoped("settings"));
/// ```
#[derive(Clone, Debug)]
pub struct Schema {
    tenant_column: String,
    tables: HashMap<String, Table>,
    views: HashMap<String, View>,
    triggers: Vec<Trigger>,
    /// Unique indexes by their table's lower-case name, read before or after the table.
    indexes: HashMap<String, Vec<UniqueKey>>,
    /// A `CREATE UNIQUE INDEX` could not be read: no table has per-tenant keys.
    unreadable_unique_index: bool,
    /// Indexes led by the tenant column, without WHERE, by their table's lower-case name.
    tenant_indexes: HashMap<String, Vec<String>>,
    /// Tables (lower case) whose tenant column the application declared itself (see
    /// `crate::own_tenant`).
    pub(crate) own_tenant_columns: HashSet<String>,
    /// Objects whose text could not be read; statements that may touch them are refused.
    unreadable: Vec<Unreadable>,
}

impl Schema {
    /// An empty schema whose tenant column is `tenant_column`.
    ///
    /// # Errors
    /// [`SchemaError::InvalidColumnName`] unless the name is a plain identifier.
    pub fn new(tenant_column: &str) -> Result<Self, SchemaError> {
        if !is_plain_column_name(tenant_column) {
            return Err(SchemaError::InvalidColumnName {
                name: tenant_column.to_owned(),
            });
        }
        Ok(Schema {
            tenant_column: tenant_column.to_owned(),
            tables: HashMap::new(),
            views: HashMap::new(),
            triggers: Vec::new(),
            indexes: HashMap::new(),
            unreadable_unique_index: false,
            tenant_indexes: HashMap::new(),
            own_tenant_columns: HashSet::new(),
            unreadable: Vec::new(),
        })
    }

    /// Reads the `CREATE TABLE`, `CREATE VIRTUAL TABLE`, `CREATE VIEW`, `CREATE TRIGGER`
    /// and `CREATE INDEX` statements of `sql` (for example the `sql` column of
    /// `sqlite_master` joined with `;`, or a schema file): of an index, whether it is unique
    /// (a key) and whether the tenant column leads it ([`Schema::tenant_index`]). Other
    /// statements (inserts) are skipped; temporary objects are not part of the main schema.
    ///
    /// ```
    /// use tenantry_rewrite::Schema;
    /// let schema = Schema::from_sql(
    ///     "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, tenant_id TEXT NOT NULL);
    ///      CREATE TABLE g (k TEXT);",
    ///     "tenant_id",
    /// ).unwrap();
    /// assert!(schema.is_scoped("t"));
    /// assert!(!schema.is_scoped("g"));
    /// ```
    ///
    /// An object whose text cannot be read (a virtual table of an unknown module, a table
    /// the parser does not understand, `CREATE TABLE ... AS SELECT`, a trigger without a
    /// body) does not fail the schema: it is recorded ([`Schema::unreadable`]) and the
    /// statements that may touch it are refused.
    ///
    /// # Errors
    /// [`SchemaError::InvalidColumnName`]; [`SchemaError::DuplicateTable`] when a table or
    /// view is declared twice (SQLite cannot store that); [`SchemaError::Parse`] when the
    /// text cannot be tokenized, or a statement that cannot be read does not even name an
    /// object.
    pub fn from_sql(sql: &str, tenant_column: &str) -> Result<Self, SchemaError> {
        let mut schema = Schema::new(tenant_column)?;
        schema.read(sql, false)?;
        Ok(schema)
    }

    /// Reads schema objects one by one: each text one `CREATE` statement, as the `sql`
    /// column of `sqlite_master` holds them. Safer than joining them for
    /// [`Schema::from_sql`]: a comment at the end of one object cannot swallow the next.
    ///
    /// ```
    /// use tenantry_rewrite::Schema;
    /// let schema = Schema::from_objects(
    ///     [
    ///         "CREATE VIEW v AS SELECT k FROM g -- every key",
    ///         "CREATE TABLE t (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL)",
    ///     ],
    ///     "tenant_id",
    /// )?;
    /// assert!(schema.is_scoped("t") && schema.view("v").is_some());
    /// # Ok::<(), tenantry_rewrite::SchemaError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Schema::from_sql`]. A text that does not read as exactly one statement is an
    /// unreadable object when its first statement names one, an error otherwise.
    pub fn from_objects<I, S>(objects: I, tenant_column: &str) -> Result<Self, SchemaError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut schema = Schema::new(tenant_column)?;
        for object in objects {
            schema.read(object.as_ref(), true)?;
        }
        Ok(schema)
    }

    /// Adds the tables, views and triggers `sql` declares; with `one`, `sql` must be exactly
    /// one statement. An object that cannot be read is recorded as unreadable.
    fn read(&mut self, sql: &str, one: bool) -> Result<(), SchemaError> {
        let (src, mut parser_tokens) = Source::new(sql).map_err(|message| SchemaError::Parse {
            statement: source::snippet(sql),
            message,
        })?;
        let statements = objects::statements(&src);
        if one && statements.len() != 1 {
            let message = format!(
                "the text reads as {} statements where SQLite stores one",
                statements.len()
            );
            return match statements
                .first()
                .and_then(|s| objects::header_of(&src, s.clone()))
            {
                Some(header) => self.add_unreadable_object(header, message),
                None => Err(SchemaError::Parse {
                    statement: source::snippet(sql),
                    message,
                }),
            };
        }
        for segment in statements {
            let tokens = parser_tokens.take(segment.clone());
            match self.read_object(&src, segment.clone(), tokens) {
                Ok(()) => {}
                Err(ObjectError::Schema(e)) => return Err(e),
                Err(ObjectError::Unreadable(message)) => {
                    match objects::header_of(&src, segment.clone()) {
                        Some(header) => self.add_unreadable_object(header, message)?,
                        None => {
                            return Err(SchemaError::Parse {
                                statement: source::snippet(src.text(segment)),
                                message,
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds the object the statement `segment` declares, if it is one the rewriter keeps.
    fn read_object(
        &mut self,
        src: &Source<'_>,
        segment: std::ops::Range<usize>,
        tokens: Vec<sqlparser::tokenizer::TokenWithSpan>,
    ) -> Result<(), ObjectError> {
        if let Some(view) =
            objects::view_of(src, segment.clone()).map_err(ObjectError::Unreadable)?
        {
            return Ok(self.add_view(view)?);
        }
        if let Some(parts) =
            objects::trigger_of(src, segment.clone()).map_err(ObjectError::Unreadable)?
        {
            if !parts.temporary {
                self.triggers.push(parts.trigger);
            }
            return Ok(());
        }
        let words = src.leading_words(segment.clone(), 4);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        if let ["CREATE", "VIRTUAL", "TABLE", ..] = words.as_slice() {
            // Read by its module's rules: `sqlparser` cannot read FTS5's `UNINDEXED`.
            let table =
                vtab::read(src, segment, &self.tenant_column).map_err(ObjectError::Unreadable)?;
            if let Some(table) = table {
                self.add_table(table)?;
            }
            return Ok(());
        }
        let is_table = matches!(words.as_slice(), ["CREATE", "TABLE", ..]);
        let is_unique_index = matches!(words.as_slice(), ["CREATE", "UNIQUE", "INDEX", ..]);
        let is_index = matches!(words.as_slice(), ["CREATE", "INDEX", ..]);
        if !is_table && !is_unique_index && !is_index {
            return Ok(());
        }
        let text = src.text(segment.clone());
        let parsed = match Parser::new(&SqliteDialect)
            .with_tokens_with_locations(keys::without_constraint_conflicts(tokens))
            .parse_statements()
        {
            Ok(parsed) => parsed,
            // An index the parser cannot read is not a reason to refuse the schema;
            // it only means no table's keys can be shown to be per tenant.
            Err(_) if is_unique_index => {
                self.unreadable_unique_index = true;
                for table in self.tables.values_mut() {
                    table.tenant_keys = false;
                }
                return Ok(());
            }
            // A plain index the parser cannot read is only not known as a tenant index.
            Err(_) if is_index => return Ok(()),
            Err(e) => return Err(ObjectError::Unreadable(e.to_string())),
        };
        let replaces_on_conflict = src.has_words(segment.clone(), &["ON", "CONFLICT", "REPLACE"]);
        let ignores_on_conflict = src.has_words(segment, &["ON", "CONFLICT", "IGNORE"]);
        for statement in parsed {
            if let Statement::CreateIndex(index) = &statement {
                if let Some((table, key)) = keys::index_key(index) {
                    self.add_unique_index(&table, key);
                }
                if let Some((table, name)) = keys::tenant_index(index, &self.tenant_column) {
                    self.add_tenant_index(&table, &name);
                }
            } else if let Some(mut table) = table_of(&statement, text, &self.tenant_column)
                .map_err(|e| match e {
                    SchemaError::Parse { message, .. } => ObjectError::Unreadable(message),
                    other => ObjectError::Schema(other),
                })?
            {
                table.replaces_on_conflict = replaces_on_conflict;
                table.ignores_on_conflict = ignores_on_conflict;
                self.add_table(table)?;
            }
        }
        Ok(())
    }

    /// Records an object that could not be read (a temporary one is not part of the main
    /// schema, and is skipped).
    fn add_unreadable_object(&mut self, header: Header, reason: String) -> Result<(), SchemaError> {
        if header.temporary {
            return Ok(());
        }
        self.add_unreadable(Unreadable {
            name: header.name,
            kind: header.kind,
            reason,
            table: header.table,
        })
    }

    /// Records an object whose text could not be read: statements that name it (and writes
    /// that could fire an unreadable trigger) are refused.
    ///
    /// # Errors
    /// [`SchemaError::DuplicateTable`] when an unreadable table or view takes the name of a
    /// table or view.
    pub fn add_unreadable(&mut self, object: Unreadable) -> Result<(), SchemaError> {
        if object.kind != ObjectKind::Trigger && self.name_taken(&object.name) {
            return Err(SchemaError::DuplicateTable { name: object.name });
        }
        self.unreadable.push(object);
        Ok(())
    }

    /// The objects whose text could not be read.
    pub fn unreadable(&self) -> &[Unreadable] {
        &self.unreadable
    }

    /// Whether a table, view or unreadable table or view takes `name` (any letter case).
    fn name_taken(&self, name: &str) -> bool {
        let key = name.to_ascii_lowercase();
        self.tables.contains_key(&key)
            || self.views.contains_key(&key)
            || self
                .unreadable
                .iter()
                .any(|u| u.kind != ObjectKind::Trigger && u.name.eq_ignore_ascii_case(name))
    }

    /// The virtual table whose data `name` holds, when `name` is a shadow table
    /// (`<table>_<suffix>` for one of its module's suffixes, or any `<table>_…` of an
    /// unreadable virtual table, whose module's suffixes are unknown).
    ///
    /// ```
    /// use tenantry_rewrite::Schema;
    /// let schema = Schema::from_sql(
    ///     "CREATE VIRTUAL TABLE psi USING fts5(body, tenant_id UNINDEXED);",
    ///     "tenant_id",
    /// )?;
    /// assert_eq!(schema.shadow_owner("PSI_data"), Some("psi"));
    /// assert_eq!(schema.shadow_owner("psi_other"), None);
    /// # Ok::<(), tenantry_rewrite::SchemaError>(())
    /// ```
    pub fn shadow_owner(&self, name: &str) -> Option<&str> {
        let lower = name.to_ascii_lowercase();
        for (i, _) in lower.match_indices('_') {
            let (owner, suffix) = (&lower[..i], &lower[i + 1..]);
            if let Some(table) = self.tables.get(owner)
                && let Some(module) = table.module
                && module.shadow_suffixes().contains(&suffix)
            {
                return Some(&table.name);
            }
            if let Some(object) = self
                .unreadable
                .iter()
                .find(|u| u.kind == ObjectKind::VirtualTable && u.name.eq_ignore_ascii_case(owner))
            {
                return Some(&object.name);
            }
        }
        None
    }

    /// Adds a unique index on `table` (which may be added before or after it): the table's
    /// keys are per tenant only when the index includes the tenant column.
    pub fn add_unique_index(&mut self, table: &str, key: UniqueKey) {
        let lower = table.to_ascii_lowercase();
        if let Some(t) = self.tables.get_mut(&lower) {
            t.unique_keys.push(key.clone());
            t.compute_tenant_keys(&self.tenant_column, self.unreadable_unique_index);
        }
        self.indexes.entry(lower).or_default().push(key);
    }

    /// Records that index `index` on `table` is led by the tenant column and has no WHERE:
    /// one that finds a tenant's rows by the tenant alone.
    pub fn add_tenant_index(&mut self, table: &str, index: &str) {
        let list = self
            .tenant_indexes
            .entry(table.to_ascii_lowercase())
            .or_default();
        if !list.iter().any(|i| i.eq_ignore_ascii_case(index)) {
            list.push(index.to_owned());
        }
    }

    /// An index on `table` led by the tenant column, without WHERE: the migrator's
    /// `idx_<table>_<tenant column>` when it is there, else the first one read.
    ///
    /// ```
    /// use tenantry_rewrite::Schema;
    /// let schema = Schema::from_sql(
    ///     "CREATE TABLE t (a TEXT, tenant_id TEXT NOT NULL);
    ///      CREATE INDEX t_a ON t (a);
    ///      CREATE INDEX idx_t_tenant_id ON t (tenant_id);",
    ///     "tenant_id",
    /// )?;
    /// assert_eq!(schema.tenant_index("T"), Some("idx_t_tenant_id"));
    /// # Ok::<(), tenantry_rewrite::SchemaError>(())
    /// ```
    pub fn tenant_index(&self, table: &str) -> Option<&str> {
        let list = self.tenant_indexes.get(&table.to_ascii_lowercase())?;
        let usual = format!("idx_{table}_{}", self.tenant_column);
        list.iter()
            .find(|i| i.eq_ignore_ascii_case(&usual))
            .or_else(|| list.first())
            .map(String::as_str)
    }

    /// Adds a table.
    ///
    /// # Errors
    /// [`SchemaError::DuplicateTable`] when a table or view of that name (in any letter case)
    /// exists.
    pub fn add_table(&mut self, mut table: Table) -> Result<(), SchemaError> {
        let key = table.name.to_ascii_lowercase();
        if self.name_taken(&table.name) {
            return Err(SchemaError::DuplicateTable { name: table.name });
        }
        if let Some(indexes) = self.indexes.get(&key) {
            table.unique_keys.extend(indexes.iter().cloned());
        }
        table.compute_tenant_keys(&self.tenant_column, self.unreadable_unique_index);
        self.tables.insert(key, table);
        Ok(())
    }

    /// Adds a view. A scoped statement that reads it reads its query in its place, scoped
    /// like any other (see [`crate::Rewriter`]).
    ///
    /// # Errors
    /// [`SchemaError::DuplicateTable`] when a table or view of that name exists.
    pub fn add_view(&mut self, view: View) -> Result<(), SchemaError> {
        let key = view.name.to_ascii_lowercase();
        if self.name_taken(&view.name) {
            return Err(SchemaError::DuplicateTable { name: view.name });
        }
        self.views.insert(key, view);
        Ok(())
    }

    /// Adds a trigger.
    pub fn add_trigger(&mut self, trigger: Trigger) {
        self.triggers.push(trigger);
    }

    /// The view of this name (ASCII case-insensitive).
    pub fn view(&self, name: &str) -> Option<&View> {
        self.views.get(&name.to_ascii_lowercase())
    }

    /// All views, in no particular order.
    pub fn views(&self) -> impl Iterator<Item = &View> {
        self.views.values()
    }

    /// All triggers of the main schema.
    pub fn triggers(&self) -> &[Trigger] {
        &self.triggers
    }

    /// Whether a delete of `table`'s rows runs a foreign-key action by a trigger the
    /// tenant-first migration made (`tenantry_fk_…`, scoped, on DELETE): SQLite fires no
    /// trigger for the rows a REPLACE deletes.
    pub fn deletes_run_actions_by_trigger(&self, table: &str) -> bool {
        self.triggers.iter().any(|t| {
            t.scoped
                && t.event == objects::TriggerEvent::Delete
                && t.table.eq_ignore_ascii_case(table)
                && t.name
                    .to_ascii_lowercase()
                    .starts_with(FK_ACTION_TRIGGER_PREFIX)
        })
    }

    /// The triggers on `table` that `event` fires and whose body is not scoped.
    pub fn unscoped_triggers<'a>(
        &'a self,
        table: &'a str,
        event: objects::TriggerEvent,
    ) -> impl Iterator<Item = &'a Trigger> + 'a {
        self.triggers
            .iter()
            .filter(move |t| !t.scoped && t.event == event && t.table.eq_ignore_ascii_case(table))
    }

    /// The tenant column's name.
    pub fn tenant_column(&self) -> &str {
        &self.tenant_column
    }

    /// The table of this name (ASCII case-insensitive, as SQLite).
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(&name.to_ascii_lowercase())
    }

    /// Whether `name` is a tenant-scoped table.
    pub fn is_scoped(&self, name: &str) -> bool {
        self.table(name)
            .is_some_and(|t| t.has_column(&self.tenant_column))
    }

    /// All tables, in no particular order.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.values()
    }
}

/// The table a `CREATE TABLE` statement declares, or `None` for a temporary table.
fn table_of(
    statement: &Statement,
    text: &str,
    tenant_column: &str,
) -> Result<Option<Table>, SchemaError> {
    match statement {
        Statement::CreateTable(create) => {
            if create.temporary {
                return Ok(None);
            }
            if create.columns.is_empty() {
                return Err(SchemaError::Parse {
                    statement: source::snippet(text),
                    message: "the table declares no columns (CREATE TABLE ... AS SELECT is not \
                              supported in a schema file)"
                        .to_owned(),
                });
            }
            // The tenant test compares with the tenant column's collation: under NOCASE one
            // tenant would read another's rows (`acme` and `Acme`). Such a table is not read,
            // so every statement that may touch it is refused.
            for c in create
                .columns
                .iter()
                .filter(|c| c.name.value.eq_ignore_ascii_case(tenant_column))
            {
                for o in &c.options {
                    if let ColumnOption::Collation(name) = &o.option
                        && !last_name(name).eq_ignore_ascii_case("BINARY")
                    {
                        return Err(SchemaError::Parse {
                            statement: source::snippet(text),
                            message: format!(
                                "its tenant column {:?} compares with collation {}, under which \
                                 one tenant's id can equal another's; declare it without COLLATE",
                                c.name.value,
                                last_name(name)
                            ),
                        });
                    }
                }
            }
            let columns = create
                .columns
                .iter()
                .map(|c| Column {
                    name: c.name.value.clone(),
                    generated: c
                        .options
                        .iter()
                        .any(|o| matches!(o.option, ColumnOption::Generated { .. })),
                })
                .collect();
            let without_rowid = create
                .sqlite_table_options
                .options
                .contains(&SqliteTableOption::WithoutRowid);
            let integer_primary_key = integer_primary_key(create, without_rowid);
            let acts = |a: &Option<sqlparser::ast::ReferentialAction>| {
                use sqlparser::ast::ReferentialAction as R;
                matches!(a, Some(R::Cascade | R::SetNull | R::SetDefault))
            };
            let key = |fk: &sqlparser::ast::ForeignKeyConstraint| ForeignKey {
                parent: last_name(&fk.foreign_table),
                acts_on_delete: acts(&fk.on_delete),
                acts_on_update: acts(&fk.on_update),
            };
            let mut foreign_keys: Vec<ForeignKey> = create
                .columns
                .iter()
                .flat_map(|c| &c.options)
                .filter_map(|o| match &o.option {
                    ColumnOption::ForeignKey(fk) => Some(key(fk)),
                    _ => None,
                })
                .collect();
            foreign_keys.extend(create.constraints.iter().filter_map(|c| match c {
                sqlparser::ast::TableConstraint::ForeignKey(fk) => Some(key(fk)),
                _ => None,
            }));
            let (unique_keys, key) = keys::table_keys(create, tenant_column);
            // The marker is the migrator's only on a table it rebuilt WITHOUT ROWID.
            let key = key.filter(|_| without_rowid);
            Ok(Some(Table {
                name: last_name(&create.name),
                columns,
                without_rowid,
                integer_primary_key,
                replaces_on_conflict: false,
                ignores_on_conflict: false,
                foreign_keys,
                unique_keys,
                key,
                tenant_keys: false,
                module: None,
            }))
        }
        _ => Ok(None),
    }
}

/// The column that aliases the rowid: declared exactly `INTEGER` and the table's only
/// primary-key column, in a rowid table, and not `PRIMARY KEY DESC` on the column itself.
fn integer_primary_key(
    create: &sqlparser::ast::CreateTable,
    without_rowid: bool,
) -> Option<String> {
    if without_rowid {
        return None;
    }
    let is_integer =
        |c: &sqlparser::ast::ColumnDef| c.data_type.to_string().eq_ignore_ascii_case("INTEGER");
    let inline = create.columns.iter().find(|c| {
        c.options
            .iter()
            .any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)))
    });
    if let Some(column) = inline {
        // `INTEGER PRIMARY KEY DESC` on the column is SQLite's one exception: an ordinary
        // key, with a rowid of its own (`sqlparser` keeps the DESC as a dialect option).
        let desc = column.options.iter().any(|o| {
            matches!(&o.option, ColumnOption::DialectSpecific(tokens)
                if tokens.iter().any(|t| matches!(t,
                    sqlparser::tokenizer::Token::Word(w) if w.keyword == sqlparser::keywords::Keyword::DESC)))
        });
        return (is_integer(column) && !desc).then(|| column.name.value.clone());
    }
    for constraint in &create.constraints {
        if let sqlparser::ast::TableConstraint::PrimaryKey(pk) = constraint {
            let [only] = pk.columns.as_slice() else {
                return None;
            };
            let name = only.column.expr.to_string();
            let name = name.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'));
            return create
                .columns
                .iter()
                .find(|c| c.name.value.eq_ignore_ascii_case(name) && is_integer(c))
                .map(|c| c.name.value.clone());
        }
    }
    None
}

fn last_name(name: &sqlparser::ast::ObjectName) -> String {
    name.0
        .last()
        .and_then(|part| part.as_ident())
        .map(|i| i.value.clone())
        .unwrap_or_default()
}

/// Why one object of the schema was not added.
enum ObjectError {
    /// Its text cannot be read: it is recorded as unreadable.
    Unreadable(String),
    /// The schema as a whole is wrong (a name declared twice).
    Schema(SchemaError),
}

impl From<SchemaError> for ObjectError {
    fn from(e: SchemaError) -> Self {
        ObjectError::Schema(e)
    }
}
