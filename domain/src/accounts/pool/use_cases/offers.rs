//! Reading the pool: accounts on offer (any signed-in person), and a workspace's leases and leased accounts
//! (VIEWER and above, or keys with `ACCOUNTS_READ`).

use crate::accounts::CountryCode;
use crate::accounts::pool::records::{AccountRecord, AccountStatus, LeaseRecord};
use crate::accounts::pool::service::AccountsService;
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::{AccountId, LeaseId, WorkspaceId};
use crate::paging::{Page, PageRequest};
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenantScope};

/// Whether the caller may read the workspace's accounts: members (VIEWER and above), and keys with
/// `ACCOUNTS_READ` or `ACCOUNTS_WRITE` (keys that may rent may also read what they rented).
pub fn may_read_accounts(scope: &TenantScope) -> bool {
    scope.allows(Role::Viewer, Some(Scope::AccountsRead)) || scope.allows(Role::Viewer, Some(Scope::AccountsWrite))
}

impl AccountsService {
    /// A page of the accounts on offer, oldest first. People and API keys alike may browse the pool.
    #[tracing::instrument(skip_all)]
    pub async fn offers(
        &self,
        _principal: &Principal,
        country: Option<&CountryCode>,
        page: PageRequest<AccountId>,
    ) -> DomainResult<Page<AccountRecord>> {
        page.read(|after, rows| self.store.offered_accounts(country, after, rows))
            .await
    }

    /// The workspace a lease named by id belongs to: an API key's own workspace, or for a person one of their
    /// workspaces; `NOT_FOUND` otherwise (a lease of another tenant is indistinguishable from none).
    #[tracing::instrument(skip_all)]
    pub async fn lease_workspace(&self, principal: &Principal, id: LeaseId) -> DomainResult<WorkspaceId> {
        match principal {
            Principal::ApiKey { workspace_id, .. } => Ok(*workspace_id),
            Principal::User { user_id, .. } => self
                .store
                .lease_workspace_of_member(*user_id, id)
                .await?
                .ok_or(DomainError::NotFound("lease")),
        }
    }

    /// The workspace holding an account named by id: an API key's own workspace, or for a person the one of
    /// their workspaces that rents it now; `NOT_FOUND` otherwise.
    #[tracing::instrument(skip_all)]
    pub async fn holder_workspace(&self, principal: &Principal, account: AccountId) -> DomainResult<WorkspaceId> {
        match principal {
            Principal::ApiKey { workspace_id, .. } => Ok(*workspace_id),
            Principal::User { user_id, .. } => self
                .store
                .holder_workspace_of_member(*user_id, account)
                .await?
                .ok_or(DomainError::NotFound("account")),
        }
    }

    /// An account the workspace holds now, or `NOT_FOUND`.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn held(&self, scope: &TenantScope, account: AccountId) -> DomainResult<AccountRecord> {
        self.store
            .find_account(Some(scope), account)
            .await?
            .filter(|a| a.status == AccountStatus::Leased && a.leased_to == Some(scope.workspace_id()))
            .ok_or(DomainError::NotFound("account"))
    }

    /// A page of the workspace's leases, newest first.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn leases(&self, scope: &TenantScope, page: PageRequest<LeaseId>) -> DomainResult<Page<LeaseRecord>> {
        scope.require(Role::Viewer, Some(Scope::AccountsRead), "reading leases")?;
        page.read(|before, rows| self.store.leases_of(scope, before, rows))
            .await
    }

    /// A page of the accounts the workspace holds now, oldest first.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn leased_accounts(
        &self,
        scope: &TenantScope,
        page: PageRequest<AccountId>,
    ) -> DomainResult<Page<AccountRecord>> {
        scope.require(Role::Viewer, Some(Scope::AccountsRead), "reading accounts")?;
        page.read(|after, rows| self.store.leased_accounts(scope, after, rows))
            .await
    }

    /// Those of `ids` the workspace holds now, in one read (the accounts a page's nested fields name). The
    /// same rule as [`Self::account`]; an account the workspace does not hold is absent.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn held_accounts(&self, scope: &TenantScope, ids: &[AccountId]) -> DomainResult<Vec<AccountRecord>> {
        if !scope.allows(Role::Viewer, Some(Scope::AccountsWrite)) {
            scope.require(Role::Viewer, Some(Scope::AccountsRead), "reading accounts")?;
        }
        Ok(self.store.held_accounts(scope, ids).await?)
    }

    /// One account the workspace holds, or one on offer. Keys that may rent (`ACCOUNTS_WRITE`) may also read
    /// what they rented.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn account(&self, scope: &TenantScope, id: AccountId) -> DomainResult<Option<AccountRecord>> {
        if !scope.allows(Role::Viewer, Some(Scope::AccountsWrite)) {
            scope.require(Role::Viewer, Some(Scope::AccountsRead), "reading accounts")?;
        }
        Ok(self.store.find_account(Some(scope), id).await?)
    }
}
