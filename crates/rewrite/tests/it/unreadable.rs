//! Schema objects the rewriter cannot read: the schema still loads, statements that do not
//! touch them rewrite exactly as before, and those that may touch them are refused with
//! [`Refusal::UnreadableObject`].

use tenantry_rewrite::{ObjectKind, Refusal, Rewriter, Schema, SchemaError, TenantId};

const BASE: &[&str] = &[
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, tenant_id TEXT NOT NULL)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, tenant_id TEXT NOT NULL)",
    "CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT, tenant_id TEXT NOT NULL)",
    "CREATE TABLE settings (k TEXT PRIMARY KEY, v TEXT)",
];

/// Objects SQLite stores but the rewriter cannot read.
const UNREADABLE: &[&str] = &[
    "CREATE VIRTUAL TABLE ext USING my_module(a, b, tenant_id)",
    "CREATE VIEW ext_view AS SELECT a FROM ext",
    // No END: cut short (a schema file can hold that; SQLite cannot).
    "CREATE TRIGGER odd AFTER INSERT ON orders BEGIN SELECT 1;",
    "CREATE TRIGGER log_ext AFTER DELETE ON audit BEGIN DELETE FROM ext; END",
];

fn rewriter(objects: &[&str]) -> Rewriter {
    Rewriter::new(Schema::from_objects(objects, "tenant_id").expect("schema loads"))
}

fn tenant() -> TenantId {
    TenantId::new("A").expect("tenant")
}

#[test]
fn unreadable_objects_are_recorded_not_fatal() {
    let all: Vec<&str> = BASE.iter().chain(UNREADABLE).copied().collect();
    let schema = Schema::from_objects(&all, "tenant_id").expect("schema loads");
    let kinds: Vec<(&str, ObjectKind)> = schema
        .unreadable()
        .iter()
        .map(|u| (u.name.as_str(), u.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("ext", ObjectKind::VirtualTable),
            ("odd", ObjectKind::Trigger)
        ]
    );
    let odd = &schema.unreadable()[1];
    assert_eq!(odd.table.as_deref(), Some("orders"));
    // The view's own text reads; its query is refused when it is planned.
    assert!(schema.view("ext_view").is_some());
    // The user's FTS5 table, which `sqlparser` cannot read, is read by its module's rules.
    let fts = Schema::from_sql(
        "CREATE VIRTUAL TABLE product_search_index USING fts5(product_id UNINDEXED, \
         searchable_text, category UNINDEXED, tenant_id UNINDEXED);",
        "tenant_id",
    )
    .expect("schema loads");
    assert!(fts.is_scoped("product_search_index"));
    // A schema-wide error stays one.
    assert!(matches!(
        Schema::from_objects(["CREATE TABLE t (a)", "CREATE TABLE T (b)"], "tenant_id"),
        Err(SchemaError::DuplicateTable { .. })
    ));
    assert!(matches!(
        Schema::from_objects(BASE, "bad name"),
        Err(SchemaError::InvalidColumnName { .. })
    ));
}

#[test]
fn statements_that_do_not_touch_them_rewrite_as_before() {
    let all: Vec<&str> = BASE.iter().chain(UNREADABLE).copied().collect();
    let with = rewriter(&all);
    let without = rewriter(BASE);
    for sql in [
        "SELECT * FROM customers",
        "SELECT c.name, count(o.id) FROM customers c JOIN orders o ON o.customer_id = c.id \
         GROUP BY c.id",
        "UPDATE customers SET name = 'x' WHERE id = 1",
        "DELETE FROM customers WHERE id = 2",
        "INSERT INTO customers (name) VALUES ('Bo')",
        "SELECT v FROM settings WHERE k = 'currency'",
        "SELECT * FROM audit",
        "SELECT * FROM orders",
    ] {
        let a = with.rewrite(sql, &tenant()).expect(sql);
        let b = without.rewrite(sql, &tenant()).expect(sql);
        assert_eq!(a.sql(), b.sql(), "{sql}");
    }
}

#[test]
fn statements_that_may_touch_them_are_refused() {
    let all: Vec<&str> = BASE.iter().chain(UNREADABLE).copied().collect();
    let r = rewriter(&all);
    let refused = |sql: &str| -> (String, ObjectKind) {
        match r.rewrite(sql, &tenant()) {
            Ok(out) => panic!("not refused: {sql}\n  {}", out.sql()),
            Err(e) => match e.refusal() {
                Some(Refusal::UnreadableObject { name, kind, .. }) => (name.clone(), *kind),
                // A view that reads it cannot be scoped, for that reason.
                Some(Refusal::InView { reason, .. }) => match reason.as_ref() {
                    Refusal::UnreadableObject { name, kind, .. } => (name.clone(), *kind),
                    other => panic!("{sql}: {other:?}"),
                },
                other => panic!("{sql}: {other:?} ({e})"),
            },
        }
    };
    let ext = ("ext".to_owned(), ObjectKind::VirtualTable);
    let odd = ("odd".to_owned(), ObjectKind::Trigger);
    for sql in [
        "SELECT * FROM ext",
        "SELECT a FROM main.ext WHERE b = 1",
        "SELECT * FROM customers WHERE id IN (SELECT a FROM \"EXT\")",
        "INSERT INTO ext (a) VALUES (1)",
        "DELETE FROM ext",
        // Through a view that reads it, and a trigger whose body writes it.
        "SELECT * FROM ext_view",
        "DELETE FROM audit WHERE id = 1",
    ] {
        assert_eq!(refused(sql), ext, "{sql}");
    }
    // A write that fires the unreadable trigger.
    for sql in [
        "INSERT INTO orders (customer_id) VALUES (1)",
        "UPDATE orders SET customer_id = 2",
    ] {
        assert_eq!(refused(sql), odd, "{sql}");
    }
    // Reading the trigger's table is fine.
    r.rewrite("SELECT * FROM orders", &tenant()).expect("read");
    let message = r
        .rewrite("SELECT * FROM ext", &tenant())
        .expect_err("refused")
        .to_string();
    assert!(message.contains("my_module"), "{message}");
    assert!(message.contains("declare it"), "{message}");
}

#[test]
fn unknown_modules_and_odd_arguments_are_unreadable() {
    for (ddl, why) in [
        (
            "CREATE VIRTUAL TABLE x USING my_module(a, tenant_id)",
            "my_module",
        ),
        (
            "CREATE VIRTUAL TABLE x USING rtree(id, minx, maxx, tenant_id)",
            "auxiliary",
        ),
        (
            "CREATE VIRTUAL TABLE x USING fts5(body, tenant_id weird words)",
            "not read",
        ),
        (
            "CREATE VIRTUAL TABLE x USING fts5(body, content_rowid=tenant_id)",
            "not as a column",
        ),
        ("CREATE TABLE x AS SELECT 1", "no columns"),
    ] {
        let schema = Schema::from_objects([ddl], "tenant_id").expect(ddl);
        let [x] = schema.unreadable() else {
            panic!("{ddl}: {:?}", schema.unreadable());
        };
        assert_eq!(x.name, "x", "{ddl}");
        assert!(x.reason.contains(why), "{ddl}: {}", x.reason);
        assert!(schema.table("x").is_none(), "{ddl}");
    }
    // Options are not columns; the old FTS3 `tokenize porter` neither.
    let schema = Schema::from_objects(
        [
            "CREATE VIRTUAL TABLE a USING fts4(body, \"tenant_id\", tokenize porter, prefix='2,3')",
            "CREATE VIRTUAL TABLE b USING fts5(body, tenant_id UNINDEXED, tokenize = 'porter \
             ascii', detail=column, content='', contentless_delete=1)",
            "CREATE VIRTUAL TABLE IF NOT EXISTS c USING rtree_i32(id, x0, x1, +note TEXT, +tenant_id)",
            "CREATE VIRTUAL TABLE d USING fts5(body)",
        ],
        "tenant_id",
    )
    .expect("schema");
    assert!(schema.unreadable().is_empty(), "{:?}", schema.unreadable());
    let names = |t: &str| -> Vec<String> {
        schema
            .table(t)
            .expect(t)
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect()
    };
    assert_eq!(names("a"), ["body", "tenant_id"]);
    assert_eq!(names("b"), ["body", "tenant_id"]);
    assert_eq!(names("c"), ["id", "x0", "x1", "note", "tenant_id"]);
    assert!(schema.is_scoped("a") && schema.is_scoped("b") && schema.is_scoped("c"));
    // Without the tenant column a virtual table stays global, as before.
    assert!(!schema.is_scoped("d"));
    let r = Rewriter::new(schema);
    let out = r
        .rewrite("SELECT * FROM d WHERE d MATCH 'x'", &tenant())
        .expect("global");
    assert_eq!(out.sql(), "SELECT * FROM d WHERE d MATCH 'x'");
}

/// A tenant column compared under NOCASE would let tenant `acme` read `Acme`'s rows: its
/// table is not read, and every statement that may touch it is refused; the others rewrite.
#[test]
fn a_tenant_column_with_a_collation_makes_its_table_unreadable() {
    let rw = rewriter(&[
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL COLLATE NOCASE, body TEXT)",
        "CREATE TABLE kept (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL COLLATE BINARY, body TEXT)",
    ]);
    let refused = rw.rewrite("SELECT * FROM notes", &tenant());
    assert!(
        matches!(refused.as_ref().map_err(|e| e.refusal()), Err(Some(Refusal::UnreadableObject { reason, .. })) if reason.contains("NOCASE")),
        "{refused:?}"
    );
    assert!(rw.rewrite("SELECT * FROM kept", &tenant()).is_ok());
}
