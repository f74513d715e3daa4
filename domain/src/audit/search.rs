//! Searching the audit log across every chain (the staff console's Audit page, `audit search|export`).
//!
//! Rules:
//! - **Newest first, by time then id.** Entries of different chains have no common sequence, so the order is
//!   the entry's time and, between entries of the same microsecond, its id (time-ordered, so still the order
//!   they were written in).
//! - **Keyset paging.** The next page starts strictly before the [`AuditCursor`] of the last entry shown,
//!   never at an offset: a page deep in the log is one range read, and an entry written meanwhile neither
//!   repeats nor hides an older one.
//! - **Exact filters.** Workspace, chain, actor id and action each match exactly (one indexed equality);
//!   `from` is inclusive and `to` exclusive. A date without a time (`2026-12-06`) means the whole day: as
//!   `from` its first instant, as `to` the first instant of the next day. `to` must come after `from`.
//! - Typed text is parsed here once ([`AuditSearch::parse`]), so the web form and the command line refuse the
//!   same input with the same field named.

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone as _, Utc};
use serde_json::{Value, json};

use super::entry::AuditRecord;
use crate::error::{DomainResult, FieldError, FieldErrors};
use crate::ids::{AuditEntryId, WorkspaceId};

/// Where the next page of a search starts: strictly before this entry (in the search's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    pub at: DateTime<Utc>,
    pub id: AuditEntryId,
}

impl AuditCursor {
    /// The cursor after `entry`: the next page holds what is older than it.
    pub fn after(entry: &AuditRecord) -> Self {
        Self {
            at: entry.at,
            id: entry.id,
        }
    }

    /// `<RFC 3339 time, microseconds>_<entry id>`: safe in a URL and on a command line.
    pub fn parse(text: &str) -> Option<Self> {
        let (at, id) = text.trim().split_once('_')?;
        let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
        Some(Self {
            at: AuditRecord::normalize_time(at),
            id: id.parse().ok()?,
        })
    }
}

impl std::fmt::Display for AuditCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}_{}",
            self.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            self.id
        )
    }
}

/// Which entries a search lists; every field narrows it, `None` leaves it open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditSearch {
    /// Entries of this workspace's chain.
    pub workspace: Option<WorkspaceId>,
    /// Entries of this chain (`platform`, `user:<id>`, `workspace:<id>`).
    pub chain: Option<String>,
    /// Entries whose actor has this id (a user, staff member or API key).
    pub actor_id: Option<String>,
    /// Entries of this action (`member.invited`).
    pub action: Option<String>,
    /// At or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Before this time.
    pub to: Option<DateTime<Utc>>,
    /// Older than this entry (the next page).
    pub before: Option<AuditCursor>,
}

/// A search as typed into a form or on a command line: each field empty when not given.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditSearchText<'a> {
    pub workspace: &'a str,
    pub chain: &'a str,
    pub actor_id: &'a str,
    pub action: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub before: &'a str,
}

/// How long a typed chain key, actor id or action may be (the columns' widths).
const CHAIN_MAX: usize = 100;
const ACTOR_MAX: usize = 64;
const ACTION_MAX: usize = 64;

fn given(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

fn exact(field: &str, text: &str, max: usize) -> Result<Option<String>, FieldError> {
    match given(text) {
        None => Ok(None),
        Some(value) if value.chars().count() > max || value.chars().any(char::is_control) => {
            Err(FieldError::new(field, format!("at most {max} characters, on one line")))
        }
        Some(value) => Ok(Some(value.to_owned())),
    }
}

/// A time (`RFC 3339`) or a day (`YYYY-MM-DD`, UTC); a day is its first instant, or with `day_end` the first
/// instant of the next day.
fn instant(field: &str, text: &str, day_end: bool) -> Result<Option<DateTime<Utc>>, FieldError> {
    let Some(value) = given(text) else {
        return Ok(None);
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(Some(AuditRecord::normalize_time(at.with_timezone(&Utc))));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|day| if day_end { day.succ_opt() } else { Some(day) })
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|at| Some(Utc.from_utc_datetime(&at)))
        .ok_or_else(|| FieldError::new(field, "a date (YYYY-MM-DD) or a time (RFC 3339), UTC"))
}

impl AuditSearch {
    /// Every entry, newest first.
    pub fn everything() -> Self {
        Self::default()
    }

    /// The search `text` asks for; `BAD_USER_INPUT` naming every field that is not what it should be.
    pub fn parse(text: &AuditSearchText<'_>) -> DomainResult<Self> {
        let mut errors = FieldErrors::default();
        let workspace = match given(text.workspace) {
            None => None,
            Some(id) => errors.check(
                id.parse::<WorkspaceId>()
                    .map_err(|_| FieldError::new("workspace", "not a workspace id")),
            ),
        };
        let chain = errors.check(exact("chain", text.chain, CHAIN_MAX)).flatten();
        let actor_id = errors.check(exact("actor", text.actor_id, ACTOR_MAX)).flatten();
        let action = errors.check(exact("action", text.action, ACTION_MAX)).flatten();
        let from = errors.check(instant("from", text.from, false)).flatten();
        let to = errors.check(instant("to", text.to, true)).flatten();
        if let (Some(from), Some(to)) = (from, to)
            && to <= from
        {
            errors.push(FieldError::new("to", "must come after from"));
        }
        let before = match given(text.before) {
            None => None,
            Some(cursor) => {
                errors.check(AuditCursor::parse(cursor).ok_or_else(|| FieldError::new("before", "not a page cursor")))
            }
        };
        errors.into_result()?;
        Ok(Self {
            workspace,
            chain,
            actor_id,
            action,
            from,
            to,
            before,
        })
    }

    /// The same search, older than `cursor` (its next page).
    #[must_use]
    pub fn older_than(self, cursor: AuditCursor) -> Self {
        Self {
            before: Some(cursor),
            ..self
        }
    }

    /// The filters given, as the audit entry of a search or an export records them.
    pub fn describe(&self) -> Value {
        let time = |at: Option<DateTime<Utc>>| at.map(|at| at.to_rfc3339_opts(SecondsFormat::Micros, true));
        let mut filter = json!({
            "workspace": self.workspace.map(|w| w.to_string()),
            "chain": self.chain,
            "actor": self.actor_id,
            "action": self.action,
            "from": time(self.from),
            "to": time(self.to),
            "before": self.before.map(|c| c.to_string()),
        });
        if let Some(fields) = filter.as_object_mut() {
            fields.retain(|_, value| !value.is_null());
        }
        filter
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DomainError;

    fn fields_of(error: DomainError) -> Vec<String> {
        match error {
            DomainError::Invalid(fields) => fields.into_iter().map(|f| f.field).collect(),
            other => vec![format!("not invalid: {other}")],
        }
    }

    #[test]
    fn empty_text_searches_everything() -> DomainResult<()> {
        assert_eq!(
            AuditSearch::parse(&AuditSearchText::default())?,
            AuditSearch::everything()
        );
        let blank = AuditSearchText {
            workspace: "  ",
            action: " ",
            ..AuditSearchText::default()
        };
        assert_eq!(AuditSearch::parse(&blank)?, AuditSearch::everything());
        Ok(())
    }

    #[test]
    fn a_day_as_to_includes_the_whole_day() -> DomainResult<()> {
        let search = AuditSearch::parse(&AuditSearchText {
            from: "2026-12-06",
            to: "2026-12-06",
            ..AuditSearchText::default()
        })?;
        let time = |at: Option<DateTime<Utc>>| at.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true));
        assert_eq!(time(search.from).as_deref(), Some("2026-12-06T00:00:00Z"));
        assert_eq!(time(search.to).as_deref(), Some("2026-12-07T00:00:00Z"));
        Ok(())
    }

    #[test]
    fn an_exact_time_is_kept_to_the_microsecond() -> DomainResult<()> {
        let search = AuditSearch::parse(&AuditSearchText {
            from: "2026-12-06T10:20:30.1234567+01:00",
            ..AuditSearchText::default()
        })?;
        let from = search.from.map(|at| at.to_rfc3339_opts(SecondsFormat::Micros, true));
        assert_eq!(from.as_deref(), Some("2026-12-06T09:20:30.123456Z"));
        Ok(())
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let long = "a".repeat(65);
        let refused = AuditSearch::parse(&AuditSearchText {
            workspace: "not-an-id",
            actor_id: &long,
            action: "line\nbreak",
            from: "yesterday",
            before: "nonsense",
            ..AuditSearchText::default()
        });
        assert_eq!(
            refused.map_err(fields_of),
            Err(vec![
                "workspace".to_owned(),
                "actor".to_owned(),
                "action".to_owned(),
                "from".to_owned(),
                "before".to_owned()
            ])
        );
    }

    #[test]
    fn to_must_come_after_from() {
        let refused = AuditSearch::parse(&AuditSearchText {
            from: "2026-12-07",
            to: "2026-12-05",
            ..AuditSearchText::default()
        });
        assert_eq!(refused.map_err(fields_of), Err(vec!["to".to_owned()]));
    }

    #[test]
    fn a_cursor_reads_back_as_written() {
        let cursor = AuditCursor {
            at: AuditRecord::normalize_time(Utc::now()),
            id: AuditEntryId::generate(),
        };
        assert_eq!(AuditCursor::parse(&cursor.to_string()), Some(cursor));
        assert_eq!(AuditCursor::parse("2026-12-06T10:00:00Z"), None);
        assert_eq!(
            AuditCursor::parse("yesterday_0192f0c0-0000-7000-8000-000000000000"),
            None
        );
    }

    #[test]
    fn the_description_names_only_the_filters_given() -> DomainResult<()> {
        let search = AuditSearch::parse(&AuditSearchText {
            action: "member.invited",
            from: "2026-12-06",
            ..AuditSearchText::default()
        })?;
        assert_eq!(
            search.describe(),
            json!({ "action": "member.invited", "from": "2026-12-06T00:00:00.000000Z" })
        );
        Ok(())
    }
}
