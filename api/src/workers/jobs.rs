//! The job loop: claims and runs jobs until told to stop, then claims no more and lets what runs finish.

use std::time::Duration;

use tgos_domain::jobs::{JobSignal, JobWorker};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::JobsSettings;
use crate::http::metrics::Metrics;

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

/// A running job loop.
#[derive(Debug)]
pub struct JobLoopHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl JobLoopHandle {
    /// Claims no more jobs from now on; the batch running goes on ([`Self::stop`] waits for it).
    pub fn stop_claiming(&self) {
        self.stop.send_replace(true);
    }

    /// Claims no more jobs and waits up to `grace` for the running batch to finish; past it, the batch is
    /// dropped unfinished and its leases lapse, so another worker takes those jobs (they run at least once).
    pub async fn stop(self, grace: Duration) {
        self.stop_claiming();
        let abort = self.task.abort_handle();
        match tokio::time::timeout(grace, self.task).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) if error.is_cancelled() => {}
            Ok(Err(error)) => tracing::error!(%error, "the job loop failed"),
            Err(_) => {
                tracing::warn!(
                    grace_secs = grace.as_secs(),
                    "running jobs did not finish within the grace; their leases will lapse and another worker \
                     takes them"
                );
                abort.abort();
            }
        }
    }

    /// Stops the loop at once, as if the worker had died: running jobs finish nothing, their leases lapse.
    pub fn abort(&self) {
        self.task.abort();
    }
}

/// Starts the job loop: it runs [`JobWorker::run_once`] again at once while batches come back claimed, and
/// otherwise waits for `signal` or the poll; it prunes finished jobs (at its start, then every
/// `prune_every`) and refreshes the queue gauges of `metrics`. After [`JobLoopHandle::stop_claiming`] it
/// claims nothing more and ends once the running batch finished.
pub fn spawn_jobs(worker: JobWorker, signal: JobSignal, timing: JobLoop, metrics: Option<Metrics>) -> JobLoopHandle {
    if let Some(metrics) = &metrics {
        metrics.know_job_kinds(&worker.kinds());
    }
    let (stop, mut stopping) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut pruned_at: Option<tokio::time::Instant> = None;
        let mut gauged_at: Option<tokio::time::Instant> = None;
        while !*stopping.borrow() {
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
                tokio::select! {
                    () = signal.wait(timing.poll) => {}
                    _ = stopping.wait_for(|stop| *stop) => {}
                }
            }
        }
        tracing::info!(holder = worker.holder(), "the job worker stopped claiming");
    });
    JobLoopHandle { stop, task }
}
