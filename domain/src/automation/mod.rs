//! Automations: the pure rules. What an automation is ([`definition`]), whether it may be saved
//! ([`validate()`]), whether a run's conditions hold and why not ([`conditions`]), message templates
//! ([`template`]), when a schedule fires ([`schedule`]) and how a dry run describes an action
//! ([`describe_action`]).
//!
//! The pure rules store, send and wait for nothing. On them: the stored shapes ([`records`]) and the storage
//! port ([`ports`]), what queues an execution with its cause ([`triggers`]), and the use cases
//! ([`use_cases`]: definitions, runs and the dry run, the job that executes).
//!
//! Rules that hold across the files:
//! - Automations never start conversations. Actions that work on a dialog run only under triggers that
//!   bring one (an incoming message, an unanswered one, a manual run naming a dialog).
//! - Every refusal names the input path the client sent (`input.actions[1].sendMessage.text`), and every
//!   fault of one input is reported at once.
//! - A webhook's secret is never shown: not in a description, not in an explanation.
//!
//! Dependencies, chosen deliberately: `regex` (patterns compiled with a size limit, linear-time matching,
//! so a user's pattern cannot stall a run), `chrono-tz` (the IANA zones schedules and local-time windows
//! name), `url` (webhook addresses parsed by the WHATWG rules the HTTP client will use). Cron is parsed
//! here, not by a crate; [`schedule`] says why.

pub mod condition_rules;
pub mod conditions;
mod cron_syntax;
pub mod definition;
pub mod ports;
pub mod records;
pub mod schedule;
pub mod service;
pub mod tag;
pub mod template;
pub mod triggers;
pub mod use_cases;
pub mod validate;
pub mod webhook;
pub mod zone;

#[cfg(test)]
mod tests;

pub use condition_rules::allowed_ops;
pub use conditions::{ConditionOutcome, ConditionSet, Evaluation, EvaluationContext};
pub use definition::{
    Action, AutomationDefinition, Condition, ConditionField, ConditionMode, ConditionOp, Trigger, TriggerKind,
};
pub use ports::AutomationRepository;
pub use schedule::CronSchedule;
pub use service::{AutomationService, AutomationSettings};
pub use tag::{MAX_TAG_LEN, normalize_tag};
pub use template::{TEMPLATE_VARIABLES, Template, TemplateValues};
pub use use_cases::execute::AutomationJobs;
pub use validate::{Limits, validate};
pub use webhook::is_private_address;
pub use zone::parse_time_zone;

/// One line describing what `action` would do, for the dry run: `sendMessage: "Hello Ann"`,
/// `tagDialog: vip`, `assignDialog: <user id>`, `assignDialog: nobody`, `webhook: POST <url>`,
/// `markRead`, `pauseAccount`. `rendered_text` is the message as it would be sent; without it the template
/// is shown as written. Never the webhook's secret.
pub fn describe_action(action: &Action, rendered_text: Option<&str>) -> String {
    let name = action.name();
    match action {
        Action::SendMessage { text } => format!("{name}: {:?}", rendered_text.unwrap_or(text)),
        Action::MarkRead | Action::PauseAccount => name.to_owned(),
        Action::TagDialog { tag } => {
            format!("{name}: {}", normalize_tag(tag).unwrap_or_else(|_| tag.clone()))
        }
        Action::AssignDialog { user: Some(user) } => format!("{name}: {user}"),
        Action::AssignDialog { user: None } => format!("{name}: nobody"),
        Action::Webhook { url, secret: _ } => format!("{name}: POST {}", url.trim()),
    }
}
