//! Moving a request's status: the rule checked, the change written only from the status it was read in, and
//! the move audited on the person's own chain, all in the caller's transaction.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::error::{DomainError, DomainResult};
use crate::privacy::records::{DataSubjectRequest, RequestStatus};
use crate::privacy::rules;
use crate::request::ClientInfo;
use crate::store::Repositories;

/// Audits a request event (`privacy.request_received`, `privacy.request_moved`, ...) on the subject's chain.
pub(crate) async fn audit_request(
    repos: &dyn Repositories,
    request: &DataSubjectRequest,
    actor: Actor,
    action: &'static str,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let draft = AuditDraft {
        chain: ChainId::User(request.user_id),
        actor,
        action,
        target_type: Some("DATA_SUBJECT_REQUEST"),
        target_id: Some(request.id.to_string()),
        client: client.clone(),
        metadata: json!({
            "kind": request.kind.as_str(),
            "status": request.status.as_str(),
            "channel": request.channel.as_str(),
        }),
    };
    audit::append(repos, draft, now).await?;
    Ok(())
}

/// Moves `request` to `to` (with `resolution` when given), writing it only if it is still in the status it
/// was read in, and audits the move. `CONFLICT` when the table forbids the move or someone moved it first.
pub(crate) async fn move_request(
    repos: &dyn Repositories,
    request: &mut DataSubjectRequest,
    to: RequestStatus,
    resolution: Option<String>,
    actor: Actor,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let from = request.status;
    rules::check_move(from, to)?;
    request.status = to;
    request.updated_at = now;
    if to.is_final() {
        request.completed_at = Some(now);
    }
    if resolution.is_some() {
        request.resolution = resolution;
    }
    if !repos.update_request(request, from).await? {
        return Err(DomainError::conflict("status", "the request changed meanwhile"));
    }
    audit_request(repos, request, actor, "privacy.request_moved", client, now).await
}
