//! What an automation is: a trigger, conditions over what triggered it, and the actions it then takes.
//!
//! These are plain values as a client described them; [`super::validate()`] decides whether one may be
//! saved. The serde form is the stored form (variant and field names in camelCase, as the GraphQL input
//! members are named; condition fields, operators and modes in SCREAMING_SNAKE_CASE): never rename them.
//!
//! Rules:
//! - Messages are sent only in dialogs that already exist: actions that need a dialog run only under
//!   triggers that bring one ([`Trigger::has_dialog`]). Automations never start conversations.
//! - The names returned by `as_str` and [`Action::name`] are stored and shown to clients; they never change.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::accounts::health::HealthStateKind;
use crate::ids::{AccountId, UserId};

/// An automation as a workspace admin wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutomationDefinition {
    pub name: String,
    pub enabled: bool,
    pub trigger: Trigger,
    pub conditions: Vec<Condition>,
    pub mode: ConditionMode,
    pub actions: Vec<Action>,
}

/// What starts a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Trigger {
    /// An incoming message in any dialog of these accounts (every account of the workspace when empty).
    MessageReceived { accounts: Vec<AccountId> },
    /// An incoming message still unanswered `after_minutes` later, in dialogs of these accounts (all if empty).
    NoReply {
        after_minutes: u32,
        accounts: Vec<AccountId>,
    },
    /// A 5-field cron expression read in an IANA time zone ([`super::CronSchedule`]).
    Schedule { cron: String, timezone: String },
    /// An account of the workspace entering one of these health states.
    HealthChanged { to_states: Vec<HealthStateKind> },
    /// Only `runAutomationNow`, which may name a dialog to run in.
    Manual,
}

impl Trigger {
    pub fn kind(&self) -> TriggerKind {
        match self {
            Trigger::MessageReceived { .. } => TriggerKind::MessageReceived,
            Trigger::NoReply { .. } => TriggerKind::NoReply,
            Trigger::Schedule { .. } => TriggerKind::Schedule,
            Trigger::HealthChanged { .. } => TriggerKind::HealthChanged,
            Trigger::Manual => TriggerKind::Manual,
        }
    }

    /// The accounts a message trigger listens to; empty for every account, and for kinds without accounts.
    pub fn accounts(&self) -> &[AccountId] {
        match self {
            Trigger::MessageReceived { accounts } | Trigger::NoReply { accounts, .. } => accounts,
            Trigger::Schedule { .. } | Trigger::HealthChanged { .. } | Trigger::Manual => &[],
        }
    }

    /// Whether a run can have a dialog: a message brings one, and a manual run may name one.
    pub fn has_dialog(&self) -> bool {
        self.kind().has_dialog()
    }

    /// Whether a run can have a Telegram account: the dialog's, or the one whose health changed.
    pub fn has_account(&self) -> bool {
        self.kind().has_account()
    }
}

/// A trigger without its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TriggerKind {
    MessageReceived,
    NoReply,
    Schedule,
    HealthChanged,
    Manual,
}

impl TriggerKind {
    pub const ALL: [TriggerKind; 5] = [
        TriggerKind::MessageReceived,
        TriggerKind::NoReply,
        TriggerKind::Schedule,
        TriggerKind::HealthChanged,
        TriggerKind::Manual,
    ];

    /// The stored name: `MESSAGE_RECEIVED`, `NO_REPLY`, `SCHEDULE`, `HEALTH_CHANGED`, `MANUAL`.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::MessageReceived => "MESSAGE_RECEIVED",
            TriggerKind::NoReply => "NO_REPLY",
            TriggerKind::Schedule => "SCHEDULE",
            TriggerKind::HealthChanged => "HEALTH_CHANGED",
            TriggerKind::Manual => "MANUAL",
        }
    }

    /// The GraphQL input member naming this trigger (`messageReceived`, ...), used in field paths.
    pub fn input_name(self) -> &'static str {
        match self {
            TriggerKind::MessageReceived => "messageReceived",
            TriggerKind::NoReply => "noReply",
            TriggerKind::Schedule => "schedule",
            TriggerKind::HealthChanged => "healthChanged",
            TriggerKind::Manual => "manual",
        }
    }

    pub fn has_dialog(self) -> bool {
        matches!(
            self,
            TriggerKind::MessageReceived | TriggerKind::NoReply | TriggerKind::Manual
        )
    }

    pub fn has_account(self) -> bool {
        self != TriggerKind::Schedule
    }
}

/// One condition over what triggered a run, e.g. `TEXT CONTAINS "price"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub field: ConditionField,
    pub op: ConditionOp,
    pub value: String,
}

impl Condition {
    pub fn new(field: ConditionField, op: ConditionOp, value: impl Into<String>) -> Self {
        Self {
            field,
            op,
            value: value.into(),
        }
    }
}

impl fmt::Display for Condition {
    /// `TEXT CONTAINS "price"`: how explanations name a condition.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {:?}", self.field.as_str(), self.op.as_str(), self.value)
    }
}

/// The named-enum boilerplate: `ALL`, `as_str` (the stored and GraphQL name) and `FromStr` reading it back.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|item| item.as_str() == text)
                    .ok_or_else(|| format!("`{text}` is not a {}", stringify!($name)))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(
    /// What a condition looks at.
    ConditionField {
        Text => "TEXT",
        PeerKind => "PEER_KIND",
        PeerUsername => "PEER_USERNAME",
        Account => "ACCOUNT",
        DialogTag => "DIALOG_TAG",
        LocalTime => "LOCAL_TIME",
        RiskScore => "RISK_SCORE",
    }
);

named_enum!(
    /// How a condition compares.
    ConditionOp {
        Contains => "CONTAINS",
        NotContains => "NOT_CONTAINS",
        Equals => "EQUALS",
        Matches => "MATCHES",
        In => "IN",
        Between => "BETWEEN",
        LessThan => "LESS_THAN",
    }
);

named_enum!(
    /// Whether every condition must match, or one is enough.
    ConditionMode {
        All => "ALL",
        Any => "ANY",
    }
);

impl FromStr for TriggerKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| format!("`{text}` is not a trigger kind"))
    }
}

impl fmt::Display for TriggerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Action {
    /// Reply in the dialog; `text` is a [`super::Template`].
    SendMessage { text: String },
    /// Mark the dialog read.
    MarkRead,
    /// Add a tag to the dialog (normalized by [`super::normalize_tag`]).
    TagDialog { tag: String },
    /// Assign the dialog to a member; `None` unassigns it.
    AssignDialog { user: Option<UserId> },
    /// POST a signed JSON body to `url`. The secret is in the clear here; storage seals it.
    Webhook { url: String, secret: String },
    /// Pause the run's Telegram account.
    PauseAccount,
}

impl Action {
    /// The GraphQL input member naming this action, used in field paths and step listings.
    pub fn name(&self) -> &'static str {
        match self {
            Action::SendMessage { .. } => "sendMessage",
            Action::MarkRead => "markRead",
            Action::TagDialog { .. } => "tagDialog",
            Action::AssignDialog { .. } => "assignDialog",
            Action::Webhook { .. } => "webhook",
            Action::PauseAccount => "pauseAccount",
        }
    }

    /// Whether the action works on the run's dialog (and so needs a trigger that brings one).
    pub fn needs_dialog(&self) -> bool {
        matches!(
            self,
            Action::SendMessage { .. } | Action::MarkRead | Action::TagDialog { .. } | Action::AssignDialog { .. }
        )
    }

    /// Whether the action goes through or acts on the run's Telegram account: sending, reading, pausing.
    pub fn needs_account(&self) -> bool {
        matches!(
            self,
            Action::SendMessage { .. } | Action::MarkRead | Action::PauseAccount
        )
    }
}
