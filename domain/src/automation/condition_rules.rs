//! Which operators each condition field takes and what its value must look like, compiled once into a
//! test that evaluation runs many times.
//!
//! Rules (values are trimmed, except a `MATCHES` pattern, which is taken as written; lists are
//! comma-separated, each item trimmed and non-empty):
//! - `TEXT`: `CONTAINS`, `NOT_CONTAINS`, `EQUALS` (whole text, trimmed), `MATCHES` (a regex).
//! - `PEER_KIND`: `EQUALS` or `IN` with `USER`, `GROUP`, `CHANNEL`.
//! - `PEER_USERNAME`: `EQUALS`, `IN`, `CONTAINS`, `MATCHES`; a leading `@` is ignored.
//! - `ACCOUNT`: `EQUALS` or `IN` with account ids.
//! - `DIALOG_TAG`: `CONTAINS` (the dialog has the tag), `NOT_CONTAINS` (it has not), `IN` (it has one of
//!   them); tags are spelled as [`normalize_tag`] says.
//! - `LOCAL_TIME`: `BETWEEN` with `HH:MM-HH:MM Area/Zone`: from the first time (included) to the second
//!   (excluded) on the zone's clock; a window whose end is before its start crosses midnight.
//! - `RISK_SCORE`: `LESS_THAN n` or `BETWEEN a-b` (both included), numbers 0 to 100.
//!
//! Comparisons ignore case (Unicode lower-case), except `MATCHES`, where the pattern decides (`(?i)`).
//! A pattern is refused when it is longer than [`Limits::max_regex_len`], when its compiled form would pass
//! [`Limits::regex_size_limit`], or when it does not compile.

use std::str::FromStr;

use chrono::{NaiveTime, Timelike};
use chrono_tz::Tz;
use regex::{Regex, RegexBuilder};

use super::definition::{ConditionField, ConditionOp};
use super::tag::normalize_tag;
use super::validate::Limits;
use super::zone::parse_time_zone;
use crate::accounts::gateway::PeerKind;
use crate::ids::AccountId;

/// A condition ready to evaluate.
#[derive(Debug, Clone)]
pub(super) enum Test {
    Text(TextTest),
    /// On the peer's username.
    Username(TextTest),
    PeerKindIn(Vec<PeerKind>),
    AccountIn(Vec<AccountId>),
    TagHas(String),
    TagLacks(String),
    TagHasAny(Vec<String>),
    LocalTime(LocalTimeWindow),
    RiskBelow(u8),
    RiskBetween(u8, u8),
}

/// A comparison on a text; needles are already lower-case.
#[derive(Debug, Clone)]
pub(super) enum TextTest {
    Contains(String),
    NotContains(String),
    EqualsOneOf(Vec<String>),
    Matches(Regex),
}

impl TextTest {
    pub(super) fn matches(&self, text: &str) -> bool {
        match self {
            TextTest::Contains(needle) => text.to_lowercase().contains(needle.as_str()),
            TextTest::NotContains(needle) => !text.to_lowercase().contains(needle.as_str()),
            TextTest::EqualsOneOf(values) => {
                let text = text.trim().to_lowercase();
                values.contains(&text)
            }
            TextTest::Matches(regex) => regex.is_match(text),
        }
    }
}

/// A daily window on a zone's clock, minutes since midnight; `start != end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LocalTimeWindow {
    pub(super) start: u32,
    pub(super) end: u32,
    pub(super) zone: Tz,
}

impl LocalTimeWindow {
    pub(super) fn contains(&self, time: NaiveTime) -> bool {
        let minute = time.hour() * 60 + time.minute();
        if self.start < self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }
}

/// The operators `field` takes.
pub fn allowed_ops(field: ConditionField) -> &'static [ConditionOp] {
    use ConditionOp::*;
    match field {
        ConditionField::Text => &[Contains, NotContains, Equals, Matches],
        ConditionField::PeerKind => &[Equals, In],
        ConditionField::PeerUsername => &[Equals, In, Contains, Matches],
        ConditionField::Account => &[Equals, In],
        ConditionField::DialogTag => &[Contains, NotContains, In],
        ConditionField::LocalTime => &[Between],
        ConditionField::RiskScore => &[LessThan, Between],
    }
}

/// Why `op` does not go with `field`, if it does not.
pub(super) fn check_op(field: ConditionField, op: ConditionOp) -> Result<(), String> {
    let allowed = allowed_ops(field);
    if allowed.contains(&op) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|op| op.as_str()).collect();
    Err(format!(
        "{} takes {}, not {}",
        field.as_str(),
        names.join(", "),
        op.as_str()
    ))
}

/// The test for `field op value`, once [`check_op`] has passed; the error is about the value.
pub(super) fn compile_value(
    field: ConditionField,
    op: ConditionOp,
    raw: &str,
    limits: &Limits,
) -> Result<Test, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err("a value is required".to_owned());
    }
    if op != ConditionOp::Matches && value.chars().count() > limits.max_value_len {
        return Err(format!("the value is at most {} characters", limits.max_value_len));
    }
    match field {
        ConditionField::Text if op == ConditionOp::Matches => {
            compile_regex(raw, limits).map(|regex| Test::Text(TextTest::Matches(regex)))
        }
        ConditionField::PeerUsername if op == ConditionOp::Matches => {
            compile_regex(raw, limits).map(|regex| Test::Username(TextTest::Matches(regex)))
        }
        ConditionField::Text => text_test(op, value).map(Test::Text),
        ConditionField::PeerUsername => {
            let value = strip_at(value);
            if op == ConditionOp::Equals && value.contains(',') {
                return Err("EQUALS takes one username; use IN for a list".to_owned());
            }
            text_test(op, &value).map(Test::Username)
        }
        ConditionField::PeerKind => list(value, op)?
            .into_iter()
            .map(parse_peer_kind)
            .collect::<Result<_, _>>()
            .map(Test::PeerKindIn),
        ConditionField::Account => list(value, op)?
            .into_iter()
            .map(|item| AccountId::from_str(item).map_err(|_| format!("`{item}` is not an account id")))
            .collect::<Result<_, _>>()
            .map(Test::AccountIn),
        ConditionField::DialogTag => match op {
            ConditionOp::In => list(value, op)?
                .into_iter()
                .map(normalize_tag)
                .collect::<Result<_, _>>()
                .map(Test::TagHasAny),
            ConditionOp::NotContains => normalize_tag(value).map(Test::TagLacks),
            _ => normalize_tag(value).map(Test::TagHas),
        },
        ConditionField::LocalTime => parse_window(value).map(Test::LocalTime),
        ConditionField::RiskScore => match op {
            ConditionOp::LessThan => parse_score(value).map(Test::RiskBelow),
            _ => {
                let (low, high) = value
                    .split_once('-')
                    .ok_or("write a range of scores as `a-b`, e.g. `0-40`")?;
                let (low, high) = (parse_score(low.trim())?, parse_score(high.trim())?);
                if low > high {
                    return Err(format!("the range `{value}` runs backwards"));
                }
                Ok(Test::RiskBetween(low, high))
            }
        },
    }
}

/// A comparison on text other than `MATCHES`.
fn text_test(op: ConditionOp, value: &str) -> Result<TextTest, String> {
    Ok(match op {
        ConditionOp::Contains => TextTest::Contains(value.to_lowercase()),
        ConditionOp::NotContains => TextTest::NotContains(value.to_lowercase()),
        ConditionOp::Equals => TextTest::EqualsOneOf(vec![value.to_lowercase()]),
        _ => TextTest::EqualsOneOf(list(value, op)?.into_iter().map(str::to_lowercase).collect()),
    })
}

/// A user's pattern, bounded in length and compiled size.
pub(super) fn compile_regex(pattern: &str, limits: &Limits) -> Result<Regex, String> {
    let length = pattern.chars().count();
    if length > limits.max_regex_len {
        return Err(format!(
            "the pattern is {length} characters; at most {} are allowed",
            limits.max_regex_len
        ));
    }
    RegexBuilder::new(pattern)
        .size_limit(limits.regex_size_limit)
        .dfa_size_limit(limits.regex_size_limit)
        .build()
        .map_err(|error| match error {
            regex::Error::CompiledTooBig(limit) => format!(
                "the pattern is too complex: compiled, it would pass the limit of {} KiB",
                limit / 1024
            ),
            regex::Error::Syntax(text) => format!(
                "the pattern does not compile: {}",
                text.lines().last().unwrap_or_default().trim_start_matches("error: ")
            ),
            other => format!("the pattern does not compile: {other}"),
        })
}

/// `EQUALS` takes one item, `IN` a comma-separated list.
fn list(value: &str, op: ConditionOp) -> Result<Vec<&str>, String> {
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items.iter().any(|item| item.is_empty()) {
        return Err("the list has an empty item".to_owned());
    }
    if op != ConditionOp::In && items.len() > 1 {
        return Err(format!("{} takes one value; use IN for a list", op.as_str()));
    }
    Ok(items)
}

fn strip_at(username: &str) -> String {
    username
        .split(',')
        .map(|item| item.trim().trim_start_matches('@'))
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_peer_kind(text: &str) -> Result<PeerKind, String> {
    match text.to_ascii_uppercase().as_str() {
        "USER" => Ok(PeerKind::User),
        "GROUP" => Ok(PeerKind::Group),
        "CHANNEL" => Ok(PeerKind::Channel),
        _ => Err(format!("`{text}` is not a peer kind; write USER, GROUP or CHANNEL")),
    }
}

/// The name of a peer kind in conditions and explanations.
pub(super) fn peer_kind_name(kind: PeerKind) -> &'static str {
    match kind {
        PeerKind::User => "USER",
        PeerKind::Group => "GROUP",
        PeerKind::Channel => "CHANNEL",
    }
}

fn parse_score(text: &str) -> Result<u8, String> {
    match text.parse::<u8>() {
        Ok(score) if score <= 100 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(score),
        _ => Err(format!("`{text}` is not a risk score from 0 to 100")),
    }
}

/// `HH:MM-HH:MM Area/Zone`.
fn parse_window(value: &str) -> Result<LocalTimeWindow, String> {
    const SHAPE: &str = "write a window as `HH:MM-HH:MM Area/Zone`, e.g. `09:00-18:00 Europe/Berlin`";
    let mut parts = value.split_whitespace();
    let (Some(times), Some(zone), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SHAPE.to_owned());
    };
    let (start, end) = times.split_once('-').ok_or(SHAPE)?;
    let (start, end) = (parse_clock(start)?, parse_clock(end)?);
    if start == end {
        return Err("the window is empty: its start and end are the same time".to_owned());
    }
    Ok(LocalTimeWindow {
        start,
        end,
        zone: parse_time_zone(zone)?,
    })
}

/// `HH:MM` (or `H:MM`) as minutes since midnight.
fn parse_clock(text: &str) -> Result<u32, String> {
    let invalid = || format!("`{text}` is not a time of day HH:MM from 00:00 to 23:59");
    let (hour, minute) = text.split_once(':').ok_or_else(invalid)?;
    let digits =
        |part: &str, max_len: usize| (1..=max_len).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(hour, 2) || !digits(minute, 2) || minute.len() != 2 {
        return Err(invalid());
    }
    match (hour.parse::<u32>(), minute.parse::<u32>()) {
        (Ok(hour), Ok(minute)) if hour < 24 && minute < 60 => Ok(hour * 60 + minute),
        _ => Err(invalid()),
    }
}
