//! `AutomationInput` and its parts, turned into the domain's definition. Ids that do not parse are named by
//! their path in the input (`input.trigger.messageReceived.accountIds[0]`), like every other validation error.

use async_graphql::{Enum, ID, InputObject, OneofObject};
use tgos_domain::DomainError;
use tgos_domain::FieldError;
use tgos_domain::automation::definition::{
    Action, AutomationDefinition, Condition, ConditionField as DomainField, ConditionMode as DomainMode,
    ConditionOp as DomainOp, Trigger,
};
use tgos_domain::ids::{AccountId, UserId};

use crate::graphql::accounts::types::HealthState;
use crate::graphql::errors::{ApiError, ApiResult};

/// An automation as written: a trigger, conditions and ordered actions.
#[derive(Debug, InputObject)]
pub struct AutomationInput {
    pub name: String,
    #[graphql(default = true)]
    pub enabled: bool,
    pub trigger: TriggerInput,
    #[graphql(default)]
    pub conditions: Vec<ConditionInput>,
    #[graphql(default_with = "ConditionMode::All")]
    pub condition_mode: ConditionMode,
    pub actions: Vec<ActionInput>,
}

/// What starts an automation: exactly one member.
#[derive(Debug, OneofObject)]
pub enum TriggerInput {
    /// An incoming message in any dialog of those accounts (every account of the workspace when empty).
    MessageReceived(MessageReceivedInput),
    /// An incoming message still unanswered after `afterMinutes`.
    NoReply(NoReplyInput),
    /// A 5-field cron schedule in an IANA time zone.
    Schedule(ScheduleInput),
    /// An account's health moving into one of these states.
    HealthChanged(HealthChangedInput),
    /// Only `runAutomationNow` (the value must be true).
    Manual(bool),
}

#[derive(Debug, InputObject)]
pub struct MessageReceivedInput {
    #[graphql(default)]
    pub account_ids: Vec<ID>,
}

#[derive(Debug, InputObject)]
pub struct NoReplyInput {
    pub after_minutes: i32,
    #[graphql(default)]
    pub account_ids: Vec<ID>,
}

#[derive(Debug, InputObject)]
pub struct ScheduleInput {
    pub cron: String,
    pub timezone: String,
}

#[derive(Debug, InputObject)]
pub struct HealthChangedInput {
    pub to_states: Vec<HealthState>,
}

/// One condition: a field of the triggering message, dialog or account compared with a value.
#[derive(Debug, InputObject)]
pub struct ConditionInput {
    pub field: ConditionField,
    pub op: ConditionOp,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ConditionField {
    Text,
    PeerKind,
    PeerUsername,
    Account,
    DialogTag,
    LocalTime,
    RiskScore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ConditionOp {
    Contains,
    NotContains,
    Equals,
    Matches,
    In,
    Between,
    LessThan,
}

/// Whether every condition must match, or one is enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ConditionMode {
    All,
    Any,
}

/// One action: exactly one member.
#[derive(Debug, OneofObject)]
pub enum ActionInput {
    /// Send a templated message in the dialog: `{{peer.title}}`, `{{peer.username}}`, `{{account.displayName}}`,
    /// `{{message.text}}`.
    SendMessage(SendMessageInput),
    /// Mark the dialog read (the value must be true).
    MarkRead(bool),
    TagDialog(TagDialogInput),
    AssignDialog(AssignDialogInput),
    /// POST JSON to an https URL, signed: `X-Tgos-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`.
    Webhook(WebhookInput),
    /// Pause the account (the value must be true); a person resumes it.
    PauseAccount(bool),
}

#[derive(Debug, InputObject)]
pub struct SendMessageInput {
    pub text: String,
}

#[derive(Debug, InputObject)]
pub struct TagDialogInput {
    pub tag: String,
}

#[derive(Debug, InputObject)]
pub struct AssignDialogInput {
    /// `null` unassigns.
    pub user_id: Option<ID>,
}

#[derive(Debug, InputObject)]
pub struct WebhookInput {
    pub url: String,
    /// Signs each delivery; stored sealed, never shown again.
    pub secret: String,
}

impl AutomationInput {
    /// The domain's definition; ids that do not parse (and `false` flags) are named by their input path.
    pub fn into_definition(self) -> ApiResult<AutomationDefinition> {
        let mut errors = Vec::new();
        let accounts = |ids: &[ID], member: &str, errors: &mut Vec<FieldError>| -> Vec<AccountId> {
            ids.iter()
                .enumerate()
                .filter_map(|(index, id)| match id.parse() {
                    Ok(id) => Some(id),
                    Err(_) => {
                        errors.push(FieldError::new(
                            format!("input.trigger.{member}.accountIds[{index}]"),
                            "not an account id",
                        ));
                        None
                    }
                })
                .collect()
        };
        let trigger = match self.trigger {
            TriggerInput::MessageReceived(input) => Trigger::MessageReceived {
                accounts: accounts(&input.account_ids, "messageReceived", &mut errors),
            },
            TriggerInput::NoReply(input) => Trigger::NoReply {
                after_minutes: u32::try_from(input.after_minutes).unwrap_or(0),
                accounts: accounts(&input.account_ids, "noReply", &mut errors),
            },
            TriggerInput::Schedule(input) => Trigger::Schedule {
                cron: input.cron,
                timezone: input.timezone,
            },
            TriggerInput::HealthChanged(input) => Trigger::HealthChanged {
                to_states: input.to_states.into_iter().map(HealthState::kind).collect(),
            },
            TriggerInput::Manual(manual) => {
                if !manual {
                    errors.push(FieldError::new("input.trigger.manual", "must be true"));
                }
                Trigger::Manual
            }
        };
        let conditions = self
            .conditions
            .into_iter()
            .map(|c| Condition {
                field: c.field.into(),
                op: c.op.into(),
                value: c.value,
            })
            .collect();
        let mut actions = Vec::new();
        for (index, action) in self.actions.into_iter().enumerate() {
            let mut flag = |set: bool, name: &str| {
                if !set {
                    errors.push(FieldError::new(
                        format!("input.actions[{index}].{name}"),
                        "must be true",
                    ));
                }
            };
            actions.push(match action {
                ActionInput::SendMessage(input) => Action::SendMessage { text: input.text },
                ActionInput::MarkRead(set) => {
                    flag(set, "markRead");
                    Action::MarkRead
                }
                ActionInput::TagDialog(input) => Action::TagDialog { tag: input.tag },
                ActionInput::AssignDialog(input) => Action::AssignDialog {
                    user: match input.user_id {
                        Some(id) => match id.parse::<UserId>() {
                            Ok(user) => Some(user),
                            Err(_) => {
                                errors.push(FieldError::new(
                                    format!("input.actions[{index}].assignDialog.userId"),
                                    "not a user id",
                                ));
                                None
                            }
                        },
                        None => None,
                    },
                },
                ActionInput::Webhook(input) => Action::Webhook {
                    url: input.url,
                    secret: input.secret,
                },
                ActionInput::PauseAccount(set) => {
                    flag(set, "pauseAccount");
                    Action::PauseAccount
                }
            });
        }
        if !errors.is_empty() {
            return Err(ApiError::from(DomainError::Invalid(errors)));
        }
        Ok(AutomationDefinition {
            name: self.name,
            enabled: self.enabled,
            trigger,
            conditions,
            mode: match self.condition_mode {
                ConditionMode::All => DomainMode::All,
                ConditionMode::Any => DomainMode::Any,
            },
            actions,
        })
    }
}

impl From<ConditionField> for DomainField {
    fn from(field: ConditionField) -> Self {
        match field {
            ConditionField::Text => Self::Text,
            ConditionField::PeerKind => Self::PeerKind,
            ConditionField::PeerUsername => Self::PeerUsername,
            ConditionField::Account => Self::Account,
            ConditionField::DialogTag => Self::DialogTag,
            ConditionField::LocalTime => Self::LocalTime,
            ConditionField::RiskScore => Self::RiskScore,
        }
    }
}

impl From<DomainField> for ConditionField {
    fn from(field: DomainField) -> Self {
        match field {
            DomainField::Text => Self::Text,
            DomainField::PeerKind => Self::PeerKind,
            DomainField::PeerUsername => Self::PeerUsername,
            DomainField::Account => Self::Account,
            DomainField::DialogTag => Self::DialogTag,
            DomainField::LocalTime => Self::LocalTime,
            DomainField::RiskScore => Self::RiskScore,
        }
    }
}

impl From<ConditionOp> for DomainOp {
    fn from(op: ConditionOp) -> Self {
        match op {
            ConditionOp::Contains => Self::Contains,
            ConditionOp::NotContains => Self::NotContains,
            ConditionOp::Equals => Self::Equals,
            ConditionOp::Matches => Self::Matches,
            ConditionOp::In => Self::In,
            ConditionOp::Between => Self::Between,
            ConditionOp::LessThan => Self::LessThan,
        }
    }
}

impl From<DomainOp> for ConditionOp {
    fn from(op: DomainOp) -> Self {
        match op {
            DomainOp::Contains => Self::Contains,
            DomainOp::NotContains => Self::NotContains,
            DomainOp::Equals => Self::Equals,
            DomainOp::Matches => Self::Matches,
            DomainOp::In => Self::In,
            DomainOp::Between => Self::Between,
            DomainOp::LessThan => Self::LessThan,
        }
    }
}
