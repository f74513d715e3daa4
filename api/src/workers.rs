//! The server's background work, as loops around the domain's one-step functions: the outbox relay
//! (`relay_once`, `prune`), the lease expiry sweep (`expire_due_leases`), the inbox sync (`sync_all`), the job
//! worker (`JobWorker::run_once`, `prune`, `queue`; automation executions and schedules are its jobs) and the
//! automations' upkeep (`AutomationService::maintain`) and the hourly enqueue of the retention sweep
//! (`retention::enqueue_hourly`; the sweep itself is a job), and, when `telegram.live_connections` is on, the
//! live connections' supervisor (`LiveConnections::run`), and the outbox lag gauge ([`gauges`]).
//!
//! Rules: the domain decides what one step does; only this composition root decides when steps run (ticks,
//! wakes) and stops them (dropping the task). A failed step is logged and retried at the next tick; nothing
//! it half-did stays half-done, because each step commits per item. The live connections are the one loop
//! stopped by a signal rather than dropped: each closes its connection and releases its lease first.

use std::sync::Arc;
use std::time::Duration;

use tgos_domain::clock::SystemClock;
use tgos_domain::events::OutboxRelay;
use tgos_domain::inbox::{LiveConnections, LiveTiming, StopHandle, stop_pair};
use tgos_domain::jobs::{JobSignal, JobWorker, unique_holder};
use tgos_domain::retention;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::config::JobsSettings;
use crate::http::metrics::Metrics;

mod gauges;

/// How often skipped executions past their retention window are deleted and every enabled schedule is
/// checked for its next fire.
const AUTOMATION_UPKEEP: Duration = Duration::from_secs(60 * 60);

/// The running loops; dropping them does not stop them, [`Workers::stop`] does.
#[derive(Debug)]
pub struct Workers {
    tasks: Vec<JoinHandle<()>>,
    /// The live connections' supervisor and the handle that stops it, when they run.
    live: Option<(StopHandle, JoinHandle<()>)>,
}

impl Workers {
    /// Starts every loop on the state's services and settings.
    pub fn start(state: &AppState) -> Self {
        let settings = &state.settings;
        let relay = OutboxRelay::new(
            state.store.clone(),
            state.publisher.clone(),
            Arc::new(SystemClock),
            state.outbox.clone(),
        );
        let jobs = state
            .job_handlers
            .iter()
            .fold(
                JobWorker::new(state.store.clone(), Arc::new(SystemClock), unique_holder()),
                |worker, handler| worker.with_handler(handler.clone()),
            )
            .with_lease(Duration::from_secs(settings.jobs.lease_secs))
            .with_batch(settings.jobs.batch);
        tracing::info!(holder = jobs.holder(), kinds = ?jobs.kinds(), "job worker starting");
        let mut tasks = vec![
            spawn_jobs(
                jobs,
                state.jobs.clone(),
                JobLoop::new(&settings.jobs),
                Some(state.metrics.clone()),
            ),
            tokio::spawn(gauges::outbox_lag(relay.clone(), state.metrics.clone(), gauges::EVERY)),
            tokio::spawn(relay_events(
                relay,
                Duration::from_millis(settings.events.relay_tick_ms.max(10)),
                Duration::from_secs(settings.events.replay_window_hours.max(1) * 60 * 60),
            )),
            tokio::spawn(every(
                Duration::from_secs(settings.accounts.expiry_sweep_secs.max(1)),
                "the lease expiry sweep",
                {
                    let accounts = state.accounts.clone();
                    move || {
                        let accounts = accounts.clone();
                        async move {
                            let ended = accounts.expire_due_leases().await?;
                            if ended > 0 {
                                tracing::info!(ended, "leases expired; their accounts are back in the pool");
                            }
                            Ok(())
                        }
                    }
                },
            )),
            // The first sync one period after start: nothing is rented yet at start that a moment's wait
            // would lose, and a sync racing the first requests would only hold their accounts' connections.
            tokio::spawn(every_from(
                tokio::time::Instant::now() + Duration::from_secs(settings.telegram.sync_every_secs.max(1)),
                Duration::from_secs(settings.telegram.sync_every_secs.max(1)),
                "the inbox sync",
                {
                    let inbox = state.inbox.clone();
                    move || {
                        let inbox = inbox.clone();
                        async move {
                            let stored = inbox.sync_all().await?;
                            if stored > 0 {
                                tracing::debug!(stored, "inbox sync stored new messages");
                            }
                            Ok(())
                        }
                    }
                },
            )),
            tokio::spawn(every(AUTOMATION_UPKEEP, "the automations' upkeep", {
                let automations = state.automations.clone();
                move || {
                    let automations = automations.clone();
                    async move {
                        let pruned = automations.maintain().await?;
                        if pruned > 0 {
                            tracing::info!(pruned, "executions that did not run left the retention window");
                        }
                        Ok(())
                    }
                }
            })),
        ];
        if settings.retention.sweep_every_secs > 0 {
            tasks.push(tokio::spawn(offer_retention_sweep(
                state.store.clone(),
                state.jobs.clone(),
                Duration::from_secs(settings.retention.sweep_every_secs),
            )));
        }
        Self {
            tasks,
            live: settings.telegram.live_connections_on().then(|| start_live(state)),
        }
    }

    /// No background work: a server that only serves (`server.workers = false`).
    pub fn none() -> Self {
        Self {
            tasks: Vec::new(),
            live: None,
        }
    }

    /// Stops every loop; the live connections release their leases first (bounded by their shutdown wait).
    pub async fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
        if let Some((stop, supervisor)) = self.live {
            stop.stop();
            if let Err(error) = supervisor.await {
                tracing::error!(%error, "the live connections' supervisor failed");
            }
        }
    }
}

/// Starts the live connections' supervisor on the configured timing.
fn start_live(state: &AppState) -> (StopHandle, JoinHandle<()>) {
    let telegram = &state.settings.telegram;
    let timing = LiveTiming {
        shutdown_within: Duration::from_secs(state.settings.server.shutdown_grace_secs.clamp(1, 30)),
        ..LiveTiming::default()
    }
    .scanning_every(Duration::from_secs(telegram.live_scan_secs))
    .renewing_every(Duration::from_secs(telegram.live_renew_secs));
    tracing::info!(?timing, "live connections starting");
    let (stop, signal) = stop_pair();
    let supervisor = LiveConnections::new(state.inbox.clone(), timing);
    let metrics = state.metrics.clone();
    let report = move |scan: &tgos_domain::inbox::live::ScanReport| metrics.record_live(scan.running, scan.parked);
    (stop, tokio::spawn(supervisor.run_reporting(signal, report)))
}

/// Offers the retention sweep at start and then every `period`: one job per UTC hour is stored whatever the
/// number of servers (the dedupe key names the hour), and the job worker runs it.
async fn offer_retention_sweep(
    store: std::sync::Arc<dyn tgos_domain::store::Store>,
    signal: JobSignal,
    period: Duration,
) {
    every(period, "enqueueing the retention sweep", move || {
        let store = store.clone();
        let signal = signal.clone();
        async move {
            if retention::enqueue_hourly(&*store, chrono::Utc::now()).await? {
                signal.enqueued();
            }
            Ok(())
        }
    })
    .await;
}

/// Runs `step` every `period` (a tick missed while a step ran is not made up), logging failures.
async fn every<F, Fut>(period: Duration, what: &'static str, step: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = tgos_domain::error::DomainResult<()>>,
{
    every_from(tokio::time::Instant::now(), period, what, step).await;
}

/// Runs `step` at `first`, then every `period`.
async fn every_from<F, Fut>(first: tokio::time::Instant, period: Duration, what: &'static str, step: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = tgos_domain::error::DomainResult<()>>,
{
    let mut ticks = tokio::time::interval_at(first, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = step().await {
            tracing::error!(error = %error, detail = ?error, "{what} failed");
        }
    }
}

/// Relays on every wake and at least every `tick`, pruning the replay window every 600 passes.
async fn relay_events(relay: OutboxRelay, tick: Duration, window: Duration) {
    const PRUNE_EVERY: u32 = 600;
    let mut passes = 0_u32;
    loop {
        if let Err(error) = relay.relay_once().await {
            tracing::warn!(%error, "relaying events failed; retrying");
        }
        passes = passes.wrapping_add(1);
        if passes % PRUNE_EVERY == 1 {
            match relay.prune(window).await {
                Ok(0) => {}
                Ok(pruned) => tracing::debug!(pruned, "pruned events past the replay window"),
                Err(error) => tracing::warn!(%error, "pruning events failed"),
            }
        }
        tokio::select! {
            () = relay.woken() => {}
            () = tokio::time::sleep(tick) => {}
        }
    }
}

/// When the job loop runs its steps.
#[derive(Debug, Clone, Copy)]
pub struct JobLoop {
    /// The longest wait for a wake when nothing was due.
    pub poll: Duration,
    /// How long finished jobs are kept.
    pub keep_finished: Duration,
    /// How often finished jobs past `keep_finished` are deleted.
    pub prune_every: Duration,
    /// How often the queue gauges are read again.
    pub gauges_every: Duration,
}

impl JobLoop {
    pub fn new(settings: &JobsSettings) -> Self {
        Self {
            poll: Duration::from_millis(settings.poll_ms.max(10)),
            keep_finished: Duration::from_secs(settings.keep_finished_hours.saturating_mul(60 * 60)),
            prune_every: Duration::from_secs(10 * 60),
            gauges_every: Duration::from_secs(5),
        }
    }
}

/// Starts the job loop: it runs [`JobWorker::run_once`] again at once while batches come back claimed, and
/// otherwise waits for `signal` or the poll; it prunes finished jobs (at its start, then every
/// `prune_every`) and refreshes the queue gauges of `metrics`. Aborting the task stops the jobs it runs
/// without finishing them: their leases lapse and another worker takes them.
pub fn spawn_jobs(worker: JobWorker, signal: JobSignal, timing: JobLoop, metrics: Option<Metrics>) -> JoinHandle<()> {
    if let Some(metrics) = &metrics {
        metrics.know_job_kinds(&worker.kinds());
    }
    tokio::spawn(async move {
        let mut pruned_at: Option<tokio::time::Instant> = None;
        let mut gauged_at: Option<tokio::time::Instant> = None;
        loop {
            let claimed = match worker.run_once().await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "claiming jobs failed; retrying");
                    0
                }
            };
            if pruned_at.is_none_or(|at| at.elapsed() >= timing.prune_every) {
                pruned_at = Some(tokio::time::Instant::now());
                match worker.prune(timing.keep_finished).await {
                    Ok(0) => {}
                    Ok(pruned) => tracing::debug!(pruned, "pruned finished jobs"),
                    Err(error) => tracing::warn!(%error, "pruning finished jobs failed"),
                }
            }
            if let Some(metrics) = &metrics
                && gauged_at.is_none_or(|at| at.elapsed() >= timing.gauges_every)
            {
                gauged_at = Some(tokio::time::Instant::now());
                match worker.queue().await {
                    Ok(queue) => metrics.record_job_queue(&queue, chrono::Utc::now()),
                    Err(error) => tracing::warn!(%error, "reading the job queue failed"),
                }
            }
            if claimed == 0 {
                signal.wait(timing.poll).await;
            }
        }
    })
}
