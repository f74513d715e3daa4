//! The subscribers' side of the fan-out, in a process of its own (`inbox-bench crowd`, started by the
//! benchmark): both ends of 10,000 sockets do not fit one process's open-file limit here (20,000, which
//! this container may not raise), and apart the server's memory per connection is measured without the
//! clients'.
//!
//! Protocol, one JSON object per line. The benchmark writes `{"addrs", "connecting", "subscriptions":
//! [[workspace, token, workspaceId], …]}`, then `{"subscribe": true}`, `{"publishing": true}` and
//! `{"drain": [last sequence of each workspace], "seconds": n}`. The crowd answers `{"connected": {…}}` once
//! every connection was acknowledged (and waits), `{"ready": {…}}` once every subscription received event 1,
//! `{"summary": {…}}` at the end, `{"progress": "…"}` on the way, or `{"error": "…"}`.

use std::io::{BufRead as _, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, watch};

use crate::probe::{CpuMark, rss_bytes};
use crate::quantile;
use crate::subscriber::{Outcome, Phase, Subscriber};

/// Lines from standard input, read on a thread of their own.
fn stdin_lines() -> mpsc::UnboundedReceiver<anyhow::Result<Value>> {
    let (lines, received) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let parsed = line
                .map_err(anyhow::Error::from)
                .and_then(|line| serde_json::from_str(&line).map_err(anyhow::Error::from));
            if lines.send(parsed).is_err() {
                break;
            }
        }
    });
    received
}

fn say(message: &Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{message}")?;
    out.flush()?;
    Ok(())
}

async fn next(lines: &mut mpsc::UnboundedReceiver<anyhow::Result<Value>>) -> anyhow::Result<Value> {
    lines.recv().await.context("the benchmark closed the crowd's input")?
}

pub async fn run() -> anyhow::Result<()> {
    let outcome = crowd().await;
    if let Err(error) = &outcome {
        say(&json!({ "error": format!("{error:#}") }))?;
    }
    outcome
}

async fn crowd() -> anyhow::Result<()> {
    let mut lines = stdin_lines();
    let setup = next(&mut lines).await?;
    // One server, or one per replica: subscription n connects to `addrs[n % len]`.
    let addrs: Vec<std::net::SocketAddr> = setup["addrs"]
        .as_array()
        .context("no addrs")?
        .iter()
        .map(|addr| {
            addr.as_str()
                .context("a malformed addr")?
                .parse()
                .context("a malformed addr")
        })
        .collect::<anyhow::Result<_>>()?;
    anyhow::ensure!(!addrs.is_empty(), "no addrs");
    let connecting = setup["connecting"].as_u64().unwrap_or(64) as usize;
    let subscriptions: Vec<(usize, String, String)> = setup["subscriptions"]
        .as_array()
        .context("no subscriptions")?
        .iter()
        .map(|s| {
            Some((
                s[0].as_u64()? as usize,
                s[1].as_str()?.to_owned(),
                s[2].as_str()?.to_owned(),
            ))
        })
        .collect::<Option<_>>()
        .context("a malformed subscription")?;
    drop(setup);
    let total = subscriptions.len();
    let workspaces = subscriptions.iter().map(|s| s.0 + 1).max().unwrap_or(0);
    crate::probe::ensure_open_files(total + 64)?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = rss_bytes()?;

    // Two stages, so each side's memory splits into the connection's and the subscription's share.
    let started = Instant::now();
    let last: Arc<[AtomicI64]> = (0..workspaces).map(|_| AtomicI64::new(i64::MAX)).collect();
    let (phase_tx, phase) = watch::channel(Phase::Running);
    let (go_tx, go) = watch::channel(false);
    let handshakes = Arc::new(Semaphore::new(connecting.max(1)));
    let (progress, mut reached) = mpsc::unbounded_channel::<anyhow::Result<()>>();
    let (outcomes, mut finished) = mpsc::unbounded_channel::<Outcome>();
    for (n, (workspace, token, id)) in subscriptions.into_iter().enumerate() {
        let addr = addrs[n % addrs.len()];
        let (handshakes, progress, outcomes) = (Arc::clone(&handshakes), progress.clone(), outcomes.clone());
        let (last, phase, mut go) = (Arc::clone(&last), phase.clone(), go.clone());
        tokio::spawn(async move {
            let opened = async {
                // Boxed, so the handshakes' state is freed once done rather than sized into the task for good.
                let slot = handshakes.acquire().await?;
                let connected = Box::pin(Subscriber::connect(addr, &token, workspace)).await;
                drop((slot, token));
                let _sent = progress.send(connected.as_ref().map(|_| ()).map_err(|e| anyhow::anyhow!("{e:#}")));
                let mut subscriber = connected?;
                go.wait_for(|go| *go).await?;
                let slot = handshakes.acquire().await?;
                Box::pin(subscriber.subscribe(&id)).await?;
                drop(slot);
                anyhow::Ok(subscriber)
            };
            match opened.await {
                Ok(subscriber) => {
                    let _sent = progress.send(Ok(()));
                    let _sent = outcomes.send(subscriber.follow(last, phase).await);
                }
                Err(error) => {
                    let _sent = progress.send(Err(error));
                }
            }
        });
    }
    drop((progress, outcomes));
    stage(&mut reached, total, "connected").await?;
    let connect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    say(&json!({ "connected": { "rss": rss_bytes()?, "secs": connect_secs } }))?;
    let subscribe = next(&mut lines).await?;
    anyhow::ensure!(subscribe["subscribe"] == true, "expected subscribe, got {subscribe}");
    let subscribing = Instant::now();
    let _sent = go_tx.send(true);
    stage(&mut reached, total, "subscribed").await?;
    let subscribe_secs = subscribing.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    say(&json!({ "ready": {
        "rss_before": rss_before,
        "rss_idle": rss_bytes()?,
        "connect_secs": connect_secs,
        "subscribe_secs": subscribe_secs,
    } }))?;

    let publishing = next(&mut lines).await?;
    anyhow::ensure!(
        publishing["publishing"] == true,
        "expected publishing, got {publishing}"
    );
    let (cpu, publish_started) = (CpuMark::now()?, Instant::now());
    let drain = next(&mut lines).await?;
    let cpu = cpu.since(publish_started.elapsed())?.0;
    let finals = drain["drain"].as_array().context("expected drain")?;
    anyhow::ensure!(
        finals.len() == workspaces,
        "{} finals for {workspaces} workspaces",
        finals.len()
    );
    for (slot, value) in last.iter().zip(finals) {
        slot.store(
            value.as_i64().context("a final that is not a number")?,
            Ordering::Release,
        );
    }
    let drain_for = Duration::from_secs(drain["seconds"].as_u64().unwrap_or(30));
    let _sent = phase_tx.send(Phase::Draining);
    let drain_started = Instant::now();
    let mut seen = Vec::with_capacity(total);
    let mut stopped = false;
    while seen.len() < total {
        let wait = if stopped {
            Duration::from_secs(10)
        } else {
            drain_for.saturating_sub(drain_started.elapsed())
        };
        match tokio::time::timeout(wait, finished.recv()).await {
            Ok(Some(outcome)) => seen.push(outcome),
            Ok(None) => break,
            Err(_) if !stopped => {
                stopped = true;
                let _sent = phase_tx.send(Phase::Stop);
            }
            Err(_) => break,
        }
    }
    let drained = drain_started.elapsed();
    // When each event's transaction committed, from the publisher's side.
    let committed: std::collections::HashMap<(usize, i64), i64> = drain["committed"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|e| Some(((e[0].as_u64()? as usize, e[1].as_i64()?), e[2].as_i64()?)))
                .collect()
        })
        .unwrap_or_default();
    drop(drain);
    let mut summary = summarize(&seen, &last, total, cpu, drained, stopped);
    // Microseconds from the commit's return to arrival. Negative values are possible: the relay may publish
    // before the publisher's task resumed after its commit.
    let mut after_commit: Vec<i64> = seen
        .iter()
        .flat_map(|outcome| {
            let committed = &committed;
            outcome
                .arrivals
                .iter()
                .filter_map(move |(sequence, at)| Some(at - committed.get(&(outcome.workspace, *sequence))?))
        })
        .collect();
    after_commit.sort_unstable();
    summary["after_commit_count"] = json!(after_commit.len());
    for (key, q) in [("p50", 0.5), ("p99", 0.99), ("p999", 0.999), ("max", 1.0)] {
        summary[format!("after_commit_{key}_us")] = json!(quantile(&after_commit, q));
    }
    say(&json!({ "summary": summary }))?;
    Ok(())
}

/// Waits until `total` subscribers reached the stage `name`; fails on the first that could not.
async fn stage(
    reached: &mut mpsc::UnboundedReceiver<anyhow::Result<()>>,
    total: usize,
    name: &str,
) -> anyhow::Result<()> {
    for n in 1..=total {
        tokio::time::timeout(Duration::from_secs(60), reached.recv())
            .await
            .with_context(|| format!("only {} of {total} {name} in time", n - 1))?
            .context("the subscriber tasks ended early")?
            .with_context(|| format!("{n} of {total} failed ({name})"))?;
        if n % 1000 == 0 {
            say(&json!({ "progress": format!("{n} of {total} {name}") }))?;
        }
    }
    Ok(())
}

/// Totals over every subscriber: deliveries, losses, repeats, latency quantiles.
fn summarize(seen: &[Outcome], last: &[AtomicI64], total: usize, cpu: f64, drained: Duration, stopped: bool) -> Value {
    let mut per_workspace = vec![0_u64; last.len()];
    let (mut delivered, mut skipped, mut duplicated, mut ended) = (0_u64, 0_u64, 0_u64, 0_u64);
    let mut first_end = None;
    let mut latencies = Vec::new();
    // Latencies by the second they arrived in, to see whether they drift over the run.
    let mut by_second: std::collections::BTreeMap<u32, Vec<u32>> = std::collections::BTreeMap::new();
    for outcome in seen {
        for (latency, (_, at)) in outcome.latencies_us.iter().zip(&outcome.arrivals) {
            let second = u32::try_from(at / 1_000_000).unwrap_or(u32::MAX);
            by_second.entry(second).or_default().push(*latency);
        }
        per_workspace[outcome.workspace] += 1;
        delivered += outcome.delivered;
        skipped += outcome.skipped;
        duplicated += outcome.duplicated;
        if let Some(reason) = &outcome.ended {
            ended += 1;
            first_end.get_or_insert_with(|| reason.clone());
        }
        latencies.extend_from_slice(&outcome.latencies_us);
    }
    latencies.sort_unstable();
    let p99_by_second: Vec<u32> = by_second
        .into_values()
        .map(|mut second| {
            second.sort_unstable();
            quantile(&second, 0.99) / 1000
        })
        .collect();
    // Every subscription opened, so each workspace's subscribers should each have every event up to its last.
    let subscribers_per_workspace = total / last.len().max(1);
    let expected: u64 = last
        .iter()
        .map(|l| u64::try_from(l.load(Ordering::Acquire)).unwrap_or(0) * subscribers_per_workspace as u64)
        .sum();
    json!({
        "reported": seen.len(),
        "expected": expected,
        "delivered": delivered,
        "lost": expected.saturating_sub(delivered),
        "skipped": skipped,
        "duplicated": duplicated,
        "ended": ended,
        "first_end": first_end,
        "stopped": stopped,
        "latency_count": latencies.len(),
        "p50_us": quantile(&latencies, 0.50),
        "p99_us": quantile(&latencies, 0.99),
        "p999_us": quantile(&latencies, 0.999),
        "max_us": latencies.last().copied().unwrap_or(0),
        "p99_ms_by_second": p99_by_second,
        "cpu_cores": cpu,
        "drained_secs": drained.as_secs_f64(),
    })
}

/// The benchmark's handle on a crowd process.
#[derive(Debug)]
pub struct Crowd {
    child: std::process::Child,
    input: Option<std::process::ChildStdin>,
    lines: mpsc::UnboundedReceiver<anyhow::Result<Value>>,
}

impl Crowd {
    /// Starts `inbox-bench crowd` (this same binary).
    pub fn start() -> anyhow::Result<Self> {
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .arg("crowd")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .context("starting the crowd process")?;
        let input = child.stdin.take();
        let output = child.stdout.take().context("the crowd has no standard output")?;
        let (lines, received) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(output).lines() {
                let parsed = line
                    .map_err(anyhow::Error::from)
                    .and_then(|line| serde_json::from_str(&line).map_err(anyhow::Error::from));
                if lines.send(parsed).is_err() {
                    break;
                }
            }
        });
        Ok(Self {
            child,
            input,
            lines: received,
        })
    }

    /// Writes one line to the crowd (on a blocking thread: the first one is large).
    pub async fn send(&mut self, message: Value) -> anyhow::Result<()> {
        let mut input = self.input.take().context("the crowd's input is closed")?;
        let input = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            writeln!(input, "{message}")?;
            input.flush()?;
            Ok(input)
        })
        .await??;
        self.input = Some(input);
        Ok(())
    }

    /// The crowd's next message named `key`, within `within`; progress is shown, errors fail.
    pub async fn expect(&mut self, key: &str, within: Duration) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let mut message = tokio::time::timeout_at(deadline, self.lines.recv())
                .await
                .with_context(|| format!("the crowd did not say {key} in time"))?
                .context("the crowd exited")??;
            if let Some(error) = message.get("error") {
                anyhow::bail!("the crowd failed: {}", error.as_str().unwrap_or_default());
            }
            if let Some(progress) = message.get("progress").and_then(Value::as_str) {
                eprintln!("crowd: {progress}");
            }
            if let Some(value) = message.get_mut(key) {
                return Ok(value.take());
            }
        }
    }

    /// Waits for the crowd to exit.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        drop(self.input.take());
        let status = tokio::task::spawn_blocking(move || {
            let mut crowd = self;
            crowd.child.wait()
        })
        .await??;
        anyhow::ensure!(status.success(), "the crowd exited with {status}");
        Ok(())
    }
}

impl Drop for Crowd {
    /// A benchmark that failed midway does not leave its crowd behind.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _killed = self.child.kill();
            let _reaped = self.child.wait();
        }
    }
}
