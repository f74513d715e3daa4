//! Inbox benchmark (issue 6): the dialog page a client opens the inbox with, under concurrent clients; and
//! live inbox events fanned out over WebSocket to thousands of subscribers, numbered and checked. Each
//! scenario runs against the real server in process on a fresh database (the end-to-end harness), with a
//! baseline measured in the same run.
//!
//! ```sh
//! cargo build --release -p tgos-tests --bin inbox-bench
//! ulimit -n   # the fan-out needs 10,000 + 512 open files in this process, 10,000 + 64 in its crowd
//! TGOS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ./target/release/inbox-bench postgres
//! ./target/release/inbox-bench sqlite
//! ```
//!
//! Switches (environment, defaults in brackets):
//! - `BENCH_SCENARIOS` [`page,fanout`]: which scenarios run (the fan-out first, in a fresh process, for its
//!   memory figures); `bare` (alone, no backend needed) is the fan-out's memory baseline: the same number of
//!   the same clients against a bare WebSocket responder;
//! - `page`: `BENCH_SECONDS` [10] per measurement, `BENCH_CLIENTS` [32] concurrent HTTP clients,
//!   `BENCH_DIALOGS` [50] dialogs on the page, `BENCH_MESSAGES` [1] messages in each;
//! - `fanout`: `BENCH_WORKSPACES` [1000] x `BENCH_SUBSCRIBERS` [10] connections, `BENCH_EVENTS_PER_SEC`
//!   [1000] events published across the workspaces, `BENCH_FANOUT_SECONDS` [30] of publishing,
//!   `BENCH_CONNECTING` [64] handshakes in flight while subscribers connect, `BENCH_SUBSCRIBER_BUFFER`
//!   [the server's default] for `events.subscriber_buffer`, `BENCH_REPLICAS` [1] servers on one database the
//!   subscribers spread over (more than one: the bus is NATS at `BENCH_NATS_URL` [`nats://127.0.0.1:4222`],
//!   the first replica relays, every replica's subscribers get events through the broker).
//!
//! The page's load generator, the server and (for SQLite) the database share one process; the fan-out's
//! subscribers run in a second process of this binary (`inbox-bench crowd`, see `crowd.rs`). On this
//! machine all of it shares two cores with PostgreSQL: figures are ratios and lower bounds.

#![expect(clippy::print_stdout, reason = "the benchmark reports its tables on standard output")]
#![expect(
    clippy::print_stderr,
    reason = "the benchmark reports its progress on standard error"
)]

#[path = "inbox_bench/bare.rs"]
mod bare;
#[path = "inbox_bench/crowd.rs"]
mod crowd;
#[path = "inbox_bench/fanout.rs"]
mod fanout;
#[path = "inbox_bench/page.rs"]
mod page;
#[path = "inbox_bench/probe.rs"]
mod probe;
#[path = "inbox_bench/subscriber.rs"]
mod subscriber;

use std::str::FromStr;
use std::time::Duration;

/// The server's allocator (`tgos` uses it too), so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use tgos_tests::{Backend, TestOptions};

/// What one run measures.
#[derive(Debug, Clone)]
pub struct Config {
    pub scenarios: Vec<String>,
    pub seconds: u64,
    pub clients: usize,
    pub dialogs: usize,
    pub messages: usize,
    pub workspaces: usize,
    pub subscribers: usize,
    pub events_per_sec: usize,
    pub fanout_seconds: u64,
    pub connecting: usize,
    /// `events.subscriber_buffer` for the server, when set.
    pub subscriber_buffer: Option<usize>,
    /// Server replicas the fan-out's subscribers spread over (more than one: on NATS at `nats_url`).
    pub replicas: usize,
    pub nats_url: String,
}

#[expect(clippy::disallowed_methods, reason = "the benchmark's own switches")]
fn env_or<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

impl Config {
    fn from_env() -> Self {
        let scenarios: String = env_or("BENCH_SCENARIOS", "page,fanout".to_owned());
        Self {
            scenarios: scenarios.split(',').map(|s| s.trim().to_owned()).collect(),
            seconds: env_or("BENCH_SECONDS", 10_u64).max(1),
            clients: env_or("BENCH_CLIENTS", 32_usize).max(1),
            dialogs: env_or("BENCH_DIALOGS", 50_usize).max(1),
            messages: env_or("BENCH_MESSAGES", 1_usize).clamp(1, 1000),
            workspaces: env_or("BENCH_WORKSPACES", 1000_usize).max(1),
            subscribers: env_or("BENCH_SUBSCRIBERS", 10_usize).max(1),
            events_per_sec: env_or("BENCH_EVENTS_PER_SEC", 1000_usize).max(1),
            fanout_seconds: env_or("BENCH_FANOUT_SECONDS", 30_u64).max(1),
            connecting: env_or("BENCH_CONNECTING", 64_usize).max(1),
            subscriber_buffer: Some(env_or("BENCH_SUBSCRIBER_BUFFER", 0_usize)).filter(|b| *b > 0),
            replicas: env_or("BENCH_REPLICAS", 1_usize).clamp(1, 8),
            nats_url: env_or("BENCH_NATS_URL", "nats://127.0.0.1:4222".to_owned()),
        }
    }

    fn runs(&self, scenario: &str) -> bool {
        self.scenarios.iter().any(|s| s == scenario)
    }
}

/// The fan-out's server settings (every replica's).
pub fn fanout_options(config: &Config) -> TestOptions {
    let lenient = TestOptions::lenient_lockout();
    TestOptions {
        // One owner signs up per workspace, all from this machine's address.
        sign_ups_per_ip_per_hour: u32::MAX,
        anonymous_requests_per_minute: u32::MAX,
        subscriber_buffer: config.subscriber_buffer.unwrap_or(lenient.subscriber_buffer),
        ..lenient
    }
}

/// The value at quantile `q` (0..=1) of sorted `values`, nearest rank.
pub fn quantile<T: Copy + Default>(sorted: &[T], q: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = (sorted.len() as f64 * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let backend = match std::env::args().nth(1).as_deref() {
        // The fan-out's subscribers, started by the fan-out itself.
        Some("crowd") => return crowd::run().await,
        None | Some("sqlite") => Backend::Sqlite,
        Some("postgres") => Backend::Postgres,
        Some(other) => anyhow::bail!("unknown backend {other}: sqlite or postgres"),
    };
    let name = if backend == Backend::Sqlite {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let config = Config::from_env();
    // Others' work on the machine skews every figure: say how busy it was just before.
    let idle = probe::CpuMark::now()?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, others) = idle.since(Duration::from_secs(2))?;
    println!(
        "machine: {} cores; busy before the run (other processes): {:.0}% of one core",
        std::thread::available_parallelism().map_or(0, usize::from),
        100.0 * others
    );
    if config.runs("bare") {
        anyhow::ensure!(
            config.scenarios.len() == 1,
            "run the bare baseline alone (BENCH_SCENARIOS=bare): memory another scenario freed would hide its cost"
        );
        probe::ensure_open_files(config.workspaces * config.subscribers + 512)?;
        return bare::run(&config).await;
    }
    if config.runs("fanout") {
        // The server's end of every socket, its database pool and listeners (the clients' ends are in the
        // crowd process).
        probe::ensure_open_files(config.workspaces * config.subscribers + 512)?;
        let options = TestOptions {
            // The replica that relays; the others serve only (`fanout::run`).
            nats: (config.replicas > 1).then(|| (config.nats_url.clone(), tgos_tests::nats::unique_prefix())),
            ..fanout_options(&config)
        };
        let config = config.clone();
        backend
            .run(options, move |app| async move { fanout::run(app, name, &config).await })
            .await?;
    }
    // After the fan-out, whose memory figures need a process that has not done anything else yet.
    if config.runs("page") {
        let config = config.clone();
        backend
            .run(TestOptions::lenient_lockout(), move |app| async move {
                page::run(app, name, &config).await
            })
            .await?;
    }
    Ok(())
}
