//! `tgos serve --demo`: a world to try the product in, on the embedded default.
//!
//! Seeds, once and idempotently: a demo user (its password generated on first start, kept in
//! `<data_dir>/demo-login.txt` readable by the owner only, and printed on every start), a workspace it owns,
//! 100.00 of starting credit (a ledger grant from the promotions account, applied once), sandbox accounts
//! on offer, and one enabled automation ("Greet enquiries": a reply and a tag when a message asks whether
//! something is available). While the server runs, every [`CHATTER_EVERY`] each sandbox account the demo workspace rents is
//! connected (so what the simulated Telegram says of it reaches its health) and a scripted contact writes to
//! it. Only the sandbox network is ever touched: demo mode refuses to start on any
//! other gateway.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use rand::Rng as _;
use rand::distributions::Alphanumeric;
use secrecy::SecretString;
use tgos_domain::DomainError;
use tgos_domain::automation::{
    Action, AutomationDefinition, Condition, ConditionField, ConditionMode, ConditionOp, Trigger,
};
use tgos_domain::billing::{Currency, Money};
use tgos_domain::identity::Principal;
use tgos_domain::identity::use_cases::{SignInOutcome, SignUpInput};
use tgos_domain::paging::PageRequest;
use tgos_domain::request::ClientInfo;
use tgos_domain::tenancy::TenantScope;
use tgos_telegram::sandbox::SandboxNetwork;

use crate::app::AppState;

const USERNAME: &str = "demo";
const EMAIL: &str = "demo@example.com";
const WORKSPACE: &str = "Demo agency";
const AUTOMATION: &str = "Greet enquiries";
const STARTING_CREDIT_MINOR: i64 = 10_000; // 100.00
const SANDBOX_OFFERS: usize = 5;
const PRICE_PER_DAY_MINOR: i64 = 150; // 1.50
/// How often the demo contact writes.
pub const CHATTER_EVERY: Duration = Duration::from_secs(20);

const LINES: &[&str] = &[
    "Hi! Is this still available?",
    "Thanks for the quick answer.",
    "Could you send me the details again?",
    "Sounds good, talk tomorrow.",
    "What time works for you?",
];

/// The seeded world.
#[derive(Debug)]
pub struct DemoWorld {
    pub login: String,
    pub password: String,
    pub scope: TenantScope,
}

/// The demo user's password: read from the login file, or generated and written there (mode 0600).
fn demo_password(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("demo-login.txt");
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Some(password) = text.lines().find_map(|l| l.strip_prefix("password: "))
    {
        return Ok(password.trim().to_owned());
    }
    let password: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    std::io::Write::write_all(
        &mut file,
        format!("login: {USERNAME}\npassword: {password}\n").as_bytes(),
    )?;
    Ok(password)
}

fn domain(error: DomainError) -> anyhow::Error {
    anyhow::anyhow!("demo seeding: {error}")
}

/// Seeds the demo world (idempotent) and returns how to sign in to it.
pub async fn seed(state: &AppState) -> anyhow::Result<DemoWorld> {
    anyhow::ensure!(
        state.sandbox.is_some(),
        "--demo needs the sandbox Telegram gateway (telegram.gateway = \"sandbox\")"
    );
    let password = demo_password(&state.settings.data_dir)?;
    let client = ClientInfo::default();
    let secret = SecretString::from(password.clone());
    let token = match state.identity.sign_in(USERNAME, &secret, &client).await {
        Ok(SignInOutcome::Session(session)) => session.token,
        Ok(SignInOutcome::TwoFactorChallenge { .. }) => {
            anyhow::bail!("the demo user has two-factor on; sign in to it yourself")
        }
        Err(DomainError::InvalidCredentials(_)) => {
            let input = SignUpInput {
                email: EMAIL.to_owned(),
                full_name: "Demo Operator".to_owned(),
                username: USERNAME.to_owned(),
                password: secret,
                age_confirmed: true,
            };
            state.identity.sign_up(input, &client).await.map_err(domain)?.1.token
        }
        Err(other) => return Err(domain(other)),
    };
    let principal: Principal = state
        .identity
        .authenticate(&token)
        .await
        .map_err(domain)?
        .context("the demo session does not authenticate")?
        .principal;
    let mine = state.tenancy.my_workspaces(&principal).await.map_err(domain)?;
    let scope = match mine.into_iter().find(|(w, _)| w.name.as_str() == WORKSPACE) {
        Some((_, scope)) => scope,
        None => {
            let created = state
                .tenancy
                .create_workspace(&principal, WORKSPACE, &client)
                .await
                .map_err(domain)?;
            state.tenancy.scope(&principal, created.id).await.map_err(domain)?
        }
    };
    state
        .billing
        .grant_credit(
            scope.workspace_id(),
            Money::new(STARTING_CREDIT_MINOR, Currency::USD),
            &format!("demo:{}", scope.workspace_id()),
            "Demo credit",
        )
        .await
        .map_err(domain)?;
    let offered = state
        .accounts
        .offers(&principal, None, PageRequest::first(100))
        .await
        .map_err(domain)?
        .items
        .into_iter()
        .filter(|a| a.sandbox)
        .count();
    if offered < SANDBOX_OFFERS {
        state
            .accounts
            .stock_sandbox(SANDBOX_OFFERS - offered, Money::new(PRICE_PER_DAY_MINOR, Currency::USD))
            .await
            .map_err(domain)?;
    }
    seed_automation(state, &principal, &scope, &client).await?;
    Ok(DemoWorld {
        login: USERNAME.to_owned(),
        password,
        scope,
    })
}

/// The demo's automation: a greeting for enquiries, so a newcomer sees one run (the contact's first line asks
/// whether something is available). Created once; an operator's later changes to it are kept.
async fn seed_automation(
    state: &AppState,
    principal: &Principal,
    scope: &TenantScope,
    client: &ClientInfo,
) -> anyhow::Result<()> {
    let existing = state
        .automations
        .automations(scope, PageRequest::first(100))
        .await
        .map_err(domain)?;
    if existing.items.iter().any(|a| a.definition.name == AUTOMATION) {
        return Ok(());
    }
    let definition = AutomationDefinition {
        name: AUTOMATION.to_owned(),
        enabled: true,
        trigger: Trigger::MessageReceived { accounts: Vec::new() },
        conditions: vec![Condition::new(ConditionField::Text, ConditionOp::Contains, "available")],
        mode: ConditionMode::All,
        actions: vec![
            Action::SendMessage {
                text: "Hello {{peer.title}}! Thanks for writing; an operator will answer shortly.".to_owned(),
            },
            Action::TagDialog {
                tag: "enquiry".to_owned(),
            },
        ],
    };
    state
        .automations
        .create_automation(scope, principal, client, definition)
        .await
        .map_err(domain)?;
    Ok(())
}

/// Every [`CHATTER_EVERY`], the demo contact writes one line to each sandbox account the demo workspace
/// rents. Runs until the task is aborted.
pub async fn chatter(state: AppState, world: DemoWorld, network: SandboxNetwork) {
    let mut ticks = tokio::time::interval(CHATTER_EVERY);
    let mut line = 0;
    loop {
        ticks.tick().await;
        let held = match state
            .accounts
            .leased_accounts(&world.scope, PageRequest::first(100))
            .await
        {
            Ok(held) => held.items,
            Err(error) => {
                tracing::warn!(error = %error, "demo contact: cannot list the demo workspace's accounts");
                continue;
            }
        };
        for account in held.into_iter().filter(|a| a.sandbox) {
            // Connecting is how the server hears what Telegram thinks of an account: a revoked session shows
            // in its health within a tick.
            match state.connections.connect(&account).await {
                Ok(connected) => {
                    if let Err(error) = state.connections.disconnect(connected).await {
                        tracing::debug!(error = %error, "demo: a connection lease was not given back");
                    }
                }
                Err(error) => tracing::debug!(error = %error, "demo: a rented account did not connect"),
            }
            let Ok(identity) = state.accounts.sandbox_identity(&world.scope, account.id).await else {
                continue;
            };
            let text = LINES[line % LINES.len()];
            line += 1;
            let sent = network
                .ensure_account(identity.user_id, &identity.name, None)
                .and_then(|()| network.contact_send(identity.user_id, "Demo contact", text));
            if let Err(error) = sent {
                tracing::debug!(error = %error, "demo contact: a message was not delivered");
            }
        }
    }
}
