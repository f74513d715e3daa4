//! Live connections: the holder of an account's connection lease keeps one connection open and streams the
//! account's updates into the inbox as they arrive, instead of connecting every few seconds to ask.
//!
//! Rules:
//! - **One supervisor per process** ([`LiveConnections`]) keeps one task per account it holds live. Every
//!   [`LiveTiming::scan_every`] it lists the rented accounts (as the periodic sync does), starts a task for
//!   each one it is not running yet (the task takes the connection lease or ends quietly: another process
//!   holds the account), and stops the tasks of accounts no longer rented to the workspace they ran for.
//! - **One connection per account across processes** still rests on the connection lease alone; the task
//!   renews it and stops when it is taken over ([`task`]).
//! - **A refused account is parked**, not retried in a loop: after Telegram refused the account itself (its
//!   health recorded it), the supervisor starts it again only once its stored health changed (a new session,
//!   an operator's resume) or after [`LiveTiming::park_for`].
//! - **The periodic sync coexists**: it skips the accounts live in this process ([`LiveSet`]); an account live
//!   in another process is refused to it by the lease (`ACCOUNT_UNAVAILABLE`, logged at debug level).
//! - **Shutdown** stops every task (each closes its connection and releases its lease) and waits for them, at
//!   most [`LiveTiming::shutdown_within`]; a task still running then is aborted and its lease lapses.
//!
//! This is a long-running loop inside the domain, which otherwise keeps one-step functions and leaves loops
//! to the composition roots: one account's connection is a loop by nature (renewals, reconnects), and its
//! rules belong next to the inbox's. The api still decides whether it runs and when it stops.

mod backoff;
mod stop;
mod task;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

pub use backoff::{BASE, Backoff, CAP, Jitter, RandomJitter, STABLE_AFTER};
pub use stop::{LiveSet, StopHandle, StopSignal, stop_pair};
use task::{AccountTask, TaskEnd};

use super::InboxService;
use crate::accounts::health::CounterHolder;
use crate::accounts::pool::connections::CONNECTION_LEASE_SECS;
use crate::error::DomainResult;
use crate::ids::{AccountId, WorkspaceId};
use crate::tenancy::TenantScope;

/// When the supervisor and its tasks act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveTiming {
    /// How often the rented accounts are listed.
    pub scan_every: Duration,
    /// How often a task renews its connection lease (a third of the lease by default).
    pub renew_every: Duration,
    /// How many tasks connect and catch up at once.
    pub max_connecting: usize,
    /// How long a refused account stays parked when its health does not change.
    pub park_for: Duration,
    /// How long shutdown waits for the tasks to release their leases.
    pub shutdown_within: Duration,
}

impl Default for LiveTiming {
    fn default() -> Self {
        Self {
            scan_every: Duration::from_secs(5),
            renew_every: Duration::from_secs(lease_secs() / 3),
            max_connecting: 16,
            park_for: Duration::from_secs(30 * 60),
            shutdown_within: Duration::from_secs(10),
        }
    }
}

impl LiveTiming {
    /// Renewal every `period`, kept between 1 s and half the lease so one late renewal never loses it.
    #[must_use]
    pub fn renewing_every(mut self, period: Duration) -> Self {
        self.renew_every = period.clamp(Duration::from_secs(1), Duration::from_secs(lease_secs() / 2));
        self
    }

    /// Listing the rented accounts every `period` (at least every 100 ms).
    #[must_use]
    pub fn scanning_every(mut self, period: Duration) -> Self {
        self.scan_every = period.max(Duration::from_millis(100));
        self
    }
}

fn lease_secs() -> u64 {
    u64::try_from(CONNECTION_LEASE_SECS).unwrap_or(60)
}

/// What one scan found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScanReport {
    /// Tasks running after the scan.
    pub running: usize,
    pub started: usize,
    pub stopped: usize,
    /// Accounts parked after a refusal.
    pub parked: usize,
}

#[derive(Debug)]
struct Running {
    workspace: WorkspaceId,
    stop: StopHandle,
    handle: JoinHandle<TaskEnd>,
}

#[derive(Debug)]
struct Parked {
    workspace: WorkspaceId,
    health_version: Option<u64>,
    since: DateTime<Utc>,
}

/// The process's live connections.
#[derive(Debug)]
pub struct LiveConnections {
    inbox: InboxService,
    timing: LiveTiming,
    jitter: Arc<dyn Jitter>,
    starts: Arc<Semaphore>,
    tasks: HashMap<AccountId, Running>,
    parked: HashMap<AccountId, Parked>,
}

impl LiveConnections {
    pub fn new(inbox: InboxService, timing: LiveTiming) -> Self {
        Self {
            inbox,
            starts: Arc::new(Semaphore::new(timing.max_connecting.max(1))),
            timing,
            jitter: Arc::new(RandomJitter),
            tasks: HashMap::new(),
            parked: HashMap::new(),
        }
    }

    /// Draws reconnection jitter from `jitter` instead of the thread's random generator.
    #[must_use]
    pub fn with_jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.jitter = jitter;
        self
    }

    /// Scans every [`LiveTiming::scan_every`] (the first at once) until `stop` fires, then shuts down.
    pub async fn run(self, stop: StopSignal) {
        self.run_reporting(stop, |_| {}).await;
    }

    /// [`Self::run`], telling `report` what each scan left running and parked (and zeros once stopped), for
    /// the process's metrics.
    pub async fn run_reporting(mut self, mut stop: StopSignal, mut report: impl FnMut(&ScanReport) + Send) {
        let mut ticks = tokio::time::interval(self.timing.scan_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.stopped() => break,
                _ = ticks.tick() => {}
            }
            match self.scan_once().await {
                Ok(scanned) => report(&scanned),
                Err(error) => tracing::warn!(%error, "the live connections' scan failed; retrying at the next one"),
            }
        }
        let stopped = self.shutdown().await;
        report(&ScanReport::default());
        tracing::info!(stopped, "live connections stopped");
    }

    /// One scan: reaps ended tasks, stops those of accounts no longer rented, starts the missing ones.
    #[tracing::instrument(skip_all)]
    pub async fn scan_once(&mut self) -> DomainResult<ScanReport> {
        let mut report = ScanReport::default();
        self.reap().await?;
        let rented = self.rented().await?;
        let gone: Vec<AccountId> = self
            .tasks
            .iter()
            .filter(|(account, running)| rented.get(account) != Some(&running.workspace))
            .map(|(account, _)| *account)
            .collect();
        for account in gone {
            if let Some(running) = self.tasks.remove(&account) {
                self.finish(account, running).await;
                report.stopped += 1;
            }
        }
        self.parked
            .retain(|account, parked| rented.get(account) == Some(&parked.workspace));
        for (account, workspace) in rented {
            if self.tasks.contains_key(&account) || self.still_parked(account).await? {
                continue;
            }
            let scope = TenantScope::system(workspace);
            let Some(record) = self.inbox.account_rented_to(&scope, account).await? else {
                continue;
            };
            let (stop, signal) = stop_pair();
            let task = AccountTask {
                inbox: self.inbox.clone(),
                scope,
                account: record,
                timing: self.timing,
                backoff: Backoff::new(Arc::clone(&self.inbox.clock), Arc::clone(&self.jitter)),
                stop: signal,
                starts: Arc::clone(&self.starts),
                written: None,
            };
            self.inbox.live.insert(account);
            let handle = tokio::spawn(task.run());
            self.tasks.insert(
                account,
                Running {
                    workspace,
                    stop,
                    handle,
                },
            );
            report.started += 1;
        }
        report.running = self.tasks.len();
        report.parked = self.parked.len();
        Ok(report)
    }

    /// How many account tasks run now.
    pub fn running(&self) -> usize {
        self.tasks.len()
    }

    /// Stops every task and waits for them to release their leases (at most `shutdown_within`); returns how
    /// many were stopped.
    pub async fn shutdown(&mut self) -> usize {
        for running in self.tasks.values() {
            running.stop.stop();
        }
        let deadline = tokio::time::Instant::now() + self.timing.shutdown_within;
        let tasks: Vec<(AccountId, Running)> = self.tasks.drain().collect();
        let stopped = tasks.len();
        for (account, running) in tasks {
            let abort = running.handle.abort_handle();
            if tokio::time::timeout_at(deadline, running.handle).await.is_err() {
                tracing::warn!(%account, "a live connection did not stop in time; its lease will lapse");
                abort.abort();
            }
            self.inbox.live.remove(account);
        }
        stopped
    }

    /// Removes the tasks that ended by themselves, parking the accounts Telegram refused.
    async fn reap(&mut self) -> DomainResult<()> {
        let ended: Vec<AccountId> = self
            .tasks
            .iter()
            .filter(|(_, running)| running.handle.is_finished())
            .map(|(account, _)| *account)
            .collect();
        for account in ended {
            let Some(running) = self.tasks.remove(&account) else {
                continue;
            };
            self.inbox.live.remove(account);
            match running.handle.await {
                Ok(TaskEnd::Refused(error)) => {
                    tracing::info!(%account, %error, "live connection refused; parked until the account's health changes");
                    let health_version = self.health_version(running.workspace, account).await?;
                    self.parked.insert(
                        account,
                        Parked {
                            workspace: running.workspace,
                            health_version,
                            since: self.inbox.clock.now(),
                        },
                    );
                }
                Ok(TaskEnd::Unavailable) => {
                    tracing::debug!(%account, "the account is connected elsewhere");
                }
                Ok(end) => tracing::debug!(%account, ?end, "live connection ended"),
                Err(error) => tracing::error!(%account, %error, "a live connection task failed"),
            }
        }
        Ok(())
    }

    /// Stops one task and waits for it (at most `shutdown_within`).
    async fn finish(&self, account: AccountId, running: Running) {
        running.stop.stop();
        let abort = running.handle.abort_handle();
        if tokio::time::timeout(self.timing.shutdown_within, running.handle)
            .await
            .is_err()
        {
            abort.abort();
        }
        self.inbox.live.remove(account);
        tracing::debug!(%account, "live connection stopped: the account is no longer rented here");
    }

    /// Whether the account stays parked: its health has not changed since and `park_for` has not passed.
    async fn still_parked(&mut self, account: AccountId) -> DomainResult<bool> {
        let Some(parked) = self.parked.get(&account) else {
            return Ok(false);
        };
        let waited = (self.inbox.clock.now() - parked.since)
            .to_std()
            .unwrap_or(Duration::ZERO);
        let health_version = self.health_version(parked.workspace, account).await?;
        if waited < self.timing.park_for && health_version == parked.health_version {
            return Ok(true);
        }
        self.parked.remove(&account);
        Ok(false)
    }

    async fn health_version(&self, workspace: WorkspaceId, account: AccountId) -> DomainResult<Option<u64>> {
        Ok(self
            .inbox
            .store
            .load(CounterHolder::Workspace(workspace), account)
            .await?
            .map(|stored| stored.version))
    }

    /// Every account rented now, with the workspace renting it.
    async fn rented(&self) -> DomainResult<HashMap<AccountId, WorkspaceId>> {
        let mut rented = HashMap::new();
        let mut after = None;
        loop {
            let page = self.inbox.store.active_leases(after, 500).await?;
            let Some((last, _, _)) = page.last() else {
                return Ok(rented);
            };
            after = Some(*last);
            rented.extend(page.into_iter().map(|(_, workspace, account)| (account, workspace)));
        }
    }
}
