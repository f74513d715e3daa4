//! The server's job loop on a graceful stop, on both databases: it claims nothing more, the job it runs
//! finishes within the grace, and one that outlasts the grace is left running for its lease to lapse (another
//! worker then takes it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tgos_api::workers::{JobLoop, spawn_jobs};
use tgos_domain::clock::{Clock as _, SystemClock};
use tgos_domain::jobs::{JobSignal, JobStatus, JobWorker, NewJob};
use tgos_tests::backend_tests;

use super::jobs::{KIND, Script, Scripted, enqueued};

fn timing() -> JobLoop {
    JobLoop {
        poll: Duration::from_millis(50),
        keep_finished: Duration::from_secs(3600),
        prune_every: Duration::from_secs(3600),
        gauges_every: Duration::from_secs(3600),
    }
}

backend_tests!(
    a_stopping_job_loop_claims_no_more_and_lets_its_running_job_finish,
    |app| {
        let handler = Scripted::slow(Script::Done, Duration::from_secs(1));
        let worker = JobWorker::new(app.store.clone(), Arc::new(SystemClock), "stopping").with_handler(handler.clone());
        let started = handler.started.notified();
        let now = SystemClock.now();
        let running = enqueued(&app, NewJob::now(KIND, None, json!({}), now), now).await?;
        let jobs = spawn_jobs(worker, JobSignal::new(), timing(), None);
        tokio::time::timeout(Duration::from_secs(10), started).await?;
        // Queued while the loop is busy: a loop that did not stop would claim it next.
        let now = SystemClock.now();
        let waiting = enqueued(&app, NewJob::now(KIND, None, json!({}), now), now).await?;

        jobs.stop(Duration::from_secs(10)).await;
        let finished = app.store.job(running).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
        assert_eq!(
            finished.status,
            JobStatus::Done,
            "the running job finished within the grace"
        );
        let left = app.store.job(waiting).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
        assert_eq!(left.status, JobStatus::Queued, "nothing more was claimed");
        assert_eq!(left.attempts, 0);
        assert_eq!(handler.runs().len(), 1);
        Ok(())
    }
);

backend_tests!(a_job_that_outlasts_the_grace_is_left_to_its_lease, |app| {
    let handler = Scripted::new(Script::Hang);
    let worker = JobWorker::new(app.store.clone(), Arc::new(SystemClock), "hanging").with_handler(handler.clone());
    let started = handler.started.notified();
    let now = SystemClock.now();
    let hanging = enqueued(&app, NewJob::now(KIND, None, json!({}), now), now).await?;
    let jobs = spawn_jobs(worker, JobSignal::new(), timing(), None);
    tokio::time::timeout(Duration::from_secs(10), started).await?;

    let stopping = Instant::now();
    jobs.stop(Duration::from_millis(500)).await;
    assert!(
        stopping.elapsed() < Duration::from_secs(3),
        "the stop waited the grace, not the job: {:?}",
        stopping.elapsed()
    );
    let left = app.store.job(hanging).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(left.status, JobStatus::Running, "not finished: its lease lapses");
    assert_eq!(left.holder.as_deref(), Some("hanging"));
    assert!(handler.runs().is_empty());
    Ok(())
});
