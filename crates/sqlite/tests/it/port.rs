//! The example port: the legacy application and its tenant version include the same
//! data-access module file, and differ only in the import of `Connection`, the schema they
//! start from and the line that sets the tenant.

const INCLUDE: &str = "#[path = \"pos/data_access.rs\"]\nmod pos;";

fn example(name: &str) -> String {
    let path = format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_port_changes_only_the_import_and_the_constructor() {
    let legacy = example("pos_legacy.rs");
    let tenant = example("pos_tenant.rs");
    // The data-access module: one file, included by both, using the includer's Connection.
    assert!(
        legacy.contains(INCLUDE),
        "pos_legacy.rs does not include the module"
    );
    assert!(
        tenant.contains(INCLUDE),
        "pos_tenant.rs does not include the module"
    );
    let module = example("pos/data_access.rs");
    let code: Vec<&str> = module
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect();
    assert!(code.contains(&"use super::Connection;"), "{module}");
    for other in ["rusqlite::Connection", "tenantry_sqlite"] {
        assert!(
            !code.iter().any(|line| line.contains(other)),
            "the module names {other}"
        );
    }
    assert!(legacy.contains("\nuse rusqlite::Connection;\n"));
    assert!(tenant.contains("\nuse tenantry_sqlite::Connection;\n"));
    // The code that uses it, from the constructor on: one line more, the tenant.
    let from_constructor = |text: &str| -> Vec<String> {
        let at = text
            .find("let mut conn = Connection::open")
            .expect("constructor");
        text[at..].lines().map(str::to_owned).collect()
    };
    let mut ported = from_constructor(&tenant);
    let tenant_line = ported.remove(1);
    assert!(tenant_line.contains("set_tenant"), "{tenant_line}");
    assert_eq!(from_constructor(&legacy), ported);
}
