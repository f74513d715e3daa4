//! The lease notices: a reminder a day before a lease ends, and word when it ran out.
//!
//! Rule: a reminder is queued for the lease's end when it is rented or renewed (keyed by lease and end, so a
//! renewal queues the reminder of the new end, and the old one is dropped when it finds the end moved); both
//! go to the person who rented the lease (none when an API key did).

use chrono::{DateTime, Duration, Utc};

use super::{Delivery, Notice, queue_with};
use crate::accounts::pool::records::LeaseRecord;
use crate::error::DomainResult;
use crate::store::Transaction;
use crate::tenancy::TenantScope;

/// How long before its end a lease's reminder goes.
pub const REMINDER_BEFORE: Duration = Duration::hours(24);

/// Queues the reminder of `lease`'s current end (at once when the end is less than a day away).
pub async fn remind_before_end(
    tx: &dyn Transaction,
    scope: &TenantScope,
    lease: &LeaseRecord,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let Some(renter) = lease.created_by else {
        return Ok(());
    };
    let notice = Notice::LeaseEnding {
        workspace_id: scope.workspace_id(),
        workspace: tx.find_workspace(scope).await?.name,
        lease_id: lease.id,
        ends_at,
    };
    let delivery = Delivery {
        at: Some((ends_at - REMINDER_BEFORE).max(now)),
        dedupe_key: Some(format!("lease-ending:{}:{}", lease.id, ends_at.timestamp_micros())),
        ..Delivery::default()
    };
    queue_with(tx, renter, notice, delivery, now).await
}

/// Queues word that `lease` ran out.
pub async fn ended(
    tx: &dyn Transaction,
    scope: &TenantScope,
    lease: &LeaseRecord,
    ended_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let Some(renter) = lease.created_by else {
        return Ok(());
    };
    let notice = Notice::LeaseEnded {
        workspace: tx.find_workspace(scope).await?.name,
        ended_at,
    };
    queue_with(tx, renter, notice, Delivery::default(), now).await
}
