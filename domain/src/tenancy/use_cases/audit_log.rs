//! Reading a workspace's audit log: ADMIN and OWNER only.

use crate::audit::AuditRecord;
use crate::error::{DomainError, DomainResult};
use crate::tenancy::use_cases::members::MAX_PAGE;
use crate::tenancy::{Role, TenancyService, TenantScope};

impl TenancyService {
    /// Entries newest first, before sequence `before`, optionally of one action.
    pub async fn audit_log(
        &self,
        scope: &TenantScope,
        before: Option<i64>,
        first: u64,
        action: Option<&str>,
    ) -> DomainResult<Vec<AuditRecord>> {
        if !scope.role().at_least(Role::Admin) {
            return Err(DomainError::Forbidden(
                "the audit log is for admins and the owner".to_owned(),
            ));
        }
        Ok(self
            .store
            .list_audit(scope, before, first.min(MAX_PAGE), action)
            .await?)
    }
}
