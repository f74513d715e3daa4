//! What closing and erasing a workspace need from storage. Every method takes the workspace's scope.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ids::JobId;
use crate::store::StoreResult;
use crate::tenancy::TenantScope;

/// Where a workspace is in its closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkspaceClosureRecord {
    pub closed_at: Option<DateTime<Utc>>,
    pub erase_after: Option<DateTime<Utc>>,
    /// When its erasure started; it cannot be reopened after.
    pub erasing_at: Option<DateTime<Utc>>,
}

/// One batch of an erasure: how many rows of which table went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErasureStep {
    pub table: &'static str,
    pub rows: u64,
}

#[async_trait]
pub trait WorkspaceErasureRepository: Send + Sync {
    /// Open → closed at `closed_at`, to be erased after `erase_after`; `false` when it is not open.
    async fn close_workspace_row(
        &self,
        scope: &TenantScope,
        closed_at: DateTime<Utc>,
        erase_after: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Closed and not being erased → open; `false` otherwise.
    async fn reopen_workspace_row(&self, scope: &TenantScope) -> StoreResult<bool>;
    /// The workspace's closure; `None` when its row is gone (erased).
    async fn workspace_closure(&self, scope: &TenantScope) -> StoreResult<Option<WorkspaceClosureRecord>>;
    /// Closed at exactly `closed_at` with `erase_after` exactly as given and not after `now` → erasing since
    /// `now` (an erasure already started stays as it is, and answers `true`); `false` otherwise.
    async fn start_erasure(
        &self,
        scope: &TenantScope,
        closed_at: DateTime<Utc>,
        erase_after: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Disables every enabled automation of the workspace (a new version each, so scheduled fires of the old
    /// one find it gone) and empties its trigger index; how many were disabled.
    async fn stop_automations(&self, scope: &TenantScope, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Deletes at most `limit` of the workspace's rows from the first table, in erasure order, that still holds
    /// some (every table of its data, its audit chain and head; not its billing rows, not the job `keep`, not
    /// the workspace row). `None` when none is left.
    async fn erase_workspace_rows(
        &self,
        scope: &TenantScope,
        keep: JobId,
        limit: u64,
    ) -> StoreResult<Option<ErasureStep>>;
    /// Deletes the workspace row once nothing refers to it; `false` when it was gone.
    async fn delete_workspace_row(&self, scope: &TenantScope) -> StoreResult<bool>;
}
