//! `tgos-console accounts list|reprice|retire [--json]`: the pool as staff see it (status, price, health,
//! holder), a new daily price for an account's next rental, and retiring an account, as the web page's pool
//! does it (`AccountsService::{pool_accounts, reprice_account, retire_account}`).
//!
//! Rules: staff sign-in first; `--json` prints one JSON document (a refusal as `{"error": {…}}`), else a line
//! per account; exit 0 done, 1 refused, 3 no sign-in or no data. Output names accounts by id and shows only
//! what the pool stores in the clear (never a session, a key or a full phone number).

use std::io::Write as _;

use clap::Args;
use serde_json::{Value, json};
use tgos_domain::DomainError;
use tgos_domain::accounts::pool::rules::Retirement;
use tgos_domain::accounts::pool::{AccountStatus, PoolAccount, PoolFilter};
use tgos_domain::billing::Money;
use tgos_domain::ids::AccountId;
use tgos_domain::paging::{MAX_PAGE, Page, PageRequest};

use super::PriceArgs;
use crate::context::{Connection, ConnectionArgs};
use crate::errors::{code_of, field_of};
use crate::session::{StaffLogin, StaffSession};
use crate::web::when;

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    staff: StaffLogin,
    #[arg(long)]
    json: bool,
    /// Only accounts in this status: AVAILABLE, LEASED or RETIRED.
    #[arg(long, value_parser = parse_status)]
    status: Option<AccountStatus>,
    /// The page after this account id (the last id of the previous page).
    #[arg(long)]
    after: Option<AccountId>,
    /// How many accounts (1 to 100).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=MAX_PAGE))]
    first: u64,
}

#[derive(Debug, Args)]
pub struct RepriceArgs {
    #[command(flatten)]
    staff: StaffLogin,
    #[arg(long)]
    json: bool,
    /// The account's id.
    account: AccountId,
    #[command(flatten)]
    price: PriceArgs,
}

#[derive(Debug, Args)]
pub struct RetireArgs {
    #[command(flatten)]
    staff: StaffLogin,
    #[arg(long)]
    json: bool,
    /// The account's id.
    account: AccountId,
}

fn parse_status(text: &str) -> Result<AccountStatus, String> {
    AccountStatus::parse(&text.to_uppercase()).ok_or_else(|| "expected AVAILABLE, LEASED or RETIRED".to_owned())
}

/// A price as the pages and `--json` show it.
pub fn money_json(money: Money) -> Value {
    json!({ "amount_minor": money.minor(), "currency": money.currency().code(), "formatted": money.to_string() })
}

/// One account of the pool as the pages and `--json` show it.
pub fn pool_account_json(entry: &PoolAccount) -> Value {
    let a = &entry.account;
    let h = &entry.health;
    json!({
        "id": a.id.to_string(),
        "status": a.status.as_str(),
        "retiring_since": a.retiring_since.map(when),
        "sandbox": a.sandbox,
        "display_name": a.profile.display_name,
        "username": a.profile.username,
        "phone_masked": a.profile.phone_masked,
        "country": a.profile.country.as_ref().map(|c| c.as_str()),
        "premium": a.profile.premium,
        "price_per_day": money_json(a.price_per_day),
        "added": when(a.created_at),
        "health": {
            "state": h.state.as_str(),
            "risk": h.risk.value(),
            "restrictions": h.restrictions.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "cooldown_until": h.state.cooldown_until().map(when),
            "signal_points_24h": h.signals.iter().map(|b| u64::from(b.points)).sum::<u64>(),
            "signals": h.signals.iter().map(|b| json!({ "at": when(b.at), "points": b.points })).collect::<Vec<_>>(),
            "last_observed": h.last_observed_at.map(when),
        },
        "holder": entry.holder.as_ref().map(|holder| json!({
            "workspace_id": holder.workspace_id.to_string(),
            "workspace_name": holder.workspace_name,
            "lease_ends": holder.lease_ends.map(when),
        })),
    })
}

/// A page of the pool as the pages and `--json` show it, with the cursor of the next page.
pub fn pool_page_json(page: &Page<PoolAccount>) -> Value {
    let next = page
        .has_next
        .then(|| page.items.last().map(|e| e.account.id.to_string()))
        .flatten();
    json!({
        "accounts": page.items.iter().map(pool_account_json).collect::<Vec<_>>(),
        "next_after": next,
    })
}

/// What retiring did, in words.
pub fn retirement_text(plan: Retirement) -> &'static str {
    match plan {
        Retirement::Now => "retired: it is no longer offered",
        Retirement::AtLeaseEnd => "retiring: its lease runs to its end, cannot be renewed, and then it leaves the pool",
    }
}

pub async fn list(args: ListArgs, connection: &ConnectionArgs) -> anyhow::Result<()> {
    run(&args.staff, args.json, connection, async |console, session| {
        let filter = PoolFilter { status: args.status };
        let page = console
            .accounts
            .pool_accounts(session.principal(), &filter, PageRequest::new(args.after, args.first))
            .await?;
        Ok(pool_page_json(&page))
    })
    .await
}

pub async fn reprice(args: RepriceArgs, connection: &ConnectionArgs) -> anyhow::Result<()> {
    run(&args.staff, args.json, connection, async |console, session| {
        let account = console
            .accounts
            .reprice_account(session.principal(), session.client(), args.account, args.price.money())
            .await?;
        Ok(json!({ "repriced": account.id.to_string(), "price_per_day": money_json(account.price_per_day) }))
    })
    .await
}

pub async fn retire(args: RetireArgs, connection: &ConnectionArgs) -> anyhow::Result<()> {
    run(&args.staff, args.json, connection, async |console, session| {
        let plan = console
            .accounts
            .retire_account(session.principal(), session.client(), args.account)
            .await?;
        let when = match plan {
            Retirement::Now => "NOW",
            Retirement::AtLeaseEnd => "AT_LEASE_END",
        };
        Ok(json!({ "retired": args.account.to_string(), "when": when, "text": retirement_text(plan) }))
    })
    .await
}

/// Signs staff in, runs `act`, prints its outcome, and signs out.
async fn run(
    staff: &StaffLogin,
    json_output: bool,
    connection: &ConnectionArgs,
    act: impl AsyncFnOnce(&Connection, &StaffSession) -> Result<Value, DomainError>,
) -> anyhow::Result<()> {
    let console = Connection::open(connection).await?;
    let session = StaffSession::sign_in(&console, staff).await?;
    let outcome = act(&console, &session).await;
    let printed = print(json_output, outcome);
    session.end(&console, printed).await
}

fn print(json_output: bool, outcome: Result<Value, DomainError>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match outcome {
        Ok(value) if json_output => writeln!(out, "{value}")?,
        Ok(value) => match value.get("accounts").and_then(Value::as_array) {
            Some(accounts) => {
                for a in accounts {
                    writeln!(out, "{}", line(a))?;
                }
                writeln!(out, "{} accounts", accounts.len())?;
                if let Some(next) = value["next_after"].as_str() {
                    writeln!(out, "more: --after {next}")?;
                }
            }
            None => writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?,
        },
        Err(error) => {
            if json_output {
                let body = json!({ "error": { "code": code_of(&error), "field": field_of(&error), "message": error.to_string() } });
                writeln!(out, "{body}")?;
            }
            return Err(anyhow::Error::new(error));
        }
    }
    Ok(())
}

/// `<id> <status> <price> health=<state> risk=<n> [holder=<workspace> until <end>]`.
fn line(a: &Value) -> String {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut line = format!(
        "{} {}{} {} health={} risk={}",
        text(&a["id"]),
        text(&a["status"]),
        if a["retiring_since"].is_null() { "" } else { " RETIRING" },
        text(&a["price_per_day"]["formatted"]),
        text(&a["health"]["state"]),
        a["health"]["risk"],
    );
    if let Some(holder) = a["holder"].as_object() {
        line.push_str(&format!(
            " holder={} ({}) until {}",
            text(&holder["workspace_id"]),
            text(&holder["workspace_name"]),
            text(&holder["lease_ends"])
        ));
    }
    line
}
