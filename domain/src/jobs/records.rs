//! The shapes the job port exchanges: a job to enqueue, a claim, how a claim ends, a stored job, queue depth.

use chrono::{DateTime, Utc};

use crate::ids::{JobId, WorkspaceId};

/// How many times a job runs before a retry ends it failed, unless it says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// Its id, chosen before it is stored (so the caller can name it, e.g. in a record of its own).
    pub id: JobId,
    /// What handler runs it (`automation.run`, `export.workspace`, ...).
    pub kind: String,
    /// The workspace it works for, if any; on PostgreSQL a job naming a workspace is enqueued behind that
    /// workspace's wall, so a use case can only enqueue for the workspace of its own transaction.
    pub workspace_id: Option<WorkspaceId>,
    /// The handler's input.
    pub payload: serde_json::Value,
    /// When it becomes due.
    pub run_at: DateTime<Utc>,
    /// At most one job with this key is ever stored (until it is pruned after finishing).
    pub dedupe_key: Option<String>,
    /// Claims it may take, at least 1.
    pub max_attempts: u32,
}

impl NewJob {
    /// A job due at `now`, with [`DEFAULT_MAX_ATTEMPTS`] and no dedupe key.
    pub fn now(
        kind: impl Into<String>,
        workspace: Option<WorkspaceId>,
        payload: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: JobId::generate(),
            kind: kind.into(),
            workspace_id: workspace,
            payload,
            run_at: now,
            dedupe_key: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// Refused at enqueue when a job with `key` exists.
    #[must_use]
    pub fn with_dedupe_key(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    /// Due at `run_at` instead of now.
    #[must_use]
    pub fn at(mut self, run_at: DateTime<Utc>) -> Self {
        self.run_at = run_at;
        self
    }

    /// Runs at most `attempts` times (0 counts as 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }
}

/// A job a worker holds: it runs it and finishes it while its lease lasts.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    pub id: JobId,
    pub kind: String,
    pub workspace_id: Option<WorkspaceId>,
    pub payload: serde_json::Value,
    /// Which claim this is: 1 on the first.
    pub attempt: u32,
    pub max_attempts: u32,
    /// Who holds it.
    pub holder: String,
    /// Until when, unless renewed.
    pub lease_until: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl ClaimedJob {
    /// Whether this is the last claim the job may take: a retry now ends it failed.
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.max_attempts
    }
}

/// How a claim ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFinish {
    Done,
    /// Queued again, due at `at`, keeping `error`; failed instead when every attempt is used.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    Failed {
        error: String,
    },
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting for `run_at`, or due.
    Queued,
    /// Claimed; its holder runs it until its lease ends.
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Done, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// Done or failed: nothing will run it again.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

/// A job as stored (diagnostics and tests).
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: JobId,
    pub kind: String,
    pub workspace_id: Option<WorkspaceId>,
    pub payload: serde_json::Value,
    pub status: JobStatus,
    pub run_at: DateTime<Utc>,
    /// Claims taken so far.
    pub attempts: u32,
    pub max_attempts: u32,
    /// The current holder while running; the last one once finished.
    pub holder: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub dedupe_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// How much work of one kind is due (metrics: queue depth and age).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobQueueDepth {
    pub kind: String,
    /// Jobs due now: queued past their `run_at`, or running with a lapsed lease.
    pub due: u64,
    /// The earliest `run_at` among them.
    pub oldest_due: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_job_is_due_now_with_five_attempts_and_the_builders_change_one_thing_each() {
        let now = Utc::now();
        let job = NewJob::now("export.workspace", None, serde_json::json!({"a": 1}), now);
        assert_eq!(
            (job.run_at, job.max_attempts, job.dedupe_key.as_deref()),
            (now, 5, None)
        );
        let later = now + chrono::Duration::minutes(5);
        let built = job.clone().with_dedupe_key("k").at(later).with_max_attempts(0);
        assert_eq!(built.dedupe_key.as_deref(), Some("k"));
        assert_eq!(built.run_at, later);
        assert_eq!(built.max_attempts, 1, "at least one attempt");
        assert_eq!((built.id, built.kind, built.payload), (job.id, job.kind, job.payload));
    }

    #[test]
    fn statuses_read_back_what_they_write() {
        for status in [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Done,
            JobStatus::Failed,
        ] {
            assert_eq!(JobStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(JobStatus::parse("QUEUED"), None);
        assert!(JobStatus::Done.is_finished() && JobStatus::Failed.is_finished());
        assert!(!JobStatus::Queued.is_finished() && !JobStatus::Running.is_finished());
    }
}
