//! The worker: claims due jobs of its handlers' kinds, runs them while keeping their leases, finishes them.
//!
//! Rules:
//! - One step at a time: [`JobWorker::run_once`] claims one batch and returns when every job of it has
//!   finished (or lost its lease); when to call it again is the composition root's decision.
//! - The jobs of a batch run at once, each on a task of its own, so one slow job does not hold the others'
//!   leases hostage. While a handler runs, its lease is renewed every third of the lease; when a renewal finds
//!   the lease taken by another worker, the handler is stopped (the other worker runs the job) and nothing is
//!   finished.
//! - A handler that panics has asked for a retry ([`JobOutcome::retry`]); dropping `run_once` stops its
//!   handlers and finishes nothing, as if the worker had died: the leases lapse and another worker takes the
//!   jobs.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound as _, Utc};
use tokio::task::JoinSet;
use tracing::Instrument as _;

use super::backoff::backoff;
use super::records::{ClaimedJob, JobFinish, JobQueueDepth};
use crate::clock::Clock;
use crate::error::DomainResult;
use crate::store::Store;

/// The first retry's longest wait in [`JobOutcome::retry`]; it doubles per attempt up to [`RETRY_CAP`].
pub const RETRY_BASE: Duration = Duration::from_secs(10);
/// The longest wait of [`JobOutcome::retry`].
pub const RETRY_CAP: Duration = Duration::from_secs(60 * 60);
/// How long a claim lasts without renewal, unless [`JobWorker::with_lease`] says otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// How many jobs one [`JobWorker::run_once`] claims, unless [`JobWorker::with_batch`] says otherwise.
pub const DEFAULT_BATCH: u64 = 8;
/// The most of an error's text a job keeps.
const MAX_ERROR_CHARS: usize = 2_000;

/// Runs the jobs of some kinds.
#[async_trait]
pub trait JobHandler: Send + Sync {
    /// The kinds it runs.
    fn kinds(&self) -> &'static [&'static str];
    /// Runs one claim of a job. Jobs run at least once (a worker may die after the work and before finishing),
    /// so running a job again must do no harm.
    async fn run(&self, job: &ClaimedJob) -> JobOutcome;
}

/// What a handler made of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    /// Try again after `after`; failed instead when this was the last attempt.
    Retry {
        after: Duration,
        error: String,
    },
    /// Give up: nothing would change by trying again.
    Failed {
        error: String,
    },
}

impl JobOutcome {
    /// A retry after the default back-off for the job's attempt ([`RETRY_BASE`] doubling up to [`RETRY_CAP`]).
    pub fn retry(job: &ClaimedJob, error: impl Into<String>) -> Self {
        Self::Retry {
            after: backoff(job.attempt, RETRY_BASE, RETRY_CAP),
            error: error.into(),
        }
    }
}

/// A holder name unique to this process and call: the process id and 64 random bits.
pub fn unique_holder() -> String {
    format!("pid{}:{:016x}", std::process::id(), rand::random::<u64>())
}

/// Claims and runs jobs for its handlers.
#[derive(Clone)]
pub struct JobWorker {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    holder: Arc<str>,
    handlers: BTreeMap<&'static str, Arc<dyn JobHandler>>,
    lease: Duration,
    batch: u64,
}

impl std::fmt::Debug for JobWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobWorker")
            .field("holder", &self.holder)
            .field("kinds", &self.handlers.keys().collect::<Vec<_>>())
            .field("lease", &self.lease)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl JobWorker {
    /// A worker with no handlers yet. `holder` names it in the claims it takes: unique per process and worker
    /// ([`unique_holder`]), since whoever has the name can finish the claims.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, holder: impl Into<String>) -> Self {
        Self {
            store,
            clock,
            holder: Arc::from(holder.into()),
            handlers: BTreeMap::new(),
            lease: DEFAULT_LEASE,
            batch: DEFAULT_BATCH,
        }
    }

    /// Runs `handler`'s kinds too. A kind already taken by an earlier handler stays with it.
    #[must_use]
    pub fn with_handler(mut self, handler: Arc<dyn JobHandler>) -> Self {
        for kind in handler.kinds() {
            if self.handlers.contains_key(kind) {
                tracing::warn!(kind, "two job handlers for one kind; the first registered runs it");
            } else {
                self.handlers.insert(kind, Arc::clone(&handler));
            }
        }
        self
    }

    /// Claims last `lease` without renewal (at least one second).
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_secs(1));
        self
    }

    /// Claims at most `batch` jobs at a time (at least one).
    #[must_use]
    pub fn with_batch(mut self, batch: u64) -> Self {
        self.batch = batch.max(1);
        self
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The kinds its handlers run.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.handlers.keys().copied().collect()
    }

    /// Claims one batch of due jobs of its handlers' kinds and runs them, renewing each job's lease while it
    /// runs (every lease/3) and finishing it; how many were claimed. A handler that panics is a retry.
    pub async fn run_once(&self) -> DomainResult<usize> {
        let kinds = self.kinds();
        if kinds.is_empty() {
            return Ok(0);
        }
        let claimed = self
            .store
            .claim_jobs(&kinds, &self.holder, self.clock.now(), self.lease, self.batch)
            .await?;
        let count = claimed.len();
        // Dropping the set aborts its tasks: a dropped `run_once` finishes nothing, like a worker that died.
        let mut running = JoinSet::new();
        for job in claimed {
            let handler = self.handlers.get(job.kind.as_str()).cloned();
            let span = tracing::info_span!("job", kind = %job.kind, job_id = %job.id, attempt = job.attempt);
            running.spawn(self.claim_runner().run(handler, job).instrument(span));
        }
        while let Some(joined) = running.join_next().await {
            if let Err(error) = joined {
                tracing::error!(%error, "a job's run ended unexpectedly; its lease will lapse");
            }
        }
        Ok(count)
    }

    /// Deletes jobs finished more than `keep` ago; how many.
    #[tracing::instrument(name = "jobs_prune", skip_all)]
    pub async fn prune(&self, keep: Duration) -> DomainResult<u64> {
        let before = before(self.clock.now(), keep);
        Ok(self.store.prune_finished_jobs(before).await?)
    }

    /// How much work is due now, per kind (every kind, not only this worker's).
    pub async fn queue(&self) -> DomainResult<Vec<JobQueueDepth>> {
        Ok(self.store.job_queue(self.clock.now()).await?)
    }

    fn claim_runner(&self) -> ClaimRunner {
        ClaimRunner {
            store: Arc::clone(&self.store),
            clock: Arc::clone(&self.clock),
            holder: Arc::clone(&self.holder),
            lease: self.lease,
        }
    }
}

/// What running one claim needs, owned, so it runs on a task of its own.
struct ClaimRunner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    holder: Arc<str>,
    lease: Duration,
}

impl ClaimRunner {
    async fn run(self, handler: Option<Arc<dyn JobHandler>>, job: ClaimedJob) {
        let outcome = match handler {
            Some(handler) => match self.supervise(handler, &job).await {
                Some(outcome) => outcome,
                None => return,
            },
            None => JobOutcome::Failed {
                error: format!("no handler runs jobs of kind {:?}", job.kind),
            },
        };
        let now = self.clock.now();
        let finish = finish_of(outcome, now);
        match self.store.finish_job(job.id, &self.holder, &finish, now).await {
            Ok(true) => log_finish(&job, &finish),
            Ok(false) => tracing::warn!("another worker took the job before it finished; this outcome is dropped"),
            Err(error) => tracing::error!(%error, "finishing the job failed; it runs again once its lease lapses"),
        }
    }

    /// Runs the handler on a task of its own (a panic stays there) while renewing the lease; `None` when the
    /// lease was lost, and the handler stopped.
    async fn supervise(&self, handler: Arc<dyn JobHandler>, job: &ClaimedJob) -> Option<JobOutcome> {
        let mut task = JoinSet::new();
        let owned = job.clone();
        task.spawn(async move { handler.run(&owned).await }.in_current_span());
        let period = self.lease / 3;
        let mut renewals = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        renewals.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                joined = task.join_next() => {
                    return Some(match joined {
                        Some(Ok(outcome)) => outcome,
                        Some(Err(error)) if error.is_panic() => {
                            JobOutcome::retry(job, format!("the handler panicked: {}", panic_text(error.into_panic())))
                        }
                        _ => JobOutcome::retry(job, "the handler was cancelled"),
                    });
                }
                _ = renewals.tick() => {
                    let until = after(self.clock.now(), self.lease);
                    match self.store.renew_job_lease(job.id, &self.holder, until).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!("the job's lease was taken by another worker; this run stops");
                            return None;
                        }
                        Err(error) => tracing::warn!(%error, "renewing the job's lease failed; trying again"),
                    }
                }
            }
        }
    }
}

fn finish_of(outcome: JobOutcome, now: DateTime<Utc>) -> JobFinish {
    match outcome {
        JobOutcome::Done => JobFinish::Done,
        JobOutcome::Retry { after: wait, error } => JobFinish::Retry {
            at: after(now, wait),
            error: bounded(error),
        },
        JobOutcome::Failed { error } => JobFinish::Failed { error: bounded(error) },
    }
}

fn log_finish(job: &ClaimedJob, finish: &JobFinish) {
    match finish {
        JobFinish::Done => tracing::debug!("job done"),
        JobFinish::Retry { error, .. } if job.is_last_attempt() => {
            tracing::error!(%error, "job failed on its last attempt");
        }
        JobFinish::Retry { at, error } => tracing::warn!(%error, retry_at = %at, "job will be retried"),
        JobFinish::Failed { error } => tracing::error!(%error, "job failed"),
    }
}

/// At most [`MAX_ERROR_CHARS`] of an error's text.
fn bounded(error: String) -> String {
    match error.char_indices().nth(MAX_ERROR_CHARS) {
        Some((cut, _)) => format!("{}…", &error[..cut]),
        None => error,
    }
}

fn panic_text(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map_or_else(|| "(no message)".to_owned(), |text| (*text).to_owned()),
    }
}

/// `now + wait` in whole microseconds (what PostgreSQL stores, so the time read back is the time written).
fn after(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(wait)
        .ok()
        .and_then(|wait| now.checked_add_signed(wait))
        .map_or(DateTime::<Utc>::MAX_UTC, |at| at.trunc_subsecs(6))
}

fn before(now: DateTime<Utc>, keep: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(keep)
        .ok()
        .and_then(|keep| now.checked_sub_signed(keep))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_becomes_its_finish_at_the_right_time() {
        let now = Utc::now().trunc_subsecs(6);
        assert_eq!(finish_of(JobOutcome::Done, now), JobFinish::Done);
        assert_eq!(
            finish_of(
                JobOutcome::Retry {
                    after: Duration::from_secs(90),
                    error: "busy".into()
                },
                now
            ),
            JobFinish::Retry {
                at: now + chrono::Duration::seconds(90),
                error: "busy".into()
            }
        );
        assert_eq!(
            finish_of(JobOutcome::Failed { error: "gone".into() }, now),
            JobFinish::Failed { error: "gone".into() }
        );
        let JobFinish::Retry { at, .. } = finish_of(
            JobOutcome::Retry {
                after: Duration::MAX,
                error: String::new(),
            },
            now,
        ) else {
            panic!("a retry stays a retry");
        };
        assert_eq!(at, DateTime::<Utc>::MAX_UTC);
        let JobFinish::Retry { at, .. } = finish_of(
            JobOutcome::Retry {
                after: Duration::from_nanos(1_500),
                error: String::new(),
            },
            now,
        ) else {
            panic!("a retry stays a retry");
        };
        assert_eq!(at.timestamp_subsec_nanos() % 1_000, 0, "whole microseconds");
    }

    #[test]
    fn long_errors_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_ERROR_CHARS + 10);
        let cut = bounded(long);
        assert_eq!(cut.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(bounded("short".into()), "short");
    }

    #[test]
    fn a_panic_message_is_kept_whether_static_or_formatted() {
        assert_eq!(panic_text(Box::new("static")), "static");
        assert_eq!(panic_text(Box::new(String::from("formatted 1"))), "formatted 1");
        assert_eq!(panic_text(Box::new(7_u8)), "(no message)");
    }

    #[test]
    fn holders_differ_per_call() {
        assert_ne!(unique_holder(), unique_holder());
    }

    #[test]
    fn a_retry_waits_within_the_default_backoff_of_its_attempt() {
        let job = ClaimedJob {
            id: crate::ids::JobId::generate(),
            kind: "k".into(),
            workspace_id: None,
            payload: serde_json::Value::Null,
            attempt: 3,
            max_attempts: 5,
            holder: "h".into(),
            lease_until: Utc::now(),
            created_at: Utc::now(),
        };
        let JobOutcome::Retry { after, error } = JobOutcome::retry(&job, "e") else {
            panic!("a retry");
        };
        assert_eq!(error, "e");
        assert!(after >= RETRY_BASE * 2 && after <= RETRY_BASE * 4, "{after:?}");
    }
}
