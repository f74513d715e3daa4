//! Reading a workspace's audit log: ADMIN and OWNER, or an API key with `AUDIT_READ`.

use crate::audit::AuditRecord;
use crate::error::DomainResult;
use crate::paging::{Page, PageRequest};
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenancyService, TenantScope};

impl TenancyService {
    /// A page of entries newest first, before the page's sequence, optionally of one action (ADMIN and
    /// OWNER, or an API key with `AUDIT_READ`).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn audit_log(
        &self,
        scope: &TenantScope,
        page: PageRequest<i64>,
        action: Option<&str>,
    ) -> DomainResult<Page<AuditRecord>> {
        scope.require(Role::Admin, Some(Scope::AuditRead), "the audit log")?;
        page.read(|before, rows| self.store.list_audit(scope, before, rows, action))
            .await
    }
}
