//! Automation benchmark (issue 16): a steady stream of incoming sandbox messages into 100 workspaces holding
//! 1,000 enabled automations, run by two job workers on one database. It reports evaluations and executions a
//! second and the trigger-to-action latency (an execution's `finishedAt` minus its `createdAt`: from the
//! transaction that stored the message to the reply settled with Telegram), checks that every message got
//! exactly one reply (0 duplicated, 0 lost), and compares with a baseline measured in the same run: the same
//! stream with only the matching automation in each workspace. With the trigger index, the automations that
//! name another account cost nothing per message, so the two should match.
//!
//! ```sh
//! cargo build --release -p tgos-tests --bin automation-bench
//! TGOS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ./target/release/automation-bench postgres
//! ./target/release/automation-bench sqlite
//! ```
//!
//! Switches (environment, defaults in brackets): `BENCH_WORKSPACES` [100], `BENCH_OTHERS` [9] automations per
//! workspace naming the workspace's other account, `BENCH_RATE` [100] incoming messages a second,
//! `BENCH_SECONDS` [20] of feeding. The workers run in this process (two `JobWorker`s with distinct holders,
//! as two processes would claim), beside the server and the load; on this machine all of it shares two cores
//! with PostgreSQL, so figures are ratios and lower bounds.

#![expect(clippy::print_stdout, reason = "the benchmark reports its tables on standard output")]
#![expect(
    clippy::print_stderr,
    reason = "the benchmark reports its progress on standard error"
)]

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tgos_domain::accounts::pool::records::AccountRecord;
use tgos_domain::automation::AutomationJobs;
use tgos_domain::automation::records::{ExecutionFilter, ExecutionRecord};
use tgos_domain::clock::SystemClock;
use tgos_domain::jobs::{JobHandler, JobWorker};
use tgos_domain::paging::PageRequest;
use tgos_domain::tenancy::TenantScope;
use tgos_tests::{Backend, TestApp, TestOptions};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[expect(clippy::disallowed_methods, reason = "the benchmark's own switches")]
fn env_or<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

const RENT: &str = "mutation($w: ID!, $o: ID!) { rentAccount(workspaceId: $w, offerId: $o, days: 1) { id } }";
const CREATE: &str = "mutation($w: ID!, $i: AutomationInput!) { createAutomation(workspaceId: $w, input: $i) { id } }";

/// One workspace: its scope, the account that receives the stream, and its sandbox user.
struct Tenant {
    scope: TenantScope,
    receiving: AccountRecord,
    user: i64,
}

#[derive(Clone, Copy)]
struct Config {
    workspaces: usize,
    others: usize,
    rate: usize,
    seconds: u64,
}

struct Figures {
    messages: usize,
    replies: usize,
    succeeded: usize,
    evaluations_per_sec: f64,
    executions_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (sorted.len() as f64 * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn setup(app: &TestApp, config: Config) -> anyhow::Result<Vec<Tenant>> {
    let offers = app.stock_pool(config.workspaces * 2, 100).await?;
    let mut tenants = Vec::new();
    for (index, pair) in offers.chunks(2).enumerate() {
        let owner = app.sign_up(&format!("bench{index}")).await?;
        let workspace = app.create_workspace(&owner, "Bench").await?;
        app.credit_wallet(&owner, &workspace, 100_000).await?;
        for offer in pair {
            let rented = app
                .gql(Some(&owner), RENT, json!({ "w": workspace, "o": offer.to_string() }))
                .await?;
            anyhow::ensure!(rented.is_ok(), "{:?}", rented.body);
        }
        let scope = app.scope_of(&owner, &workspace).await?;
        let receiving = app.accounts.held(&scope, pair[0]).await?;
        let quiet = pair[1].to_string();
        let create = |input: serde_json::Value| {
            let owner = owner.clone();
            let workspace = workspace.clone();
            async move {
                let created = app
                    .gql(Some(&owner), CREATE, json!({ "w": workspace, "i": input }))
                    .await?;
                anyhow::ensure!(created.is_ok(), "{:?}", created.body);
                anyhow::Ok(())
            }
        };
        create(json!({
            "name": "Answer orders",
            "trigger": { "messageReceived": { "accountIds": [receiving.id.to_string()] } },
            "conditions": [{ "field": "TEXT", "op": "CONTAINS", "value": "order" }],
            "actions": [{ "sendMessage": { "text": "Thanks for {{message.text}}" } }]
        }))
        .await?;
        for other in 0..config.others {
            create(json!({
                "name": format!("Other account {other}"),
                "trigger": { "messageReceived": { "accountIds": [quiet] } },
                "conditions": [{ "field": "TEXT", "op": "MATCHES", "value": "(?i)refund|cancel" }],
                "actions": [{ "tagDialog": { "tag": "other" } }]
            }))
            .await?;
        }
        // The first connection puts the account on the simulated network.
        app.inbox.sync_account(&scope, &receiving).await?;
        let user = receiving
            .telegram_user_id
            .ok_or_else(|| anyhow::anyhow!("no sandbox user"))?;
        tenants.push(Tenant { scope, receiving, user });
    }
    Ok(tenants)
}

fn spawn_worker(app: &TestApp, holder: &str) -> tokio::task::JoinHandle<()> {
    let handler: Arc<dyn JobHandler> = Arc::new(AutomationJobs::new(app.automations.clone()));
    let worker = JobWorker::new(Arc::clone(&app.store), Arc::new(SystemClock), holder)
        .with_handler(handler)
        .with_batch(16);
    tokio::spawn(async move {
        loop {
            match worker.run_once().await {
                Ok(0) | Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                Ok(_) => {}
            }
        }
    })
}

async fn executions_of(app: &TestApp, scope: &TenantScope) -> anyhow::Result<Vec<ExecutionRecord>> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = app
            .automations
            .executions(scope, ExecutionFilter::default(), PageRequest::new(after, 100))
            .await?;
        after = page.items.last().map(|e| e.id);
        all.extend(page.items);
        if !page.has_next {
            return Ok(all);
        }
    }
}

async fn measure(app: Arc<TestApp>, config: Config) -> anyhow::Result<Figures> {
    let network = app.sandbox().ok_or_else(|| anyhow::anyhow!("no sandbox"))?.clone();
    let tenants = Arc::new(setup(&app, config).await?);
    eprintln!(
        "{} workspaces, {} automations each; feeding {} messages a second for {} s",
        tenants.len(),
        1 + config.others,
        config.rate,
        config.seconds
    );
    let workers = [spawn_worker(&app, "bench-a"), spawn_worker(&app, "bench-b")];
    let started = Instant::now();
    let total = config.rate * config.seconds as usize;
    let interval = Duration::from_secs_f64(1.0 / config.rate as f64);
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut feeders = tokio::task::JoinSet::new();
    for n in 0..total {
        ticks.tick().await;
        let tenant = n % tenants.len();
        let (app, tenants, network) = (Arc::clone(&app), Arc::clone(&tenants), network.clone());
        feeders.spawn(async move {
            let tenant = &tenants[tenant];
            network.contact_send(tenant.user, &format!("C{}", n % 7), &format!("order {n}"))?;
            // The background sync, for this account now: stores the message and queues its executions.
            for _ in 0..200 {
                match app.inbox.sync_account(&tenant.scope, &tenant.receiving).await {
                    Err(tgos_domain::DomainError::AccountUnavailable(_)) => {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    other => return other.map(|_| ()).map_err(anyhow::Error::from),
                }
            }
            anyhow::bail!("an account stayed busy")
        });
    }
    while let Some(fed) = feeders.join_next().await {
        fed??;
    }
    let fed_for = started.elapsed();
    // Drain: every message's execution finished.
    let deadline = Instant::now() + Duration::from_secs(300);
    let executions = loop {
        let mut all = Vec::new();
        for tenant in tenants.iter() {
            all.extend(executions_of(&app, &tenant.scope).await?);
        }
        if all.len() >= total && all.iter().all(|e| e.status.is_final()) {
            break all;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} of {total} executions finished",
            all.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let drained_for = started.elapsed();
    for worker in &workers {
        worker.abort();
    }
    let mut replies = 0;
    for tenant in tenants.iter() {
        for contact in 0..7 {
            replies += network.sent_to_contact(tenant.user, &format!("C{contact}"))?.len();
        }
    }
    let succeeded = executions
        .iter()
        .filter(|e| e.status == tgos_domain::automation::records::ExecutionStatus::Succeeded)
        .count();
    let mut latencies: Vec<f64> = executions
        .iter()
        .filter_map(|e| {
            e.finished_at
                .map(|f| (f - e.created_at).num_microseconds().unwrap_or(0) as f64 / 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let _ = fed_for;
    Ok(Figures {
        messages: total,
        replies,
        succeeded,
        // Every message is evaluated against every automation the index finds for its account.
        evaluations_per_sec: executions.len() as f64 / drained_for.as_secs_f64(),
        executions_per_sec: succeeded as f64 / drained_for.as_secs_f64(),
        p50_ms: quantile(&latencies, 0.5),
        p99_ms: quantile(&latencies, 0.99),
        max_ms: latencies.last().copied().unwrap_or_default(),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let backend = match std::env::args().nth(1).as_deref() {
        None | Some("postgres") => Backend::Postgres,
        Some("sqlite") => Backend::Sqlite,
        Some(other) => anyhow::bail!("unknown backend {other}: sqlite or postgres"),
    };
    let base = Config {
        workspaces: env_or("BENCH_WORKSPACES", 100_usize).max(1),
        others: env_or("BENCH_OTHERS", 9_usize),
        rate: env_or("BENCH_RATE", 100_usize).max(1),
        seconds: env_or("BENCH_SECONDS", 20_u64).max(1),
    };
    println!(
        "| automations per workspace | messages | replies | succeeded | evaluations/s | executions/s | p50 ms | p99 ms | max ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for config in [Config { others: 0, ..base }, base] {
        let options = TestOptions {
            workers: false,
            sign_ups_per_ip_per_hour: u32::MAX,
            ..TestOptions::lenient_lockout()
        };
        let (sender, receiver) = tokio::sync::oneshot::channel();
        backend
            .run(options, move |app| async move {
                let figures = measure(app, config).await?;
                let _ = sender.send(figures);
                Ok(())
            })
            .await?;
        let figures = receiver.await?;
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} |",
            1 + config.others,
            figures.messages,
            figures.replies,
            figures.succeeded,
            figures.evaluations_per_sec,
            figures.executions_per_sec,
            figures.p50_ms,
            figures.p99_ms,
            figures.max_ms
        );
        anyhow::ensure!(
            figures.replies == figures.messages && figures.succeeded == figures.messages,
            "every message must get exactly one reply: {} messages, {} replies, {} succeeded",
            figures.messages,
            figures.replies,
            figures.succeeded
        );
    }
    Ok(())
}
