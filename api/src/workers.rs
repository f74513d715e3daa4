//! The process's background work, as loops around the domain's one-step functions.
//!
//! - **Leader-held work** runs in one process at a time across every replica on the database: the outbox
//!   relay (`relay_once`, `prune`), the lease expiry sweep (`expire_due_leases`), the inbox sync
//!   (`sync_all`), the automations' upkeep (`AutomationService::maintain`) and the hourly enqueue of the
//!   retention sweep (`retention::enqueue_hourly`). A campaign loop takes and renews their leader leases
//!   (`tgos_domain::leadership`) every third of `workers.leader_lease_secs`; each loop checks its lease before
//!   every step ([`loops`]).
//! - **The job worker** runs in every process that runs workers: jobs are claimed rows with leases, so many
//!   workers share them (`JobWorker::run_once`, `prune`, `queue`; automation executions, exports, erasures,
//!   the retention sweep and notices are its jobs) ([`jobs`]).
//! - **The live connections' supervisor**, when `telegram.live_connections` is on (`LiveConnections::run`):
//!   each account's connection holds a lease of its own.
//!
//! Rules: the domain decides what one step does; only this composition root decides when steps run (ticks,
//! wakes, leadership) and stops them. A failed step is logged and retried at the next tick; nothing it
//! half-did stays half-done, because each step commits per item. On a graceful stop ([`Workers::stop`]) the
//! job worker claims no more and lets its running jobs finish within the grace (past it they are dropped and
//! their leases lapse), the leader-held loops stop and their leases are released so another process takes over
//! at once, and the live connections close and release theirs.

mod gauges;
mod jobs;
mod loops;

use std::sync::Arc;
use std::time::Duration;

use tgos_domain::clock::SystemClock;
use tgos_domain::events::OutboxRelay;
use tgos_domain::inbox::{LiveConnections, LiveTiming, StopHandle, stop_pair};
use tgos_domain::jobs::{JobWorker, unique_holder};
use tgos_domain::leadership::{Leadership, names};
use tokio::task::JoinHandle;

pub use jobs::{JobLoop, JobLoopHandle, spawn_jobs};
use loops::{Tick, leader_every, offer_retention_sweep, relay_events};

use crate::app::AppState;

/// How often skipped executions past their retention window are deleted and every enabled schedule is
/// checked for its next fire.
const AUTOMATION_UPKEEP: Duration = Duration::from_secs(60 * 60);

/// The running loops; dropping them does not stop them, [`Workers::stop`] does.
#[derive(Debug)]
pub struct Workers {
    /// The leader-held loops and the campaign loop.
    tasks: Vec<JoinHandle<()>>,
    /// The leases of the leader-held work, released on stop.
    leadership: Option<Leadership>,
    jobs: Option<JobLoopHandle>,
    /// The live connections' supervisor and the handle that stops it, when they run.
    live: Option<(StopHandle, JoinHandle<()>)>,
}

impl Workers {
    /// Starts every loop on the state's services and settings.
    pub fn start(state: &AppState) -> Self {
        let settings = &state.settings;
        let mut campaigned = vec![
            names::OUTBOX_RELAY,
            names::LEASE_EXPIRY,
            names::INBOX_SYNC,
            names::AUTOMATION_UPKEEP,
        ];
        if settings.retention.sweep_every_secs > 0 {
            campaigned.push(names::RETENTION_ENQUEUE);
        }
        let leadership = Leadership::new(
            state.leaders.clone(),
            Arc::new(SystemClock),
            unique_holder(),
            Duration::from_secs(settings.workers.leader_lease_secs),
            &campaigned,
        );
        tracing::info!(holder = leadership.holder(), lease = ?leadership.lease(), names = ?campaigned, "campaigning for the leader-held work");
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
        let jobs = spawn_jobs(
            jobs,
            state.jobs.clone(),
            JobLoop::new(&settings.jobs),
            Some(state.metrics.clone()),
        );
        let mut tasks = vec![
            tokio::spawn(gauges::outbox_lag(relay.clone(), state.metrics.clone(), gauges::EVERY)),
            tokio::spawn(relay_events(
                relay,
                leadership.handle(names::OUTBOX_RELAY),
                Duration::from_millis(settings.events.relay_tick_ms.max(10)),
                Duration::from_secs(settings.events.replay_window_hours.max(1) * 60 * 60),
            )),
            tokio::spawn(leader_every(
                leadership.handle(names::LEASE_EXPIRY),
                Tick::every(Duration::from_secs(settings.accounts.expiry_sweep_secs.max(1))),
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
            // The first sync one period after start (and after taking the lead): nothing is rented yet at start
            // that a moment's wait would lose, and a sync racing the first requests would only hold their
            // accounts' connections.
            tokio::spawn(leader_every(
                leadership.handle(names::INBOX_SYNC),
                Tick {
                    first: tokio::time::Instant::now() + Duration::from_secs(settings.telegram.sync_every_secs.max(1)),
                    period: Duration::from_secs(settings.telegram.sync_every_secs.max(1)),
                    on_gain: false,
                },
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
            tokio::spawn(leader_every(
                leadership.handle(names::AUTOMATION_UPKEEP),
                Tick::every(AUTOMATION_UPKEEP),
                "the automations' upkeep",
                {
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
                },
            )),
        ];
        if settings.retention.sweep_every_secs > 0 {
            tasks.push(tokio::spawn(offer_retention_sweep(
                state.store.clone(),
                state.jobs.clone(),
                leadership.handle(names::RETENTION_ENQUEUE),
                Duration::from_secs(settings.retention.sweep_every_secs),
            )));
        }
        // Last, so every loop already waits for its wake when the first round takes the lead.
        tasks.push(tokio::spawn(campaign(leadership.clone())));
        Self {
            tasks,
            leadership: Some(leadership),
            jobs: Some(jobs),
            live: settings.telegram.live_connections_on().then(|| start_live(state)),
        }
    }

    /// No background work: a server that only serves (`server.workers = false`).
    pub fn none() -> Self {
        Self {
            tasks: Vec::new(),
            leadership: None,
            jobs: None,
            live: None,
        }
    }

    /// The holder id this process's leader leases carry (`leader_leases.holder`), when it runs workers.
    pub fn leader_holder(&self) -> Option<&str> {
        self.leadership.as_ref().map(Leadership::holder)
    }

    /// Stops the background work gracefully: the job worker claims no more and its running jobs get `grace`
    /// to finish; the leader-held loops stop and their leases are released (another process takes the work
    /// at its next round); the live connections close and release their leases.
    pub async fn stop(self, grace: Duration) {
        if let Some(jobs) = &self.jobs {
            jobs.stop_claiming();
        }
        for task in &self.tasks {
            task.abort();
        }
        for task in self.tasks {
            // Cancelled: a step in flight is dropped (its transaction rolls back) before the leases go.
            let _stopped = task.await;
        }
        if let Some(leadership) = &self.leadership {
            leadership.release_all().await;
        }
        let live = async {
            if let Some((stop, supervisor)) = self.live {
                stop.stop();
                if let Err(error) = supervisor.await {
                    tracing::error!(%error, "the live connections' supervisor failed");
                }
            }
        };
        let jobs = async {
            if let Some(jobs) = self.jobs {
                jobs.stop(grace).await;
            }
        };
        tokio::join!(live, jobs);
    }
}

/// Takes and renews the leader leases every third of the lease, until aborted.
async fn campaign(leadership: Leadership) {
    let mut rounds = tokio::time::interval(leadership.renew_every());
    rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        rounds.tick().await;
        leadership.campaign_once().await;
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
