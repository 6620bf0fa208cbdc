//! The property tests' SQL generator: a small AST of statements over a fixed schema
//! (selects with every kind of join, subqueries, CTEs, compound selects, aggregates,
//! windows; INSERT, UPDATE, DELETE with their clauses), its proptest strategies
//! ([`strategy`]) and its printer ([`print`], [`print_statement`]), so that failures shrink
//! to a small statement.

mod print;
mod print_statement;
pub mod strategy;

pub use print::print_statement;
pub use strategy::statement;

/// The schema the legacy (single-tenant) application was written for.
pub const SINGLE: &str = "
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER);
CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER, c TEXT);
CREATE TABLE g (k TEXT PRIMARY KEY, v TEXT);
CREATE TABLE n (x TEXT, y INTEGER);
";

/// The same schema after migration: `g` stays global. (`n` has no INTEGER PRIMARY KEY, so
/// its rowid is a column of no other name.)
pub const MULTI: &str = "
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, tenant_id TEXT NOT NULL);
CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER, c TEXT, tenant_id TEXT NOT NULL);
CREATE TABLE g (k TEXT PRIMARY KEY, v TEXT);
CREATE TABLE n (x TEXT, y INTEGER, tenant_id TEXT NOT NULL);
CREATE INDEX idx_t_tenant_id ON t (tenant_id);
CREATE INDEX idx_u_tenant_id ON u (tenant_id);
CREATE INDEX idx_n_tenant_id ON n (tenant_id);
";

/// Whether `PROP_AVOID` (a comma-separated list) names `shape`: a way to keep the generator
/// away from a shape with a known bug while looking for others. Shapes: `schema-columns`
/// (`main.t.col`), `rowid` (any rowid reference), `insert-select-without-from` (`INSERT …
/// SELECT 1, 2` followed by ON CONFLICT or RETURNING), `end-keyword` (arbitrary strings with
/// END, which `sqlparser` takes as the end of the statement).
pub fn avoid(shape: &str) -> bool {
    static AVOID: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    AVOID
        .get_or_init(|| {
            std::env::var("PROP_AVOID")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .collect()
        })
        .iter()
        .any(|s| s == shape)
}

/// A table of the fixed schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    T,
    U,
    G,
    N,
}

impl Tab {
    fn name(self) -> &'static str {
        match self {
            Tab::T => "t",
            Tab::U => "u",
            Tab::G => "g",
            Tab::N => "n",
        }
    }

    /// Columns of the single-tenant table.
    fn cols(self) -> &'static [&'static str] {
        match self {
            Tab::T => &["id", "a", "b"],
            Tab::U => &["id", "t_id", "c"],
            Tab::G => &["k", "v"],
            Tab::N => &["x", "y"],
        }
    }

    /// The column of a unique key, for ON CONFLICT.
    fn key(self) -> Option<&'static str> {
        match self {
            Tab::T | Tab::U => Some("id"),
            Tab::G => Some("k"),
            Tab::N => None,
        }
    }

    /// Another table's name, for confusing aliases.
    fn other(self) -> &'static str {
        match self {
            Tab::T => "u",
            Tab::U => "g",
            Tab::G => "n",
            Tab::N => "t",
        }
    }
}

/// How a table name is written.
#[derive(Clone, Copy, Debug)]
enum NameStyle {
    Plain,
    Upper,
    DoubleQuoted,
    Bracket,
    Backtick,
    Main,
    MainQuoted,
}

impl NameStyle {
    fn print(self, name: &str) -> String {
        match self {
            NameStyle::Plain => name.to_owned(),
            NameStyle::Upper => name.to_ascii_uppercase(),
            NameStyle::DoubleQuoted => format!("\"{name}\""),
            NameStyle::Bracket => format!("[{name}]"),
            NameStyle::Backtick => format!("`{name}`"),
            NameStyle::Main => format!("main.{name}"),
            NameStyle::MainQuoted => format!("\"main\".\"{name}\""),
        }
    }

    fn schema_qualified(self) -> bool {
        matches!(self, NameStyle::Main | NameStyle::MainQuoted)
    }
}

/// How a table is aliased.
#[derive(Clone, Copy, Debug)]
enum AliasStyle {
    None,
    Bare,
    As,
    Quoted,
    /// Named like another table of the schema.
    Confusing,
}

/// How a column is referred to.
#[derive(Clone, Copy, Debug)]
enum QualStyle {
    Qualified,
    Bare,
    QuotedColumn,
    /// `main.t.col` (only where the source is an unaliased table; qualified otherwise).
    Schema,
}

#[derive(Clone, Copy, Debug)]
struct ColRef {
    pick: u8,
    /// From the enclosing query (a correlated reference) when there is one.
    outer: bool,
    style: QualStyle,
}

#[derive(Clone, Copy, Debug)]
enum Param {
    Anon,
    Numbered(u8),
    Colon,
    At,
    Dollar,
}

#[derive(Clone, Copy, Debug)]
enum BinOp {
    Eq,
    Ne,
    Lt,
    Ge,
    And,
    Or,
    Add,
    Mul,
    Concat,
    Like,
    Is,
    IsNot,
}

#[derive(Clone, Copy, Debug)]
enum Func {
    Coalesce,
    Lower,
    Abs,
    Length,
    Ifnull,
    Typeof,
    Max2,
    Substr,
}

#[derive(Clone, Debug)]
enum Expr {
    Col(ColRef),
    Rowid(u8),
    Int(i8),
    Str(&'static str),
    Null,
    Param(Param),
    Bin(Box<Expr>, BinOp, Box<Expr>),
    Not(Box<Expr>),
    IsNull(Box<Expr>, bool),
    InList(Box<Expr>, Vec<Expr>, bool),
    Func(Func, Vec<Expr>),
    Case(Vec<(Expr, Expr)>, Option<Box<Expr>>),
    Cast(Box<Expr>),
    InSub(Box<Expr>, Box<Select>, bool),
    Exists(Box<Select>, bool),
    Scalar(Box<Select>),
}

#[derive(Clone, Copy, Debug)]
enum AggFn {
    Count,
    Sum,
    Min,
    Max,
    Avg,
    Total,
    GroupConcat,
}

impl AggFn {
    /// The SQL function's name.
    fn name(self) -> &'static str {
        match self {
            AggFn::Count => "count",
            AggFn::Sum => "sum",
            AggFn::Min => "min",
            AggFn::Max => "max",
            AggFn::Avg => "avg",
            AggFn::Total => "total",
            AggFn::GroupConcat => "group_concat",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum WinFn {
    RowNumber,
    Rank,
    SumOver,
    CountOver,
    Lag,
}

#[derive(Clone, Debug)]
enum Item {
    Expr(Expr, bool),
    Star,
    QualStar(u8),
    Agg(AggFn, Expr, bool),
    CountStar,
    Window(WinFn, Expr, Expr, bool),
}

#[derive(Clone, Copy, Debug)]
enum JoinOp {
    Comma,
    Join,
    Inner,
    Left,
    LeftOuter,
    Right,
    Full,
    Cross,
    Natural,
    NaturalLeft,
    NaturalFull,
}

#[derive(Clone, Debug)]
enum Constraint {
    OnEq(u8, u8),
    On(Expr),
    Using(u8),
    Nothing,
}

#[derive(Clone, Debug)]
enum FromItem {
    Table(Tab, NameStyle, AliasStyle),
    /// A CTE in scope, by index (a table when none is in scope).
    Cte(u8, AliasStyle),
    Derived(Box<Select>, bool),
    JsonEach,
}

#[derive(Clone, Debug)]
struct FromClause {
    first: FromItem,
    joins: Vec<(JoinOp, FromItem, Constraint)>,
}

#[derive(Clone, Debug)]
struct Group {
    keys: Vec<Expr>,
    having: Option<(AggFn, Expr, i8)>,
}

#[derive(Clone, Debug)]
struct Select {
    distinct: bool,
    items: Vec<Item>,
    from: Option<FromClause>,
    filter: Option<Expr>,
    group: Option<Group>,
}

#[derive(Clone, Copy, Debug)]
enum SetOp {
    UnionAll,
    Union,
    Except,
    Intersect,
}

#[derive(Clone, Copy, Debug)]
enum CteName {
    W,
    /// Named like table t or u: shadows it.
    LikeT,
    LikeU,
}

#[derive(Clone, Debug)]
enum Cte {
    Plain(CteName, bool, Select),
    /// `r(n) AS (SELECT min(id) FROM <tab> UNION ALL SELECT n + 1 FROM r WHERE n < 3)`
    Recursive(Tab),
}

#[derive(Clone, Debug)]
enum OrderKey {
    Ordinal,
    Expr(Expr),
}

#[derive(Clone, Debug)]
struct Limit {
    param: bool,
    count: u8,
    offset: Option<u8>,
}

#[derive(Clone, Debug)]
struct Query {
    with: Vec<Cte>,
    first: Select,
    rest: Vec<(SetOp, Select)>,
    order: Vec<(OrderKey, bool)>,
    limit: Option<Limit>,
}

#[derive(Clone, Debug)]
enum InsertSource {
    Values(Vec<Vec<Expr>>),
    Select(Select),
    Default,
}

#[derive(Clone, Debug)]
enum Conflict {
    Nothing(bool),
    Update(Vec<(u8, Expr)>, Option<Expr>),
}

#[derive(Clone, Debug)]
enum Returning {
    Star,
    Exprs(Vec<Expr>),
}

#[derive(Clone, Debug)]
struct Insert {
    with: Vec<Cte>,
    or_ignore: bool,
    tab: Tab,
    name: NameStyle,
    columns: Option<Vec<u8>>,
    source: InsertSource,
    conflict: Option<Conflict>,
    returning: Option<Returning>,
}

/// What an UPDATE or a DELETE starts with: its WITH and its target.
#[derive(Clone, Debug)]
struct WriteHead {
    with: Vec<Cte>,
    tab: Tab,
    name: NameStyle,
    alias: AliasStyle,
}

#[derive(Clone, Debug)]
struct Update {
    head: WriteHead,
    sets: Vec<(u8, Expr)>,
    from: Option<FromClause>,
    filter: Option<Expr>,
    returning: Option<Returning>,
}

#[derive(Clone, Debug)]
struct Delete {
    head: WriteHead,
    filter: Option<Expr>,
    returning: Option<Returning>,
}

#[derive(Clone, Debug)]
enum Stmt {
    Query(Query),
    Insert(Insert),
    Update(Update),
    Delete(Delete),
}

/// A generated statement: print it with [`print_statement`].
#[derive(Clone, Debug)]
pub struct Statement {
    explain: bool,
    stmt: Stmt,
}
