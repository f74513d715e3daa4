//! Whether an automation may be saved, with every fault named on its GraphQL input path at once.
//!
//! Rules (paths start at the mutation's `input` argument):
//! - `input.name`: 1 to [`Limits::max_name_len`] characters once trimmed, no control characters.
//! - `input.trigger.<kind>...`: `noReply.afterMinutes` is 1 to 10080 (a week); `schedule.cron` and
//!   `schedule.timezone` are a 5-field cron expression and an IANA zone ([`super::schedule`]);
//!   `healthChanged.toStates` names at least one state; a message trigger names at most
//!   [`Limits::max_trigger_accounts`] accounts.
//! - `input.conditions[i].op` / `.value`: as [`super::condition_rules`] says; at most
//!   [`Limits::max_conditions`].
//! - `input.actions`: 1 to [`Limits::max_actions`] actions.
//! - `input.actions[i].<action>`: an action that works on a dialog (`sendMessage`, `markRead`,
//!   `tagDialog`, `assignDialog`) needs a trigger that brings one, and `pauseAccount` one that brings an
//!   account: automations answer and manage existing conversations; they never start one, so a schedule or
//!   a health change cannot send messages (no mass outreach). A manual run may name a dialog, so every
//!   action is allowed with a manual trigger.
//! - `input.actions[i].sendMessage.text`: a [`Template`] of 1 to [`Limits::max_template_len`] characters.
//! - `input.actions[i].tagDialog.tag`: as [`normalize_tag`] says.
//! - `input.actions[i].webhook.url` / `.secret`: as [`super::webhook`] says.

use super::conditions::ConditionSet;
use super::definition::{Action, AutomationDefinition, Trigger};
use super::schedule::CronSchedule;
use super::tag::normalize_tag;
use super::template::Template;
use super::webhook::{check_webhook_secret, check_webhook_url};
use crate::error::FieldError;
use crate::text::single_line;

/// The longest `noReply` wait: a week.
pub const MAX_NO_REPLY_MINUTES: u32 = 7 * 24 * 60;

/// The bounds an automation is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_actions: usize,
    pub max_conditions: usize,
    /// The longest `MATCHES` pattern, in characters.
    pub max_regex_len: usize,
    /// The most memory a compiled pattern may take, in bytes (also the bound of its lazy DFA's cache).
    pub regex_size_limit: usize,
    pub max_name_len: usize,
    /// The longest condition value other than a pattern's bound, in characters.
    pub max_value_len: usize,
    /// The longest message template, in characters.
    pub max_template_len: usize,
    pub max_url_len: usize,
    /// The most accounts a message trigger may name.
    pub max_trigger_accounts: usize,
    /// Whether webhooks may use `http` and private hosts (development and tests only).
    pub allow_insecure_http: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_actions: 10,
            max_conditions: 20,
            max_regex_len: 512,
            regex_size_limit: 256 * 1024,
            max_name_len: 100,
            max_value_len: 1024,
            max_template_len: 4096,
            max_url_len: 2048,
            max_trigger_accounts: 100,
            allow_insecure_http: false,
        }
    }
}

/// Every rule broken by `definition`, each on its input path; `Ok` when it may be saved.
pub fn validate(definition: &AutomationDefinition, limits: &Limits) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if let Err(error) = single_line("input.name", &definition.name, limits.max_name_len, "a name") {
        errors.push(error);
    }
    check_trigger(&definition.trigger, limits, &mut errors);
    if let Err(condition_errors) = ConditionSet::compile_with_limits(&definition.conditions, definition.mode, limits) {
        errors.extend(condition_errors);
    }
    check_actions(definition, limits, &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

fn check_trigger(trigger: &Trigger, limits: &Limits, errors: &mut Vec<FieldError>) {
    let path = format!("input.trigger.{}", trigger.kind().input_name());
    match trigger {
        Trigger::MessageReceived { accounts } => check_accounts(&path, accounts.len(), limits, errors),
        Trigger::NoReply {
            after_minutes,
            accounts,
        } => {
            if !(1..=MAX_NO_REPLY_MINUTES).contains(after_minutes) {
                errors.push(FieldError::new(
                    format!("{path}.afterMinutes"),
                    format!("the wait is 1 to {MAX_NO_REPLY_MINUTES} minutes (a week), not {after_minutes}"),
                ));
            }
            check_accounts(&path, accounts.len(), limits, errors);
        }
        Trigger::Schedule { cron, timezone } => {
            if let Err(schedule_errors) = CronSchedule::parse(cron, timezone) {
                errors.extend(schedule_errors);
            }
        }
        Trigger::HealthChanged { to_states } => {
            if to_states.is_empty() {
                errors.push(FieldError::new(
                    format!("{path}.toStates"),
                    "name at least one health state",
                ));
            }
        }
        Trigger::Manual => {}
    }
}

fn check_accounts(path: &str, count: usize, limits: &Limits, errors: &mut Vec<FieldError>) {
    if count > limits.max_trigger_accounts {
        errors.push(FieldError::new(
            format!("{path}.accountIds"),
            format!(
                "a trigger names at most {} accounts (none means all of them)",
                limits.max_trigger_accounts
            ),
        ));
    }
}

fn check_actions(definition: &AutomationDefinition, limits: &Limits, errors: &mut Vec<FieldError>) {
    let actions = &definition.actions;
    if actions.is_empty() {
        errors.push(FieldError::new("input.actions", "add at least one action"));
    } else if actions.len() > limits.max_actions {
        errors.push(FieldError::new(
            "input.actions",
            format!(
                "an automation has at most {} actions, not {}",
                limits.max_actions,
                actions.len()
            ),
        ));
    }
    for (index, action) in actions.iter().enumerate() {
        let path = format!("input.actions[{index}].{}", action.name());
        if let Some(refusal) = trigger_refusal(&definition.trigger, action) {
            errors.push(FieldError::new(path.clone(), refusal));
        }
        let (member, result) = match action {
            Action::SendMessage { text } => ("text", check_template(text, limits)),
            Action::TagDialog { tag } => ("tag", normalize_tag(tag).map(drop)),
            Action::Webhook { url, secret } => {
                if let Err(message) = check_webhook_secret(secret) {
                    errors.push(FieldError::new(format!("{path}.secret"), message));
                }
                ("url", check_webhook_url(url, limits))
            }
            Action::MarkRead | Action::AssignDialog { .. } | Action::PauseAccount => continue,
        };
        if let Err(message) = result {
            errors.push(FieldError::new(format!("{path}.{member}"), message));
        }
    }
}

/// Why `action` cannot run under `trigger`, if it cannot.
fn trigger_refusal(trigger: &Trigger, action: &Action) -> Option<String> {
    let trigger_name = trigger.kind().input_name();
    if action.needs_dialog() && !trigger.has_dialog() {
        return Some(format!(
            "{} works on a dialog, and a {trigger_name} trigger has none: automations act only in \
             conversations that already exist and never start one",
            action.name()
        ));
    }
    if matches!(action, Action::PauseAccount) && !trigger.has_account() {
        return Some(format!(
            "pauseAccount needs an account, and a {trigger_name} trigger has none"
        ));
    }
    None
}

fn check_template(text: &str, limits: &Limits) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("the message text is required".to_owned());
    }
    let length = text.chars().count();
    if length > limits.max_template_len {
        return Err(format!(
            "the message text is at most {} characters, not {length}",
            limits.max_template_len
        ));
    }
    Template::parse(text).map(drop)
}
