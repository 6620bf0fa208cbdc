//! A legacy module ported by changing only its imports and its constructor: the same file
//! (`notes.rs`) with rusqlite's connection and with Tenantry's, in-memory both times, and
//! its own tests passing in both.

mod legacy;
mod ported;

use ported::notes;

/// What the port adds: tenants sharing the database see only their own rows.
#[test]
fn two_tenants_share_the_ported_modules_database_and_see_only_their_own() {
    let conn = ported::test_db();
    let garage = notes::add_project(&conn, "garage").unwrap();
    notes::add_note(&conn, garage, "oil").unwrap();
    conn.set_tenant("store-2").unwrap();
    assert_eq!(notes::project_by_name(&conn, "garage").unwrap(), None);
    assert_eq!(notes::counts(&conn).unwrap(), (0, 0));
    assert!(
        !notes::pin(&conn, 1).unwrap(),
        "store-1's note is not store-2's"
    );
    assert_eq!(notes::delete_project(&conn, garage).unwrap(), 0);
    conn.set_tenant("store-1").unwrap();
    assert_eq!(notes::counts(&conn).unwrap(), (1, 1));
    // The legacy build of the same file, for comparison, holds no tenant.
    let legacy = legacy::test_db();
    legacy::notes::add_project(&legacy, "garage").unwrap();
    assert_eq!(legacy::notes::counts(&legacy).unwrap(), (1, 0));
}
