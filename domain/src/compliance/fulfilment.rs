//! Working a request: verifying the requester, extending, rejecting, and fulfilling each kind (an export
//! for access and portability, what changed for a rectification, the restriction flag, an objection's
//! decision). Each is one transaction through [`write_change`].

use chrono::{DateTime, Utc};
use serde_json::json;

use super::ComplianceService;
use super::actions::{StaffContext, write_change};
use crate::error::{DomainError, DomainResult};
use crate::ids::DataSubjectRequestId;
use crate::jobs::{self, NewJob};
use crate::privacy::jobs::EXPORT_BUILD;
use crate::privacy::records::{DataSubjectRequest, ObjectionDecision, RequestChannel, RequestKind, RequestStatus};
use crate::privacy::rules;

/// The verification recorded for a request made through the API: the subject was signed in.
pub const SIGNED_IN: &str = "signed in to their account when they made it";

/// A required staff note (a method, what changed, a reason), trimmed and bounded.
fn note(field: &str, text: &str) -> DomainResult<String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > rules::MAX_NOTE_CHARS {
        return Err(DomainError::invalid(
            field,
            format!("required, at most {} characters", rules::MAX_NOTE_CHARS),
        ));
    }
    Ok(text.to_owned())
}

fn require_kind(request: &DataSubjectRequest, kinds: &[RequestKind], what: &str) -> DomainResult<()> {
    if kinds.contains(&request.kind) {
        Ok(())
    } else {
        Err(DomainError::conflict(
            "kind",
            format!(
                "{what} fulfils {} requests, not {}",
                kinds_text(kinds),
                request.kind.as_str()
            ),
        ))
    }
}

fn kinds_text(kinds: &[RequestKind]) -> String {
    kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(" or ")
}

fn require_in_progress(request: &DataSubjectRequest) -> DomainResult<()> {
    if request.status == RequestStatus::InProgress {
        Ok(())
    } else {
        Err(DomainError::conflict(
            "status",
            format!(
                "a request is fulfilled while IN_PROGRESS (verify the requester first); this one is {}",
                request.status.as_str()
            ),
        ))
    }
}

impl ComplianceService {
    /// The request as stored, for a change by staff.
    pub(crate) async fn for_change(
        &self,
        staff: StaffContext<'_>,
        id: DataSubjectRequestId,
    ) -> DomainResult<(DataSubjectRequest, DateTime<Utc>)> {
        staff.staff()?;
        let request = self
            .store
            .request_by_id(id)
            .await?
            .ok_or(DomainError::NotFound("request"))?;
        let read_at = request.updated_at;
        Ok((request, read_at))
    }

    /// Moves `request` to `to` as of now, with `resolution` when given.
    fn moved(
        &self,
        request: &mut DataSubjectRequest,
        to: RequestStatus,
        resolution: Option<String>,
    ) -> DomainResult<()> {
        rules::check_move(request.status, to)?;
        let now = self.now();
        request.status = to;
        request.updated_at = now;
        if to.is_final() {
            request.completed_at = Some(now);
        }
        if resolution.is_some() {
            request.resolution = resolution;
        }
        Ok(())
    }

    /// Asks the requester to prove they are the subject (RECEIVED → VERIFYING); `note` says how.
    #[tracing::instrument(skip_all)]
    pub async fn begin_verification(
        &self,
        staff: StaffContext<'_>,
        id: DataSubjectRequestId,
        how: &str,
    ) -> DomainResult<DataSubjectRequest> {
        let (mut request, read_at) = self.for_change(staff, id).await?;
        let how = note("method", how)?;
        self.moved(&mut request, RequestStatus::Verifying, None)?;
        request.handling.verification_method = Some(how.clone());
        self.commit(
            staff,
            &request,
            read_at,
            "console.verification_started",
            json!({ "method": how }),
        )
        .await?;
        Ok(request)
    }

    /// Records how the requester was verified and starts the work (→ IN_PROGRESS). For an emailed request
    /// the method is required; one made through the API was made signed in ([`SIGNED_IN`]).
    #[tracing::instrument(skip_all)]
    pub async fn verify_identity(
        &self,
        staff: StaffContext<'_>,
        id: DataSubjectRequestId,
        method: &str,
    ) -> DomainResult<DataSubjectRequest> {
        let (mut request, read_at) = self.for_change(staff, id).await?;
        let method = match (request.channel, method.trim().is_empty()) {
            (RequestChannel::Api, true) => SIGNED_IN.to_owned(),
            _ => note("method", method)?,
        };
        self.moved(&mut request, RequestStatus::InProgress, None)?;
        request.handling.verification_method = Some(method.clone());
        request.handling.verified_at = Some(request.updated_at);
        request.handling.verified_by = Some(staff.staff()?);
        self.commit(
            staff,
            &request,
            read_at,
            "console.identity_verified",
            json!({ "method": method }),
        )
        .await?;
        Ok(request)
    }

    /// Extends the answer date once, with a reason (at most two further months); the subject is told.
    #[tracing::instrument(skip_all)]
    pub async fn extend(
        &self,
        staff: StaffContext<'_>,
        id: DataSubjectRequestId,
        until: DateTime<Utc>,
        reason: &str,
    ) -> DomainResult<DataSubjectRequest> {
        let (mut request, read_at) = self.for_change(staff, id).await?;
        if request.status.is_final() {
            return Err(DomainError::conflict("status", "a finished request is not extended"));
        }
        let reason = rules::check_extension(request.due_at, request.extended_until.is_some(), until, reason)?;
        request.extended_until = Some(until);
        request.extension_reason = Some(reason.clone());
        request.updated_at = self.now();
        let metadata = json!({ "until": until.to_rfc3339(), "reason": reason });
        self.commit(staff, &request, read_at, "console.request_extended", metadata)
            .await?;
        Ok(request)
    }

    /// Rejects the request with a reason the subject is told.
    #[tracing::instrument(skip_all)]
    pub async fn reject(
        &self,
        staff: StaffContext<'_>,
        id: DataSubjectRequestId,
        reason: &str,
    ) -> DomainResult<DataSubjectRequest> {
        let (mut request, read_at) = self.for_change(staff, id).await?;
        let reason = note("reason", reason)?;
        self.moved(&mut request, RequestStatus::Rejected, Some(reason))?;
        self.commit(staff, &request, read_at, "console.request_rejected", json!({}))
            .await?;
        Ok(request)
    }

    /// Access or export: queues the build of the subject's archive; the job completes the request and emails
    /// the subject that it is ready (they download it signed in).
    #[tracing::instrument(skip_all)]
    pub async fn generate_export(
        &self,
        staff: StaffContext<'_>,
        id: DataSubjectRequestId,
    ) -> DomainResult<DataSubjectRequest> {
        let (mut request, read_at) = self.for_change(staff, id).await?;
        require_kind(&request, &[RequestKind::Access, RequestKind::Export], "an export")?;
        require_in_progress(&request)?;
        request.updated_at = self.now();
        let job = NewJob::now(EXPORT_BUILD, None, json!({ "request": request.id }), request.updated_at)
            .with_dedupe_key(format!("{EXPORT_BUILD}:{}", request.id));
        let tx = self.store.begin().await?;
        write_change(&*tx, staff, &request, read_at, "console.export_generated", json!({})).await?;
        jobs::enqueue(&*tx, &job, request.updated_at).await?;
        tx.commit().await?;
        self.jobs.enqueued();
        Ok(request)
    }

    /// Rectification done: records what changed and completes the request.
    #[tracing::instrument(skip_all)]
    pub async fn complete_rectification(
        &self,
        staff: StaffContext<'_>,
        id: DataSubjectRequestId,
        what_changed: &str,
    ) -> DomainResult<DataSubjectRequest> {
        let (mut request, read_at) = self.for_change(staff, id).await?;
        require_kind(&request, &[RequestKind::Rectification], "a rectification")?;
        require_in_progress(&request)?;
        let changed = note("whatChanged", what_changed)?;
        self.moved(&mut request, RequestStatus::Completed, Some(changed))?;
        self.commit(staff, &request, read_at, "console.rectification_recorded", json!({}))
            .await?;
        Ok(request)
    }

    /// Restriction: flags the account so automations and sending stop in the workspaces it owns, and
    /// completes the request.
    #[tracing::instrument(skip_all)]
    pub async fn apply_restriction(
        &self,
        staff: StaffContext<'_>,
        id: DataSubjectRequestId,
        note_text: &str,
    ) -> DomainResult<DataSubjectRequest> {
        let (mut request, read_at) = self.for_change(staff, id).await?;
        require_kind(&request, &[RequestKind::Restriction], "a restriction")?;
        require_in_progress(&request)?;
        let text = note("note", note_text)?;
        self.moved(&mut request, RequestStatus::Completed, Some(text))?;
        let tx = self.store.begin().await?;
        write_change(&*tx, staff, &request, read_at, "console.restriction_applied", json!({})).await?;
        tx.set_restricted(request.user_id, Some(request.updated_at)).await?;
        tx.commit().await?;
        Ok(request)
    }

    /// Objection: records the decision and why, and completes the request.
    #[tracing::instrument(skip_all)]
    pub async fn decide_objection(
        &self,
        staff: StaffContext<'_>,
        id: DataSubjectRequestId,
        decision: ObjectionDecision,
        reason: &str,
    ) -> DomainResult<DataSubjectRequest> {
        let (mut request, read_at) = self.for_change(staff, id).await?;
        require_kind(&request, &[RequestKind::Objection], "a decision")?;
        require_in_progress(&request)?;
        let reason = note("reason", reason)?;
        let resolution = format!("{}: {reason}", decision.as_str().to_lowercase());
        self.moved(&mut request, RequestStatus::Completed, Some(resolution))?;
        request.handling.decision = Some(decision);
        let metadata = json!({ "decision": decision.as_str() });
        self.commit(staff, &request, read_at, "console.objection_decided", metadata)
            .await?;
        Ok(request)
    }

    /// One transaction: the change, its audit entries and the subject's notice.
    pub(crate) async fn commit(
        &self,
        staff: StaffContext<'_>,
        request: &DataSubjectRequest,
        read_at: DateTime<Utc>,
        action: &'static str,
        metadata: serde_json::Value,
    ) -> DomainResult<()> {
        let tx = self.store.begin().await?;
        write_change(&*tx, staff, request, read_at, action, metadata).await?;
        tx.commit().await?;
        self.jobs.enqueued();
        Ok(())
    }
}
