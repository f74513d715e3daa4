//! Notices: the emails that tell a person what happened to their account (policy §4: account, billing and
//! security notices).
//!
//! Rules:
//! - **Queued with the change.** A use case queues a notice in the transaction of the change it tells about
//!   ([`queue`]): a job of kind [`KIND`] on the job mechanism, so the notice exists exactly when the change
//!   committed, and is never lost when the mail server is down.
//! - **Sent by a job, retried, sent once.** The job renders and sends it ([`send::NoticeJobs`]); a mail
//!   failure retries with back-off. A job that finished is never run again, so a notice goes out once; only a
//!   worker dying between the send and the finish can send it twice, and then both carry the same
//!   `Message-ID` (the job's id) for the receiving side to fold.
//! - **Preferences at send time.** Security and account notices always go; billing and lease notices follow
//!   the person's current preferences ([`catalog::Category`]). A notice for an account that no longer exists
//!   is dropped.
//! - **No secret in the queue.** Links are signed when the notice is sent, from the account as it is then.

pub mod catalog;
pub mod leases;
pub mod low_balance;
pub mod render;
pub mod send;

pub use catalog::{Category, Notice};
pub use send::{NoticeConfig, NoticeJobs};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, DomainResult};
use crate::ids::{UserId, WorkspaceId};
use crate::jobs::{self, NewJob};
use crate::store::Transaction;

/// The job kind notices are sent by.
pub const KIND: &str = "notice.send";
/// Attempts before a notice is given up (10 s doubling, capped at an hour: about a day and a half in all).
const ATTEMPTS: u32 = 12;

/// A notice as queued: to whom and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedNotice {
    pub user: UserId,
    /// An address other than the account's current one (the old address after an email change, the new one
    /// before it is confirmed); `None`: the account's address when it is sent.
    pub to: Option<String>,
    pub notice: Notice,
}

/// Where and when a notice goes, beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    pub to: Option<String>,
    pub at: Option<DateTime<Utc>>,
    /// Queued at most once under this key.
    pub dedupe_key: Option<String>,
    /// The workspace the notice is about (a job for it is queued behind its wall on PostgreSQL).
    pub workspace: Option<WorkspaceId>,
}

/// Queues `notice` for `user` in the use case's transaction, sent now.
pub async fn queue(tx: &dyn Transaction, user: UserId, notice: Notice, now: DateTime<Utc>) -> DomainResult<()> {
    queue_with(tx, user, notice, Delivery::default(), now).await
}

/// Queues `notice` for `user` with `delivery`'s address, time, key or workspace.
pub async fn queue_with(
    tx: &dyn Transaction,
    user: UserId,
    notice: Notice,
    delivery: Delivery,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let payload = serde_json::to_value(QueuedNotice {
        user,
        to: delivery.to,
        notice,
    })
    .map_err(DomainError::internal)?;
    let mut job = NewJob::now(KIND, delivery.workspace, payload, now);
    job.max_attempts = ATTEMPTS;
    if let Some(at) = delivery.at {
        job = job.at(at);
    }
    if let Some(key) = delivery.dedupe_key {
        job = job.with_dedupe_key(key);
    }
    jobs::enqueue(tx, &job, now).await?;
    Ok(())
}
