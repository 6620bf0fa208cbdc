//! INSERTs into tenant-first tables whose legacy rowid is a key column: the key is
//! allocated per tenant as SQLite allocated the rowid (checked on the oracle: the legacy
//! statement on the legacy database, where B's and C's rows hold the same keys).

use tenantry_rewrite::Policy;

use crate::tenant_first::{rewrite, world, world_with};

/// Each statement of `sqls` in order on one world, then A's rows compared.
fn check_all(sqls: &[&str]) {
    let w = world();
    for sql in sqls {
        w.check(sql);
    }
    w.assert_slices_equal(&sqls.join("; "));
}

#[test]
fn an_omitted_key_is_the_tenants_largest_plus_one() {
    // vehicles: A holds 1, 2, 5 and B holds 9: the next is 6.
    check_all(&[
        "INSERT INTO vehicles (customer_id, plate) VALUES ('c1', 'new')",
        "INSERT INTO vehicles (customer_id, plate) VALUES ('c1', 'n1'), ('c2', 'n2'), ('c1', 'n3')",
        "INSERT INTO vehicles (id, customer_id, plate) VALUES (NULL, 'c2', 'null key')",
        "INSERT INTO vehicles (id, customer_id, plate) VALUES (40, 'c2', 'given')",
        "INSERT INTO vehicles (id, customer_id, plate) VALUES (NULL, 'c2', 'after 40')",
        "INSERT INTO vehicles VALUES (NULL, 'c1', 'no column list')",
        "INSERT INTO vehicles (customer_id, plate) SELECT customer_id, plate || '+' FROM vehicles",
        "INSERT INTO vehicles (customer_id, plate) SELECT DISTINCT customer_id, 'd' FROM vehicles ORDER BY 1",
        "INSERT INTO vehicles SELECT NULL, customer_id, 'copy' FROM vehicles WHERE id < 3",
        "INSERT OR IGNORE INTO vehicles (customer_id, plate) VALUES ('c2', 'ignored?')",
    ]);
}

/// A given key as the row's last item: its `coalesce(…)` closes before the tenant value
/// that goes at the same place (found by the fuzz replay on the tenant-first schema, where
/// `INSERT … (id) VALUES (10)` became `coalesce(10, 'A', …)`).
#[test]
fn a_given_key_last_in_the_row_keeps_its_value() {
    check_all(&[
        "INSERT INTO vehicles (customer_id, plate, id) VALUES ('c1', 'last', 41)",
        "INSERT INTO vehicles (customer_id, plate, id) VALUES ('c2', 'last null', NULL)",
        "INSERT OR REPLACE INTO vehicles (customer_id, plate, id) VALUES ('c2', 'replaced', 41)",
    ]);
}

/// `last_insert_rowid()` in RETURNING reads the row's key, as it read the row's rowid
/// when SQLite evaluated it right after writing the row; in a subquery, or after an
/// upsert's `DO UPDATE`, it is left as written.
#[test]
fn returning_last_insert_rowid_reads_the_rows_key() {
    check_all(&[
        "INSERT INTO vehicles (customer_id, plate) VALUES ('c1', 'r1'), ('c2', 'r2') RETURNING id, last_insert_rowid()",
        // A rowid read in parentheses is named after the key it reads, as SQLite names it
        // (found by the fuzzer on the tenant-first schema: it was aliased with its text).
        "INSERT INTO vehicles (customer_id, plate) VALUES ('c1', 'r3') RETURNING (vehicles.oid), ((rowid)), (last_insert_rowid())",
        "UPDATE vehicles SET plate = plate || '!' WHERE plate = 'r3' RETURNING (_rowid_), (vehicles.rowid)",
        "DELETE FROM vehicles WHERE plate = 'r3!' RETURNING (oid)",
        "INSERT INTO users (username) VALUES ('hal'), ('ida') RETURNING Last_Insert_Rowid ( ) * 2 AS twice",
    ]);
    let w = world();
    assert_eq!(
        rewrite(
            &w,
            "INSERT INTO logs (msg) VALUES ('m') RETURNING last_insert_rowid(), (SELECT last_insert_rowid())"
        )
        .as_deref(),
        Ok("INSERT INTO logs (msg, \"tenant_id\", \"id\") VALUES \
            ('m', 'A', (SELECT coalesce(max(\"id\"), 0) FROM main.\"logs\" WHERE \"tenant_id\" = 'A') + 1) \
            RETURNING \"id\" AS \"last_insert_rowid()\", (SELECT last_insert_rowid())"),
    );
    let upsert = rewrite(
        &w,
        "INSERT INTO vehicles (customer_id, plate) VALUES ('c1', 'u') \
         ON CONFLICT DO UPDATE SET plate = 'v' RETURNING last_insert_rowid()",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        upsert.ends_with("RETURNING last_insert_rowid()"),
        "{upsert}"
    );
}

#[test]
fn autoincrement_never_reuses_a_deleted_key() {
    // users: A holds 1..3 and once held 4 (its mark); B holds 9 and its mark is 12.
    check_all(&[
        "INSERT INTO users (username) VALUES ('dee')",
        "DELETE FROM users WHERE username = 'dee'",
        "INSERT INTO users (username, email) VALUES ('eve', 'e@a'), ('fay', NULL)",
    ]);
    check_all(&[
        "INSERT INTO logs DEFAULT VALUES",
        "INSERT INTO logs DEFAULT VALUES",
    ]);
    let w = world();
    w.check("INSERT INTO users (username) VALUES ('gil') RETURNING id, rowid, username");
}

#[test]
fn a_source_with_some_keys_given_continues_from_the_largest_as_sqlite_did() {
    check_all(&[
        "INSERT INTO vehicles (id, customer_id, plate) VALUES (NULL, 'c1', 'a'), (20, 'c1', 'b'), (NULL, 'c1', 'c'), (3, 'c1', 'd'), (NULL, 'c1', 'e')",
        "INSERT INTO vehicles (id, customer_id, plate) SELECT CASE WHEN id % 2 THEN NULL ELSE id + 100 END, customer_id, plate FROM vehicles",
        "INSERT INTO users (id, username) VALUES (NULL, 'p'), (NULL, 'q')",
        "INSERT INTO users (id, username) SELECT NULL, username || '2' FROM users ORDER BY id",
    ]);
}

#[test]
fn returning_and_upserts_see_the_allocated_key() {
    // (One world each: SQLite burns an AUTOINCREMENT key allocated for a row an upsert
    // then does not insert; the tenant-first table does not, see ARCHITECTURE.md.)
    for sql in [
        "INSERT INTO vehicles (customer_id, plate) VALUES ('c1', 'r1'), ('c2', 'r2') \
         RETURNING id, rowid, plate",
        "INSERT INTO users (username) VALUES ('ann') ON CONFLICT (username) \
         DO UPDATE SET note = 'again ' || excluded.id RETURNING id, note",
        "INSERT INTO users (username) VALUES ('new') ON CONFLICT DO NOTHING RETURNING *",
        "INSERT INTO users (username) SELECT 'sel' WHERE true ON CONFLICT (username) DO NOTHING",
        "INSERT INTO vehicles (id, customer_id, plate) VALUES (2, 'c1', 'up') \
         ON CONFLICT (id) DO UPDATE SET plate = excluded.plate || rowid RETURNING rowid, plate",
        "INSERT INTO users (username) SELECT username || '2' FROM users \
         WHERE true ON CONFLICT DO NOTHING RETURNING id",
    ] {
        let w = world();
        w.check_ordered(sql);
        w.assert_slices_equal(sql);
    }
}

#[test]
fn the_allocation_is_in_the_statements_text() {
    let w = world();
    assert_eq!(
        rewrite(&w, "INSERT INTO vehicles (customer_id) VALUES ('c1')").as_deref(),
        Ok(
            "INSERT INTO vehicles (customer_id, \"tenant_id\", \"id\") VALUES ('c1', 'A', \
            (SELECT coalesce(max(\"id\"), 0) FROM main.\"vehicles\" WHERE \"tenant_id\" = 'A') + 1)"
        ),
    );
    assert_eq!(
        rewrite(&w, "INSERT INTO users (id, username) VALUES (?, 'x')").as_deref(),
        Ok(
            "INSERT INTO users (id, username, \"tenant_id\") VALUES (coalesce(?, \
            max((SELECT coalesce(max(\"id\"), 0) FROM main.\"users\" WHERE \"tenant_id\" = 'A'), \
            coalesce((SELECT seq FROM main.\"_tenantry_sequence\" WHERE \"tenant_id\" = 'A' \
            AND name = 'users'), 0)) + 1), 'x', 'A')"
        ),
    );
    // Tables without a marker are as before.
    assert_eq!(
        rewrite(&w, "INSERT INTO notes (body) VALUES ('n')").as_deref(),
        Ok("INSERT INTO notes (body, \"tenant_id\") VALUES ('n', 'A')"),
    );
}

#[test]
fn skipped_rows_of_a_rowid_key_are_refused_where_sqlite_reused_their_key() {
    let w = world();
    for sql in [
        "INSERT OR IGNORE INTO vehicles (customer_id, plate) VALUES ('c1', 'a'), ('c1', 'b')",
        "INSERT INTO vehicles (customer_id, plate) SELECT customer_id, plate FROM vehicles \
         WHERE true ON CONFLICT DO NOTHING",
    ] {
        assert_eq!(rewrite(&w, sql), Err("WriteForm"), "{sql}");
    }
    // AUTOINCREMENT never reuses a key: several rows are allocated as SQLite did.
    w.check("INSERT OR IGNORE INTO users (username) VALUES ('ann'), ('new')");
    w.assert_slices_equal("OR IGNORE into an AUTOINCREMENT table");
}

#[test]
fn an_explicit_tenant_column_still_gets_the_key() {
    let w = world();
    assert_eq!(
        rewrite(
            &w,
            "INSERT INTO logs (msg, tenant_id) VALUES ('m', 'A'), ('n', 'A')"
        )
        .as_deref(),
        Ok("INSERT INTO logs (msg, tenant_id, \"id\") VALUES \
            ('m', 'A', (SELECT coalesce(max(\"id\"), 0) FROM main.\"logs\" WHERE \"tenant_id\" = 'A') + 1), \
            ('n', 'A', (SELECT coalesce(max(\"id\"), 0) FROM main.\"logs\" WHERE \"tenant_id\" = 'A') + 2)"),
    );
}

#[test]
fn reported_keys_are_wrapped_for_last_insert_rowid_but_not_in_triggers() {
    let w = world_with(|schema| {
        let mut policy = Policy::default();
        policy.report_keys = true;
        tenantry_rewrite::Rewriter::with_policy(schema, policy)
    });
    assert_eq!(
        rewrite(
            &w,
            "INSERT INTO vehicles (id, customer_id) VALUES (?, 'c1')"
        )
        .as_deref(),
        Ok(
            "INSERT INTO vehicles (id, customer_id, \"tenant_id\") VALUES (tenantry_key(coalesce(?, \
            (SELECT coalesce(max(\"id\"), 0) FROM main.\"vehicles\" WHERE \"tenant_id\" = 'A') + 1)), \
            'c1', 'A')"
        ),
    );
    let trigger = w
        .rewriter
        .scope_trigger(
            "CREATE TRIGGER t AFTER INSERT ON customers BEGIN \
             INSERT INTO vehicles (customer_id) VALUES (NEW.id); END",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!trigger.contains("tenantry_key"), "{trigger}");
    assert!(
        trigger.contains("WHERE \"tenant_id\" = NEW.\"tenant_id\") + 1"),
        "{trigger}"
    );
}

/// The rowid of a table keyed per tenant is gone (`WITHOUT ROWID`): an INSERT column list
/// or SET naming it is refused with the reason, where SQLite would say "no such column";
/// reading it, in a write's WHERE too, reads the key.
#[test]
fn writing_the_rowid_of_a_keyed_table_is_refused_and_reading_it_reads_the_key() {
    let w = world();
    for sql in [
        "INSERT INTO vehicles (rowid, customer_id, plate) VALUES (40, 'c1', 'x')",
        "INSERT INTO vehicles (oid, customer_id, plate) VALUES (NULL, 'c1', 'x')",
        "UPDATE vehicles SET rowid = 99 WHERE id = 1",
        "UPDATE vehicles SET _rowid_ = 99",
    ] {
        assert_eq!(rewrite(&w, sql), Err("WriteForm"), "{sql}");
    }
    check_all(&["UPDATE vehicles SET plate = 'by rowid' WHERE rowid = 2"]);
}
