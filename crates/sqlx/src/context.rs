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

/// The tenant of the running future, if it runs inside [`scope`].
pub fn current_tenant() -> Option<TenantId> {
    TENANT.try_with(Clone::clone).ok()
}
