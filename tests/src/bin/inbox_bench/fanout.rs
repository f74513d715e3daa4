//! Scenario `fanout`: W workspaces, each with its own owner, followed by S subscribers each over
//! `GET /graphql/ws` (`inboxEvents` from sequence 0). Events are appended to the outbox the way use cases
//! do (in a transaction, then the relay is woken), spread evenly over the workspaces at a fixed rate.
//!
//! The subscribers run in a second process (`crowd`), so each side's memory is its own. Measured: resident
//! memory of the server's process (the benchmark, with the server, publisher and for SQLite the database)
//! and of the crowd before connecting and once every subscription is open and idle; the delay from each
//! event's `occurredAt` (the server's clock at append, before commit) to its arrival at each subscriber; and
//! per subscriber, that the numbers arrive exactly consecutively and end at the workspace's last event.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tgos_domain::accounts::gateway::PeerKey;
use tgos_domain::events::{self, EventDraft, InboxEvent};
use tgos_domain::ids::{AccountId, DialogId, MessageId, WorkspaceId};
use tgos_domain::inbox::{DeliveryStatus, Direction, MessageRecord};
use tgos_domain::tenancy::TenantScope;
use tgos_tests::TestApp;
use tokio::sync::{Semaphore, mpsc};

use crate::crowd::Crowd;
use crate::probe::{CpuMark, mib, peak_rss_bytes, rss_bytes};
use crate::{Config, millis, quantile};

/// How often the publisher commits a batch.
const TICK: Duration = Duration::from_millis(20);
/// Batches committing at once, at most (the server's pool has 8 connections).
const BATCHES_IN_FLIGHT: usize = 4;
/// How long subscribers may take to receive the last events after publishing stopped.
const DRAIN_SECS: u64 = 30;

/// A workspace with its owner, as the publisher and the subscribers use it.
#[derive(Debug)]
struct Tenant {
    token: String,
    id: String,
    scope: TenantScope,
    account: AccountId,
    dialog: DialogId,
}

async fn tenant(app: &TestApp, index: usize) -> anyhow::Result<Tenant> {
    let token = app.sign_up(&format!("bench{index:05}")).await?;
    let id = app.create_workspace(&token, &format!("Bench {index}")).await?;
    let principal = app
        .identity
        .authenticate(&token)
        .await?
        .context("a new owner's session does not authenticate")?
        .principal;
    let scope = app
        .tenancy
        .scope(&principal, WorkspaceId::from_uuid(id.parse()?))
        .await?;
    Ok(Tenant {
        token,
        id,
        scope,
        account: AccountId::generate(),
        dialog: DialogId::generate(),
    })
}

/// Appends one received message per entry of `batch` (indexes into `tenants`, ascending so concurrent
/// batches lock workspace counters in one order) in one transaction, commits and wakes the relay. Each
/// workspace's newest committed number goes to `last`.
async fn publish(app: &TestApp, tenants: &[Tenant], batch: &[usize], last: &[AtomicI64]) -> anyhow::Result<Batch> {
    let began = Instant::now();
    let tx = app.store.begin().await?;
    let mut appended = Vec::with_capacity(batch.len());
    for &index in batch {
        let tenant = &tenants[index];
        let now = chrono::Utc::now();
        let message = MessageRecord {
            id: MessageId::generate(),
            workspace_id: tenant.scope.workspace_id(),
            account_id: tenant.account,
            dialog_id: tenant.dialog,
            peer: PeerKey::user(42)?,
            telegram_id: None,
            direction: Direction::Incoming,
            text: "bench".to_owned(),
            sent_at: now,
            edited_at: None,
            reply_to: None,
            status: DeliveryStatus::Sent,
            failure: None,
            deleted_at: None,
            edit_history: Vec::new(),
            media: None,
        };
        let draft = EventDraft::new(tenant.account, InboxEvent::MessageReceived { message });
        let stored = events::append(&*tx, &tenant.scope, draft, now).await?;
        appended.push((index, stored.sequence));
    }
    let committing = Instant::now();
    tx.commit().await?;
    let (transaction, commit, committed_at) = (began.elapsed(), committing.elapsed(), chrono::Utc::now());
    app.outbox.committed();
    for &(index, sequence) in &appended {
        last[index].fetch_max(sequence, Ordering::AcqRel);
    }
    Ok(Batch {
        transaction,
        commit,
        committed_at_us: committed_at.timestamp_micros(),
        events: appended,
    })
}

/// One committed batch of events.
struct Batch {
    /// From begin to committed.
    transaction: Duration,
    /// The commit alone.
    commit: Duration,
    /// When the commit returned (Unix clock, microseconds).
    committed_at_us: i64,
    /// The workspace index and sequence of each event.
    events: Vec<(usize, i64)>,
}

/// What the publisher did.
struct Published {
    events: u64,
    elapsed: Duration,
    failure: Option<String>,
    /// Each batch's transaction (begin to committed), sorted.
    transactions: Vec<Duration>,
    /// Each batch's commit alone, sorted.
    commits: Vec<Duration>,
    /// `[workspace, sequence, committed at]` of every event, for the crowd to time deliveries from commit.
    committed: Vec<[i64; 3]>,
}

/// Publishes `rate` events a second, round-robin over the workspaces, for `seconds`.
async fn publish_for(
    app: Arc<TestApp>,
    tenants: Arc<Vec<Tenant>>,
    last: Arc<[AtomicI64]>,
    rate: usize,
    seconds: u64,
) -> Published {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let slots = Arc::new(Semaphore::new(BATCHES_IN_FLIGHT));
    let published = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let (failures, mut failure) = mpsc::unbounded_channel::<String>();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (mut due_total, mut next) = (0_u64, 0_usize);
    let mut tasks = Vec::new();
    while Instant::now() < deadline && !failed.load(Ordering::Acquire) {
        ticker.tick().await;
        // Events due by now at the configured rate, whatever the tick length turned out to be.
        let due = (started.elapsed().as_secs_f64() * rate as f64) as u64;
        let count = usize::try_from(due.saturating_sub(due_total)).unwrap_or(0);
        if count == 0 {
            continue;
        }
        due_total += count as u64;
        let mut batch: Vec<usize> = (0..count).map(|k| (next + k) % tenants.len()).collect();
        next = (next + count) % tenants.len();
        batch.sort_unstable();
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            break;
        };
        let (app, tenants, last) = (Arc::clone(&app), Arc::clone(&tenants), Arc::clone(&last));
        let (published, failed, failures) = (Arc::clone(&published), Arc::clone(&failed), failures.clone());
        tasks.push(tokio::spawn(async move {
            let timing = match publish(&app, &tenants, &batch, &last).await {
                Ok(timing) => {
                    published.fetch_add(batch.len() as u64, Ordering::AcqRel);
                    Some(timing)
                }
                Err(error) => {
                    failed.store(true, Ordering::Release);
                    let _sent = failures.send(format!("{error:#}"));
                    None
                }
            };
            drop(slot);
            timing
        }));
    }
    let elapsed = started.elapsed();
    let (mut transactions, mut commits, mut committed) = (Vec::new(), Vec::new(), Vec::new());
    for task in tasks {
        if let Ok(Some(batch)) = task.await {
            transactions.push(batch.transaction);
            commits.push(batch.commit);
            committed.extend(
                batch
                    .events
                    .iter()
                    .map(|&(index, sequence)| [index as i64, sequence, batch.committed_at_us]),
            );
        }
    }
    transactions.sort_unstable();
    commits.sort_unstable();
    Published {
        events: published.load(Ordering::Acquire),
        elapsed,
        failure: failure.try_recv().ok(),
        transactions,
        commits,
        committed,
    }
}

pub async fn run(app: Arc<TestApp>, backend: &str, config: &Config) -> anyhow::Result<()> {
    let (workspaces, subscribers) = (config.workspaces, config.subscribers);
    eprintln!("fanout: signing up {workspaces} owners with a workspace each");
    let started = Instant::now();
    let mut tenants: Vec<(usize, Tenant)> = futures_util::stream::iter(0..workspaces)
        .map(|index| {
            let app = Arc::clone(&app);
            async move { anyhow::Ok((index, tenant(&app, index).await?)) }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    tenants.sort_by_key(|(index, _)| *index);
    let tenants: Arc<Vec<Tenant>> = Arc::new(tenants.into_iter().map(|(_, tenant)| tenant).collect());
    eprintln!(
        "fanout: {workspaces} workspaces in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Event 1 of every workspace, so each subscriber can tell its subscription is open.
    let last: Arc<[AtomicI64]> = (0..workspaces).map(|_| AtomicI64::new(0)).collect();
    let everyone: Vec<usize> = (0..workspaces).collect();
    for chunk in everyone.chunks(100) {
        publish(&app, &tenants, chunk, &last).await?;
    }
    anyhow::ensure!(last.iter().all(|l| l.load(Ordering::Acquire) == 1));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before = rss_bytes()?;

    let connections = workspaces * subscribers;
    eprintln!("fanout: opening {connections} subscriptions from the crowd process");
    let mut crowd = Crowd::start()?;
    // Subscribers of one workspace connect far apart, as independent clients would.
    let subscriptions: Vec<Value> = (0..connections)
        .map(|n| {
            let tenant = &tenants[n % workspaces];
            json!([n % workspaces, tenant.token, tenant.id])
        })
        .collect();
    // With replicas, subscribers spread over them; events reach every replica through the bus.
    let mut replicas = Vec::new();
    for _ in 1..config.replicas {
        replicas.push(
            app.spawn_replica(tgos_tests::TestOptions {
                workers: false,
                nats: app.nats.clone(),
                ..crate::fanout_options(config)
            })
            .await?,
        );
    }
    let addrs: Vec<String> = std::iter::once(app.addr)
        .chain(replicas.iter().map(|replica| replica.addr))
        .map(|addr| addr.to_string())
        .collect();
    crowd
        .send(json!({ "addrs": addrs, "connecting": config.connecting, "subscriptions": subscriptions }))
        .await?;
    let connected = crowd.expect("connected", Duration::from_secs(900)).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected = rss_bytes()?;
    crowd.send(json!({ "subscribe": true })).await?;
    let ready = crowd.expect("ready", Duration::from_secs(900)).await?;
    // What idle subscribers cost the database: each connection re-checks its caller on a timer.
    const IDLE: Duration = Duration::from_secs(10);
    let before = crate::page::statements(&app).await?;
    tokio::time::sleep(IDLE).await;
    let idle_statements = (crate::page::statements(&app).await? - before) as f64 / IDLE.as_secs_f64();
    let rss_idle = rss_bytes()?;
    eprintln!(
        "fanout: {connections} open in {:.1} s; server RSS {:.1} -> {:.1} MiB; publishing {} events/s for {} s",
        ready["connect_secs"].as_f64().unwrap_or_default(),
        mib(rss_before),
        mib(rss_idle),
        config.events_per_sec,
        config.fanout_seconds
    );

    // Resident memory while publishing.
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = Arc::clone(&sampling);
        tokio::spawn(async move {
            let mut max_rss = 0;
            while sampling.load(Ordering::Acquire) {
                max_rss = max_rss.max(rss_bytes().unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            max_rss
        })
    };
    crowd.send(json!({ "publishing": true })).await?;
    let cpu = CpuMark::now()?;
    let published = publish_for(
        Arc::clone(&app),
        Arc::clone(&tenants),
        Arc::clone(&last),
        config.events_per_sec,
        config.fanout_seconds,
    )
    .await;
    let cpu = cpu.since(published.elapsed)?;
    sampling.store(false, Ordering::Release);
    let max_rss = sampler.await?;
    let finals: Vec<i64> = last.iter().map(|l| l.load(Ordering::Acquire)).collect();
    crowd
        .send(json!({ "drain": finals, "seconds": DRAIN_SECS, "committed": published.committed }))
        .await?;
    let summary = crowd.expect("summary", Duration::from_secs(DRAIN_SECS + 120)).await?;
    crowd.finish().await?;
    for replica in replicas {
        replica.shutdown().await;
    }

    report(
        backend,
        config,
        &Report {
            connections,
            rss: [rss_before, rss_connected, rss_idle, max_rss],
            idle_statements,
            connected: &connected,
            ready: &ready,
            published: &published,
            cpu,
            summary: &summary,
        },
    )
}

struct Report<'a> {
    connections: usize,
    /// The server's process: before connecting, all connected, all subscribed and idle, the most while
    /// publishing.
    rss: [u64; 4],
    /// SQL statements per second while every subscriber was idle.
    idle_statements: f64,
    connected: &'a Value,
    ready: &'a Value,
    published: &'a Published,
    /// Cores busy while publishing: the server's process, everything else (the crowd, PostgreSQL).
    cpu: (f64, f64),
    summary: &'a Value,
}

fn report(backend: &str, config: &Config, run: &Report<'_>) -> anyhow::Result<()> {
    let number = |value: &Value, key: &str| value[key].as_f64().unwrap_or_default();
    let count = |key: &str| run.summary[key].as_u64().unwrap_or_default();
    let ms = |key: &str| number(run.summary, key) / 1000.0;
    let connections = run.connections as f64;
    let [rss_before, rss_connected, rss_idle, max_rss] = run.rss;
    let per = |from: f64, to: f64| (to - from).max(0.0) / connections / 1024.0;
    let server = (
        per(rss_before as f64, rss_connected as f64),
        per(rss_connected as f64, rss_idle as f64),
    );
    let crowd_before = number(run.ready, "rss_before");
    let crowd = (
        per(crowd_before, number(run.connected, "rss")),
        per(number(run.connected, "rss"), number(run.ready, "rss_idle")),
    );
    let published = run.published;
    let rate = published.events as f64 / published.elapsed.as_secs_f64();
    let crowd_cpu = number(run.summary, "cpu_cores");

    println!(
        "\n{backend}, fan-out: {} workspaces x {} subscribers = {} connections over {} replica(s){}, {} events/s \
         for {} s, events.subscriber_buffer = {}\n",
        config.workspaces,
        config.subscribers,
        run.connections,
        config.replicas,
        if config.replicas > 1 { " on NATS" } else { "" },
        config.events_per_sec,
        config.fanout_seconds,
        config
            .subscriber_buffer
            .unwrap_or(tgos_tests::TestOptions::lenient_lockout().subscriber_buffer)
    );
    println!("| backend | measure | value |");
    println!("|---|---|---|");
    let row = |name: &str, value: String| println!("| {backend} | {name} | {value} |");
    row(
        "connected (acknowledged) / then subscribed (event 1 received)",
        format!(
            "{} in {:.1} s / in {:.1} s",
            run.connections,
            number(run.ready, "connect_secs"),
            number(run.ready, "subscribe_secs")
        ),
    );
    row(
        "server process RSS: before → connected → subscribed and idle",
        format!(
            "{:.1} → {:.1} → {:.1} MiB",
            mib(rss_before),
            mib(rss_connected),
            mib(rss_idle)
        ),
    );
    row(
        "server RSS per idle subscriber: connection + subscription",
        format!("{:.1} + {:.1} = **{:.1} KiB**", server.0, server.1, server.0 + server.1),
    );
    row(
        "client (crowd) RSS per subscriber: connection + subscription",
        format!("{:.1} + {:.1} = {:.1} KiB", crowd.0, crowd.1, crowd.0 + crowd.1),
    );
    row(
        "SQL statements per second with every subscriber idle (access re-checks)",
        format!("{:.0}", run.idle_statements),
    );
    row(
        "server RSS most while publishing / peak (VmHWM)",
        format!("{:.1} / {:.1} MiB", mib(max_rss), mib(peak_rss_bytes()?)),
    );
    row(
        "events published during the run / rate",
        format!("{} / {rate:.0} per s", published.events),
    );
    row(
        "fan-out",
        format!(
            "{} deliveries per event, {:.0} deliveries/s",
            config.subscribers,
            rate * config.subscribers as f64
        ),
    );
    let spread = |sorted: &[Duration]| {
        format!(
            "{:.1} / {:.1} / {:.1}",
            millis(quantile(sorted, 0.50)),
            millis(quantile(sorted, 0.99)),
            millis(sorted.last().copied().unwrap_or_default())
        )
    };
    row(
        "publisher: batch transaction p50 / p99 / max; its commit alone",
        format!(
            "{} ms; {} ms ({} batches)",
            spread(&published.transactions),
            spread(&published.commits),
            published.transactions.len()
        ),
    );
    row(
        "deliveries expected (events 1..last of each workspace x its subscribers)",
        count("expected").to_string(),
    );
    row(
        "delivered / lost (of which gaps) / duplicated",
        format!(
            "{} / {} ({}) / {}",
            count("delivered"),
            count("lost"),
            count("skipped"),
            count("duplicated")
        ),
    );
    row(
        "delivery latency p50 / p99 / p99.9 / max (occurredAt → client)",
        format!(
            "{:.1} / {:.1} / {:.1} / {:.1} ms over {} deliveries",
            ms("p50_us"),
            ms("p99_us"),
            ms("p999_us"),
            ms("max_us"),
            count("latency_count")
        ),
    );
    row(
        "delivery latency from the batch's commit (commit returned → client) p50 / p99 / p99.9 / max",
        format!(
            "{:.1} / {:.1} / {:.1} / {:.1} ms",
            ms("after_commit_p50_us"),
            ms("after_commit_p99_us"),
            ms("after_commit_p999_us"),
            ms("after_commit_max_us"),
        ),
    );
    row(
        "cores busy while publishing: server process + crowd + rest of the machine",
        format!(
            "{:.0}% + {:.0}% + {:.0}% of 200%",
            100.0 * run.cpu.0,
            100.0 * crowd_cpu,
            100.0 * (run.cpu.1 - crowd_cpu).max(0.0)
        ),
    );
    row(
        "drained after publishing stopped",
        format!("{:.2} s", number(run.summary, "drained_secs")),
    );
    row(
        "connections ended by the server / subscribers not reporting",
        format!("{} / {}", count("ended"), run.connections as u64 - count("reported")),
    );
    println!(
        "\ndelivery p99 (ms) second by second: {}",
        run.summary["p99_ms_by_second"]
    );
    if rss_connected < rss_before || rss_idle < rss_connected {
        println!(
            "\nWARNING: the server's RSS fell while connecting (the allocator returned memory freed earlier): the \
             memory figures of this run are not valid; run BENCH_SCENARIOS=fanout in a fresh process"
        );
    }
    if let Some(reason) = run.summary["first_end"].as_str() {
        println!("\nfirst connection that ended early: {reason}");
    }
    if let Some(failure) = &published.failure {
        anyhow::bail!("publishing failed: {failure}");
    }
    anyhow::ensure!(
        count("lost") == 0
            && count("duplicated") == 0
            && count("ended") == 0
            && count("reported") == run.connections as u64,
        "events were lost or duplicated, or connections ended early: {}",
        run.summary
    );
    println!("\nevery subscriber saw exactly its workspace's events 1..last, in order, once each");
    Ok(())
}
