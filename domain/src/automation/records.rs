//! What automations store: the definitions (versioned) and their executions with their steps.
//!
//! Rules:
//! - A definition changes only as a whole, under its version: an update names the version it read, and a
//!   stale one changes nothing (`CONFLICT`).
//! - An execution is created once per automation and trigger (`trigger_key`: the triggering message, the
//!   schedule's fire time, the health event, the manual run), so a trigger seen twice runs once.
//! - An execution records the version it ran and every step with its attempts, so an operator can read what
//!   happened and why; an execution that did not run says why in `reason`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::definition::AutomationDefinition;
use crate::ids::{AccountId, AutomationId, DialogId, ExecutionId, MessageId, UserId, WorkspaceId};

/// A workspace's automation as stored. Webhook secrets are sealed in `sealed_secrets` (by action index) and
/// blank in `definition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationRecord {
    pub id: AutomationId,
    pub workspace_id: WorkspaceId,
    pub version: i32,
    pub definition: AutomationDefinition,
    /// The sealed webhook secrets, one per webhook action.
    pub sealed_secrets: Vec<SealedWebhookSecret>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A webhook action's secret, sealed under the workspace's data key (version `key_version`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedWebhookSecret {
    /// The index of the webhook action in the definition.
    pub index: usize,
    pub key_version: u32,
    pub ciphertext: Vec<u8>,
}

/// Where an execution is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Skipped,
}

impl ExecutionStatus {
    pub const ALL: [Self; 5] = [
        Self::Queued,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Skipped => "SKIPPED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Whether the execution is over.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Skipped)
    }
}

/// Where one action of an execution is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StepStatus {
    Pending,
    Succeeded,
    Failed,
    Skipped,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Skipped => "SKIPPED",
        }
    }
}

/// One action of an execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub index: usize,
    /// The action's name (`sendMessage`, `webhook`, …).
    pub action: String,
    pub status: StepStatus,
    pub attempts: u32,
    /// What happened: the sent message's id, the webhook's answer, why it failed.
    pub detail: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// What caused an execution, beyond its dialog and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TriggerContext {
    /// The health state an account moved to (`healthChanged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_state: Option<String>,
    /// The risk score the account moved to (`healthChanged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_score: Option<u8>,
    /// The schedule's fire time (`schedule`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fire_time: Option<DateTime<Utc>>,
    /// Who asked for a manual run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<UserId>,
}

/// One run of an automation, or its decision not to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    pub id: ExecutionId,
    pub workspace_id: WorkspaceId,
    pub automation_id: AutomationId,
    /// The definition version it was queued under, then the one it ran.
    pub automation_version: i32,
    pub status: ExecutionStatus,
    pub reason: Option<String>,
    /// What triggered it, unique per automation: `message:<id>`, `no-reply:<id>`, `schedule:<time>`,
    /// `health:<sequence>`, `manual:<id>`.
    pub trigger_key: String,
    pub account_id: Option<AccountId>,
    pub dialog_id: Option<DialogId>,
    pub message_id: Option<MessageId>,
    pub context: TriggerContext,
    pub steps: Vec<StepRecord>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// How an automation's executions went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AutomationStats {
    pub runs: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub skipped: u64,
    pub last_run_at: Option<DateTime<Utc>>,
}

/// Which executions a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExecutionFilter {
    pub automation: Option<AutomationId>,
    pub status: Option<ExecutionStatus>,
}
