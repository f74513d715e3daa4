//! `tgos-console accounts create-sandbox --count N --price-per-day MINOR [--currency USD]`
//!
//! Rules: staff sign-in first; 1 to [`MAX_COUNT`] accounts of the simulated Telegram network (random keys, user
//! ids Telegram never assigns, flagged `sandbox`) are added in one batch, audited like an import.

use anyhow::Context as _;
use clap::Args;
use tgos_domain::DomainError;
use tgos_domain::accounts::pool::ImportSummary;
use tgos_domain::accounts::pool::use_cases::import::sandbox_accounts;
use tgos_domain::billing::Money;
use tgos_domain::identity::Principal;
use tgos_domain::request::ClientInfo;

use super::{PriceArgs, print_added};
use crate::context::{Connection, ConnectionArgs};
use crate::errors::domain;
use crate::session::{StaffLogin, StaffSession};

/// The most sandbox accounts one command adds.
pub const MAX_COUNT: u16 = 1000;

#[derive(Debug, Args)]
pub struct SandboxArgs {
    #[command(flatten)]
    staff: StaffLogin,
    /// How many accounts to add (1 to 1000).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=i64::from(MAX_COUNT)))]
    count: u16,
    #[command(flatten)]
    price: PriceArgs,
}

pub async fn run(args: SandboxArgs, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let console = Connection::open(connection).await?;
    let staff = StaffSession::sign_in(&console, &args.staff).await?;
    let outcome = create(&console, &staff, &args).await;
    staff.end(&console, outcome).await
}

async fn create(console: &Connection, staff: &StaffSession, args: &SandboxArgs) -> anyhow::Result<()> {
    let summary = add_sandbox(
        console,
        staff.principal(),
        staff.client(),
        args.count,
        args.price.money(),
    )
    .await
    .map_err(domain)
    .context("no sandbox account was added")?;
    print_added("created", "sandbox accounts", &summary.accounts)
}

/// Adds `count` (1 to [`MAX_COUNT`]) sandbox accounts at `price` per day as `principal` (the command and the
/// pool page alike).
pub(crate) async fn add_sandbox(
    console: &Connection,
    principal: &Principal,
    client: &ClientInfo,
    count: u16,
    price: Money,
) -> Result<ImportSummary, DomainError> {
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(DomainError::invalid("count", format!("1 to {MAX_COUNT}")));
    }
    let accounts = sandbox_accounts(usize::from(count), console.accounts.now())?;
    console.accounts.add_to_pool(principal, client, accounts, price).await
}
