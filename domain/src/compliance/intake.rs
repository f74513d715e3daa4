//! Requests that arrive by email (policy §8: "email us"): staff register them against the account of the
//! address they came from, with the date they were received, so the 30 days run from then.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::ComplianceService;
use super::actions::{StaffContext, record_change};
use crate::error::{DomainError, DomainResult};
use crate::identity::Email;
use crate::privacy::records::{DataSubjectRequest, RequestChannel, RequestKind, RequestStatus};
use crate::privacy::rules;

/// An emailed request as staff register it.
#[derive(Debug, Clone)]
pub struct EmailedRequest {
    /// The address it came from: the account it is about.
    pub subject_email: String,
    pub kind: RequestKind,
    /// When the email arrived (not later than now, not more than the response time ago).
    pub received_at: DateTime<Utc>,
    /// What the person asked for, in their words.
    pub details: String,
}

impl ComplianceService {
    /// Registers an emailed request, RECEIVED and due 30 days after it arrived; audited on the subject's
    /// chain and the platform chain, and the subject is told it was received. `NOT_FOUND` when no account has
    /// that address; `BAD_USER_INPUT` on `subjectEmail`, `receivedAt` or `details`.
    #[tracing::instrument(skip_all)]
    pub async fn register_emailed_request(
        &self,
        staff: StaffContext<'_>,
        input: EmailedRequest,
    ) -> DomainResult<DataSubjectRequest> {
        staff.staff()?;
        let email = Email::parse("subjectEmail", &input.subject_email).map_err(|e| DomainError::Invalid(vec![e]))?;
        let details = rules::parse_details(&input.details)?;
        let now = self.now();
        if input.received_at > now || input.received_at < now - chrono::Duration::days(rules::RESPONSE_DAYS) {
            return Err(DomainError::invalid(
                "receivedAt",
                format!("not in the future and at most {} days ago", rules::RESPONSE_DAYS),
            ));
        }
        let user = self
            .store
            .find_user_by_login(&email.key())
            .await?
            .filter(|user| user.email_key == email.key())
            .ok_or(DomainError::NotFound("account with that email"))?;
        let request = DataSubjectRequest {
            channel: RequestChannel::Email,
            received_at: input.received_at,
            due_at: rules::due_at(input.received_at),
            ..DataSubjectRequest::received_now(user.id, input.kind, RequestStatus::Received, Some(details), now)
        };
        let tx = self.store.begin().await?;
        tx.insert_request(&request).await?;
        record_change(
            &*tx,
            staff,
            &request,
            "privacy.request_received",
            json!({ "channel": "EMAIL", "receivedAt": input.received_at.to_rfc3339() }),
        )
        .await?;
        tx.commit().await?;
        self.jobs.enqueued();
        Ok(request)
    }
}
