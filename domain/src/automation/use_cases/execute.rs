//! Running executions: the job that decides whether an execution runs (`decide.rs`) and then performs its
//! steps (`steps.rs`); schedules fire in `schedules.rs`.
//!
//! Rules:
//! - **Decide, then act.** A queued execution is evaluated first: the automation must still exist and be
//!   enabled, the cause must still hold (a no-reply wait ends when someone answered or wrote again), the
//!   conditions must match, the storm guard must have room, and for a send, the account's health must allow
//!   automated sending and its hourly automated budget ([`SendPolicy::automated_per_hour`]) must have room.
//!   Any "no" ends it `SKIPPED` with the reason, and nothing is done.
//! - **Each step once.** Steps run in order; each carries the idempotency key `<execution>:<index>` (a send's
//!   random id, a webhook's `X-Tgos-Delivery`), and a step is marked done in storage right after it happened, so
//!   a retry, a crash or a second worker resumes at the first unfinished step and never repeats a finished one.
//!   A step Telegram or the webhook could not take now is retried with backoff (webhooks
//!   [`AutomationSettings::webhook_attempts`] times); one that fails for good fails the execution and the
//!   steps after it are not run.
//! - The execution records the version it ran; if the automation changes or is deleted mid-run, the rest of
//!   the run stops (`FAILED`, saying so) rather than mixing two versions.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::automation::definition::Action;
use crate::automation::records::{ExecutionRecord, ExecutionStatus, StepRecord, StepStatus};
use crate::automation::service::AutomationService;
use crate::automation::triggers::{EXECUTE_JOB, SCHEDULE_JOB};
use crate::error::DomainResult;
use crate::events::{self, EventDraft, InboxEvent};
use crate::ids::ExecutionId;
use crate::inbox::{DialogRecord, MessageRecord};
use crate::jobs::{ClaimedJob, JobHandler, JobOutcome, backoff};
use crate::tenancy::TenantScope;

use super::steps::StepResult;

/// How long after a failed attempt a step is tried again: from 2 s, doubling, at most 10 minutes.
const RETRY_BASE: Duration = Duration::from_secs(2);
const RETRY_CAP: Duration = Duration::from_secs(600);
/// How soon a step whose account was busy is tried again.
const BUSY_PAUSE: Duration = Duration::from_secs(1);

/// The automations' jobs, for the job worker.
#[derive(Debug, Clone)]
pub struct AutomationJobs {
    service: AutomationService,
}

impl AutomationJobs {
    pub fn new(service: AutomationService) -> Self {
        Self { service }
    }
}

#[async_trait]
impl JobHandler for AutomationJobs {
    fn kinds(&self) -> &'static [&'static str] {
        &[EXECUTE_JOB, SCHEDULE_JOB]
    }

    async fn run(&self, job: &ClaimedJob) -> JobOutcome {
        let ran = match job.kind.as_str() {
            EXECUTE_JOB => self.service.execute(job).await,
            SCHEDULE_JOB => self.service.fire_schedule(job).await,
            other => Ok(JobOutcome::Failed {
                error: format!("not an automation job: {other}"),
            }),
        };
        ran.unwrap_or_else(|error| {
            tracing::warn!(job = %job.id, error = %error, "an automation job failed; it will be retried");
            JobOutcome::Retry {
                after: backoff(job.attempt, RETRY_BASE, RETRY_CAP),
                error: "the job failed on the server's side".to_owned(),
            }
        })
    }
}

/// What an execution is about, read once per attempt.
pub(super) struct Subject {
    pub(super) dialog: Option<DialogRecord>,
    pub(super) message: Option<MessageRecord>,
    pub(super) account_name: String,
}

impl AutomationService {
    /// Runs (or goes on with) the execution a job names.
    pub(crate) async fn execute(&self, job: &ClaimedJob) -> DomainResult<JobOutcome> {
        let Some(workspace) = job.workspace_id else {
            return Ok(JobOutcome::Failed {
                error: "an execution job without a workspace".to_owned(),
            });
        };
        let scope = TenantScope::system(workspace);
        let Some(id) = job
            .payload
            .get("execution")
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse::<ExecutionId>().ok())
        else {
            return Ok(JobOutcome::Failed {
                error: "an execution job without an execution".to_owned(),
            });
        };
        let Some(mut execution) = self.store.find_execution(&scope, id).await? else {
            return Ok(JobOutcome::Done);
        };
        let automation = self.store.find_automation(&scope, execution.automation_id).await?;
        if execution.status == ExecutionStatus::Queued {
            let subject = self.subject(&scope, &execution).await?;
            match self.decide(&scope, automation.as_ref(), &execution, &subject).await? {
                Err(reason) => {
                    self.finish(
                        &scope,
                        execution,
                        ExecutionStatus::Skipped,
                        Some(reason),
                        ExecutionStatus::Queued,
                    )
                    .await?;
                    return Ok(JobOutcome::Done);
                }
                Ok(automation) => {
                    let now = self.clock.now();
                    execution.status = ExecutionStatus::Running;
                    execution.started_at = Some(now);
                    execution.automation_version = automation.version;
                    execution.steps = automation
                        .definition
                        .actions
                        .iter()
                        .enumerate()
                        .map(|(index, action)| StepRecord {
                            index,
                            action: action.name().to_owned(),
                            status: StepStatus::Pending,
                            attempts: 0,
                            detail: None,
                            finished_at: None,
                        })
                        .collect();
                    if !self
                        .store
                        .save_execution(&scope, &execution, ExecutionStatus::Queued)
                        .await?
                    {
                        // Another worker moved it first.
                        return Ok(JobOutcome::Done);
                    }
                }
            }
        }
        if execution.status != ExecutionStatus::Running {
            return Ok(JobOutcome::Done);
        }
        let Some(automation) = automation.filter(|a| a.version == execution.automation_version) else {
            let reason = "the automation changed or was deleted during the run; the remaining steps were not run";
            self.fail_rest(&scope, execution, reason.to_owned()).await?;
            return Ok(JobOutcome::Done);
        };
        let subject = self.subject(&scope, &execution).await?;
        for index in 0..execution.steps.len() {
            if execution.steps[index].status != StepStatus::Pending {
                continue;
            }
            let Some(action) = automation.definition.actions.get(index) else {
                self.fail_rest(
                    &scope,
                    execution,
                    "the run's steps no longer match the automation".to_owned(),
                )
                .await?;
                return Ok(JobOutcome::Done);
            };
            let limit = match action {
                Action::Webhook { .. } => self.settings.webhook_attempts,
                Action::SendMessage { .. } => self.settings.send_attempts,
                _ => 3,
            };
            let result = self
                .perform(&scope, &automation, &execution, index, action, &subject)
                .await?;
            let now = self.clock.now();
            let step = &mut execution.steps[index];
            if !matches!(result, StepResult::Busy(_)) {
                step.attempts += 1;
            }
            match result {
                StepResult::Busy(reason) => {
                    return Ok(JobOutcome::Retry {
                        after: BUSY_PAUSE,
                        error: reason,
                    });
                }
                StepResult::Done(detail) => {
                    step.status = StepStatus::Succeeded;
                    step.detail = Some(detail);
                    step.finished_at = Some(now);
                    if !self
                        .store
                        .save_execution(&scope, &execution, ExecutionStatus::Running)
                        .await?
                    {
                        return Ok(JobOutcome::Done);
                    }
                }
                StepResult::Retry(detail) if step.attempts < limit => {
                    step.detail = Some(detail.clone());
                    let attempts = step.attempts;
                    self.store
                        .save_execution(&scope, &execution, ExecutionStatus::Running)
                        .await?;
                    return Ok(JobOutcome::Retry {
                        after: backoff(attempts, RETRY_BASE, RETRY_CAP),
                        error: detail,
                    });
                }
                StepResult::Retry(detail) | StepResult::Fail(detail) => {
                    step.status = StepStatus::Failed;
                    step.detail = Some(detail.clone());
                    step.finished_at = Some(now);
                    let reason = format!("step {} ({}) failed: {detail}", index + 1, step.action);
                    self.fail_rest(&scope, execution, reason).await?;
                    return Ok(JobOutcome::Done);
                }
                StepResult::Skip(reason) => {
                    step.status = StepStatus::Skipped;
                    step.detail = Some(reason.clone());
                    step.finished_at = Some(now);
                    skip_pending(&mut execution.steps, now);
                    self.finish(
                        &scope,
                        execution,
                        ExecutionStatus::Skipped,
                        Some(reason),
                        ExecutionStatus::Running,
                    )
                    .await?;
                    return Ok(JobOutcome::Done);
                }
            }
        }
        self.finish(
            &scope,
            execution,
            ExecutionStatus::Succeeded,
            None,
            ExecutionStatus::Running,
        )
        .await?;
        Ok(JobOutcome::Done)
    }

    /// The dialog, triggering message and account name an execution is about.
    pub(super) async fn subject(&self, scope: &TenantScope, execution: &ExecutionRecord) -> DomainResult<Subject> {
        let dialog = match execution.dialog_id {
            Some(id) => self.store.find_dialog(scope, id).await?,
            None => None,
        };
        let message = match execution.message_id {
            Some(id) => self.store.find_message(scope, id).await?,
            None => None,
        };
        let account_name = match &dialog {
            Some(dialog) => self.account_name(scope, dialog).await?,
            None => String::new(),
        };
        Ok(Subject {
            dialog,
            message,
            account_name,
        })
    }

    /// Marks the pending steps skipped and the execution failed with `reason`.
    pub(super) async fn fail_rest(
        &self,
        scope: &TenantScope,
        mut execution: ExecutionRecord,
        reason: String,
    ) -> DomainResult<()> {
        skip_pending(&mut execution.steps, self.clock.now());
        let expected = execution.status;
        self.finish(scope, execution, ExecutionStatus::Failed, Some(reason), expected)
            .await
    }

    /// Ends an execution and announces it, in one transaction (only while it is still `expected`).
    pub(super) async fn finish(
        &self,
        scope: &TenantScope,
        mut execution: ExecutionRecord,
        status: ExecutionStatus,
        reason: Option<String>,
        expected: ExecutionStatus,
    ) -> DomainResult<()> {
        let now = self.clock.now();
        execution.status = status;
        execution.reason = reason;
        execution.finished_at = Some(now);
        let tx = self.store.begin().await?;
        if !tx.save_execution(scope, &execution, expected).await? {
            return Ok(());
        }
        let account = execution.account_id;
        let event = InboxEvent::ExecutionFinished {
            execution: Box::new(execution),
        };
        events::append(&*tx, scope, EventDraft::of(account, event), now).await?;
        tx.commit().await?;
        self.outbox.committed();
        Ok(())
    }
}

pub(super) fn skip_pending(steps: &mut [StepRecord], now: DateTime<Utc>) {
    for step in steps.iter_mut().filter(|s| s.status == StepStatus::Pending) {
        step.status = StepStatus::Skipped;
        step.finished_at = Some(now);
    }
}
