//! `deleteWorkspace`: the owner, freshly re-authenticated, closes the workspace; its erasure follows.
//!
//! Rule: only the OWNER deletes, and only within the re-authentication window; the closure is one
//! transaction (see [`super::closure`]), after which every member's cached access is dropped, open
//! subscriptions on the workspace close, the erasure job's worker is woken and the leases are released.

use std::sync::Arc;

use crate::accounts::pool::AccountsService;
use crate::accounts::pool::records::LeaseStatus;
use crate::audit::Actor;
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::events::{AccessChange, AccessSignals};
use crate::identity::{IdentityService, Principal};
use crate::ids::WorkspaceId;
use crate::jobs::JobSignal;
use crate::request::ClientInfo;
use crate::store::Store;
use crate::tenancy::{Role, TenancyService, TenantScope};
use crate::vault::Vault;

use super::closure::{Closure, close_workspace};

/// Leases read per page when releasing.
const LEASE_PAGE: u64 = 100;

/// Closing and erasing workspaces.
#[derive(Debug, Clone)]
pub struct WorkspaceErasure {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) identity: IdentityService,
    pub(crate) tenancy: TenancyService,
    pub(crate) accounts: AccountsService,
    pub(crate) vault: Vault,
    pub(crate) jobs: JobSignal,
    pub(crate) access: AccessSignals,
    /// Tells an erased person that the erasure is done (nothing of theirs is kept to retry it with).
    pub(crate) mailer: Option<Arc<dyn crate::mail::Mailer>>,
}

impl WorkspaceErasure {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        identity: IdentityService,
        tenancy: TenancyService,
        accounts: AccountsService,
        vault: Vault,
        jobs: JobSignal,
        access: AccessSignals,
    ) -> Self {
        Self {
            store,
            clock,
            identity,
            tenancy,
            accounts,
            vault,
            jobs,
            access,
            mailer: None,
        }
    }

    /// Sends the deletion-done notice through `mailer`.
    #[must_use]
    pub fn with_mailer(mut self, mailer: Arc<dyn crate::mail::Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Closes the workspace now (erased after 30 days): the OWNER only, after `reauthenticate`.
    #[tracing::instrument(skip_all, fields(workspace = %workspace))]
    pub async fn delete_workspace(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        workspace: WorkspaceId,
    ) -> DomainResult<Closure> {
        let scope = self.tenancy.scope(principal, workspace).await?;
        if scope.member_role()? != Role::Owner {
            return Err(DomainError::Forbidden(
                "only the workspace's owner can delete it".to_owned(),
            ));
        }
        self.identity.require_recent_reauthentication(principal).await?;
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let closure = close_workspace(&*tx, workspace, Actor::of(principal), client, now).await?;
        let _signal = self.access.armed(AccessChange::Workspace(workspace));
        tx.commit().await?;
        self.closed(closure).await;
        Ok(closure)
    }

    /// What follows a committed closure: the workers are woken and the leases released. Failures are logged:
    /// the erasure job releases whatever is left before erasing.
    pub async fn closed(&self, closure: Closure) {
        self.jobs.enqueued();
        if let Err(error) = self.release_leases(closure.workspace).await {
            tracing::warn!(workspace = %closure.workspace, %error, "leases of a closed workspace not released yet");
        }
    }

    /// Releases every active lease of `workspace` (the accounts go back to the pool); how many.
    pub async fn release_leases(&self, workspace: WorkspaceId) -> DomainResult<usize> {
        let scope = TenantScope::system(workspace);
        let mut released = 0;
        let mut before = None;
        loop {
            let page = self.store.leases_of(&scope, before, LEASE_PAGE).await?;
            let Some(last) = page.last() else { break };
            before = Some(last.id);
            let full = page.len() as u64 == LEASE_PAGE;
            for lease in page.into_iter().filter(|lease| lease.status == LeaseStatus::Active) {
                match self
                    .accounts
                    .end(
                        &scope,
                        lease,
                        LeaseStatus::Released,
                        Actor::system(),
                        &ClientInfo::default(),
                    )
                    .await
                {
                    Ok(_) => released += 1,
                    // Renewed or ended meanwhile: the next pass (or the expiry sweep) ends it.
                    Err(DomainError::Conflict { .. }) => {}
                    Err(other) => return Err(other),
                }
            }
            if !full {
                break;
            }
        }
        Ok(released)
    }
}
