//! What an event says. Events carry what a subscriber shows (a message as it was stored, a dialog's read
//! state, an account's health) so fanning one out costs no database read per subscriber.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::health::HealthStateKind;
use crate::automation::records::ExecutionRecord;
use crate::ids::{AccountId, AutomationId, DialogId, MessageId, WorkspaceId};
use crate::inbox::{DialogRecord, MessageRecord};
use crate::tenancy::api_keys::Scope;

/// One thing that happened in a workspace's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum InboxEvent {
    /// A message arrived from the other side.
    MessageReceived { message: MessageRecord },
    /// An outgoing message was stored or settled (PENDING, then SENT or FAILED), or one sent from elsewhere
    /// was seen.
    MessageSent { message: MessageRecord },
    /// A message's text changed; the earlier one is the last of its history.
    MessageEdited { message: MessageRecord },
    /// A message was deleted.
    MessageDeleted { message_id: MessageId, dialog_id: DialogId },
    /// A dialog's read watermark moved.
    DialogRead { dialog: DialogRecord },
    /// A dialog's tags or assignee changed (`inbox::triage`); the dialog as it is now, tags included.
    DialogChanged { dialog: DialogRecord },
    /// An account's health state or risk moved.
    AccountHealthChanged {
        state: HealthStateKind,
        risk_score: u8,
        previous_state: HealthStateKind,
        previous_risk_score: u8,
    },
    /// An automation's execution was queued (`automationEvents`).
    ExecutionQueued { execution: Box<ExecutionRecord> },
    /// An execution ended: succeeded, failed or skipped, with its reason (`automationEvents`).
    ExecutionFinished { execution: Box<ExecutionRecord> },
    /// An automation was created, updated, enabled, disabled or deleted (`automationEvents`).
    AutomationChanged {
        automation_id: AutomationId,
        name: String,
        version: i32,
        change: AutomationChange,
    },
}

/// Which subscription an event belongs to. The workspace numbers all its events in one sequence, so each
/// subscription sees increasing numbers with the other family's left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventFamily {
    Inbox,
    Automation,
}

/// What happened to an automation's definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AutomationChange {
    Created,
    Updated,
    Enabled,
    Disabled,
    Deleted,
}

impl AutomationChange {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Updated => "UPDATED",
            Self::Enabled => "ENABLED",
            Self::Disabled => "DISABLED",
            Self::Deleted => "DELETED",
        }
    }
}

impl InboxEvent {
    /// The name of the event, as subscribers see its type.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MessageReceived { .. } => "MessageReceived",
            Self::MessageSent { .. } => "MessageSent",
            Self::MessageEdited { .. } => "MessageEdited",
            Self::MessageDeleted { .. } => "MessageDeleted",
            Self::DialogRead { .. } => "DialogRead",
            Self::DialogChanged { .. } => "DialogChanged",
            Self::AccountHealthChanged { .. } => "AccountHealthChanged",
            Self::ExecutionQueued { .. } => "ExecutionQueued",
            Self::ExecutionFinished { .. } => "ExecutionFinished",
            Self::AutomationChanged { .. } => "AutomationChanged",
        }
    }

    /// The subscription that shows the event.
    pub fn family(&self) -> EventFamily {
        match self {
            Self::ExecutionQueued { .. } | Self::ExecutionFinished { .. } | Self::AutomationChanged { .. } => {
                EventFamily::Automation
            }
            _ => EventFamily::Inbox,
        }
    }

    /// The automation an automation event is about.
    pub fn automation(&self) -> Option<AutomationId> {
        match self {
            Self::ExecutionQueued { execution } | Self::ExecutionFinished { execution } => {
                Some(execution.automation_id)
            }
            Self::AutomationChanged { automation_id, .. } => Some(*automation_id),
            _ => None,
        }
    }

    /// The API-key scope an event needs besides the subscription's own (`INBOX_READ`): health belongs to
    /// the accounts' side.
    pub fn extra_scope(&self) -> Option<Scope> {
        match self {
            Self::AccountHealthChanged { .. } => Some(Scope::AccountsRead),
            _ => None,
        }
    }
}

/// An event before the outbox numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    /// The account the event concerns; `None` for what concerns the workspace as a whole (an automation's
    /// definition).
    pub account_id: Option<AccountId>,
    pub event: InboxEvent,
}

impl EventDraft {
    pub fn new(account_id: AccountId, event: InboxEvent) -> Self {
        Self {
            account_id: Some(account_id),
            event,
        }
    }

    /// An event about the workspace as a whole, or about an account when one is known.
    pub fn of(account_id: Option<AccountId>, event: InboxEvent) -> Self {
        Self { account_id, event }
    }
}

/// What the relay reads: the unpublished events, and the keys of rows whose payload no longer reads (written
/// by another version of the server). Those are marked published and logged, never allowed to stop the
/// relay for every workspace.
#[derive(Debug, Default)]
pub struct Unpublished {
    pub events: Vec<StoredEvent>,
    pub unreadable: Vec<(WorkspaceId, i64)>,
}

/// An event as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub workspace_id: WorkspaceId,
    /// The workspace's sequence number: 1, 2, 3… without holes.
    pub sequence: i64,
    pub account_id: Option<AccountId>,
    pub occurred_at: DateTime<Utc>,
    pub event: InboxEvent,
}
