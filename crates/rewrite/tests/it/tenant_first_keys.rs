//! Tables with per-tenant keys (every key leads with the tenant column): REPLACE can only
//! meet the tenant's own row, an upsert's conflict target names the per-tenant key, and
//! the tenant test is written so SQLite can use those keys.

use crate::tenant_first::{rewrite, world};

#[test]
fn replace_is_allowed_where_every_key_is_per_tenant() {
    for sql in [
        "REPLACE INTO price_levels (code, name) VALUES ('std', 'Replaced')",
        "INSERT OR REPLACE INTO users (username, email) VALUES ('ann', 'new@a')",
        "INSERT OR REPLACE INTO users (id, username) VALUES (2, 'bo2')",
        "UPDATE OR REPLACE vehicles SET id = 1 WHERE id = 2",
        "UPDATE OR REPLACE price_levels SET code = 'std' WHERE code = 'vip'",
        // A key declared ON CONFLICT REPLACE.
        "INSERT INTO tags (name, color) VALUES ('red', 'new')",
        "UPDATE tags SET name = 'red' WHERE name = 'blue'",
    ] {
        let w = world();
        w.check(sql);
        w.assert_slices_equal(sql);
    }
}

#[test]
fn replace_is_still_refused_where_a_key_is_shared() {
    let w = world();
    // notes is a rowid table: its rowid is a key every tenant shares.
    for sql in [
        "REPLACE INTO notes (body) VALUES ('first')",
        "UPDATE OR REPLACE notes SET rowid = 1",
    ] {
        assert_eq!(rewrite(&w, sql), Err("Replace"), "{sql}");
    }
}

#[test]
fn an_upserts_conflict_target_gets_the_tenant_column() {
    let w = world();
    assert_eq!(
        rewrite(
            &w,
            "INSERT INTO price_levels (code, name) VALUES ('std', 'S') \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name"
        )
        .as_deref(),
        Ok(
            "INSERT INTO price_levels (code, name, \"tenant_id\") VALUES ('std', 'S', 'A') \
            ON CONFLICT (code, \"tenant_id\") DO UPDATE SET name = excluded.name \
            WHERE price_levels.\"tenant_id\" = 'A'"
        ),
    );
    for sql in [
        "INSERT INTO price_levels (code, name) VALUES ('std', 'S') \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name || '!'",
        "INSERT INTO price_levels (code, name) VALUES ('new', 'N') ON CONFLICT (code) DO NOTHING",
        "INSERT INTO price_levels (code, name) VALUES ('vip', 'V') ON CONFLICT DO NOTHING",
        "INSERT INTO users (username, email) VALUES ('bo', 'cy@a') \
         ON CONFLICT (email) DO UPDATE SET note = 'clash'",
    ] {
        let w = world();
        w.check(sql);
        w.assert_slices_equal(sql);
    }
}

#[test]
fn the_tenant_test_on_per_tenant_keys_has_no_plus() {
    let w = world();
    assert_eq!(
        rewrite(&w, "UPDATE price_levels SET name = 'x' WHERE code = 'std'").as_deref(),
        Ok(
            "UPDATE price_levels SET name = 'x' WHERE price_levels.\"tenant_id\" = 'A' \
            AND (code = 'std')"
        ),
    );
    // A rowid table keeps the planner away from the tenant index, as before.
    assert_eq!(
        rewrite(&w, "DELETE FROM notes WHERE body = 'x'").as_deref(),
        Ok("DELETE FROM notes WHERE +notes.\"tenant_id\" = 'A' AND (body = 'x')"),
    );
    assert_eq!(
        rewrite(&w, "SELECT body FROM notes").as_deref(),
        Ok("SELECT body FROM notes WHERE +notes.\"tenant_id\" = 'A'"),
    );
    assert_eq!(
        rewrite(&w, "SELECT * FROM notes").as_deref(),
        Ok(
            "SELECT * FROM (SELECT \"body\" FROM main.\"notes\" WHERE +\"tenant_id\" = 'A') \
            AS notes"
        ),
    );
}
