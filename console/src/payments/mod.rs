//! `tgos-console payments discrepancies [--limit N]`: provider notifications that did not match their top-up.
//!
//! Rules: staff sign-in first; read only. A discrepancy credited nothing; this lists what staff must look at
//! (the provider, its event id, the top-up and workspace it named, why it did not match, and what was expected
//! against what arrived: provider ids and amounts only, never payment credentials).

use std::io::Write as _;

use clap::{Args, Subcommand};
use tgos_domain::billing::matching::discrepancies_for_staff;

use crate::context::{Connection, ConnectionArgs};
use crate::errors::domain;
use crate::session::{StaffLogin, StaffSession};

#[derive(Debug, Subcommand)]
pub enum PaymentsCommand {
    /// List payment notifications that did not match their top-up, newest first.
    Discrepancies(DiscrepanciesArgs),
}

#[derive(Debug, Args)]
pub struct DiscrepanciesArgs {
    #[command(flatten)]
    staff: StaffLogin,
    /// How many to list (at most 500).
    #[arg(long, default_value_t = 50)]
    limit: u64,
}

pub async fn run(command: PaymentsCommand, connection: &ConnectionArgs) -> anyhow::Result<()> {
    match command {
        PaymentsCommand::Discrepancies(args) => {
            let console = Connection::open(connection).await?;
            let staff = StaffSession::sign_in(&console, &args.staff).await?;
            let outcome = list(&console, &staff, args.limit).await;
            staff.end(&console, outcome).await
        }
    }
}

async fn list(console: &Connection, staff: &StaffSession, limit: u64) -> anyhow::Result<()> {
    let found = discrepancies_for_staff(&*console.store, staff.principal(), limit)
        .await
        .map_err(domain)?;
    let mut out = std::io::stdout().lock();
    if found.is_empty() {
        writeln!(out, "no payment discrepancies")?;
    }
    let none = || "-".to_owned();
    for d in found {
        writeln!(
            out,
            "{} {} event={} reason={} top_up={} workspace={} {}",
            d.created_at.to_rfc3339(),
            d.provider.key(),
            d.event_id,
            d.reason,
            d.top_up_id.map_or_else(none, |id| id.to_string()),
            d.workspace_id.map_or_else(none, |id| id.to_string()),
            d.details,
        )?;
    }
    Ok(())
}
