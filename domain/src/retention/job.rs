//! The sweep as a job: `retention.sweep`, enqueued once an hour by whichever server gets there first.
//!
//! Rule: the hourly enqueue carries the dedupe key `retention.sweep:<UTC hour>`, so N servers enqueue one
//! sweep per hour between them; the sweep is idempotent, so a retried or repeated run does no harm.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::sweep::RetentionService;
use crate::error::DomainResult;
use crate::jobs::{self, ClaimedJob, JobHandler, JobOutcome, NewJob};
use crate::store::Store;

/// The job kind of the retention sweep.
pub const SWEEP_JOB: &str = "retention.sweep";

/// The dedupe key of the sweep of the hour `now` falls in.
pub fn hourly_key(now: DateTime<Utc>) -> String {
    format!("{SWEEP_JOB}:{}", now.format("%Y-%m-%dT%H"))
}

/// Enqueues this hour's sweep unless a server already did; whether this call enqueued it.
#[tracing::instrument(skip_all)]
pub async fn enqueue_hourly(store: &dyn Store, now: DateTime<Utc>) -> DomainResult<bool> {
    let job = NewJob::now(SWEEP_JOB, None, serde_json::json!({}), now)
        .with_dedupe_key(hourly_key(now))
        .with_max_attempts(3);
    let tx = store.begin().await?;
    let enqueued = jobs::enqueue(&*tx, &job, now).await?;
    tx.commit().await?;
    Ok(enqueued)
}

/// The sweep's job, for the job worker.
#[derive(Debug, Clone)]
pub struct RetentionJobs {
    service: RetentionService,
}

impl RetentionJobs {
    pub fn new(service: RetentionService) -> Self {
        Self { service }
    }
}

#[async_trait]
impl JobHandler for RetentionJobs {
    fn kinds(&self) -> &'static [&'static str] {
        &[SWEEP_JOB]
    }

    async fn run(&self, job: &ClaimedJob) -> JobOutcome {
        match self.service.sweep().await {
            Ok(summary) => {
                if summary.acted_rows() > 0 {
                    tracing::info!(
                        rows = summary.acted_rows(),
                        batches = summary.batches,
                        "retention sweep done"
                    );
                }
                JobOutcome::Done
            }
            Err(error) => {
                tracing::warn!(job = %job.id, error = %error, "the retention sweep failed; it will be retried");
                JobOutcome::retry(job, "the retention sweep failed on the server's side")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hourly_key_names_the_utc_hour_so_one_hour_has_one_key() -> Result<(), chrono::ParseError> {
        let early = DateTime::parse_from_rfc3339("2026-12-06T15:00:01Z")?.with_timezone(&Utc);
        let late = DateTime::parse_from_rfc3339("2026-12-06T15:59:59Z")?.with_timezone(&Utc);
        let next = DateTime::parse_from_rfc3339("2026-12-06T16:00:00Z")?.with_timezone(&Utc);
        assert_eq!(hourly_key(early), "retention.sweep:2026-12-06T15");
        assert_eq!(hourly_key(early), hourly_key(late));
        assert_ne!(hourly_key(late), hourly_key(next));
        Ok(())
    }
}
