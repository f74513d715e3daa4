//! What an event says. Events carry what a subscriber shows (a message as it was stored, a dialog's read
//! state, an account's health) so fanning one out costs no database read per subscriber.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::health::HealthStateKind;
use crate::ids::{AccountId, DialogId, MessageId, WorkspaceId};
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
    pub account_id: AccountId,
    pub event: InboxEvent,
}

impl EventDraft {
    pub fn new(account_id: AccountId, event: InboxEvent) -> Self {
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
    pub account_id: AccountId,
    pub occurred_at: DateTime<Utc>,
    pub event: InboxEvent,
}
