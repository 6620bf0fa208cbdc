//! The tenant of a task: set by [`scope`] for one future, read by every statement that
//! future runs through a [`crate::TenantPool`].

use std::future::Future;

use tenantry_rewrite::TenantId;

tokio::task_local! {
    static TENANT: TenantId;
}

/// Runs `future` with `tenant` as the current tenant. The tenant follows the future across
/// `.await` points and threads; a task spawned from inside it does not inherit it (so it
/// cannot be carried into work nobody scoped).
pub fn scope<F: Future>(tenant: TenantId, future: F) -> impl Future<Output = F::Output> {
    TENANT.scope(tenant, future)
}

/// Runs `f` with `tenant` as the current tenant: the synchronous form of [`scope`], for
/// code that polls a future or a stream itself (a web response body, read after its
/// handler returned, runs each poll in its request's tenant this way).
///
/// ```
/// # use tenantry_sqlx::{current_tenant, sync_scope};
/// let tenant = tenantry_rewrite::TenantId::new("store-b").unwrap();
/// assert_eq!(current_tenant(), None);
/// let seen = sync_scope(tenant.clone(), current_tenant);
/// assert_eq!(seen, Some(tenant));
/// assert_eq!(current_tenant(), None);
/// ```
pub fn sync_scope<R>(tenant: TenantId, f: impl FnOnce() -> R) -> R {
    TENANT.sync_scope(tenant, f)
}

/// The tenant of the running future, if it runs inside [`scope`].
pub fn current_tenant() -> Option<TenantId> {
    TENANT.try_with(Clone::clone).ok()
}
