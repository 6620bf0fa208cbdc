//! What the rewriter knows about the database: its tables, their columns in order, and which
//! tables are tenant-scoped (they have the tenant column) and which are global.

use std::collections::HashMap;

use sqlparser::ast::{ColumnOption, SqliteTableOption, Statement};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

use crate::error::SchemaError;
use crate::objects::{self, Trigger, View};
use crate::source::{self, Source};
use crate::tenant::is_plain_column_name;

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
    /// Its foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
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
            foreign_keys: Vec::new(),
        }
    }

    /// Whether the table has a column of this name (ASCII case-insensitive, as SQLite).
    pub fn has_column(&self, name: &str) -> bool {
        self.columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(name))
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
        })
    }

    /// Reads the `CREATE TABLE`, `CREATE VIRTUAL TABLE`, `CREATE VIEW` and `CREATE TRIGGER`
    /// statements of `sql` (for example the `sql` column of `sqlite_master` joined with
    /// `;`, or a schema file). Other statements (indexes, inserts) are skipped; temporary
    /// objects are not part of the main schema.
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
    /// # Errors
    /// [`SchemaError`] when a `CREATE TABLE` cannot be parsed, declares no columns
    /// (`CREATE TABLE ... AS SELECT`), or repeats a table.
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
    /// As [`Schema::from_sql`], and [`SchemaError::Parse`] when a text does not read as
    /// exactly one statement.
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
    /// one statement.
    fn read(&mut self, sql: &str, one: bool) -> Result<(), SchemaError> {
        let (src, mut parser_tokens) = Source::new(sql).map_err(|message| SchemaError::Parse {
            statement: source::snippet(sql),
            message,
        })?;
        let statements = objects::statements(&src);
        if one && statements.len() != 1 {
            return Err(SchemaError::Parse {
                statement: source::snippet(sql),
                message: format!(
                    "the text reads as {} statements where SQLite stores one",
                    statements.len()
                ),
            });
        }
        for segment in statements {
            let unreadable = |message: String| SchemaError::Parse {
                statement: source::snippet(src.text(segment.clone())),
                message,
            };
            if let Some(view) = objects::view_of(&src, segment.clone()).map_err(unreadable)? {
                self.add_view(view)?;
                continue;
            }
            if let Some(parts) = objects::trigger_of(&src, segment.clone()).map_err(unreadable)? {
                if !parts.temporary {
                    self.triggers.push(parts.trigger);
                }
                continue;
            }
            let words = src.leading_words(segment.clone(), 4);
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            let is_table = matches!(
                words.as_slice(),
                ["CREATE", "TABLE", ..] | ["CREATE", "VIRTUAL", "TABLE", ..]
            );
            if !is_table {
                continue;
            }
            let text = src.text(segment.clone());
            let parsed = Parser::new(&SQLiteDialect {})
                .with_tokens_with_locations(parser_tokens.take(segment.clone()))
                .parse_statements()
                .map_err(|e| SchemaError::Parse {
                    statement: source::snippet(text),
                    message: e.to_string(),
                })?;
            let replaces_on_conflict =
                src.has_words(segment.clone(), &["ON", "CONFLICT", "REPLACE"]);
            for statement in parsed {
                if let Some(mut table) = table_of(&statement, text)? {
                    table.replaces_on_conflict = replaces_on_conflict;
                    self.add_table(table)?;
                }
            }
        }
        Ok(())
    }

    /// Adds a table.
    ///
    /// # Errors
    /// [`SchemaError::DuplicateTable`] when a table or view of that name (in any letter case)
    /// exists.
    pub fn add_table(&mut self, table: Table) -> Result<(), SchemaError> {
        let key = table.name.to_ascii_lowercase();
        if self.tables.contains_key(&key) || self.views.contains_key(&key) {
            return Err(SchemaError::DuplicateTable { name: table.name });
        }
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
        if self.tables.contains_key(&key) || self.views.contains_key(&key) {
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
fn table_of(statement: &Statement, text: &str) -> Result<Option<Table>, SchemaError> {
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
            Ok(Some(Table {
                name: last_name(&create.name),
                columns,
                without_rowid,
                integer_primary_key,
                replaces_on_conflict: false,
                foreign_keys,
            }))
        }
        // A virtual table's columns live in its module arguments; it is global unless it has
        // the tenant column, which the migrator never gives it.
        Statement::CreateVirtualTable { name, .. } => Ok(Some(Table {
            name: last_name(name),
            columns: Vec::new(),
            without_rowid: false,
            integer_primary_key: None,
            replaces_on_conflict: false,
            foreign_keys: Vec::new(),
        })),
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
