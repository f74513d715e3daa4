//! What an idle live connection costs in memory on the sandbox gateway (issue 19): 1,000 rented accounts taken
//! live by one supervisor in this process (which hosts the server on a fresh database), resident memory
//! before and after, then every connection stopped and its lease released. A measurement, not a check of
//! behaviour; docs/PERFORMANCE.md has the figures.
//!
//! ```sh
//! cargo build -p tgos-tests --bin live-memory
//! ./target/debug/live-memory sqlite
//! TGOS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ./target/debug/live-memory postgres
//! ```
//!
//! Run each backend in its own process: a second run in one process reuses the memory the first freed.

#![expect(clippy::print_stdout, reason = "the measurement reports on standard output")]

#[path = "inbox_bench/probe.rs"]
#[expect(dead_code, reason = "the inbox benchmark's probes; this one reads memory only")]
mod probe;

use std::time::{Duration, Instant};

use tgos_domain::ids::AccountId;
use tgos_domain::inbox::{LiveConnections, LiveTiming};
use tgos_domain::request::ClientInfo;
use tgos_domain::tenancy::TenantScope;
use tgos_tests::{Backend, TestApp, TestOptions};

const ACCOUNTS: usize = 1_000;

fn main() -> anyhow::Result<()> {
    let backend = match std::env::args().nth(1).as_deref() {
        Some("sqlite") => Backend::Sqlite,
        Some("postgres") => Backend::Postgres,
        _ => anyhow::bail!("usage: live-memory sqlite|postgres"),
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(backend.run(TestOptions::default(), measure))
}

async fn measure(app: std::sync::Arc<TestApp>) -> anyhow::Result<()> {
    let network = app.sandbox().ok_or_else(|| anyhow::anyhow!("sandbox"))?.clone();
    let owner = app.sign_up("mona").await?;
    let workspace = app.create_workspace(&owner, "Agency").await?;
    app.credit_wallet(&owner, &workspace, 600 * ACCOUNTS as i64).await?;
    let scope = app.scope_of(&owner, &workspace).await?;
    let principal = app
        .identity
        .authenticate(&owner)
        .await?
        .ok_or_else(|| anyhow::anyhow!("signed in"))?
        .principal;
    let accounts = app.stock_pool(ACCOUNTS, 500).await?;
    let mut users = Vec::with_capacity(ACCOUNTS);
    for account in &accounts {
        app.accounts
            .rent_account(&scope, &principal, &ClientInfo::default(), *account, 1)
            .await?;
        let identity = app.accounts.sandbox_identity(&scope, *account).await?;
        network.ensure_account(identity.user_id, &identity.name, None)?;
        users.push(identity.user_id);
    }
    let open = |users: &[i64]| -> anyhow::Result<usize> {
        users.iter().try_fold(0, |sum, user| {
            Ok::<_, anyhow::Error>(sum + network.connection_counts(*user)?.1)
        })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = probe::rss_bytes()?;

    let started = Instant::now();
    let mut supervisor = LiveConnections::new(app.inbox.clone(), LiveTiming::default());
    let scan = supervisor.scan_once().await?;
    assert_eq!(scan.started, ACCOUNTS);
    while open(&users)? < ACCOUNTS || !caught_up(&app, &scope, &accounts).await? {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(300),
            "not all live in 5 minutes"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let up_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = probe::rss_bytes()?;
    assert_eq!(supervisor.scan_once().await?.running, ACCOUNTS, "all still live");

    let stopping = Instant::now();
    assert_eq!(supervisor.shutdown().await, ACCOUNTS);
    let stopped_in = stopping.elapsed();
    assert_eq!(open(&users)?, 0);
    for account in &accounts {
        assert_eq!(app.store.connection_lease(*account).await?, None, "released");
    }
    let per_connection = after.saturating_sub(before) / ACCOUNTS as u64;
    println!(
        "live connections: {ACCOUNTS} accounts live in {up_in:?} (connect, subscribe, first catch-up); \
         RSS {} MiB -> {} MiB: {} KiB per idle live connection; all stopped and released in {stopped_in:?} \
         (one buffered update is {} bytes; the sandbox buffers 256 per connection)",
        before / (1 << 20),
        after / (1 << 20),
        per_connection / 1024,
        std::mem::size_of::<tgos_domain::accounts::gateway::StampedUpdate>(),
    );
    Ok(())
}

/// Whether every account stored its first update state (its first catch-up finished).
async fn caught_up(app: &TestApp, scope: &TenantScope, accounts: &[AccountId]) -> anyhow::Result<bool> {
    for account in accounts {
        if app.store.sync_state(scope, *account).await?.is_none() {
            return Ok(false);
        }
    }
    Ok(true)
}
