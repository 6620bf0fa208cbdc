//! Tenant values a statement gives itself (issue 16): with `Policy::check_tenant_values`
//! they are wrapped in `tenantry_tenant(value, 'A', table, column)`, parameters numbered
//! and named as written; without it, as before, only string literals are accepted. The
//! run-time check itself is the tenant connection's (`crates/sqlite/tests/it`).

use tenantry_rewrite::{Policy, Refusal, RewriteError, Rewriter, Schema, TenantId};

const SCHEMA: &str = "
CREATE TABLE vendors (id INTEGER PRIMARY KEY, name TEXT UNIQUE, tenant_id TEXT NOT NULL);
CREATE TABLE notes (body TEXT, tenant_id TEXT NOT NULL);
CREATE TABLE settings (k TEXT, v TEXT);";

fn rewriter(check: bool) -> Rewriter {
    let mut policy = Policy::default();
    policy.check_tenant_values = check;
    Rewriter::with_policy(
        Schema::from_sql(SCHEMA, "tenant_id").expect("schema"),
        policy,
    )
}

fn rewrite(r: &Rewriter, sql: &str) -> Result<String, RewriteError> {
    r.rewrite(sql, &TenantId::new("A").expect("tenant"))
        .map(|out| out.into_sql())
}

fn refusal(r: &Rewriter, sql: &str) -> Refusal {
    match rewrite(r, sql) {
        Err(RewriteError::Refused { reason, .. }) => reason,
        other => panic!("{sql}: expected a refusal, got {other:?}"),
    }
}

const CHECK: &str = "'A', 'vendors', 'tenant_id'";

#[test]
fn an_inserted_tenant_value_is_wrapped_and_parameters_keep_their_numbers() {
    let r = rewriter(true);
    for (sql, expected) in [
        (
            "INSERT INTO vendors (id, name, tenant_id) VALUES (?, ?, ?)",
            format!(
                "INSERT INTO vendors (id, name, tenant_id) VALUES (?, ?, tenantry_tenant(?, {CHECK}))"
            ),
        ),
        (
            "INSERT INTO vendors (tenant_id, name) VALUES (?3, ?1)",
            format!(
                "INSERT INTO vendors (tenant_id, name) VALUES (tenantry_tenant(?3, {CHECK}), ?1)"
            ),
        ),
        (
            "INSERT INTO vendors (id, tenant_id, name) VALUES (:id, :tenant, :name)",
            format!(
                "INSERT INTO vendors (id, tenant_id, name) VALUES (:id, tenantry_tenant(:tenant, {CHECK}), :name)"
            ),
        ),
        // Rows of several values: each row's value, a literal checked when rendered.
        (
            "INSERT OR IGNORE INTO vendors (name, tenant_id) VALUES ('x', 'A'), ('y', ? || '')",
            format!(
                "INSERT OR IGNORE INTO vendors (name, tenant_id) VALUES ('x', 'A'), ('y', tenantry_tenant(? || '', {CHECK}))"
            ),
        ),
        // INSERT ... SELECT: the result column, without its alias.
        (
            "INSERT INTO vendors (name, tenant_id) SELECT body, ?2 AS t FROM notes",
            format!(
                "INSERT INTO vendors (name, tenant_id) SELECT body, tenantry_tenant(?2, {CHECK}) AS t FROM \
                 (SELECT \"body\" FROM main.\"notes\" WHERE +\"tenant_id\" = 'A') AS notes"
            ),
        ),
        // An upsert: the inserted value is checked; DO UPDATE gets the tenant test.
        (
            "INSERT INTO vendors (id, name, tenant_id) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET id = excluded.id",
            format!(
                "INSERT INTO vendors (id, name, tenant_id) VALUES (?1, ?2, tenantry_tenant(?3, {CHECK})) \
                 ON CONFLICT (name) DO UPDATE SET id = excluded.id WHERE +vendors.\"tenant_id\" = 'A'"
            ),
        ),
    ] {
        assert_eq!(rewrite(&r, sql).expect(sql), expected);
    }
    // A foreign literal is still refused when the plan is rendered.
    assert!(matches!(
        refusal(
            &r,
            "INSERT INTO vendors (name, tenant_id) VALUES ('x', 'B')"
        ),
        Refusal::ForeignTenant { .. }
    ));
}

#[test]
fn an_update_or_delete_compared_with_a_tenant_value_checks_it() {
    let r = rewriter(true);
    for (sql, expected) in [
        (
            "UPDATE vendors SET name = ? WHERE id = ? AND tenant_id = ?",
            format!(
                "UPDATE vendors SET name = ? WHERE +vendors.\"tenant_id\" = 'A' AND \
                 (id = ? AND tenant_id = tenantry_tenant(?, {CHECK}))"
            ),
        ),
        (
            "DELETE FROM vendors AS v WHERE ?2 = v.\"TENANT_ID\" AND (v.id = ?1)",
            format!(
                "DELETE FROM vendors AS v WHERE +v.\"tenant_id\" = 'A' AND \
                 (tenantry_tenant(?2, {CHECK}) = v.\"TENANT_ID\" AND (v.id = ?1))"
            ),
        ),
        (
            "DELETE FROM vendors WHERE tenant_id = :t",
            format!(
                "DELETE FROM vendors WHERE +vendors.\"tenant_id\" = 'A' AND \
                 (tenant_id = tenantry_tenant(:t, {CHECK}))"
            ),
        ),
        // Not a top-level AND term: compared as written (it can only match the tenant's
        // own rows, which the tenant test already chose).
        (
            "DELETE FROM vendors WHERE tenant_id = ? OR id = ?",
            "DELETE FROM vendors WHERE +vendors.\"tenant_id\" = 'A' AND \
             (tenant_id = ? OR id = ?)"
                .to_owned(),
        ),
    ] {
        assert_eq!(rewrite(&r, sql).expect(sql), expected);
    }
    // A SELECT compares as written: its derived tables hold only the tenant's rows, so a
    // foreign value matches none, as on a database of the tenant alone.
    let select = rewrite(&r, "SELECT body FROM notes WHERE tenant_id = ?").expect("select");
    assert!(!select.contains("tenantry_tenant"), "{select}");
}

#[test]
fn without_the_switch_a_value_known_only_at_run_time_is_refused_as_before() {
    let r = rewriter(false);
    for sql in [
        "INSERT INTO vendors (id, name, tenant_id) VALUES (?, ?, ?)",
        "INSERT INTO vendors (name, tenant_id) SELECT body, ?2 FROM notes",
    ] {
        assert!(
            matches!(refusal(&r, sql), Refusal::UncheckedTenantValue { .. }),
            "{sql}"
        );
    }
    let update = rewrite(&r, "UPDATE vendors SET name = ? WHERE tenant_id = ?").expect("update");
    assert!(!update.contains("tenantry_tenant"), "{update}");
}

#[test]
fn forms_that_cannot_be_checked_are_refused() {
    let r = rewriter(true);
    for sql in [
        "INSERT INTO vendors (name, tenant_id) SELECT * FROM notes",
        "INSERT INTO vendors (name, tenant_id) SELECT body, 'A' FROM notes UNION SELECT 'x', ?",
    ] {
        assert!(
            matches!(refusal(&r, sql), Refusal::UncheckedTenantValue { .. }),
            "{sql}"
        );
    }
    // Writing the column in an UPDATE stays refused (the guard denies any write of it, and
    // a row's tenant cannot change), and in an upsert's DO UPDATE unless the value is one
    // that can be checked.
    for sql in [
        "UPDATE vendors SET tenant_id = ? WHERE id = 1",
        "INSERT INTO vendors (id, name, tenant_id) VALUES (?1, ?2, ?3) \
         ON CONFLICT (name) DO UPDATE SET tenant_id = upper(excluded.tenant_id)",
        "INSERT INTO vendors (id, name, tenant_id) VALUES (?1, ?2, ?3) \
         ON CONFLICT (name) DO UPDATE SET (name, tenant_id) = (excluded.name, 'A')",
    ] {
        assert!(
            matches!(refusal(&r, sql), Refusal::TenantColumnWrite { .. }),
            "{sql}"
        );
    }
}

#[test]
fn an_own_tenant_column_is_visible_and_given_by_position() {
    let mut schema = Schema::from_sql(SCHEMA, "tenant_id").expect("schema");
    schema.set_own_tenant_column("VENDORS");
    assert!(schema.has_own_tenant_column("vendors"));
    assert!(!schema.has_own_tenant_column("notes"));
    let mut policy = Policy::default();
    policy.check_tenant_values = true;
    let r = Rewriter::with_policy(schema, policy);
    assert_eq!(
        rewrite(&r, "SELECT * FROM vendors WHERE tenant_id = ?").expect("select"),
        "SELECT * FROM (SELECT \"id\", \"name\", \"tenant_id\" FROM main.\"vendors\" \
         WHERE +\"tenant_id\" = 'A') AS vendors WHERE tenant_id = ?"
    );
    // Only where the application declared it.
    assert_eq!(
        rewrite(&r, "SELECT * FROM notes").expect("select"),
        "SELECT * FROM (SELECT \"body\" FROM main.\"notes\" WHERE +\"tenant_id\" = 'A') AS notes"
    );
    assert_eq!(
        rewrite(&r, "INSERT INTO vendors VALUES (?, ?, ?) RETURNING *").expect("insert"),
        format!(
            "INSERT INTO vendors VALUES (?, ?, tenantry_tenant(?, {CHECK})) \
             RETURNING \"id\", \"name\", \"tenant_id\""
        )
    );
}

#[test]
fn an_upserts_tenant_assignment_is_checked() {
    let r = rewriter(true);
    assert_eq!(
        rewrite(
            &r,
            "INSERT INTO vendors (id, name, tenant_id) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET tenant_id = excluded.tenant_id"
        )
        .expect("checked"),
        format!(
            "INSERT INTO vendors (id, name, tenant_id) VALUES (?1, ?2, tenantry_tenant(?3, {CHECK})) \
             ON CONFLICT (name) DO UPDATE SET tenant_id = tenantry_tenant(excluded.tenant_id, {CHECK}) \
             WHERE +vendors.\"tenant_id\" = 'A'"
        )
    );
    let plan = r
        .plan("INSERT INTO vendors (id, name, tenant_id) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET tenant_id = ?3")
        .expect("plan");
    assert!(plan.statements()[0].assigns_tenant);
    assert!(
        !r.plan("INSERT INTO vendors (id, name, tenant_id) VALUES (?1, ?2, ?3)")
            .expect("plan")
            .statements()[0]
            .assigns_tenant
    );
    // A literal is checked when the plan is rendered, as in VALUES.
    assert!(matches!(
        refusal(
            &r,
            "INSERT INTO vendors (id, name) VALUES (1, 'x') ON CONFLICT (name) DO UPDATE SET tenant_id = 'B'"
        ),
        Refusal::ForeignTenant { .. }
    ));
}
