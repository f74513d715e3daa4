//! Driving the sandbox network of the embedded default: who may make a scripted contact write to an
//! account, or make the simulated Telegram refuse it.
//!
//! Rule: only for a sandbox account the caller's workspace holds (OPERATOR and above, or keys with
//! `ACCOUNTS_WRITE`); a real account is refused, so nothing here ever touches Telegram.

use crate::accounts::pool::service::AccountsService;
use crate::error::{DomainError, DomainResult};
use crate::ids::AccountId;
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenantScope};

/// The sandbox identity of an account: its sandbox user id and the name it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxIdentity {
    pub user_id: i64,
    pub name: String,
}

impl AccountsService {
    /// The sandbox identity of a sandbox account the workspace holds.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn sandbox_identity(&self, scope: &TenantScope, account: AccountId) -> DomainResult<SandboxIdentity> {
        scope.require(Role::Operator, Some(Scope::AccountsWrite), "driving the sandbox")?;
        let record = self.held(scope, account).await?;
        if !record.sandbox {
            return Err(DomainError::invalid(
                "accountId",
                "this is a real Telegram account; sandbox tools only drive sandbox accounts",
            ));
        }
        let user_id = record
            .telegram_user_id
            .ok_or_else(|| DomainError::internal("a sandbox account without a user id"))?;
        Ok(SandboxIdentity {
            user_id,
            name: record
                .profile
                .display_name
                .unwrap_or_else(|| format!("Sandbox {user_id}")),
        })
    }
}
