//! `tgos-console lawful register`: a request received from an authority, with its scope.
//!
//! Rules: the values are parsed into the register's types here (ids, dates, categories, instants) and every
//! rule on them is the use case's (`rules::registration`), which names each bad field at once. A date given
//! for `--from`/`--to` is midnight UTC; the period holds `--from` and ends before `--to`.

use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use tgos_domain::compliance::lawful::{Category, LawfulRequests, NewLawfulRequest};
use tgos_domain::ids::{UserId, WorkspaceId};

use super::Common;
use super::output::print_request;
use super::status::refusal;
use crate::session::StaffSession;

#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    pub(super) common: Common,
    /// Who asks (a court, a police force, a regulator), as they name themselves.
    #[arg(long)]
    authority: String,
    /// The authority's own reference (unique per authority).
    #[arg(long)]
    reference: String,
    /// The law or order that compels the disclosure.
    #[arg(long)]
    legal_basis: String,
    /// The date the request was received (YYYY-MM-DD).
    #[arg(long)]
    received_on: NaiveDate,
    /// The date the answer is due (YYYY-MM-DD).
    #[arg(long)]
    due_on: NaiveDate,
    /// A user the request names, by id (repeat for more).
    #[arg(long = "user")]
    users: Vec<UserId>,
    /// A workspace the request names, by id (repeat for more).
    #[arg(long = "workspace")]
    workspaces: Vec<WorkspaceId>,
    /// The data asked for: PROFILE, SESSIONS, MEMBERSHIPS, AUDIT, BILLING, LEASES, MESSAGES (repeat, or
    /// separate with commas).
    #[arg(long = "category", value_delimiter = ',', value_parser = parse_category, required = true)]
    categories: Vec<Category>,
    /// The period's start (included): YYYY-MM-DD (midnight UTC) or an RFC 3339 time.
    #[arg(long, value_parser = parse_instant)]
    from: DateTime<Utc>,
    /// The period's end (excluded): YYYY-MM-DD (midnight UTC) or an RFC 3339 time.
    #[arg(long, value_parser = parse_instant)]
    to: DateTime<Utc>,
    /// Notes for staff.
    #[arg(long)]
    notes: Option<String>,
}

fn parse_category(text: &str) -> Result<Category, String> {
    Category::parse(text).ok_or_else(|| {
        let names: Vec<_> = Category::ALL.iter().map(|c| c.as_str()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| "expected YYYY-MM-DD or an RFC 3339 time such as 2026-03-01T12:00:00Z".to_owned())
}

pub async fn run(lawful: &LawfulRequests, staff: &StaffSession, args: RegisterArgs, json: bool) -> anyhow::Result<()> {
    let input = NewLawfulRequest {
        authority: args.authority,
        reference: args.reference,
        legal_basis: args.legal_basis,
        received_on: args.received_on,
        due_on: args.due_on,
        users: args.users,
        workspaces: args.workspaces,
        categories: args.categories,
        period_from: args.from,
        period_to: args.to,
        notes: args.notes,
    };
    let request = lawful
        .register(staff.principal(), staff.client(), input)
        .await
        .map_err(|e| refusal(e, json))?;
    print_request(lawful, &request, json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_midnight_utc_and_a_time_keeps_its_instant() {
        assert_eq!(
            parse_instant("2026-03-01").map(|t| t.to_rfc3339()),
            Ok("2026-03-01T00:00:00+00:00".to_owned())
        );
        assert_eq!(
            parse_instant("2026-03-01T12:30:00+02:00").map(|t| t.to_rfc3339()),
            Ok("2026-03-01T10:30:00+00:00".to_owned())
        );
        assert!(parse_instant("March 1st").is_err());
        assert_eq!(parse_category("messages"), Ok(Category::Messages));
        assert!(parse_category("PASSWORDS").is_err_and(|e| e.contains("PROFILE")));
    }
}
