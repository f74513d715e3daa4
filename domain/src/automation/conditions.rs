//! Whether a run's conditions hold, with an explanation a person can read when they do not.
//!
//! Rules:
//! - `ALL` needs every condition, `ANY` at least one; no conditions at all always match.
//! - Every condition is evaluated, none skipped, so the dry run and a skipped execution can show each one.
//! - A condition whose input the run does not have (no text under a health trigger, no dialog under a
//!   schedule) does not match, whatever its operator (even `NOT_CONTAINS`), and its `actual` is `None`.
//! - Conditions are compiled once ([`ConditionSet::compile`]: patterns, lists, zones) and evaluated many
//!   times; compiling refuses what [`super::validate()`] refuses, on the same input paths.

use chrono::{DateTime, Utc};

use super::condition_rules::{LocalTimeWindow, Test, check_op, compile_value, peer_kind_name};
use super::definition::{Condition, ConditionField, ConditionMode};
use super::validate::Limits;
use crate::accounts::gateway::PeerKind;
use crate::error::FieldError;
use crate::ids::AccountId;

/// How much of a seen text an explanation quotes, in characters.
const QUOTED_TEXT_CHARS: usize = 80;

/// What a run knows when its conditions are checked. `None` means the run has no such input.
#[derive(Debug, Clone, Copy)]
pub struct EvaluationContext<'a> {
    /// The incoming message's text.
    pub text: Option<&'a str>,
    /// The dialog's peer kind; `None` when the run has no dialog (then its tags count as absent too).
    pub peer_kind: Option<PeerKind>,
    /// The peer's username, without the `@`.
    pub peer_username: Option<&'a str>,
    pub account: Option<AccountId>,
    /// The dialog's tags, normalized.
    pub dialog_tags: &'a [String],
    pub now: DateTime<Utc>,
    /// The account's risk score, 0 to 100.
    pub risk_score: Option<u8>,
}

impl<'a> EvaluationContext<'a> {
    /// A context with nothing but the time, for runs without a dialog or account (a schedule).
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            text: None,
            peer_kind: None,
            peer_username: None,
            account: None,
            dialog_tags: &[],
            now,
            risk_score: None,
        }
    }
}

/// Compiled conditions and how they combine.
#[derive(Debug, Clone)]
pub struct ConditionSet {
    mode: ConditionMode,
    conditions: Vec<(Condition, Test)>,
}

/// How one condition fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionOutcome {
    /// Its position in the definition, from 0.
    pub index: usize,
    pub condition: Condition,
    pub matched: bool,
    /// What the run showed for the condition's field (the text, the peer kind, the local time, ...), in
    /// full; `None` when the run had no such input.
    pub actual: Option<String>,
}

/// How a run's conditions fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub matched: bool,
    pub conditions: Vec<ConditionOutcome>,
}

impl ConditionSet {
    /// Compiles `conditions` under the default [`Limits`].
    pub fn compile(conditions: &[Condition], mode: ConditionMode) -> Result<ConditionSet, Vec<FieldError>> {
        Self::compile_with_limits(conditions, mode, &Limits::default())
    }

    /// Compiles `conditions`, reporting every bad one on `input.conditions[i].op` or `.value` (and too
    /// many on `input.conditions`).
    pub fn compile_with_limits(
        conditions: &[Condition],
        mode: ConditionMode,
        limits: &Limits,
    ) -> Result<ConditionSet, Vec<FieldError>> {
        let mut errors = Vec::new();
        if conditions.len() > limits.max_conditions {
            errors.push(FieldError::new(
                "input.conditions",
                format!(
                    "an automation has at most {} conditions, not {}",
                    limits.max_conditions,
                    conditions.len()
                ),
            ));
        }
        let mut compiled = Vec::with_capacity(conditions.len());
        for (index, condition) in conditions.iter().enumerate() {
            let path = format!("input.conditions[{index}]");
            if let Err(message) = check_op(condition.field, condition.op) {
                errors.push(FieldError::new(format!("{path}.op"), message));
                continue;
            }
            match compile_value(condition.field, condition.op, &condition.value, limits) {
                Ok(test) => compiled.push((condition.clone(), test)),
                Err(message) => errors.push(FieldError::new(format!("{path}.value"), message)),
            }
        }
        if errors.is_empty() {
            Ok(ConditionSet {
                mode,
                conditions: compiled,
            })
        } else {
            Err(errors)
        }
    }

    pub fn mode(&self) -> ConditionMode {
        self.mode
    }

    pub fn len(&self) -> usize {
        self.conditions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.conditions.is_empty()
    }

    /// Evaluates every condition against `context`.
    pub fn evaluate(&self, context: &EvaluationContext) -> Evaluation {
        let conditions: Vec<ConditionOutcome> = self
            .conditions
            .iter()
            .enumerate()
            .map(|(index, (condition, test))| {
                let (matched, actual) = run(test, context);
                ConditionOutcome {
                    index,
                    condition: condition.clone(),
                    matched,
                    actual,
                }
            })
            .collect();
        let matched = match self.mode {
            ConditionMode::All => conditions.iter().all(|outcome| outcome.matched),
            ConditionMode::Any => conditions.is_empty() || conditions.iter().any(|outcome| outcome.matched),
        };
        Evaluation { matched, conditions }
    }
}

/// Whether `test` holds, and what the context showed for it.
fn run(test: &Test, context: &EvaluationContext) -> (bool, Option<String>) {
    // Tags belong to a dialog; a run without a dialog has none to look at.
    let tags = context.peer_kind.map(|_| context.dialog_tags);
    let show_tags = |tags: &&[String]| tags.join(", ");
    match test {
        Test::Text(text) => judge(context.text, |value| text.matches(value), show_text),
        Test::Username(text) => judge(
            context.peer_username.map(|name| name.trim_start_matches('@')),
            |value| text.matches(value),
            show_text,
        ),
        Test::PeerKindIn(kinds) => judge(
            context.peer_kind,
            |kind| kinds.contains(kind),
            |kind| peer_kind_name(*kind).to_owned(),
        ),
        Test::AccountIn(accounts) => judge(context.account, |id| accounts.contains(id), ToString::to_string),
        Test::TagHas(tag) => judge(tags, |tags| has_tag(tags, tag), show_tags),
        Test::TagLacks(tag) => judge(tags, |tags| !has_tag(tags, tag), show_tags),
        Test::TagHasAny(wanted) => judge(tags, |tags| wanted.iter().any(|tag| has_tag(tags, tag)), show_tags),
        Test::LocalTime(window) => local_time(window, context.now),
        Test::RiskBelow(limit) => judge(context.risk_score, |score| score < limit, ToString::to_string),
        Test::RiskBetween(low, high) => judge(
            context.risk_score,
            |score| (low..=high).contains(&score),
            ToString::to_string,
        ),
    }
}

/// `(holds(input), show(input))`, or `(false, None)` when there is no input.
fn judge<T>(
    input: Option<T>,
    holds: impl FnOnce(&T) -> bool,
    show: impl FnOnce(&T) -> String,
) -> (bool, Option<String>) {
    match input {
        Some(value) => (holds(&value), Some(show(&value))),
        None => (false, None),
    }
}

fn show_text(text: &&str) -> String {
    (*text).to_owned()
}

/// Whether `tags` holds `tag` (lower-case), however the stored tags are cased.
fn has_tag(tags: &[String], tag: &str) -> bool {
    tags.iter().any(|own| own.to_lowercase() == tag)
}

/// The zone's clock at `now` (`14:05 Europe/Berlin`) and whether it is inside the window.
fn local_time(window: &LocalTimeWindow, now: DateTime<Utc>) -> (bool, Option<String>) {
    let local = now.with_timezone(&window.zone);
    (
        window.contains(local.time()),
        Some(format!("{} {}", local.format("%H:%M"), window.zone.name())),
    )
}

impl Evaluation {
    /// Why the run did not go ahead: each condition that did not match, what it was and what the run
    /// showed, e.g. `condition 2 (TEXT CONTAINS "price") did not match: the text was "hello there"`.
    /// Conditions are counted from 1 here; a seen text is cut to about 80 characters. `None` when matched.
    pub fn reason(&self) -> Option<String> {
        if self.matched {
            return None;
        }
        let failed: Vec<String> = self
            .conditions
            .iter()
            .filter(|outcome| !outcome.matched)
            .map(explain)
            .collect();
        Some(if failed.is_empty() {
            "the conditions did not match".to_owned()
        } else {
            failed.join("; ")
        })
    }
}

fn explain(outcome: &ConditionOutcome) -> String {
    format!(
        "condition {} ({}) did not match: {}",
        outcome.index + 1,
        outcome.condition,
        describe_actual(outcome.condition.field, outcome.actual.as_deref())
    )
}

/// `the text was "hello there"`, `the risk score was 40`, `the dialog had no tags`, `the text was none`,
/// `the dialog's tags were vip, lead`.
fn describe_actual(field: ConditionField, actual: Option<&str>) -> String {
    let what = match field {
        ConditionField::Text => "the text",
        ConditionField::PeerKind => "the peer kind",
        ConditionField::PeerUsername => "the peer's username",
        ConditionField::Account => "the account",
        ConditionField::DialogTag => "the dialog's tags",
        ConditionField::LocalTime => "the local time",
        ConditionField::RiskScore => "the risk score",
    };
    let verb = if field == ConditionField::DialogTag {
        "were"
    } else {
        "was"
    };
    match (field, actual) {
        (_, None) => format!("{what} {verb} none"),
        (ConditionField::DialogTag, Some("")) => "the dialog had no tags".to_owned(),
        (ConditionField::Text | ConditionField::PeerUsername, Some(text)) => {
            format!("{what} was {:?}", shorten(text))
        }
        (_, Some(value)) => format!("{what} {verb} {value}"),
    }
}

/// `text` cut to [`QUOTED_TEXT_CHARS`] characters, the cut marked with `…`.
fn shorten(text: &str) -> String {
    if text.chars().count() <= QUOTED_TEXT_CHARS {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(QUOTED_TEXT_CHARS - 1).collect();
    short.push('…');
    short
}
