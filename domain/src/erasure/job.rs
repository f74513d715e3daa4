//! The erasure job (`erasure.workspace`): a closed workspace's data, audit chain and data keys, 30 days on.
//!
//! Rules:
//! - Nothing happens unless the workspace is still closed exactly as the job's closure says (a reopened
//!   workspace, or one closed again later, has another job or none).
//! - Once started (`erasing_at`) it cannot be reopened, and every step is idempotent: leases released, rows
//!   deleted in batches (each batch its own short statement, so no lock is held long), data keys destroyed,
//!   then the workspace row deleted and `workspace.erased` audited on the platform chain in one transaction.
//!   A crash anywhere leaves the job to a later attempt, which finishes what is left; a workspace row already
//!   gone means the erasure finished.

use async_trait::async_trait;
use serde_json::json;

use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::error::DomainResult;
use crate::ids::WorkspaceId;
use crate::jobs::{ClaimedJob, JobHandler, JobOutcome};
use crate::request::ClientInfo;
use crate::tenancy::TenantScope;
use crate::vault::KeyOwner;

use super::closure::{Closure, ERASURE_JOB};
use super::service::WorkspaceErasure;

/// Rows deleted per statement.
pub const ERASURE_BATCH: u64 = 500;

/// Runs `erasure.workspace` jobs.
#[derive(Debug, Clone)]
pub struct WorkspaceErasureJob {
    erasure: WorkspaceErasure,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErasureRun {
    /// Reopened, closed again later, or not yet due: nothing was done.
    Skipped,
    /// The workspace is gone and its keys destroyed.
    Erased { rows: u64 },
}

impl WorkspaceErasureJob {
    pub fn new(erasure: WorkspaceErasure) -> Self {
        Self { erasure }
    }

    /// Erases the workspace of `closure` if it is still closed as then and due.
    pub async fn erase(&self, closure: Closure, job: crate::ids::JobId) -> DomainResult<ErasureRun> {
        let service = &self.erasure;
        let workspace = closure.workspace;
        let scope = TenantScope::system(workspace);
        let now = service.clock.now();
        if service.store.workspace_closure(&scope).await?.is_none() {
            // Erased already, perhaps by an attempt that died before finishing its job: the keys again.
            service.vault.destroy(KeyOwner::Workspace(workspace)).await?;
            return Ok(ErasureRun::Erased { rows: 0 });
        }
        if !service
            .store
            .start_erasure(&scope, closure.closed_at, closure.erase_after, now)
            .await?
        {
            return Ok(ErasureRun::Skipped);
        }
        // The leases go back to the pool while the workspace's key can still open their sessions.
        service.release_leases(workspace).await?;
        let mut rows = 0;
        while let Some(step) = service.store.erase_workspace_rows(&scope, job, ERASURE_BATCH).await? {
            tracing::debug!(workspace = %workspace, table = step.table, rows = step.rows, "erased");
            rows += step.rows;
        }
        let keys = service.vault.destroy(KeyOwner::Workspace(workspace)).await?;
        let tx = service.store.begin().await?;
        if tx.delete_workspace_row(&scope).await? {
            let draft = AuditDraft {
                chain: ChainId::Platform,
                actor: Actor::system(),
                action: "workspace.erased",
                target_type: Some("WORKSPACE"),
                target_id: Some(workspace.to_string()),
                client: ClientInfo::default(),
                metadata: json!({ "workspace": workspace.to_string(), "keysDestroyed": keys }),
            };
            audit::append(&*tx, draft, now).await?;
        }
        tx.commit().await?;
        Ok(ErasureRun::Erased { rows })
    }
}

#[async_trait]
impl JobHandler for WorkspaceErasureJob {
    fn kinds(&self) -> &'static [&'static str] {
        &[ERASURE_JOB]
    }

    async fn run(&self, job: &ClaimedJob) -> JobOutcome {
        let Some(closure) = job
            .workspace_id
            .and_then(|workspace: WorkspaceId| Closure::from_payload(workspace, &job.payload))
        else {
            return JobOutcome::Failed {
                error: "an erasure job without its workspace and closure".to_owned(),
            };
        };
        match self.erase(closure, job.id).await {
            Ok(run) => {
                tracing::info!(workspace = %closure.workspace, ?run, "workspace erasure");
                JobOutcome::Done
            }
            Err(error) => {
                tracing::error!(workspace = %closure.workspace, error = %error, detail = ?error, "workspace erasure failed");
                JobOutcome::retry(job, "the erasure did not finish; it resumes on the next attempt")
            }
        }
    }
}
