//! Triggers the application wrote (issue 16): a WHEN that reads tables is scoped like the
//! body, and a body may give the tenant column the firing row's own. Checked on the test
//! kit's oracle with the application's own tenant column (the legacy database has it,
//! holding tenant A's rows alone).

use rusqlite::Connection;
use rusqlite::types::Value;
use tenantry_rewrite::{Refusal, RewriteError, Rewriter, SCOPED_TRIGGER_MARK, Schema, TriggerForm};
use tenantry_testkit::oracle::build::{Migration, Rows, Setup};
use tenantry_testkit::oracle::tenancy::Tenancy;
use tenantry_testkit::oracle::{Oracle, Scoped};

use crate::support::{World, schema_of};

const DDL: &str = "
CREATE TABLE products (id INTEGER NOT NULL, parent_id INTEGER, name TEXT, price REAL,
    tenant_id TEXT NOT NULL, UNIQUE (tenant_id, id));
CREATE TABLE product_price_history (product_id INTEGER, old_price REAL, new_price REAL,
    tenant_id TEXT NOT NULL);";

const FK: &str = "CREATE TRIGGER products_parent_fk BEFORE INSERT ON products \
    WHEN NEW.parent_id IS NOT NULL AND (SELECT id FROM products WHERE id = NEW.parent_id) IS NULL \
    BEGIN SELECT RAISE(ABORT, 'parent product does not exist'); END";

const HISTORY: &str = "CREATE TRIGGER products_price_history AFTER UPDATE OF price ON products \
    WHEN OLD.price <> NEW.price BEGIN \
    INSERT INTO product_price_history (product_id, old_price, new_price, tenant_id) \
    VALUES (NEW.id, OLD.price, NEW.price, NEW.tenant_id); END";

/// A's rows; B and C reuse A's ids with other prices, and only B holds product 5.
const A_ROWS: &str =
    "INSERT INTO products VALUES (1, NULL, 'desk', 10, 'A'), (2, 1, 'leg', 2, 'A');
    INSERT INTO product_price_history VALUES (1, 9, 10, 'A');";
const OTHER_ROWS: &str =
    "INSERT INTO products VALUES (1, NULL, 'desk', 110, 'B'), (5, NULL, 'lamp', 15, 'B'),
        (1, NULL, 'desk', 210, 'C'), (7, 1, 'shelf', 27, 'C');
    INSERT INTO product_price_history VALUES (1, 109, 110, 'B'), (7, 26, 27, 'C');";

fn world() -> World {
    let setup = Setup {
        legacy: DDL,
        triggers: &[FK, HISTORY],
    };
    let single = setup.legacy(Connection::open_in_memory().expect("open"), &[A_ROWS]);
    let multi = setup.migrated(
        Connection::open_in_memory().expect("open"),
        Migration::Declared(DDL),
        &[Rows::Migrated(A_ROWS), Rows::Migrated(OTHER_ROWS)],
    );
    let mut schema = schema_of(&multi);
    schema.set_own_tenant_column("products");
    schema.set_own_tenant_column("product_price_history");
    World::from_parts(single, multi, Rewriter::new(schema))
}

/// Runs `sql` on both databases: both must fail (with the same message) and no row of
/// either changes.
fn fails_on_both(w: &World, sql: &str) {
    let tenancy = Tenancy::read(&w.single, &w.multi, "A");
    let v = Oracle {
        single: &w.single,
        scoped: Scoped::Rewritten {
            conn: &w.multi,
            rewriter: &w.rewriter,
            tenant: &w.tenant,
        },
        tenancy: &tenancy,
    }
    .run(sql, &[] as &[Value]);
    let expected = v
        .expected
        .expect_err("the original fails on the legacy database");
    let got = v
        .got
        .expect("rewritten")
        .outcome
        .expect_err("the rewrite fails");
    assert!(
        expected.contains("parent product does not exist"),
        "{expected}"
    );
    assert!(got.contains("parent product does not exist"), "{got}");
    assert_eq!(v.others_before, v.others_after, "{sql}");
    w.assert_slices_equal(sql);
}

#[test]
fn a_when_that_reads_tables_reads_only_the_firing_rows_tenant() {
    let w = world();
    // Parent 5 exists only for B: A's insert fails as on A's own database.
    fails_on_both(
        &w,
        "INSERT INTO products (id, parent_id, name, price, tenant_id) VALUES (3, 5, 'x', 1, 'A')",
    );
    // C's product 7 has parent 1, which A holds too; A's 7 does not exist.
    fails_on_both(
        &w,
        "INSERT INTO products (id, parent_id, name, tenant_id) VALUES (8, 7, 'y', 'A')",
    );
    // A parent A holds is found.
    w.check(
        "INSERT INTO products (id, parent_id, name, price, tenant_id) VALUES (3, 2, 'x', 1, 'A')",
    );
    w.check("INSERT INTO products (tenant_id, id, parent_id, name) VALUES ('A', 4, NULL, 'z')");
    w.check_ordered("SELECT * FROM products ORDER BY id");
}

#[test]
fn a_body_that_writes_the_firing_rows_tenant_writes_it_for_that_tenant() {
    let w = world();
    w.check("UPDATE products SET price = price + 1");
    w.check("UPDATE products SET price = price WHERE id = 1");
    w.check("UPDATE products SET price = 99 WHERE id = 2");
    w.check_ordered("SELECT * FROM product_price_history ORDER BY product_id, new_price");
    w.check("SELECT tenant_id, count(*) FROM product_price_history GROUP BY tenant_id");
}

#[test]
fn the_scoped_text_of_the_applications_triggers() {
    let rewriter = Rewriter::new(Schema::from_sql(DDL, "tenant_id").expect("schema"));
    let fk = rewriter.scope_trigger(FK).expect("scope the FK trigger");
    assert!(
        fk.contains(
            "WHEN NEW.parent_id IS NOT NULL AND (SELECT id FROM products WHERE \
             +products.\"tenant_id\" = NEW.\"tenant_id\" AND (id = NEW.parent_id)) IS NULL \
             BEGIN\n"
        ),
        "{fk}"
    );
    assert!(
        fk.ends_with("SELECT RAISE(ABORT, 'parent product does not exist'); END"),
        "{fk}"
    );
    let history = rewriter
        .scope_trigger(HISTORY)
        .expect("scope the history trigger");
    assert!(
        history.contains(&format!(
            "WHEN OLD.price <> NEW.price BEGIN\n{SCOPED_TRIGGER_MARK} \
             INSERT INTO product_price_history (product_id, old_price, new_price, tenant_id) \
             VALUES (NEW.id, OLD.price, NEW.price, NEW.tenant_id); END"
        )),
        "{history}"
    );
    // Any quoting and case; OLD on UPDATE and DELETE.
    for trigger in [
        "CREATE TRIGGER t AFTER UPDATE ON products BEGIN INSERT INTO product_price_history \
         (product_id, tenant_id) VALUES (NEW.id, new.\"TENANT_ID\"); END",
        "CREATE TRIGGER t AFTER UPDATE ON products BEGIN INSERT INTO product_price_history \
         (product_id, tenant_id) SELECT OLD.id, \"OLD\".tenant_id; END",
        "CREATE TRIGGER t AFTER DELETE ON products BEGIN INSERT INTO product_price_history \
         (product_id, tenant_id) VALUES (OLD.id, OLD.tenant_id); END",
    ] {
        let scoped = rewriter.scope_trigger(trigger).expect(trigger);
        assert!(!scoped.contains("tenantry_tenant"), "{scoped}");
    }
}

#[test]
fn any_other_tenant_value_in_a_trigger_body_is_refused() {
    let rewriter = Rewriter::new(Schema::from_sql(DDL, "tenant_id").expect("schema"));
    for trigger in [
        // NEW on DELETE, OLD on INSERT: there is no such row.
        "CREATE TRIGGER t AFTER DELETE ON products BEGIN INSERT INTO product_price_history \
         (product_id, tenant_id) VALUES (OLD.id, NEW.tenant_id); END",
        "CREATE TRIGGER t AFTER INSERT ON products BEGIN INSERT INTO product_price_history \
         (product_id, tenant_id) VALUES (NEW.id, OLD.tenant_id); END",
        "CREATE TRIGGER t AFTER INSERT ON products BEGIN INSERT INTO product_price_history \
         (product_id, tenant_id) VALUES (NEW.id, NEW.name); END",
        "CREATE TRIGGER t AFTER INSERT ON products BEGIN INSERT INTO product_price_history \
         (product_id, tenant_id) VALUES (NEW.id, 'B'); END",
        "CREATE TRIGGER t AFTER INSERT ON products BEGIN INSERT INTO product_price_history \
         (product_id, tenant_id) SELECT id, tenant_id FROM products; END",
        // In the WHEN too, nothing may give a tenant value.
        "CREATE TRIGGER t AFTER INSERT ON products WHEN EXISTS (SELECT 1 FROM products AS new) \
         BEGIN SELECT 1; END",
    ] {
        match rewriter.scope_trigger(trigger) {
            Err(RewriteError::Refused {
                reason:
                    Refusal::Trigger {
                        form: TriggerForm::ExplicitTenant { .. } | TriggerForm::ShadowsRow { .. },
                    },
                ..
            }) => {}
            other => panic!("{trigger}: {other:?}"),
        }
    }
}
