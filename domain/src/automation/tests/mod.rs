//! Tests of the automation rules: validation (every rule, every path), conditions (every field and
//! operator, the modes, the explanations), templates, schedules across daylight saving time, dry-run
//! descriptions, and properties over arbitrary inputs.

mod conditions;
mod describe;
mod properties;
mod schedule;
mod templates;
mod validation;

use chrono::{DateTime, NaiveDate, Utc};

use super::{Action, AutomationDefinition, ConditionMode, Trigger};
use crate::error::FieldError;
use crate::ids::{AccountId, UserId};

/// The UTC instant `y-m-d h:mi`.
pub(super) fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, mi, 0)
        .unwrap()
        .and_utc()
}

/// A fixed account id.
pub(super) fn account(n: u128) -> AccountId {
    AccountId::from_uuid(uuid::Uuid::from_u128(0x0197_0000_0000_7000_8000_0000_0000_0000 + n))
}

pub(super) fn member() -> UserId {
    UserId::from_uuid(uuid::Uuid::from_u128(0x0197_0000_0000_7000_8000_0000_0000_00aa))
}

pub(super) fn on_message() -> Trigger {
    Trigger::MessageReceived { accounts: vec![] }
}

/// A valid definition: a reply to every message.
pub(super) fn definition(trigger: Trigger, actions: Vec<Action>) -> AutomationDefinition {
    AutomationDefinition {
        name: "Greet".to_owned(),
        enabled: true,
        trigger,
        conditions: vec![],
        mode: ConditionMode::All,
        actions,
    }
}

pub(super) fn reply(text: &str) -> Action {
    Action::SendMessage { text: text.to_owned() }
}

pub(super) fn webhook(url: &str) -> Action {
    Action::Webhook {
        url: url.to_owned(),
        secret: "s".repeat(32),
    }
}

/// The field paths of `errors`, in order.
pub(super) fn paths(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|error| error.field.as_str()).collect()
}

/// The message on `path`, failing the test when there is none.
pub(super) fn message_on<'a>(errors: &'a [FieldError], path: &str) -> &'a str {
    errors
        .iter()
        .find(|error| error.field == path)
        .map(|error| error.message.as_str())
        .unwrap_or_else(|| panic!("no error on {path}; errors: {errors:?}"))
}
