//! Running executions: the job that decides whether an execution runs and then performs its steps, and the
//! job that fires a schedule.
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
use serde_json::json;

use crate::accounts::health::{CounterHolder, HealthObservation, HealthSignal, SendPolicy, record_observation};
use crate::accounts::pool::records::AccountStatus;
use crate::audit::{self, Actor, ActorKind, AuditDraft, ChainId};
use crate::automation::conditions::EvaluationContext;
use crate::automation::definition::{Action, Trigger};
use crate::automation::records::{
    AutomationRecord, ExecutionRecord, ExecutionStatus, StepRecord, StepStatus, TriggerContext,
};
use crate::automation::service::AutomationService;
use crate::automation::triggers::{self, Cause, EXECUTE_JOB, SCHEDULE_JOB};
use crate::automation::use_cases::definitions::queue_next_fire;
use crate::automation::use_cases::runs::render;
use crate::error::{DomainError, DomainResult};
use crate::events::{self, EventDraft, InboxEvent, announce};
use crate::ids::{AutomationId, ExecutionId};
use crate::inbox::{AutomatedSend, DialogRecord, Direction, MessageRecord};
use crate::jobs::{ClaimedJob, JobHandler, JobOutcome, backoff};
use crate::request::ClientInfo;
use crate::tenancy::TenantScope;
use crate::vault::KeyOwner;
use crate::webhooks::WebhookDelivery;

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

/// What one step came to.
enum StepResult {
    Done(String),
    /// Not tried: the account's connection stayed busy. Try again soon; it is not a failed attempt.
    Busy(String),
    /// Not now: try again later.
    Retry(String),
    /// Never: the execution fails.
    Fail(String),
    /// Health refused: the execution is skipped with this reason.
    Skip(String),
}

/// What an execution is about, read once per attempt.
struct Subject {
    dialog: Option<DialogRecord>,
    message: Option<MessageRecord>,
    account_name: String,
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

    /// Whether a queued execution runs: the automation as it is now, or why not.
    async fn decide(
        &self,
        scope: &TenantScope,
        automation: Option<&AutomationRecord>,
        execution: &ExecutionRecord,
        subject: &Subject,
    ) -> DomainResult<Result<AutomationRecord, String>> {
        let Some(automation) = automation else {
            return Ok(Err("the automation was deleted".to_owned()));
        };
        if !automation.definition.enabled {
            return Ok(Err("the automation is disabled".to_owned()));
        }
        if execution.dialog_id.is_some() && subject.dialog.is_none() {
            return Ok(Err("the dialog is gone".to_owned()));
        }
        if let Trigger::NoReply { after_minutes, .. } = &automation.definition.trigger
            && execution.trigger_key.starts_with("no-reply:")
            && let (Some(dialog), Some(message)) = (&subject.dialog, &subject.message)
        {
            let newer = self.store.messages(scope, dialog.id, None, 50).await?;
            let newer: Vec<_> = newer.iter().filter(|m| m.sent_at > message.sent_at).collect();
            if newer.iter().any(|m| m.direction == Direction::Outgoing) {
                return Ok(Err(format!("the message was answered within {after_minutes} minutes")));
            }
            if newer.iter().any(|m| m.direction == Direction::Incoming) {
                return Ok(Err("a newer message from the other side restarted the wait".to_owned()));
            }
        }
        let account = match execution.account_id {
            Some(account) => {
                let held = self
                    .store
                    .find_account(Some(scope), account)
                    .await?
                    .filter(|a| a.status == AccountStatus::Leased && a.leased_to == Some(scope.workspace_id()));
                if held.is_none() {
                    return Ok(Err("the workspace no longer holds the account".to_owned()));
                }
                Some(account)
            }
            None => None,
        };
        let now = self.clock.now();
        let health = match account {
            Some(account) => Some(
                self.store
                    .load(CounterHolder::Workspace(scope.workspace_id()), account)
                    .await?
                    .map(|s| s.health)
                    .unwrap_or_default(),
            ),
            None => None,
        };
        let risk = health.as_ref().map(|h| h.risk(now));
        let text = subject.message.as_ref().map(|m| m.text.as_str());
        let context = EvaluationContext {
            text,
            peer_kind: subject.dialog.as_ref().map(|d| d.peer.kind()),
            peer_username: subject.dialog.as_ref().and_then(|d| d.username.as_deref()),
            account,
            dialog_tags: subject.dialog.as_ref().map_or(&[][..], |d| &d.tags[..]),
            now,
            risk_score: risk.map(|r| r.value()),
        };
        let evaluation = self.conditions_of(automation)?.evaluate(&context);
        if let Some(reason) = evaluation.reason() {
            return Ok(Err(reason));
        }
        let hour_ago = now - chrono::Duration::hours(1);
        if let Some(dialog) = execution.dialog_id {
            let runs = self
                .store
                .executions_started_since(scope, Some(dialog), hour_ago)
                .await?;
            if runs >= self.settings.max_runs_per_dialog_hour {
                return Ok(Err(format!(
                    "storm guard: {runs} executions ran in this dialog in the last hour (at most {})",
                    self.settings.max_runs_per_dialog_hour
                )));
            }
        }
        let runs = self.store.executions_started_since(scope, None, hour_ago).await?;
        if runs >= self.settings.max_runs_per_workspace_hour {
            return Ok(Err(format!(
                "storm guard: {runs} executions ran in this workspace in the last hour (at most {})",
                self.settings.max_runs_per_workspace_hour
            )));
        }
        let sends = automation
            .definition
            .actions
            .iter()
            .filter(|a| matches!(a, Action::SendMessage { .. }))
            .count();
        if let (Some(account), Some(health), Some(risk)) = (account, health.as_ref(), risk)
            && sends > 0
        {
            let policy = SendPolicy::default();
            if let Err(refusal) = policy.decide(health, crate::accounts::health::SendKind::Automated, now) {
                return Ok(Err(match refusal.reason {
                    crate::accounts::health::RefusalReason::HardState(state) => {
                        format!("account {}", state.as_str())
                    }
                    crate::accounts::health::RefusalReason::RiskTooHigh => format!(
                        "risk {} over the automated limit {}",
                        risk.value(),
                        policy.automated_max_risk.value()
                    ),
                }));
            }
            let budget = u64::from(policy.automated_per_hour(risk));
            let sent = self.store.automated_sends_since(scope, account, hour_ago).await?;
            if sent + sends as u64 > budget {
                return Ok(Err(format!(
                    "the account's automated budget is spent: {sent} automated messages in the last hour, at most {budget} at risk {}",
                    risk.value()
                )));
            }
        }
        Ok(Ok(automation.clone()))
    }

    /// Performs one step under its idempotency key.
    async fn perform(
        &self,
        scope: &TenantScope,
        automation: &AutomationRecord,
        execution: &ExecutionRecord,
        index: usize,
        action: &Action,
        subject: &Subject,
    ) -> DomainResult<StepResult> {
        let key = format!("{}:{index}", execution.id);
        let actor = actor_of(automation);
        let client = ClientInfo::default();
        let dialog_id = subject.dialog.as_ref().map(|d| d.id);
        Ok(match action {
            Action::SendMessage { .. } => {
                let Some(dialog) = &subject.dialog else {
                    return Ok(StepResult::Fail("there is no dialog to send in".to_owned()));
                };
                let text = render(
                    action,
                    Some(dialog),
                    &subject.account_name,
                    subject.message.as_ref().map(|m| m.text.as_str()),
                )
                .unwrap_or_default();
                match self.inbox.send_automated(scope, dialog.id, &text, &key).await? {
                    AutomatedSend::Sent(message) => StepResult::Done(format!("sent message {}", message.id)),
                    AutomatedSend::Refused(reason) => StepResult::Skip(reason),
                    AutomatedSend::Failed {
                        reason,
                        retryable: true,
                    } => StepResult::Retry(reason),
                    AutomatedSend::Failed { reason, .. } => StepResult::Fail(reason),
                    AutomatedSend::Busy(reason) => StepResult::Busy(reason),
                }
            }
            Action::MarkRead => {
                let Some(dialog) = dialog_id else {
                    return Ok(StepResult::Fail("there is no dialog to mark read".to_owned()));
                };
                match self.inbox.mark_read_automated(scope, dialog).await {
                    Ok(_) => StepResult::Done("marked read".to_owned()),
                    Err(DomainError::AccountUnavailable(reason)) => StepResult::Busy(reason),
                    Err(DomainError::Conflict { message, .. }) => StepResult::Fail(message),
                    Err(DomainError::NotFound(what)) => StepResult::Fail(format!("the {what} is gone")),
                    Err(error) => return Err(error),
                }
            }
            Action::TagDialog { tag } => {
                let Some(dialog) = dialog_id else {
                    return Ok(StepResult::Fail("there is no dialog to tag".to_owned()));
                };
                match self.inbox.apply_tag(scope, actor, &client, dialog, tag).await {
                    Ok(_) => StepResult::Done(format!("tagged {tag}")),
                    Err(DomainError::Invalid(errors)) => StepResult::Fail(describe_invalid(&errors)),
                    Err(DomainError::NotFound(what)) => StepResult::Fail(format!("the {what} is gone")),
                    Err(error) => return Err(error),
                }
            }
            Action::AssignDialog { user } => {
                let Some(dialog) = dialog_id else {
                    return Ok(StepResult::Fail("there is no dialog to assign".to_owned()));
                };
                match self.inbox.apply_assignment(scope, actor, &client, dialog, *user).await {
                    Ok(_) => StepResult::Done(match user {
                        Some(user) => format!("assigned to {user}"),
                        None => "unassigned".to_owned(),
                    }),
                    Err(DomainError::Invalid(errors)) => StepResult::Fail(describe_invalid(&errors)),
                    Err(DomainError::NotFound(what)) => StepResult::Fail(format!("the {what} is gone")),
                    Err(error) => return Err(error),
                }
            }
            Action::Webhook { url, .. } => {
                let Some(sealed) = automation.sealed_secrets.iter().find(|s| s.index == index) else {
                    return Ok(StepResult::Fail("the webhook's secret is missing".to_owned()));
                };
                let secret = self
                    .open_secret(
                        KeyOwner::Workspace(scope.workspace_id()),
                        automation.id,
                        sealed.key_version,
                        &sealed.ciphertext,
                    )
                    .await?;
                let body = webhook_body(automation, execution, subject, self.clock.now());
                let delivery = WebhookDelivery {
                    url: url.clone(),
                    secret,
                    event: "automation.execution".to_owned(),
                    delivery_id: key,
                    body: serde_json::to_vec(&body).map_err(DomainError::internal)?,
                };
                match self.webhooks.deliver(&delivery, self.clock.now()).await {
                    Ok(receipt) => StepResult::Done(format!("HTTP {}", receipt.status)),
                    Err(error) if error.retryable() => StepResult::Retry(error.to_string()),
                    Err(error) => StepResult::Fail(error.to_string()),
                }
            }
            Action::PauseAccount => {
                let Some(account) = execution.account_id else {
                    return Ok(StepResult::Fail("there is no account to pause".to_owned()));
                };
                self.pause(scope, automation, account, execution.id).await?;
                StepResult::Done("paused the account".to_owned())
            }
        })
    }

    /// Records the automation's pause of the account, announces it and audits it, in one transaction.
    async fn pause(
        &self,
        scope: &TenantScope,
        automation: &AutomationRecord,
        account: crate::ids::AccountId,
        execution: ExecutionId,
    ) -> DomainResult<()> {
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let signal = HealthSignal::AutomationPaused {
            automation: automation.id,
        };
        let holder = CounterHolder::Workspace(scope.workspace_id());
        let change = record_observation(&*tx, holder, account, HealthObservation::new(signal, now), now).await?;
        let announced = announce::health_changed(&*tx, Some(scope.workspace_id()), account, &change, now).await?;
        let draft = AuditDraft {
            chain: ChainId::Workspace(scope.workspace_id()),
            actor: actor_of(automation),
            action: "account.paused",
            target_type: Some("ACCOUNT"),
            target_id: Some(account.to_string()),
            client: ClientInfo::default(),
            metadata: json!({ "automation": automation.id.to_string(), "execution": execution.to_string() }),
        };
        audit::append(&*tx, draft, now).await?;
        tx.commit().await?;
        if announced.is_some() {
            self.outbox.committed();
        }
        Ok(())
    }

    /// The dialog, triggering message and account name an execution is about.
    async fn subject(&self, scope: &TenantScope, execution: &ExecutionRecord) -> DomainResult<Subject> {
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
    async fn fail_rest(&self, scope: &TenantScope, mut execution: ExecutionRecord, reason: String) -> DomainResult<()> {
        skip_pending(&mut execution.steps, self.clock.now());
        let expected = execution.status;
        self.finish(scope, execution, ExecutionStatus::Failed, Some(reason), expected)
            .await
    }

    /// Ends an execution and announces it, in one transaction (only while it is still `expected`).
    async fn finish(
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

    /// Fires a schedule: queues its execution for this fire time and its next fire, in one transaction. A fire
    /// the server slept through runs once, not once per missed time.
    pub(crate) async fn fire_schedule(&self, job: &ClaimedJob) -> DomainResult<JobOutcome> {
        let Some(workspace) = job.workspace_id else {
            return Ok(JobOutcome::Failed {
                error: "a schedule job without a workspace".to_owned(),
            });
        };
        let scope = TenantScope::system(workspace);
        let automation_id = job
            .payload
            .get("automation")
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse::<AutomationId>().ok());
        let version = job.payload.get("version").and_then(serde_json::Value::as_i64);
        let fire = job
            .payload
            .get("fire")
            .and_then(|v| v.as_str())
            .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
            .map(|t| t.with_timezone(&Utc));
        let (Some(automation_id), Some(version), Some(fire)) = (automation_id, version, fire) else {
            return Ok(JobOutcome::Failed {
                error: "a schedule job without its automation, version or time".to_owned(),
            });
        };
        let Some(automation) = self
            .store
            .find_automation(&scope, automation_id)
            .await?
            .filter(|a| i64::from(a.version) == version && a.definition.enabled)
        else {
            // Changed, disabled or deleted since: the change queued its own next fire, if any.
            return Ok(JobOutcome::Done);
        };
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let cause = Cause {
            trigger_key: format!("schedule:{}", fire.timestamp()),
            context: TriggerContext {
                fire_time: Some(fire),
                ..TriggerContext::default()
            },
            run_at: Some(now),
            ..Cause::default()
        };
        triggers::queue(&*tx, &scope, &automation, cause, now).await?;
        queue_next_fire(&*tx, &scope, &automation, now.max(fire)).await?;
        tx.commit().await?;
        self.outbox.committed();
        self.jobs.enqueued();
        Ok(JobOutcome::Done)
    }

    /// Housekeeping: deletes executions that did not run once past the retention window, and makes sure every
    /// enabled schedule has its next fire queued (after a restore, say). How many executions were deleted.
    #[tracing::instrument(skip_all)]
    pub async fn maintain(&self) -> DomainResult<u64> {
        let now = self.clock.now();
        let keep = chrono::Duration::from_std(self.settings.keep_skipped).unwrap_or(chrono::Duration::days(14));
        let pruned = self.store.prune_skipped_executions(now - keep).await?;
        let mut after = None;
        loop {
            let page = self.store.scheduled_automations(after, 200).await?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.id);
            for automation in &page {
                let scope = TenantScope::system(automation.workspace_id);
                let tx = self.store.begin().await?;
                queue_next_fire(&*tx, &scope, automation, now).await?;
                tx.commit().await?;
            }
        }
        Ok(pruned)
    }
}

fn skip_pending(steps: &mut [StepRecord], now: DateTime<Utc>) {
    for step in steps.iter_mut().filter(|s| s.status == StepStatus::Pending) {
        step.status = StepStatus::Skipped;
        step.finished_at = Some(now);
    }
}

/// How an automation appears in the audit log and on the changes it makes.
fn actor_of(automation: &AutomationRecord) -> Actor {
    Actor {
        kind: ActorKind::System,
        id: Some(format!("automation:{}", automation.id)),
        display_name: format!("automation “{}”", automation.definition.name),
    }
}

fn describe_invalid(errors: &[crate::error::FieldError]) -> String {
    errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ")
}

/// What a webhook receives: the automation, the execution and what it is about. Never a secret, never more
/// of the inbox than the triggering message.
fn webhook_body(
    automation: &AutomationRecord,
    execution: &ExecutionRecord,
    subject: &Subject,
    now: DateTime<Utc>,
) -> serde_json::Value {
    json!({
        "event": "automation.execution",
        "occurredAt": now.to_rfc3339(),
        "workspaceId": execution.workspace_id.to_string(),
        "automation": {
            "id": automation.id.to_string(),
            "name": automation.definition.name,
            "version": automation.version,
        },
        "execution": {
            "id": execution.id.to_string(),
            "trigger": execution.trigger_key,
            "context": execution.context,
        },
        "accountId": execution.account_id.map(|a| a.to_string()),
        "dialog": subject.dialog.as_ref().map(|d| json!({
            "id": d.id.to_string(),
            "title": d.title,
            "username": d.username,
            "peerKind": format!("{:?}", d.peer.kind()).to_uppercase(),
            "tags": d.tags,
        })),
        "message": subject.message.as_ref().map(|m| json!({
            "id": m.id.to_string(),
            "text": m.text,
            "sentAt": m.sent_at.to_rfc3339(),
        })),
    })
}
