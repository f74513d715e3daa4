//! Leadership: background work that must run in one process at a time, whatever the number of replicas.
//!
//! Rules:
//! - **One holder per name.** Each piece of such work has a name ([`names`]); a process runs it only while it
//!   holds that name's leader lease, a stored row naming the holder and the end of its lease.
//! - **Taken when free or lapsed, in one statement.** A process takes a name when no one holds it, when its
//!   holder's lease has lapsed, or renews it when it is its own, in one conditional upsert
//!   ([`LeaderLeaseRepository::acquire_leadership`]): of two processes racing for a name, at most one gets it,
//!   on SQLite and on PostgreSQL.
//! - **Renewed every third of the lease.** The holder renews every name it campaigns for each third of the
//!   lease ([`Leadership::campaign_once`]), so a slow round or a lost statement does not cost it the lead; it
//!   believes it holds a name only until two thirds of the lease after the last successful renewal
//!   ([`Leadership::holds`]), a margin for clocks that disagree a little and for a renewal still in flight.
//! - **Released on a graceful stop, lapsed on a crash.** A process that stops gracefully deletes its rows
//!   ([`Leadership::release_all`]), so a rolling deploy hands the work over at once; a killed one leaves its
//!   rows to lapse, and another process takes over within one lease.
//! - **Checked before each step.** Work runs a step only while [`Leadership::holds`] its name. A step started
//!   under a lease that lapsed meanwhile must do no harm: every such step commits per item and re-checks what
//!   it changes (an expiry ends a lease only while it is still active), so two overlapping steps do each item
//!   once.
//!
//! The domain has no loop: the composition root runs [`Leadership::campaign_once`] every
//! [`Leadership::renew_every`] and [`Leadership::release_all`] on stop.

mod campaign;
pub mod memory;
pub mod ports;

#[cfg(test)]
mod tests;

pub use campaign::{LeaderHandle, Leadership};
pub use ports::{LeaderLease, LeaderLeaseRepository};

/// How long a leader lease lasts without renewal, unless configured (`workers.leader_lease_secs`).
pub const DEFAULT_LEADER_LEASE: std::time::Duration = std::time::Duration::from_secs(15);

/// The names of the leader-held work.
pub mod names {
    /// Publishing committed events from the outbox to the bus, and pruning them past the replay window.
    pub const OUTBOX_RELAY: &str = "outbox_relay";
    /// Ending account leases that ran out (`AccountsService::expire_due_leases`).
    pub const LEASE_EXPIRY: &str = "lease_expiry";
    /// Bringing every rented account's inbox up to date (`InboxService::sync_all`).
    pub const INBOX_SYNC: &str = "inbox_sync";
    /// Pruning skipped executions and scheduling automations (`AutomationService::maintain`).
    pub const AUTOMATION_UPKEEP: &str = "automation_upkeep";
    /// Enqueueing the hourly retention sweep (`retention::enqueue_hourly`).
    pub const RETENTION_ENQUEUE: &str = "retention_enqueue";

    /// Every name, in the order a process campaigns for them.
    pub const ALL: [&str; 5] = [
        OUTBOX_RELAY,
        LEASE_EXPIRY,
        INBOX_SYNC,
        AUTOMATION_UPKEEP,
        RETENTION_ENQUEUE,
    ];
}
