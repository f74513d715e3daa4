//! The account erasure job (`erasure.account`): a closed account's personal data, 30 days after closure.
//!
//! Rules:
//! - Nothing happens unless the account is still closed and its `erase_after` has come (a cancelled deletion
//!   leaves the job nothing to do); an account already gone means the erasure finished.
//! - In one transaction: the deletion request is completed (audited on the account's chain, which is then
//!   pseudonymized with the rest), every audit entry about the person is pseudonymized on every chain
//!   ([`crate::audit::pseudonymize_subject`]), the person is removed from every workspace they belonged to
//!   (memberships, invitations, keys; their name on leases, automations, dialogs and top-ups, so billing rows
//!   stay for 7 years without them), their requests, sessions, codes, challenges, attempt counters and queued
//!   jobs deleted, and the account row last; `account.erased` is audited on the platform chain with the
//!   pseudonym only. The workspaces they owned alone are erased by their own jobs on the same day.
//! - After the commit the person is told at the address the account had (best effort: retrying would mean
//!   keeping the address the erasure removes).

use async_trait::async_trait;
use serde_json::json;

use super::account::ACCOUNT_ERASURE_JOB;
use super::service::WorkspaceErasure;
use crate::audit::{self, Actor, AuditDraft, ChainId, ErasureSubject, pseudonymize_subject};
use crate::error::DomainResult;
use crate::ids::{DataSubjectRequestId, WorkspaceId};
use crate::jobs::{ClaimedJob, JobHandler, JobOutcome};
use crate::notices::Notice;
use crate::notices::render::render;
use crate::privacy::records::{RequestKind, RequestStatus};
use crate::privacy::use_cases::transitions::move_request;
use crate::request::ClientInfo;

/// Runs `erasure.account` jobs.
#[derive(Debug, Clone)]
pub struct AccountErasureJob {
    erasure: WorkspaceErasure,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountErasureRun {
    /// Cancelled, not yet due, or erased already.
    Skipped,
    /// The person is gone; `pseudonym` stands for them in the audit log.
    Erased { pseudonym: String, audit_entries: usize },
}

impl AccountErasureJob {
    pub fn new(erasure: WorkspaceErasure) -> Self {
        Self { erasure }
    }

    /// Erases the account of deletion request `id` if it is still closed and due.
    pub async fn erase(&self, id: DataSubjectRequestId, workspaces: &[WorkspaceId]) -> DomainResult<AccountErasureRun> {
        let service = &self.erasure;
        let now = service.clock.now();
        let Some(mut request) = service.store.request_by_id(id).await? else {
            return Ok(AccountErasureRun::Skipped);
        };
        if request.kind != RequestKind::Deletion || request.status != RequestStatus::InProgress {
            return Ok(AccountErasureRun::Skipped);
        }
        let Some(user) = service.store.find_user(request.user_id).await? else {
            return Ok(AccountErasureRun::Skipped);
        };
        if user.closed_at.is_none() || user.erase_after.is_none_or(|at| at > now) {
            return Ok(AccountErasureRun::Skipped);
        }
        let addresses = service.store.session_addresses(user.id).await?;
        let mut places: Vec<WorkspaceId> = workspaces.to_vec();
        for (workspace, _) in service.store.person_workspaces(user.id).await? {
            if !places.contains(&workspace) {
                places.push(workspace);
            }
        }
        let subject = ErasureSubject {
            user_id: user.id,
            email: user.email.clone(),
            username: user.username.clone(),
            full_name: user.full_name.clone(),
        };
        let tx = service.store.begin().await?;
        let done = Some("the account's personal data was erased".to_owned());
        move_request(
            &*tx,
            &mut request,
            RequestStatus::Completed,
            done,
            Actor::system(),
            &ClientInfo::default(),
            now,
        )
        .await?;
        let report = pseudonymize_subject(&*tx, &subject, now).await?;
        for workspace in &places {
            tx.erase_person_in_workspace(*workspace, user.id, &user.email_key)
                .await?;
        }
        tx.erase_person(user.id, &addresses).await?;
        let draft = AuditDraft {
            chain: ChainId::Platform,
            actor: Actor::system(),
            action: "account.erased",
            target_type: Some("USER"),
            target_id: Some(report.pseudonym.as_str().to_owned()),
            client: ClientInfo::default(),
            metadata: json!({
                "request": request.id.to_string(),
                "receivedAt": request.received_at.to_rfc3339(),
                "auditEntriesPseudonymized": report.entries,
                "workspaces": places.len(),
            }),
        };
        audit::append(&*tx, draft, now).await?;
        tx.commit().await?;
        self.tell(&user.email, &user.full_name).await;
        Ok(AccountErasureRun::Erased {
            pseudonym: report.pseudonym.as_str().to_owned(),
            audit_entries: report.entries,
        })
    }

    async fn tell(&self, email: &str, name: &str) {
        let Some(mailer) = &self.erasure.mailer else {
            return;
        };
        let Ok(to) = crate::identity::Email::parse("to", email) else {
            return;
        };
        let rendered = render(&Notice::DeletionDone, name, None);
        let mail = crate::mail::OutgoingMail {
            to,
            subject: rendered.subject,
            body: rendered.text,
            html: Some(rendered.html),
            message_id: None,
        };
        if let Err(error) = mailer.send(&mail).await {
            tracing::warn!(%error, "the deletion-done notice was not sent");
        }
    }
}

#[async_trait]
impl JobHandler for AccountErasureJob {
    fn kinds(&self) -> &'static [&'static str] {
        &[ACCOUNT_ERASURE_JOB]
    }

    async fn run(&self, job: &ClaimedJob) -> JobOutcome {
        let request = job
            .payload
            .get("request")
            .and_then(serde_json::Value::as_str)
            .and_then(|text| text.parse::<DataSubjectRequestId>().ok());
        let Some(request) = request else {
            return JobOutcome::Failed {
                error: "an account erasure job without its request".to_owned(),
            };
        };
        let workspaces: Vec<WorkspaceId> = job
            .payload
            .get("workspaces")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|value| value.as_str()?.parse().ok())
            .collect();
        match self.erase(request, &workspaces).await {
            Ok(run) => {
                tracing::info!(request = %request, ?run, "account erasure");
                JobOutcome::Done
            }
            Err(error) => {
                tracing::error!(request = %request, error = %error, detail = ?error, "account erasure failed");
                JobOutcome::retry(job, "the account erasure did not finish; it runs again")
            }
        }
    }
}
