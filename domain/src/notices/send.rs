//! The job that writes and sends a queued notice.
//!
//! Rules: the account is read when the notice is sent (a gone account drops it; preferences and links are the
//! current ones); a link is signed then for the address it confirms; a lease reminder whose lease was renewed
//! or ended meanwhile is dropped; a mail failure is retried with back-off, a notice that cannot be read fails
//! at once.

use std::sync::Arc;

use async_trait::async_trait;

use super::catalog::Notice;
use super::render::{Action, render};
use super::{KIND, QueuedNotice};
use crate::accounts::pool::records::LeaseStatus;
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::identity::Email;
use crate::identity::email_links::{Binding, EmailLinkKey, LinkPurpose};
use crate::identity::records::UserRecord;
use crate::jobs::{ClaimedJob, JobHandler, JobOutcome};
use crate::mail::{Mailer, OutgoingMail};
use crate::store::Store;
use crate::tenancy::TenantScope;

/// Where links in notices point.
#[derive(Debug, Clone)]
pub struct NoticeConfig {
    /// The web app people use: `<app_url>/verify-email?token=…`, `<app_url>/confirm-email?token=…`.
    pub app_url: String,
}

/// Sends notices ([`KIND`]).
#[derive(Clone, Debug)]
pub struct NoticeJobs {
    store: Arc<dyn Store>,
    mailer: Arc<dyn Mailer>,
    links: EmailLinkKey,
    clock: Arc<dyn Clock>,
    config: NoticeConfig,
}

/// What became of one notice.
enum Sending {
    Mail(Box<OutgoingMail>),
    /// Nothing to send (the account is gone, the person opted out, the reminder is stale).
    Dropped(&'static str),
}

impl NoticeJobs {
    pub fn new(
        store: Arc<dyn Store>,
        mailer: Arc<dyn Mailer>,
        links: EmailLinkKey,
        clock: Arc<dyn Clock>,
        config: NoticeConfig,
    ) -> Self {
        Self {
            store,
            mailer,
            links,
            clock,
            config,
        }
    }

    async fn prepare(&self, job: &ClaimedJob, queued: QueuedNotice) -> DomainResult<Sending> {
        let Some(user) = self.store.find_user(queued.user).await? else {
            return Ok(Sending::Dropped("the account no longer exists"));
        };
        if !queued.notice.category().wanted_by(&user) {
            return Ok(Sending::Dropped("the person turned this kind of notice off"));
        }
        if let Some(reason) = self.stale(&queued.notice).await? {
            return Ok(Sending::Dropped(reason));
        }
        let (to, action) = match self.link(&queued.notice, &user) {
            Ok(link) => link,
            Err(reason) => return Ok(Sending::Dropped(reason)),
        };
        let to = queued.to.as_deref().or(to.as_deref()).unwrap_or(&user.email);
        let rendered = render(&queued.notice, &user.full_name, action.as_ref());
        let to = Email::parse("to", to).map_err(|e| DomainError::internal(e.message))?;
        Ok(Sending::Mail(Box::new(OutgoingMail {
            to,
            subject: rendered.subject,
            body: rendered.text,
            html: Some(rendered.html),
            message_id: Some(format!("notice-{}@telegram-os", job.id)),
        })))
    }

    /// The address a link notice goes to and its link, signed now for the account as it is.
    fn link(&self, notice: &Notice, user: &UserRecord) -> Result<(Option<String>, Option<Action>), &'static str> {
        let now = self.clock.now();
        let base = self.config.app_url.trim_end_matches('/');
        match notice {
            Notice::VerifyEmail => {
                if user.email_verified() {
                    return Err("the address is already confirmed");
                }
                let binding = Binding {
                    email_key: &user.email_key,
                    pending_email_key: None,
                };
                let token = self.links.issue(LinkPurpose::VerifyEmail, user.id, binding, now);
                Ok((
                    None,
                    Some(action("Confirm your email address", base, "verify-email", &token)),
                ))
            }
            Notice::ConfirmEmailChange => {
                let Some(pending) = user.pending_email.as_deref() else {
                    return Err("the email change was cancelled or already made");
                };
                let Ok(pending_address) = Email::parse("to", pending) else {
                    return Err("the pending address is not an address");
                };
                let pending_key = pending_address.key();
                let binding = Binding {
                    email_key: &user.email_key,
                    pending_email_key: Some(&pending_key),
                };
                let token = self.links.issue(LinkPurpose::ChangeEmail, user.id, binding, now);
                let link = action("Confirm your new address", base, "confirm-email", &token);
                Ok((Some(pending.to_owned()), Some(link)))
            }
            Notice::ExportReady { .. } => Ok((None, Some(action("Download your data", base, "account/data", "")))),
            _ => Ok((None, None)),
        }
    }

    /// Why a reminder no longer applies, if it does not.
    async fn stale(&self, notice: &Notice) -> DomainResult<Option<&'static str>> {
        let Notice::LeaseEnding {
            workspace_id,
            lease_id,
            ends_at,
            ..
        } = notice
        else {
            return Ok(None);
        };
        let lease = self
            .store
            .find_lease(&TenantScope::system(*workspace_id), *lease_id)
            .await?;
        Ok(match lease {
            Some(lease) if lease.status == LeaseStatus::Active && lease.ends_at == *ends_at => None,
            _ => Some("the lease was renewed or ended"),
        })
    }
}

/// A link into the app, with a token when it carries one.
fn action(label: &'static str, base: &str, path: &str, token: &str) -> Action {
    let url = if token.is_empty() {
        format!("{base}/{path}")
    } else {
        format!("{base}/{path}?token={token}")
    };
    Action { label, url }
}

#[async_trait]
impl JobHandler for NoticeJobs {
    fn kinds(&self) -> &'static [&'static str] {
        &[KIND]
    }

    async fn run(&self, job: &ClaimedJob) -> JobOutcome {
        let queued: QueuedNotice = match serde_json::from_value(job.payload.clone()) {
            Ok(queued) => queued,
            Err(error) => {
                return JobOutcome::Failed {
                    error: format!("unreadable notice: {error}"),
                };
            }
        };
        let name = queued.notice.name();
        let mail = match self.prepare(job, queued).await {
            Ok(Sending::Mail(mail)) => mail,
            Ok(Sending::Dropped(reason)) => {
                tracing::info!(notice = name, reason, "notice not sent");
                return JobOutcome::Done;
            }
            Err(error) => return JobOutcome::retry(job, error.to_string()),
        };
        match self.mailer.send(&mail).await {
            Ok(()) => {
                tracing::info!(notice = name, "notice sent");
                JobOutcome::Done
            }
            Err(error) => {
                tracing::warn!(notice = name, attempt = job.attempt, error = %error, "a notice could not be sent; it is retried");
                JobOutcome::retry(job, error.to_string())
            }
        }
    }
}
