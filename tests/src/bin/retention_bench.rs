//! Retention benchmark (issue 17): the dialog page's latency while the retention sweep deletes a million
//! expired sessions, against the same page idle, on the real server in process on a fresh database.
//!
//! ```sh
//! cargo build -p tgos-tests --bin retention-bench
//! ./target/debug/retention-bench sqlite
//! TGOS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ./target/debug/retention-bench postgres
//! ```
//!
//! Switches (environment, defaults in brackets): `BENCH_SESSIONS` [1000000] expired sessions,
//! `BENCH_CLIENTS` [8] concurrent clients reading the page, `BENCH_IDLE_SECONDS` [10] of the idle
//! measurement, `BENCH_BATCH` [500] rows per sweep statement, `BENCH_DIALOGS` [50] dialogs on the page.
//! The load generator, the server and (for SQLite) the database share one process and two cores.

#![expect(clippy::print_stdout, reason = "the benchmark reports its table on standard output")]
#![expect(
    clippy::print_stderr,
    reason = "the benchmark reports its progress on standard error"
)]

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
use serde_json::json;
use tgos_domain::clock::SystemClock;
use tgos_domain::retention::{RetentionService, RetentionWindows};
use tgos_tests::{Backend, TestApp, TestOptions};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DIALOG_PAGE: &str = "query($w: ID!) { workspace(id: $w) { dialogs(first: 50) { edges { node { id unreadCount peer { id title } lastMessage { id text } } } } } }";
const RENT: &str =
    "mutation($w: ID!, $o: ID!, $d: Int!) { rentAccount(workspaceId: $w, offerId: $o, days: $d) { id } }";

fn env_or<T: FromStr>(name: &str, default: T) -> T {
    #[expect(clippy::disallowed_methods, reason = "the benchmark's own switches")]
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A workspace renting one sandbox account with `dialogs` dialogs synced; the owner's token and workspace.
async fn seed(app: &TestApp, dialogs: usize) -> anyhow::Result<(String, String)> {
    let account = *app.stock_pool(1, 100).await?.first().context("no account")?;
    let owner = app.sign_up("bench").await?;
    let workspace = app.create_workspace(&owner, "Bench").await?;
    app.credit_wallet(&owner, &workspace, 10_000).await?;
    let rented = app
        .gql(
            Some(&owner),
            RENT,
            json!({ "w": workspace, "o": account.to_string(), "d": 1 }),
        )
        .await?;
    anyhow::ensure!(rented.is_ok(), "renting failed: {}", rented.body);
    let scope = app.scope_of(&owner, &workspace).await?;
    let identity = app.accounts.sandbox_identity(&scope, account).await?;
    let network = app.sandbox().context("the sandbox gateway is off")?;
    network.ensure_account(identity.user_id, &identity.name, None)?;
    for n in 0..dialogs {
        network.contact_send(identity.user_id, &format!("Contact {n:03}"), &format!("hello from {n}"))?;
    }
    app.inbox.sync_all().await?;
    Ok((owner, workspace))
}

/// `count` sessions of the bench user, expired in 2000, in statements of 100,000 rows.
async fn expired_sessions(app: &TestApp, count: u64) -> anyhow::Result<()> {
    let db = app.db().await?;
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    let mut done = 0;
    while done < count {
        let chunk = (count - done).min(100_000);
        let sql = if postgres {
            format!(
                "INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at) SELECT \
                 gen_random_uuid(), s.user_id, sha256(convert_to(gen_random_uuid()::text, 'UTF8')), \
                 '2000-01-01 00:00:00+00', '2000-01-01 00:00:00+00', '2000-01-02 00:00:00+00' FROM (SELECT user_id FROM sessions LIMIT 1) s, generate_series(1, {chunk})"
            )
        } else {
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {chunk}) INSERT INTO \
                 sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at) SELECT CASE typeof(s.id) WHEN 'blob' \
                 THEN randomblob(16) ELSE lower(hex(randomblob(16))) END, s.user_id, randomblob(32), \
                 '2000-01-01 00:00:00+00:00', '2000-01-01 00:00:00+00:00', '2000-01-02 00:00:00+00:00' FROM n, (SELECT id, user_id FROM \
                 sessions LIMIT 1) s"
            )
        };
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
            .await?;
        done += chunk;
    }
    Ok(())
}

/// Reads the page from `clients` clients until `stop`; every answer checked; the latencies.
async fn read_pages(
    app: Arc<TestApp>,
    token: String,
    workspace: String,
    clients: usize,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<Vec<Duration>> {
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (app, token, workspace, stop) = (app.clone(), token.clone(), workspace.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let page = app.gql(Some(&token), DIALOG_PAGE, json!({ "w": workspace })).await?;
                latencies.push(started.elapsed());
                anyhow::ensure!(page.is_ok(), "a page failed: {}", page.body);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    all.sort();
    Ok(all)
}

fn quantile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

async fn run(app: Arc<TestApp>, name: &'static str) -> anyhow::Result<()> {
    let sessions: u64 = env_or("BENCH_SESSIONS", 1_000_000);
    let clients: usize = env_or("BENCH_CLIENTS", 8);
    let idle_seconds: u64 = env_or("BENCH_IDLE_SECONDS", 10);
    let batch: u64 = env_or("BENCH_BATCH", 500);
    let (token, workspace) = seed(&app, env_or("BENCH_DIALOGS", 50)).await?;
    let inserting = Instant::now();
    expired_sessions(&app, sessions).await?;
    eprintln!(
        "{name}: {sessions} expired sessions inserted in {:.1} s",
        inserting.elapsed().as_secs_f64()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let idle = tokio::spawn(read_pages(
        app.clone(),
        token.clone(),
        workspace.clone(),
        clients,
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(idle_seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let idle = idle.await??;

    let stop = Arc::new(AtomicBool::new(false));
    let during = tokio::spawn(read_pages(app.clone(), token, workspace, clients, stop.clone()));
    let sweeping = Instant::now();
    let summary = RetentionService::new(
        Arc::clone(&app.store),
        Arc::new(SystemClock),
        RetentionWindows::default(),
    )
    .with_batch(batch)
    .sweep()
    .await?;
    let swept_in = sweeping.elapsed();
    stop.store(true, Ordering::Relaxed);
    let during = during.await??;
    let deleted = summary.rows_of("expired_sessions").unwrap_or(0);
    anyhow::ensure!(
        deleted >= sessions,
        "the sweep deleted {deleted} of {sessions} sessions"
    );

    println!(
        "| backend | sessions deleted | batch | sweep | rows/s | pages idle | p50 idle | p99 idle | pages during | p50 during | p99 during | p99 ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {name} | {deleted} | {batch} | {:.1} s | {:.0} | {} | {:.1} ms | {:.1} ms | {} | {:.1} ms | {:.1} ms | {:.2} |",
        swept_in.as_secs_f64(),
        deleted as f64 / swept_in.as_secs_f64(),
        idle.len(),
        quantile(&idle, 0.5),
        quantile(&idle, 0.99),
        during.len(),
        quantile(&during, 0.5),
        quantile(&during, 0.99),
        quantile(&during, 0.99) / quantile(&idle, 0.99).max(f64::MIN_POSITIVE),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (backend, name) = match std::env::args().nth(1).as_deref() {
        None | Some("sqlite") => (Backend::Sqlite, "SQLite"),
        Some("postgres") => (Backend::Postgres, "PostgreSQL"),
        Some(other) => anyhow::bail!("unknown backend {other}: sqlite or postgres"),
    };
    let options = TestOptions {
        workers: false,
        user_requests_per_minute: u32::MAX,
        ..TestOptions::lenient_lockout()
    };
    backend
        .run(options, move |app| async move { run(app, name).await })
        .await
}
