//! Triggers: what queues an execution, in the transaction of the change that caused it.
//!
//! Rules:
//! - **With the cause.** An incoming message's executions (and their jobs) are stored in the transaction that
//!   stores the message; a health change's in the transaction that records it. A trigger exists exactly when
//!   its cause committed, and a cause seen twice (Telegram repeats updates) queues nothing twice: an execution
//!   is unique per automation and trigger key.
//! - **Only what can concern it.** The automations looked up are the enabled ones of the trigger's kind that
//!   list the account or no account, through the trigger index: one indexed read per incoming message, whatever
//!   the number of automations of other accounts or kinds.
//! - **Never on outgoing messages**: only incoming messages trigger, so an automation's own replies (and an
//!   operator's) never start another run.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::definition::{Trigger, TriggerKind};
use super::records::{AutomationRecord, ExecutionRecord, ExecutionStatus, TriggerContext};
use crate::accounts::health::HealthStateKind;
use crate::events::{self, EventDraft, InboxEvent};
use crate::ids::{AccountId, DialogId, ExecutionId, MessageId};
use crate::inbox::{Direction, MessageRecord};
use crate::jobs::NewJob;
use crate::store::{StoreResult, Transaction};
use crate::tenancy::TenantScope;

/// The job kind that runs one execution.
pub const EXECUTE_JOB: &str = "automation.execute";
/// The job kind that fires a schedule once and queues its next fire.
pub const SCHEDULE_JOB: &str = "automation.schedule";

/// What an execution is about, besides its automation.
#[derive(Debug, Clone, Default)]
pub struct Cause {
    pub trigger_key: String,
    pub account: Option<AccountId>,
    pub dialog: Option<DialogId>,
    pub message: Option<MessageId>,
    pub context: TriggerContext,
    pub run_at: Option<DateTime<Utc>>,
}

/// Queues the executions an incoming `message` triggers (message received now, no reply later); how many.
pub async fn on_incoming_message(
    tx: &dyn Transaction,
    scope: &TenantScope,
    message: &MessageRecord,
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    if message.direction != Direction::Incoming {
        return Ok(0);
    }
    let automations = tx
        .automations_triggered_by(
            scope,
            &[TriggerKind::MessageReceived, TriggerKind::NoReply],
            Some(message.account_id),
        )
        .await?;
    let mut queued = 0;
    for automation in &automations {
        let (trigger_key, run_at) = match &automation.definition.trigger {
            Trigger::MessageReceived { .. } => (format!("message:{}", message.id), now),
            Trigger::NoReply { after_minutes, .. } => (
                format!("no-reply:{}", message.id),
                now + Duration::minutes(i64::from(*after_minutes)),
            ),
            _ => continue,
        };
        let cause = Cause {
            trigger_key,
            account: Some(message.account_id),
            dialog: Some(message.dialog_id),
            message: Some(message.id),
            context: TriggerContext::default(),
            run_at: Some(run_at),
        };
        queued += usize::from(queue(tx, scope, automation, cause, now).await?.is_some());
    }
    Ok(queued)
}

/// Queues the executions of an account's health moving to `state` (announced as event `sequence`).
pub async fn on_health_changed(
    tx: &dyn Transaction,
    scope: &TenantScope,
    account: AccountId,
    state: HealthStateKind,
    risk_score: u8,
    sequence: i64,
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    let automations = tx
        .automations_triggered_by(scope, &[TriggerKind::HealthChanged], Some(account))
        .await?;
    let mut queued = 0;
    for automation in &automations {
        let Trigger::HealthChanged { to_states } = &automation.definition.trigger else {
            continue;
        };
        if !to_states.contains(&state) {
            continue;
        }
        let cause = Cause {
            trigger_key: format!("health:{sequence}"),
            account: Some(account),
            context: TriggerContext {
                health_state: Some(state.as_str().to_owned()),
                risk_score: Some(risk_score),
                ..TriggerContext::default()
            },
            ..Cause::default()
        };
        queued += usize::from(queue(tx, scope, automation, cause, now).await?.is_some());
    }
    Ok(queued)
}

/// Stores a queued execution of `automation` for `cause`, its job and its `ExecutionQueued` event; `None`
/// when the automation already has an execution for this trigger.
pub async fn queue(
    tx: &dyn Transaction,
    scope: &TenantScope,
    automation: &AutomationRecord,
    cause: Cause,
    now: DateTime<Utc>,
) -> StoreResult<Option<ExecutionRecord>> {
    let execution = ExecutionRecord {
        id: ExecutionId::generate(),
        workspace_id: scope.workspace_id(),
        automation_id: automation.id,
        automation_version: automation.version,
        status: ExecutionStatus::Queued,
        reason: None,
        trigger_key: cause.trigger_key,
        account_id: cause.account,
        dialog_id: cause.dialog,
        message_id: cause.message,
        context: cause.context,
        steps: Vec::new(),
        created_at: now,
        started_at: None,
        finished_at: None,
    };
    if !tx.insert_execution(scope, &execution).await? {
        return Ok(None);
    }
    let job = NewJob::now(
        EXECUTE_JOB,
        Some(scope.workspace_id()),
        json!({ "execution": execution.id.to_string() }),
        now,
    )
    .at(cause.run_at.unwrap_or(now))
    .with_dedupe_key(format!("execution:{}", execution.id))
    // A claim is an attempt: each step's own retries (a webhook's five) are claims too.
    .with_max_attempts(50);
    crate::jobs::enqueue(tx, &job, now).await?;
    let event = InboxEvent::ExecutionQueued {
        execution: Box::new(execution.clone()),
    };
    events::append(tx, scope, EventDraft::of(execution.account_id, event), now).await?;
    Ok(Some(execution))
}
