//! `tgos-console accounts …`: staff stock and curate the rental pool.
//!
//! Rules: every command signs a staff member in first (see `session`). `import` and `create-sandbox` add
//! accounts through `AccountsService::add_to_pool` (`login`, signing one in by phone, through
//! `add_logged_in`, the same batch of one), which seals each session under the platform's key, adds
//! the batch all or nothing and audits `accounts.imported` on the platform chain; `list`, `reprice` and
//! `retire` (see `pool`) are the pool page's use cases, each change audited on the platform chain. Output
//! names accounts by id and never contains a session string, a key or any part of one.

mod import;
mod login;
pub(crate) mod pool;
pub(crate) mod sandbox;

use std::io::Write as _;

use clap::{Args, Subcommand};
use tgos_domain::billing::{Currency, Money};
use tgos_domain::ids::AccountId;

use crate::context::ConnectionArgs;

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Import session strings from a Telethon, Pyrogram or JSON-lines file (all or nothing).
    Import(import::ImportArgs),
    /// Sign an account in by phone (code, then cloud password if it has one) and add it to the pool.
    Login(login::LoginArgs),
    /// Add accounts of the simulated (sandbox) Telegram network to the pool.
    CreateSandbox(sandbox::SandboxArgs),
    /// The pool's accounts with status, price, health and holder, a page at a time.
    List(pool::ListArgs),
    /// A new daily price for an account's next rental (a running lease keeps its price).
    Reprice(pool::RepriceArgs),
    /// Take an account out of the pool: at once when on offer, at its lease's end when leased.
    Retire(pool::RetireArgs),
}

pub async fn run(command: AccountsCommand, connection: &ConnectionArgs) -> anyhow::Result<()> {
    match command {
        AccountsCommand::Import(args) => import::run(args, connection).await,
        AccountsCommand::Login(args) => login::run(args, connection).await,
        AccountsCommand::CreateSandbox(args) => sandbox::run(args, connection).await,
        AccountsCommand::List(args) => pool::list(args, connection).await,
        AccountsCommand::Reprice(args) => pool::reprice(args, connection).await,
        AccountsCommand::Retire(args) => pool::retire(args, connection).await,
    }
}

/// The rental price of the accounts added.
#[derive(Debug, Args)]
pub struct PriceArgs {
    /// The daily rental price, in minor units of the currency (cents for USD).
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    price_per_day: i64,
    /// ISO 4217 code of the price: USD, EUR or GBP.
    #[arg(long, default_value = "USD", value_parser = parse_currency)]
    currency: Currency,
}

impl PriceArgs {
    fn money(&self) -> Money {
        Money::new(self.price_per_day, self.currency)
    }
}

pub(crate) fn parse_currency(text: &str) -> Result<Currency, String> {
    Currency::parse(text).ok_or_else(|| "expected USD, EUR or GBP".to_owned())
}

/// Prints what a command added to stdout: `<verb> N <what>`, then one id per line.
fn print_added(verb: &str, what: &str, accounts: &[AccountId]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{verb} {} {what}", accounts.len())?;
    for id in accounts {
        writeln!(out, "  {id}")?;
    }
    Ok(())
}
