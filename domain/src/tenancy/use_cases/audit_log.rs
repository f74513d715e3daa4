//! Reading a workspace's audit log: ADMIN and OWNER, or an API key with `AUDIT_READ`.

use crate::audit::AuditRecord;
use crate::error::DomainResult;
use crate::tenancy::api_keys::Scope;
use crate::tenancy::use_cases::members::MAX_PAGE;
use crate::tenancy::{Role, TenancyService, TenantScope};

impl TenancyService {
    /// Entries newest first, before sequence `before`, optionally of one action (ADMIN and OWNER, or an
    /// API key with `AUDIT_READ`).
    pub async fn audit_log(
        &self,
        scope: &TenantScope,
        before: Option<i64>,
        first: u64,
        action: Option<&str>,
    ) -> DomainResult<Vec<AuditRecord>> {
        scope.require(Role::Admin, Some(Scope::AuditRead), "the audit log")?;
        Ok(self
            .store
            .list_audit(scope, before, first.min(MAX_PAGE), action)
            .await?)
    }
}
