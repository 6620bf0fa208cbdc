//! The example port: the legacy data-access module and its tenant version are the same
//! text but for the imports and the constructor.

fn data_access_block(text: &str) -> Vec<&str> {
    let start = text.find("// --- data access ---").expect("start marker");
    let end = text.find("// --- end ---").expect("end marker");
    text[start..end].lines().collect()
}

#[test]
fn the_port_changes_only_imports_and_the_constructor() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let legacy = std::fs::read_to_string(format!("{dir}/pos_legacy.rs")).expect("legacy");
    let tenant = std::fs::read_to_string(format!("{dir}/pos_tenant.rs")).expect("tenant");
    // The module itself: identical, line for line.
    assert_eq!(data_access_block(&legacy), data_access_block(&tenant));
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
    assert!(legacy.contains("use rusqlite::Connection;"));
    assert!(tenant.contains("use tenantry_sqlite::Connection;"));
}
