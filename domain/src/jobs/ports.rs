//! What jobs need from storage.
//!
//! Rules for implementations: every change is one conditional statement whose condition is the rule (a
//! claim takes only due rows, a renewal or finish applies only while the caller still holds the claim), so
//! two workers racing for a job never both get it, on either database. Times come from the caller's clock.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::records::{ClaimedJob, JobFinish, JobQueueDepth, JobRecord, NewJob};
use crate::ids::JobId;
use crate::store::StoreResult;

#[async_trait]
pub trait JobRepository: Send + Sync {
    /// Stores a job; `false` (nothing stored) when its dedupe key is already taken (by any job of any state).
    /// Called on a [`crate::store::Transaction`] (through [`super::enqueue`]), so a job exists exactly when the
    /// change that caused it committed.
    async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Claims up to `limit` jobs of `kinds` that are due (queued with `run_at <= now`, or running with a lapsed
    /// lease), oldest `run_at` first, for `holder` until `now + lease`; each claim counts an attempt. A lapsed
    /// job whose attempts are used up is marked failed instead. PostgreSQL: one `UPDATE … WHERE id IN (SELECT
    /// … FOR UPDATE SKIP LOCKED) RETURNING …`; SQLite: the same without `SKIP LOCKED` (one writer at a time).
    async fn claim_jobs(
        &self,
        kinds: &[&str],
        holder: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: u64,
    ) -> StoreResult<Vec<ClaimedJob>>;
    /// Extends the lease while `holder` still holds the job; `false` when it lapsed and was taken (or finished).
    async fn renew_job_lease(&self, id: JobId, holder: &str, until: DateTime<Utc>) -> StoreResult<bool>;
    /// Finishes a claim `holder` still holds (Done → done; Retry → queued again at `at` with the error kept, or
    /// failed when its attempts are used up; Failed → failed); `false` when the claim was lost (someone else has
    /// it, or it is no longer running), and then nothing changed.
    async fn finish_job(&self, id: JobId, holder: &str, finish: &JobFinish, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Deletes done and failed jobs finished before `before`; how many.
    async fn prune_finished_jobs(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Per kind with work due: how many are due at `now` and the oldest due `run_at` (metrics: depth and age).
    async fn job_queue(&self, now: DateTime<Utc>) -> StoreResult<Vec<JobQueueDepth>>;
    /// The job as stored, whatever its state (diagnostics and tests).
    async fn job(&self, id: JobId) -> StoreResult<Option<JobRecord>>;
}
