//! Jobs: background work as stored rows that workers claim, lease, retry and finish.
//!
//! Rules:
//! - **Enqueued with the change.** A use case enqueues its job in the same transaction as the change that
//!   calls for it ([`enqueue`]), so a job exists exactly when that change committed; after committing it wakes
//!   the workers ([`JobSignal::enqueued`]). A dedupe key makes an enqueue idempotent: a second job with a key
//!   already taken (by a job in any state, until it is pruned) is refused and nothing is stored.
//! - **Claimed by one worker at a time.** A claim takes due jobs (queued and past `run_at`, or running with a
//!   lapsed lease) for one holder until its lease ends, in one statement that other claimers skip past
//!   (PostgreSQL) or wait behind (SQLite's single writer); each claim counts an attempt. The holder renews the
//!   lease while the handler runs ([`JobWorker::run_once`]).
//! - **At least once, finished once.** A worker that dies leaves its lease to lapse and the job is claimed
//!   again (the next attempt); so handlers are idempotent. Only the current holder can finish or renew a
//!   claim: a worker whose lease was taken finds its finish refused and changes nothing.
//! - **Retried, then failed.** A handler asks for a retry after a delay ([`backoff`]) or fails outright; a
//!   retry, or a lapsed lease, with every attempt used ends the job failed with its last error.
//! - **Finished jobs are pruned** after a while ([`JobRepository::prune_finished_jobs`]); until then their
//!   dedupe keys stay taken.
//!
//! The domain has no loop of its own: the composition root runs [`JobWorker::run_once`] on a wake or a poll.

pub mod backoff;
pub mod ports;
pub mod records;
pub mod signal;
pub mod worker;

pub use backoff::backoff;
pub use ports::JobRepository;
pub use records::{ClaimedJob, JobFinish, JobQueueDepth, JobRecord, JobStatus, NewJob};
pub use signal::JobSignal;
pub use worker::{JobHandler, JobOutcome, JobWorker, unique_holder};

use chrono::{DateTime, Utc};

use crate::store::{StoreResult, Transaction};

/// Enqueues `job` in the use case's transaction: it exists once the transaction commits, and not if it rolls
/// back. `false` when its dedupe key is already taken (nothing stored). Wake the workers after committing.
pub async fn enqueue(tx: &dyn Transaction, job: &NewJob, now: DateTime<Utc>) -> StoreResult<bool> {
    tx.enqueue_job(job, now).await
}
