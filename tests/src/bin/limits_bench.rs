//! Limits benchmark (issue 20): what counting a limit costs per check and per request, in this process's
//! memory against the database's `rate_windows` table that replicas share, measured in the same run.
//!
//! ```sh
//! cargo build -p tgos-tests --bin limits-bench
//! ./target/debug/limits-bench sqlite
//! TGOS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ./target/debug/limits-bench postgres
//! ```
//!
//! Two measurements, each for the memory counter (the baseline) and the database counter:
//! - **checks**: `BENCH_CLIENTS` [8] tasks call `RateLimiter::take` back to back for `BENCH_SECONDS` [5] over
//!   `BENCH_KEYS` [1000] keys (all within their limit: the allowed path every request takes), the database
//!   counter on a pool of 8 connections of its own, as the server's;
//! - **requests**: two servers in this process on the same database, one counting in memory and one in the
//!   database; `BENCH_CLIENTS` clients send an authenticated `{ me { user { id } } }` (the cheapest request:
//!   its caller comes from the credential cache, no statement of its own) for `BENCH_SECONDS` to each in
//!   turn, `BENCH_ROUNDS` [2] rounds, and the statements each request cost are read from `/metrics`.
//!
//! The load generator, the servers and (for SQLite) the database share one process and the machine's cores.

#![expect(clippy::print_stdout, reason = "the benchmark reports its table on standard output")]
#![expect(
    clippy::print_stderr,
    reason = "the benchmark reports its progress on standard error"
)]

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tgos_api::config::LimitsStore;
use tgos_domain::clock::SystemClock;
use tgos_domain::limits::{Limit, MemoryRateCounter, OnStoreFailure, RateCounter, RateLimiter};
use tgos_persistence::{DatabaseSettings, MigrateMode, Privileges, SqlRateCounter};
use tgos_tests::{Backend, TestApp, TestOptions};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ME: &str = "{ me { user { id } } }";

fn env_or<T: FromStr>(name: &str, default: T) -> T {
    #[expect(clippy::disallowed_methods, reason = "the benchmark's own switches")]
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn quantile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

/// Latencies of `clients` tasks calling `step(task, i)` until `seconds` pass, sorted, and the time taken.
async fn load<F, Fut>(clients: usize, seconds: u64, step: F) -> anyhow::Result<(Vec<Duration>, Duration)>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let step = Arc::new(step);
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|task| {
            let step = Arc::clone(&step);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = 0;
                while Instant::now() < until {
                    let began = Instant::now();
                    step(task, i).await?;
                    latencies.push(began.elapsed());
                    i += 1;
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let elapsed = started.elapsed();
    all.sort();
    Ok((all, elapsed))
}

struct Row {
    what: String,
    count: usize,
    per_second: f64,
    p50: f64,
    p99: f64,
}

impl Row {
    fn of(what: String, latencies: &[Duration], elapsed: Duration) -> Self {
        Self {
            what,
            count: latencies.len(),
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: quantile(latencies, 0.5),
            p99: quantile(latencies, 0.99),
        }
    }
}

async fn checks(
    counter: Arc<dyn RateCounter>,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let keys: u64 = env_or("BENCH_KEYS", 1_000);
    let limiter = RateLimiter::new(
        Limit::per_minute("bench", u32::MAX - 1),
        counter,
        Arc::new(SystemClock),
        OnStoreFailure::Closed,
    );
    load(clients, seconds, move |task, i| {
        let limiter = limiter.clone();
        async move {
            let subject = ((task as u64) * 7_919 + i) % keys;
            let taken = limiter.take(&subject.to_string()).await?;
            anyhow::ensure!(taken.allowed, "a check was refused");
            Ok(())
        }
    })
    .await
}

async fn database_counter(app: &TestApp) -> anyhow::Result<SqlRateCounter> {
    let url = match &app.server_database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}?mode=rw", app.data_dir.path().join("tgos.db").display()),
    };
    let store = tgos_persistence::connect(&DatabaseSettings {
        url,
        owner_url: app.database_url.clone(),
        max_connections: 8,
        privileges: Privileges::Application,
        migrate: MigrateMode::Check,
    })
    .await?;
    Ok(SqlRateCounter::new(&store))
}

async fn statements(app: &TestApp) -> anyhow::Result<u64> {
    app.sql_statements().await
}

async fn requests(
    app: Arc<TestApp>,
    token: String,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    load(clients, seconds, move |_, _| {
        let (app, token) = (Arc::clone(&app), token.clone());
        async move {
            let me = app.gql(Some(&token), ME, json!({})).await?;
            anyhow::ensure!(me.is_ok(), "a request failed: {}", me.body);
            Ok(())
        }
    })
    .await
}

fn options(store: LimitsStore) -> TestOptions {
    TestOptions {
        workers: false,
        user_requests_per_minute: u32::MAX - 1,
        credential_cache_secs: 3_600,
        limits_store: Some(store),
        ..TestOptions::lenient_lockout()
    }
}

async fn run(memory_app: Arc<TestApp>, name: &'static str) -> anyhow::Result<()> {
    let clients: usize = env_or("BENCH_CLIENTS", 8);
    let seconds: u64 = env_or("BENCH_SECONDS", 5);
    let rounds: usize = env_or("BENCH_ROUNDS", 2);
    let mut rows = Vec::new();

    let memory: Arc<dyn RateCounter> = Arc::new(MemoryRateCounter::new());
    let database: Arc<dyn RateCounter> = Arc::new(database_counter(&memory_app).await?);
    for (label, counter) in [("memory", memory), ("database", database)] {
        eprintln!("{name}: checks, {label} counter");
        let (latencies, elapsed) = checks(counter, clients, seconds).await?;
        rows.push(Row::of(format!("checks, {label}"), &latencies, elapsed));
    }

    let database_app = Arc::new(memory_app.spawn_beside(options(LimitsStore::Database)).await?);
    let token = memory_app.sign_up("bench").await?;
    let mut by_store: [(Vec<Duration>, Duration, u64, usize); 2] = Default::default();
    for round in 0..rounds {
        for (slot, app) in [&memory_app, &database_app].into_iter().enumerate() {
            eprintln!("{name}: requests, round {round}, server {slot}");
            let before = statements(app).await?;
            let (latencies, elapsed) = requests(Arc::clone(app), token.clone(), clients, seconds).await?;
            let after = statements(app).await?;
            let entry = &mut by_store[slot];
            entry.2 += after.saturating_sub(before);
            entry.3 += latencies.len();
            entry.0.extend(latencies);
            entry.1 += elapsed;
        }
    }
    let mut per_request = Vec::new();
    for (slot, label) in ["memory", "database"].into_iter().enumerate() {
        let entry = &mut by_store[slot];
        entry.0.sort();
        rows.push(Row::of(format!("`me` requests, {label}"), &entry.0, entry.1));
        // Reading /metrics runs no statement; the background work is off (`workers: false`).
        per_request.push(entry.2 as f64 / entry.3.max(1) as f64);
    }
    database_app.shutdown().await;

    println!("| backend | measured | count | per second | p50 | p99 | rate vs memory |");
    println!("|---|---|---|---|---|---|---|");
    for pair in rows.chunks(2) {
        let baseline = pair[0].per_second.max(f64::MIN_POSITIVE);
        for row in pair {
            println!(
                "| {name} | {} | {} | {:.0} | {:.3} ms | {:.3} ms | {:.2} |",
                row.what,
                row.count,
                row.per_second,
                row.p50,
                row.p99,
                row.per_second / baseline
            );
        }
    }
    println!(
        "\nSQL statements per `me` request ({name}): memory {:.2}, database {:.2}",
        per_request[0], per_request[1]
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
    backend
        .run(
            options(LimitsStore::Memory),
            move |app| async move { run(app, name).await },
        )
        .await
}
