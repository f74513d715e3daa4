//! What closing and erasing a person's account needs from storage. Each method is one statement, or a
//! series of batches whose repetition does no harm, so an erasure that died midway finishes on its next run.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ids::{UserId, WorkspaceId};
use crate::store::StoreResult;

#[async_trait]
pub trait AccountErasureRepository: Send + Sync {
    /// Closes the open account: `closed_at` and `erase_after` set; `false` when it was closed already.
    async fn close_account(
        &self,
        user: UserId,
        closed_at: DateTime<Utc>,
        erase_after: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Reopens the account closed at `closed_at`; `false` when it is not closed at that time.
    async fn reopen_account(&self, user: UserId, closed_at: DateTime<Utc>) -> StoreResult<bool>;
    /// Every workspace the person is a member of, open or closed, with whether they own it.
    async fn person_workspaces(&self, user: UserId) -> StoreResult<Vec<(WorkspaceId, bool)>>;
    /// Revokes the unrevoked API keys the person created in `workspace`; how many.
    async fn revoke_keys_created_by(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// The addresses the person's stored sessions came from.
    async fn session_addresses(&self, user: UserId) -> StoreResult<Vec<String>>;
    /// Removes the person from `workspace` (open, closed or erased): their membership, the invitations they
    /// sent or that name `email_key`, the API keys they created, and their name on leases, automations,
    /// assigned dialogs and top-ups (billing rows stay, without the person); and the workspace's queued jobs
    /// and events that name them.
    async fn erase_person_in_workspace(&self, workspace: WorkspaceId, user: UserId, email_key: &str)
    -> StoreResult<()>;
    /// Deletes the person's data-subject requests (the platform chain keeps that and when the erasure was
    /// asked for, without the person), sessions, backup codes, sign-in challenges, attempt counters (theirs
    /// and those of `addresses`), queued jobs naming them outside any workspace, and finally their account row.
    async fn erase_person(&self, user: UserId, addresses: &[String]) -> StoreResult<()>;
}
