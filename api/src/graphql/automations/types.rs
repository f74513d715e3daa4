//! Automations and executions as GraphQL shows them. A webhook's secret is never shown: only that one is set.

use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tgos_domain::automation::definition::{Action, ConditionMode as DomainMode, Trigger};
use tgos_domain::automation::records::{
    AutomationRecord, ExecutionRecord, ExecutionStatus as DomainStatus, StepStatus as DomainStepStatus,
};
use tgos_domain::tenancy::TenantScope;

use super::inputs::{ConditionField, ConditionMode, ConditionOp};
use crate::graphql::accounts::types::HealthState;
use crate::graphql::errors::ApiResult;
use crate::graphql::loaders::{AutomationNameOf, StatsOf, load};
use crate::graphql::tenancy::api_keys::creator;
use crate::graphql::tenancy::members::MemberUser;

pub type AutomationConnection = Connection<String, Automation>;
pub type AutomationExecutionConnection = Connection<String, AutomationExecution>;

/// A workspace's automation.
#[derive(Debug, Clone)]
pub struct Automation {
    pub record: AutomationRecord,
    pub scope: TenantScope,
}

#[Object]
impl Automation {
    async fn id(&self) -> ID {
        ID(self.record.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.record.definition.name
    }
    async fn enabled(&self) -> bool {
        self.record.definition.enabled
    }
    /// Every change makes a new version; `updateAutomation` names the one it read.
    async fn version(&self) -> i32 {
        self.record.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.record.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.record.updated_at
    }
    /// Who created it (`null` for an API key or an account that no longer exists).
    async fn created_by(&self, ctx: &Context<'_>) -> ApiResult<Option<MemberUser>> {
        match self.record.created_by {
            Some(user) => creator(ctx, self.record.workspace_id, user).await,
            None => Ok(None),
        }
    }
    async fn trigger(&self) -> AutomationTrigger {
        AutomationTrigger::from(&self.record.definition.trigger)
    }
    async fn conditions(&self) -> Vec<AutomationCondition> {
        self.record
            .definition
            .conditions
            .iter()
            .map(|c| AutomationCondition {
                field: c.field.into(),
                op: c.op.into(),
                value: c.value.clone(),
            })
            .collect()
    }
    async fn condition_mode(&self) -> ConditionMode {
        match self.record.definition.mode {
            DomainMode::All => ConditionMode::All,
            DomainMode::Any => ConditionMode::Any,
        }
    }
    async fn actions(&self) -> Vec<AutomationAction> {
        self.record
            .definition
            .actions
            .iter()
            .map(AutomationAction::from)
            .collect()
    }
    /// How its executions went (a skipped execution is not a run).
    async fn stats(&self, ctx: &Context<'_>) -> ApiResult<AutomationStats> {
        let stats = load(ctx, StatsOf(self.scope.clone(), self.record.id))
            .await?
            .unwrap_or_default();
        Ok(AutomationStats {
            runs: count(stats.runs),
            succeeded: count(stats.succeeded),
            failed: count(stats.failed),
            skipped: count(stats.skipped),
            last_run_at: stats.last_run_at,
        })
    }
}

fn count(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

#[derive(Debug, SimpleObject)]
pub struct AutomationStats {
    pub runs: i32,
    pub succeeded: i32,
    pub failed: i32,
    pub skipped: i32,
    pub last_run_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TriggerKind {
    MessageReceived,
    NoReply,
    Schedule,
    HealthChanged,
    Manual,
}

/// What starts the automation; the fields of its kind are set.
#[derive(Debug, SimpleObject)]
pub struct AutomationTrigger {
    pub kind: TriggerKind,
    /// The accounts it listens to (every account when empty): `MESSAGE_RECEIVED`, `NO_REPLY`.
    pub account_ids: Vec<ID>,
    pub after_minutes: Option<i32>,
    pub cron: Option<String>,
    pub timezone: Option<String>,
    pub to_states: Vec<HealthState>,
}

impl From<&Trigger> for AutomationTrigger {
    fn from(trigger: &Trigger) -> Self {
        let ids = |accounts: &[tgos_domain::ids::AccountId]| accounts.iter().map(|a| ID(a.to_string())).collect();
        let mut out = AutomationTrigger {
            kind: TriggerKind::Manual,
            account_ids: Vec::new(),
            after_minutes: None,
            cron: None,
            timezone: None,
            to_states: Vec::new(),
        };
        match trigger {
            Trigger::MessageReceived { accounts } => {
                out.kind = TriggerKind::MessageReceived;
                out.account_ids = ids(accounts);
            }
            Trigger::NoReply {
                after_minutes,
                accounts,
            } => {
                out.kind = TriggerKind::NoReply;
                out.account_ids = ids(accounts);
                out.after_minutes = i32::try_from(*after_minutes).ok();
            }
            Trigger::Schedule { cron, timezone } => {
                out.kind = TriggerKind::Schedule;
                out.cron = Some(cron.clone());
                out.timezone = Some(timezone.clone());
            }
            Trigger::HealthChanged { to_states } => {
                out.kind = TriggerKind::HealthChanged;
                out.to_states = to_states.iter().map(|s| HealthState::from(*s)).collect();
            }
            Trigger::Manual => {}
        }
        out
    }
}

#[derive(Debug, SimpleObject)]
pub struct AutomationCondition {
    pub field: ConditionField,
    pub op: ConditionOp,
    pub value: String,
}

/// One action; the fields of its kind are set. A webhook's secret is never shown.
#[derive(Debug, SimpleObject)]
pub struct AutomationAction {
    /// `sendMessage`, `markRead`, `tagDialog`, `assignDialog`, `webhook` or `pauseAccount`.
    pub kind: String,
    pub text: Option<String>,
    pub tag: Option<String>,
    pub user_id: Option<ID>,
    pub url: Option<String>,
}

impl From<&Action> for AutomationAction {
    fn from(action: &Action) -> Self {
        let mut out = AutomationAction {
            kind: action.name().to_owned(),
            text: None,
            tag: None,
            user_id: None,
            url: None,
        };
        match action {
            Action::SendMessage { text } => out.text = Some(text.clone()),
            Action::TagDialog { tag } => out.tag = Some(tag.clone()),
            Action::AssignDialog { user } => out.user_id = user.map(|u| ID(u.to_string())),
            Action::Webhook { url, .. } => out.url = Some(url.clone()),
            Action::MarkRead | Action::PauseAccount => {}
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ExecutionStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Skipped,
}

impl From<DomainStatus> for ExecutionStatus {
    fn from(status: DomainStatus) -> Self {
        match status {
            DomainStatus::Queued => Self::Queued,
            DomainStatus::Running => Self::Running,
            DomainStatus::Succeeded => Self::Succeeded,
            DomainStatus::Failed => Self::Failed,
            DomainStatus::Skipped => Self::Skipped,
        }
    }
}

impl ExecutionStatus {
    pub fn domain(self) -> DomainStatus {
        match self {
            Self::Queued => DomainStatus::Queued,
            Self::Running => DomainStatus::Running,
            Self::Succeeded => DomainStatus::Succeeded,
            Self::Failed => DomainStatus::Failed,
            Self::Skipped => DomainStatus::Skipped,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum StepStatus {
    Pending,
    Succeeded,
    Failed,
    Skipped,
}

impl From<DomainStepStatus> for StepStatus {
    fn from(status: DomainStepStatus) -> Self {
        match status {
            DomainStepStatus::Pending => Self::Pending,
            DomainStepStatus::Succeeded => Self::Succeeded,
            DomainStepStatus::Failed => Self::Failed,
            DomainStepStatus::Skipped => Self::Skipped,
        }
    }
}

/// One action of an execution.
#[derive(Debug, SimpleObject)]
pub struct ExecutionStep {
    pub index: i32,
    pub action: String,
    pub status: StepStatus,
    pub attempts: i32,
    pub detail: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The automation an execution belongs to (it may have been deleted since).
#[derive(Debug, SimpleObject)]
pub struct ExecutionAutomation {
    pub id: ID,
    pub name: String,
}

/// One run of an automation, or its decision not to run (`SKIPPED`, with the reason).
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct AutomationExecution {
    pub id: ID,
    pub automation_version: i32,
    pub status: ExecutionStatus,
    /// Why it was skipped or failed: the condition that did not match, the account's state, the failed step.
    pub reason: Option<String>,
    /// What triggered it: `message:<id>`, `no-reply:<id>`, `schedule:<unix time>`, `health:<sequence>`,
    /// `manual:<id>`.
    pub trigger: String,
    pub dialog_id: Option<ID>,
    pub message_id: Option<ID>,
    pub account_id: Option<ID>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub record: ExecutionRecord,
    #[graphql(skip)]
    pub scope: TenantScope,
}

#[ComplexObject]
impl AutomationExecution {
    async fn automation(&self, ctx: &Context<'_>) -> ApiResult<ExecutionAutomation> {
        let name = load(ctx, AutomationNameOf(self.scope.clone(), self.record.automation_id))
            .await?
            .unwrap_or_default();
        Ok(ExecutionAutomation {
            id: ID(self.record.automation_id.to_string()),
            name,
        })
    }

    async fn steps(&self) -> Vec<ExecutionStep> {
        self.record
            .steps
            .iter()
            .map(|s| ExecutionStep {
                index: i32::try_from(s.index).unwrap_or(i32::MAX),
                action: s.action.clone(),
                status: s.status.into(),
                attempts: i32::try_from(s.attempts).unwrap_or(i32::MAX),
                detail: s.detail.clone(),
                finished_at: s.finished_at,
            })
            .collect()
    }
}

impl AutomationExecution {
    pub fn new(record: ExecutionRecord, scope: TenantScope) -> Self {
        Self {
            id: ID(record.id.to_string()),
            automation_version: record.automation_version,
            status: record.status.into(),
            reason: record.reason.clone(),
            trigger: record.trigger_key.clone(),
            dialog_id: record.dialog_id.map(|d| ID(d.to_string())),
            message_id: record.message_id.map(|m| ID(m.to_string())),
            account_id: record.account_id.map(|a| ID(a.to_string())),
            created_at: record.created_at,
            started_at: record.started_at,
            finished_at: record.finished_at,
            record,
            scope,
        }
    }
}

/// One condition of a dry run.
#[derive(Debug, SimpleObject)]
pub struct ConditionResult {
    pub condition: AutomationCondition,
    pub matched: bool,
    /// What was seen (`none` when the trigger has no such thing).
    pub actual: Option<String>,
}

/// What `testAutomation` found: nothing was stored, sent or called.
#[derive(Debug, SimpleObject)]
pub struct AutomationTestResult {
    pub would_run: bool,
    /// Why it would not run, naming the failed condition.
    pub reason: Option<String>,
    pub conditions: Vec<ConditionResult>,
    pub rendered_actions: Vec<String>,
}
