//! `tgos-console audit search [filters] [--limit N] [--json]`: one page of the audit log, newest first.
//!
//! Rules: the filters are checked before the sign-in; then a staff sign-in, and the search runs as that staff
//! member (audited `console.viewed`, page `audit`, on the platform chain); the session ends with the command.
//! `--json` prints `{"entries": […], "next": cursor or null}` (a refusal as `{"error": …}`); without it one
//! line per entry and, when older entries follow, the `--before` that lists them.

use std::io::Write as _;

use clap::Args;
use serde_json::json;
use tgos_domain::audit::{AuditCursor, AuditRecord};
use tgos_domain::compliance::{AUDIT_PAGE_MAX, StaffContext};
use tgos_domain::paging::Page;

use super::filters::{FilterArgs, refused};
use super::table;
use crate::context::{Connection, ConnectionArgs};
use crate::session::{StaffLogin, StaffSession};

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    staff: StaffLogin,
    #[command(flatten)]
    filters: FilterArgs,
    /// How many entries, newest first (at most 500).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=AUDIT_PAGE_MAX))]
    limit: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: SearchArgs, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let search = args.filters.search().map_err(|error| refused(args.json, error))?;
    let console = Connection::open(connection).await?;
    let staff = StaffSession::sign_in(&console, &args.staff).await?;
    let ctx = StaffContext {
        principal: staff.principal(),
        client: staff.client(),
    };
    let printed = match console.compliance().search_audit(ctx, &search, args.limit).await {
        Ok(page) => print(&page, args.json),
        Err(error) => Err(refused(args.json, error)),
    };
    staff.end(&console, printed).await
}

/// Where the next page starts, when one follows.
fn next_of(page: &Page<AuditRecord>) -> Option<AuditCursor> {
    page.items.last().filter(|_| page.has_next).map(AuditCursor::after)
}

fn print(page: &Page<AuditRecord>, json_output: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let next = next_of(page);
    if json_output {
        let entries: Vec<_> = page.items.iter().map(table::json).collect();
        let body = json!({ "entries": entries, "next": next.map(|c| c.to_string()) });
        writeln!(out, "{body}")?;
        return Ok(());
    }
    if page.items.is_empty() {
        writeln!(out, "no entries")?;
    }
    for entry in &page.items {
        let target = match (&entry.target_type, &entry.target_id) {
            (Some(kind), Some(id)) => format!(" target={kind}:{id}"),
            (Some(kind), None) => format!(" target={kind}"),
            (None, Some(id)) => format!(" target={id}"),
            (None, None) => String::new(),
        };
        let ip = entry
            .ip_address
            .as_deref()
            .map(|ip| format!(" ip={ip}"))
            .unwrap_or_default();
        writeln!(
            out,
            "{} {}#{} {} {} {}{target}{ip} {}",
            table::instant(entry.at),
            entry.chain,
            entry.sequence,
            entry.actor.kind.as_str(),
            entry.actor.display_name,
            entry.action,
            entry.metadata
        )?;
    }
    if let Some(cursor) = next {
        writeln!(out, "older entries follow: --before {cursor}")?;
    }
    Ok(())
}
