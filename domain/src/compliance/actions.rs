//! What every staff action shares: who acts, the queue and one request read with their subject, and the
//! write that changes a request only as it was read, audits it on both chains and tells the subject.

use chrono::{DateTime, SubsecRound as _, Utc};
use serde_json::json;

use super::{ComplianceService, QUEUE_LIMIT, staff_name};
use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::{DataSubjectRequestId, UserId};
use crate::notices::{self, Notice};
use crate::privacy::ports::{QueueFilter, QueuedRequest};
use crate::privacy::records::DataSubjectRequest;
use crate::privacy::use_cases::transitions::audit_request;
use crate::request::ClientInfo;
use crate::store::Transaction;

/// The staff member acting, and where from (their IP address and user agent go into every audit entry).
#[derive(Debug, Clone, Copy)]
pub struct StaffContext<'a> {
    pub principal: &'a Principal,
    pub client: &'a ClientInfo,
}

impl StaffContext<'_> {
    /// The staff member, or `FORBIDDEN` for anyone else.
    pub fn staff(&self) -> DomainResult<UserId> {
        self.principal.require_staff()
    }

    pub(crate) fn actor(&self) -> DomainResult<Actor> {
        Ok(Actor::staff(self.staff()?, &staff_name(self.principal)))
    }
}

impl ComplianceService {
    /// Microseconds, as both databases keep them: a request's `updated_at` is compared as it was read.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// The queue: requests matching `filter`, soonest to answer first, with their subjects.
    #[tracing::instrument(skip_all)]
    pub async fn queue(&self, staff: StaffContext<'_>, filter: &QueueFilter) -> DomainResult<Vec<QueuedRequest>> {
        staff.staff()?;
        Ok(self.store.queue_requests(filter, QUEUE_LIMIT).await?)
    }

    /// One request with its subject; `NOT_FOUND` when there is none.
    #[tracing::instrument(skip_all)]
    pub async fn request(&self, staff: StaffContext<'_>, id: DataSubjectRequestId) -> DomainResult<QueuedRequest> {
        staff.staff()?;
        let request = self
            .store
            .request_by_id(id)
            .await?
            .ok_or(DomainError::NotFound("request"))?;
        let filter = QueueFilter {
            user: Some(request.user_id),
            ..QueueFilter::default()
        };
        self.store
            .queue_requests(&filter, QUEUE_LIMIT)
            .await?
            .into_iter()
            .find(|queued| queued.request.id == id)
            .ok_or(DomainError::NotFound("request"))
    }

    /// Audits that `staff` viewed personal data (`page`, and the record shown) on the platform chain.
    #[tracing::instrument(skip_all)]
    pub async fn record_view(
        &self,
        staff: StaffContext<'_>,
        page: &str,
        target: Option<(&'static str, String)>,
    ) -> DomainResult<()> {
        self.record_on_platform(staff, "console.viewed", target, json!({ "page": page }))
            .await
    }

    /// Audits `action` of `staff` on the platform chain (with `metadata`), in a transaction of its own: what
    /// staff read or took away, which changes nothing else.
    pub(crate) async fn record_on_platform(
        &self,
        staff: StaffContext<'_>,
        action: &'static str,
        target: Option<(&'static str, String)>,
        metadata: serde_json::Value,
    ) -> DomainResult<()> {
        let actor = staff.actor()?;
        let tx = self.store.begin().await?;
        let (target_type, target_id) = target.map_or((None, None), |(kind, id)| (Some(kind), Some(id)));
        let draft = AuditDraft {
            chain: ChainId::Platform,
            actor,
            action,
            target_type,
            target_id,
            client: staff.client.clone(),
            metadata,
        };
        audit::append(&*tx, draft, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Writes `request` (read with `read_at` as its `updated_at`) in `tx`: `CONFLICT` when someone changed it
/// meanwhile. Then [`record_change`].
pub(crate) async fn write_change(
    tx: &dyn Transaction,
    staff: StaffContext<'_>,
    request: &DataSubjectRequest,
    read_at: DateTime<Utc>,
    action: &'static str,
    metadata: serde_json::Value,
) -> DomainResult<()> {
    if !tx.update_request_unchanged(request, read_at).await? {
        return Err(DomainError::conflict(
            "request",
            "the request changed meanwhile; reload it and try again",
        ));
    }
    record_change(tx, staff, request, action, metadata).await
}

/// Audits `action` on `request`'s subject's chain and on the platform chain (with `metadata`), and tells the
/// subject where their request stands, at the request's `updated_at`.
pub(crate) async fn record_change(
    tx: &dyn Transaction,
    staff: StaffContext<'_>,
    request: &DataSubjectRequest,
    action: &'static str,
    metadata: serde_json::Value,
) -> DomainResult<()> {
    let actor = staff.actor()?;
    let now = request.updated_at;
    audit_request(tx, request, actor.clone(), action, staff.client, now).await?;
    let mut details = json!({
        "request": request.id.to_string(),
        "kind": request.kind.as_str(),
        "status": request.status.as_str(),
    });
    if let (Some(object), serde_json::Value::Object(extra)) = (details.as_object_mut(), metadata) {
        object.extend(extra);
    }
    let draft = AuditDraft {
        chain: ChainId::Platform,
        actor,
        action,
        target_type: Some("DATA_SUBJECT_REQUEST"),
        target_id: Some(request.id.to_string()),
        client: staff.client.clone(),
        metadata: details,
    };
    audit::append(tx, draft, now).await?;
    let notice = Notice::RequestStatus {
        kind: request.kind.as_str().to_owned(),
        status: request.status.as_str().to_owned(),
        resolution: request.resolution.clone(),
        answer_by: request.extended_until,
    };
    notices::queue(tx, request.user_id, notice, now).await?;
    Ok(())
}

/// Audits a staff action on an account on the platform chain and the account's own chain.
pub(crate) async fn audit_on_person(
    tx: &dyn Transaction,
    staff: StaffContext<'_>,
    person: UserId,
    action: &'static str,
    metadata: serde_json::Value,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let actor = staff.actor()?;
    for chain in [ChainId::Platform, ChainId::User(person)] {
        let draft = AuditDraft {
            chain,
            actor: actor.clone(),
            action,
            target_type: Some("USER"),
            target_id: Some(person.to_string()),
            client: staff.client.clone(),
            metadata: metadata.clone(),
        };
        audit::append(tx, draft, now).await?;
    }
    Ok(())
}
