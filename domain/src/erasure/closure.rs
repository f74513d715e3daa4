//! Closing and reopening a workspace within a use case's transaction.
//!
//! Rule: a closure and everything it implies (automations stopped, the audit entry, the erasure job) commit
//! together or not at all; the erasure job is keyed by workspace and closure time, so each closure queues
//! exactly one, and a reopened workspace's job finds nothing to do.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::error::{DomainError, DomainResult};
use crate::ids::WorkspaceId;
use crate::jobs::{self, NewJob};
use crate::request::ClientInfo;
use crate::store::Transaction;
use crate::tenancy::TenantScope;

/// Days between closure and erasure (policy §7: account data deleted within 30 days of closure).
pub const ERASE_AFTER_DAYS: i64 = 30;

/// The job kind that erases a closed workspace.
pub const ERASURE_JOB: &str = "erasure.workspace";

/// What closing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closure {
    pub workspace: WorkspaceId,
    pub closed_at: DateTime<Utc>,
    pub erase_after: DateTime<Utc>,
}

impl Closure {
    /// The erasure job's payload.
    pub(crate) fn payload(&self) -> serde_json::Value {
        json!({
            "workspace": self.workspace.to_string(),
            "closedAt": self.closed_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "eraseAfter": self.erase_after.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        })
    }

    /// A closure as the erasure job's payload names it.
    pub(crate) fn from_payload(workspace: WorkspaceId, payload: &serde_json::Value) -> Option<Self> {
        let time = |key: &str| {
            payload
                .get(key)
                .and_then(serde_json::Value::as_str)
                .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
                .map(|at| at.with_timezone(&Utc))
        };
        Some(Self {
            workspace,
            closed_at: time("closedAt")?,
            erase_after: time("eraseAfter")?,
        })
    }
}

/// Closes `workspace` at `now` in `tx`: refused (as for a non-member) when it is not open. The caller signals
/// the access change after committing ([`crate::events::AccessChange::Workspace`]), wakes the job workers and
/// releases the leases ([`super::WorkspaceErasure::release_leases`]).
pub async fn close_workspace(
    tx: &dyn Transaction,
    workspace: WorkspaceId,
    actor: Actor,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> DomainResult<Closure> {
    let scope = TenantScope::system(workspace);
    let closure = Closure {
        workspace,
        closed_at: now,
        erase_after: now + Duration::days(ERASE_AFTER_DAYS),
    };
    if !tx
        .close_workspace_row(&scope, closure.closed_at, closure.erase_after)
        .await?
    {
        return Err(DomainError::Forbidden(crate::tenancy::service::NOT_A_MEMBER.to_owned()));
    }
    let automations = tx.stop_automations(&scope, now).await?;
    let draft = AuditDraft {
        chain: ChainId::Workspace(workspace),
        actor,
        action: "workspace.deleted",
        target_type: Some("WORKSPACE"),
        target_id: Some(workspace.to_string()),
        client: client.clone(),
        metadata: json!({
            "eraseAfter": closure.erase_after.to_rfc3339(),
            "automationsStopped": automations,
        }),
    };
    audit::append(tx, draft, now).await?;
    let job = NewJob::now(ERASURE_JOB, Some(workspace), closure.payload(), now)
        .at(closure.erase_after)
        .with_max_attempts(20)
        .with_dedupe_key(format!(
            "{ERASURE_JOB}:{workspace}:{}",
            closure.closed_at.timestamp_micros()
        ));
    jobs::enqueue(tx, &job, now).await?;
    Ok(closure)
}

/// Reopens a closed `workspace` in `tx` (cancelling its erasure); `false` when it is open, gone, or its
/// erasure has started. Its automations stay disabled until someone enables them again.
pub async fn reopen_workspace(
    tx: &dyn Transaction,
    workspace: WorkspaceId,
    actor: Actor,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    let scope = TenantScope::system(workspace);
    if !tx.reopen_workspace_row(&scope).await? {
        return Ok(false);
    }
    let draft = AuditDraft {
        chain: ChainId::Workspace(workspace),
        actor,
        action: "workspace.reopened",
        target_type: Some("WORKSPACE"),
        target_id: Some(workspace.to_string()),
        client: client.clone(),
        metadata: json!({}),
    };
    audit::append(tx, draft, now).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_payload_names_the_closure_exactly() {
        let closed_at = crate::audit::AuditRecord::normalize_time(Utc::now());
        let closure = Closure {
            workspace: WorkspaceId::generate(),
            closed_at,
            erase_after: closed_at + Duration::days(ERASE_AFTER_DAYS),
        };
        assert_eq!(
            Closure::from_payload(closure.workspace, &closure.payload()),
            Some(closure)
        );
        assert_eq!(
            Closure::from_payload(closure.workspace, &json!({ "closedAt": "soon" })),
            None
        );
    }
}
