//! Jobs on the real store: each job runs once however many workers claim at once, a dedupe key stores one
//! job, a job exists only if its transaction committed, a dead worker's job goes to another after its lease,
//! retries wait their back-off and end failed when attempts run out, a lost claim cannot be finished, and
//! pruning takes only finished jobs. Workers are built directly over the server's store, on a clock the test
//! moves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound as _, Utc};
use serde_json::json;
use tgos_domain::clock::Clock;
use tgos_domain::ids::{JobId, WorkspaceId};
use tgos_domain::jobs::worker::{RETRY_BASE, RETRY_CAP};
use tgos_domain::jobs::{
    ClaimedJob, JobFinish, JobHandler, JobOutcome, JobRecord, JobSignal, JobStatus, JobWorker, NewJob, enqueue,
};
use tgos_tests::clock::ManualClock;
use tgos_tests::{TestApp, backend_tests};
use tokio::sync::Notify;

pub(crate) const KIND: &str = "test.work";

/// What a [`Scripted`] handler does on each attempt.
#[derive(Clone)]
pub(crate) enum Script {
    /// Done every time.
    Done,
    /// Retry with the default back-off on attempts before `succeeds_on`, then done.
    FailUntil { succeeds_on: u32 },
    /// Retry after `after` every time.
    AlwaysRetry { after: Duration },
    /// Failed at once.
    Fail,
    /// Never returns (a worker that hangs or dies while running it).
    Hang,
    /// Panics.
    Panic,
}

/// Runs [`KIND`] by its script and records every run: the job, the attempt, and the outcome it gave.
pub(crate) struct Scripted {
    script: Script,
    runs: Mutex<Vec<(JobId, u32, JobOutcome)>>,
    pub(crate) started: Notify,
    delay: Duration,
}

impl Scripted {
    pub(crate) fn new(script: Script) -> Arc<Self> {
        Arc::new(Self {
            script,
            runs: Mutex::new(Vec::new()),
            started: Notify::new(),
            delay: Duration::ZERO,
        })
    }

    pub(crate) fn slow(script: Script, delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            script,
            runs: Mutex::new(Vec::new()),
            started: Notify::new(),
            delay,
        })
    }

    pub(crate) fn runs(&self) -> Vec<(JobId, u32, JobOutcome)> {
        self.runs.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[async_trait]
impl JobHandler for Scripted {
    fn kinds(&self) -> &'static [&'static str] {
        &[KIND]
    }

    async fn run(&self, job: &ClaimedJob) -> JobOutcome {
        self.started.notify_one();
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let outcome = match &self.script {
            Script::Done => JobOutcome::Done,
            Script::FailUntil { succeeds_on } if job.attempt < *succeeds_on => {
                JobOutcome::retry(job, format!("attempt {} failed", job.attempt))
            }
            Script::FailUntil { .. } => JobOutcome::Done,
            Script::AlwaysRetry { after } => JobOutcome::Retry {
                after: *after,
                error: format!("attempt {} failed", job.attempt),
            },
            Script::Fail => JobOutcome::Failed {
                error: "nothing to do".into(),
            },
            Script::Hang => std::future::pending().await,
            Script::Panic => panic!("the handler broke on attempt {}", job.attempt),
        };
        self.runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((job.id, job.attempt, outcome.clone()));
        outcome
    }
}

fn worker(app: &TestApp, clock: &Arc<ManualClock>, holder: &str, handler: &Arc<Scripted>) -> JobWorker {
    JobWorker::new(app.store.clone(), clock.clone(), holder).with_handler(handler.clone())
}

/// Enqueues on the store and commits; the job's id.
pub(crate) async fn enqueued(app: &TestApp, job: NewJob, now: DateTime<Utc>) -> anyhow::Result<JobId> {
    let tx = app.store.begin().await?;
    assert!(enqueue(tx.as_ref(), &job, now).await?, "the job was refused");
    tx.commit().await?;
    Ok(job.id)
}

async fn stored(app: &TestApp, id: JobId) -> anyhow::Result<JobRecord> {
    app.store
        .job(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("job {id} is not stored"))
}

backend_tests!(
    two_hundred_jobs_claimed_by_four_workers_at_once_each_run_exactly_once,
    |app| {
        let clock = ManualClock::starting_now();
        let now = clock.now();
        let handler = Scripted::slow(Script::Done, Duration::from_millis(2));
        let tx = app.store.begin().await?;
        let mut ids = Vec::new();
        for n in 0..200 {
            let job = NewJob::now(KIND, None, json!({ "n": n }), now);
            assert!(enqueue(tx.as_ref(), &job, now).await?);
            ids.push(job.id);
        }
        tx.commit().await?;

        let mut workers = Vec::new();
        for holder in ["w1", "w2", "w3", "w4"] {
            let worker = worker(&app, &clock, holder, &handler).with_batch(8);
            let handler = handler.clone();
            workers.push(tokio::spawn(async move {
                let mut claimed = 0;
                let mut idle_passes = 0;
                while handler.runs().len() < 200 && idle_passes < 200 {
                    match worker.run_once().await? {
                        0 => {
                            idle_passes += 1;
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        n => claimed += n,
                    }
                }
                anyhow::Ok((worker.holder().to_owned(), claimed))
            }));
        }
        let mut claimed_by = HashMap::new();
        for worker in workers {
            let (holder, claimed) = worker.await??;
            claimed_by.insert(holder, claimed);
        }

        let mut runs_per_job: HashMap<JobId, usize> = HashMap::new();
        for (id, attempt, _) in handler.runs() {
            assert_eq!(attempt, 1, "a job was claimed twice");
            *runs_per_job.entry(id).or_default() += 1;
        }
        assert_eq!(runs_per_job.len(), 200, "every job ran");
        assert!(runs_per_job.values().all(|runs| *runs == 1), "a job ran twice");
        assert_eq!(claimed_by.values().sum::<usize>(), 200, "claims: {claimed_by:?}");
        assert!(
            claimed_by.values().filter(|claimed| **claimed > 0).count() >= 2,
            "the workers did not share the work: {claimed_by:?}"
        );
        for id in ids {
            let job = stored(&app, id).await?;
            assert_eq!((job.status, job.attempts), (JobStatus::Done, 1));
            assert_eq!(job.finished_at, Some(now));
        }
        Ok(())
    }
);

backend_tests!(
    a_second_job_with_a_taken_dedupe_key_is_refused_and_stores_nothing,
    |app| {
        let now = Utc::now().trunc_subsecs(6);
        let (alpha, beta) = (WorkspaceId::generate(), WorkspaceId::generate());
        let first = NewJob::now(KIND, Some(alpha), json!({ "first": true }), now).with_dedupe_key("export:1");
        enqueued(&app, first.clone(), now).await?;

        for workspace in [Some(alpha), Some(beta), None] {
            let second = NewJob::now(KIND, workspace, json!({ "first": false }), now).with_dedupe_key("export:1");
            let tx = app.store.begin().await?;
            assert!(!enqueue(tx.as_ref(), &second, now).await?, "a taken key was accepted");
            tx.commit().await?;
            assert_eq!(app.store.job(second.id).await?, None, "the refused job was stored");
        }
        // A refused key is refused while the first job runs and after it finished, until it is pruned.
        let handler = Scripted::new(Script::Done);
        let clock = ManualClock::starting_now();
        clock.set(now);
        assert_eq!(worker(&app, &clock, "w", &handler).run_once().await?, 1);
        let after_done = NewJob::now(KIND, None, json!({}), now).with_dedupe_key("export:1");
        assert!(!app.store.enqueue_job(&after_done, now).await?);

        let kept = stored(&app, first.id).await?;
        assert_eq!(kept.payload, json!({ "first": true }));
        assert_eq!(kept.workspace_id, Some(alpha));
        // Jobs without a key never collide.
        for _ in 0..2 {
            enqueued(&app, NewJob::now(KIND, None, json!({}), now), now).await?;
        }
        Ok(())
    }
);

backend_tests!(a_job_enqueued_in_a_transaction_that_rolls_back_does_not_exist, |app| {
    let now = Utc::now().trunc_subsecs(6);
    let workspace = WorkspaceId::generate();
    let rolled_back = NewJob::now(KIND, Some(workspace), json!({}), now).with_dedupe_key("once");
    let tx = app.store.begin().await?;
    assert!(enqueue(tx.as_ref(), &rolled_back, now).await?);
    drop(tx);
    assert_eq!(app.store.job(rolled_back.id).await?, None);

    // Nor does its dedupe key stay taken; the same job committed exists.
    let committed = NewJob::now(KIND, Some(workspace), json!({}), now).with_dedupe_key("once");
    enqueued(&app, committed.clone(), now).await?;
    let job = stored(&app, committed.id).await?;
    assert_eq!((job.status, job.attempts, job.run_at), (JobStatus::Queued, 0, now));
    Ok(())
});

backend_tests!(
    a_job_whose_worker_died_is_claimed_again_after_its_lease_and_finished,
    |app| {
        let clock = ManualClock::starting_now();
        let id = enqueued(&app, NewJob::now(KIND, None, json!({}), clock.now()), clock.now()).await?;
        let hanging = Scripted::new(Script::Hang);
        let dying = worker(&app, &clock, "dies", &hanging);
        let run = tokio::spawn(async move { dying.run_once().await });
        tokio::time::timeout(Duration::from_secs(10), hanging.started.notified()).await?;
        run.abort();
        assert!(run.await.is_err_and(|e| e.is_cancelled()));

        let job = stored(&app, id).await?;
        assert_eq!((job.status, job.attempts), (JobStatus::Running, 1));
        assert_eq!(job.holder.as_deref(), Some("dies"));

        let healthy = Scripted::new(Script::Done);
        let survivor = worker(&app, &clock, "survives", &healthy);
        assert_eq!(survivor.run_once().await?, 0, "claimed while the lease lasted");
        clock.advance(chrono::Duration::seconds(59));
        assert_eq!(survivor.run_once().await?, 0, "claimed while the lease lasted");
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(survivor.run_once().await?, 1);
        assert_eq!(healthy.runs(), vec![(id, 2, JobOutcome::Done)]);

        let job = stored(&app, id).await?;
        assert_eq!((job.status, job.attempts), (JobStatus::Done, 2));
        assert_eq!(job.holder.as_deref(), Some("survives"));
        assert_eq!(job.lease_until, None);
        Ok(())
    }
);

backend_tests!(a_lapsed_lease_on_the_last_attempt_ends_the_job_failed, |app| {
    let clock = ManualClock::starting_now();
    let job = NewJob::now(KIND, None, json!({}), clock.now()).with_max_attempts(1);
    let id = enqueued(&app, job, clock.now()).await?;
    let claims = app
        .store
        .claim_jobs(&[KIND], "dies", clock.now(), Duration::from_secs(30), 10)
        .await?;
    assert_eq!(claims.len(), 1);
    assert_eq!((claims[0].attempt, claims[0].max_attempts), (1, 1));

    let failed_at = clock.advance(chrono::Duration::seconds(31));
    let handler = Scripted::new(Script::Done);
    assert_eq!(worker(&app, &clock, "next", &handler).run_once().await?, 0);
    assert!(handler.runs().is_empty());
    let job = stored(&app, id).await?;
    assert_eq!((job.status, job.attempts), (JobStatus::Failed, 1));
    assert_eq!(job.finished_at, Some(failed_at));
    assert!(job.last_error.is_some_and(|e| e.contains("lease lapsed")));
    Ok(())
});

backend_tests!(
    a_job_failing_twice_then_succeeding_is_done_on_attempt_three_after_its_backoffs,
    |app| {
        let clock = ManualClock::starting_now();
        let id = enqueued(&app, NewJob::now(KIND, None, json!({}), clock.now()), clock.now()).await?;
        let handler = Scripted::new(Script::FailUntil { succeeds_on: 3 });
        let worker = worker(&app, &clock, "w", &handler);

        for attempt in 1..=2_u32 {
            let failed_at = clock.now();
            assert_eq!(worker.run_once().await?, 1);
            let (_, ran, outcome) = handler.runs().pop().ok_or_else(|| anyhow::anyhow!("no run"))?;
            assert_eq!(ran, attempt);
            let JobOutcome::Retry { after, .. } = outcome else {
                anyhow::bail!("attempt {attempt} did not ask for a retry");
            };
            let ceiling = RETRY_BASE * 2_u32.pow(attempt - 1);
            assert!(after >= ceiling / 2 && after <= ceiling.min(RETRY_CAP), "{after:?}");

            let job = stored(&app, id).await?;
            assert_eq!((job.status, job.attempts), (JobStatus::Queued, attempt));
            assert_eq!(job.last_error, Some(format!("attempt {attempt} failed")));
            let due = failed_at + chrono::Duration::from_std(after)?;
            assert_eq!(job.run_at, due.trunc_subsecs(6));
            assert_eq!(job.lease_until, None, "a queued job holds no lease");

            clock.set(job.run_at - chrono::Duration::microseconds(1));
            assert_eq!(worker.run_once().await?, 0, "claimed before its back-off ended");
            clock.set(job.run_at);
        }
        assert_eq!(worker.run_once().await?, 1);
        let job = stored(&app, id).await?;
        assert_eq!((job.status, job.attempts), (JobStatus::Done, 3));
        assert_eq!(job.finished_at, Some(clock.now()));
        assert_eq!(handler.runs().len(), 3);
        Ok(())
    }
);

backend_tests!(a_job_out_of_attempts_is_failed_with_its_last_error, |app| {
    let clock = ManualClock::starting_now();
    let job = NewJob::now(KIND, None, json!({}), clock.now()).with_max_attempts(2);
    let id = enqueued(&app, job, clock.now()).await?;
    let handler = Scripted::new(Script::AlwaysRetry {
        after: Duration::from_secs(1),
    });
    let worker = worker(&app, &clock, "w", &handler);
    assert_eq!(worker.run_once().await?, 1);
    assert_eq!(stored(&app, id).await?.status, JobStatus::Queued);
    clock.advance(chrono::Duration::seconds(1));
    assert_eq!(worker.run_once().await?, 1);

    let job = stored(&app, id).await?;
    assert_eq!((job.status, job.attempts), (JobStatus::Failed, 2));
    assert_eq!(job.last_error.as_deref(), Some("attempt 2 failed"));
    assert_eq!(job.finished_at, Some(clock.now()));
    clock.advance(chrono::Duration::hours(1));
    assert_eq!(worker.run_once().await?, 0, "a failed job ran again");

    // A handler that gives up fails the job at once, attempts left or not; one that panics asks for a retry.
    let gives_up = enqueued(&app, NewJob::now(KIND, None, json!({}), clock.now()), clock.now()).await?;
    assert_eq!(
        self::worker(&app, &clock, "w", &Scripted::new(Script::Fail))
            .run_once()
            .await?,
        1
    );
    let job = stored(&app, gives_up).await?;
    assert_eq!((job.status, job.attempts), (JobStatus::Failed, 1));
    assert_eq!(job.last_error.as_deref(), Some("nothing to do"));

    let panics = enqueued(&app, NewJob::now(KIND, None, json!({}), clock.now()), clock.now()).await?;
    assert_eq!(
        self::worker(&app, &clock, "w", &Scripted::new(Script::Panic))
            .run_once()
            .await?,
        1
    );
    let job = stored(&app, panics).await?;
    assert_eq!((job.status, job.attempts), (JobStatus::Queued, 1));
    assert!(
        job.last_error
            .as_deref()
            .is_some_and(|e| e.contains("panicked") && e.contains("broke on attempt 1")),
        "{:?}",
        job.last_error
    );
    assert!(job.run_at > clock.now());
    Ok(())
});

backend_tests!(
    a_claim_taken_over_by_another_worker_cannot_be_finished_or_renewed_by_the_old_holder,
    |app| {
        let clock = ManualClock::starting_now();
        let id = enqueued(&app, NewJob::now(KIND, None, json!({}), clock.now()), clock.now()).await?;
        let lease = Duration::from_secs(30);
        assert_eq!(
            app.store.claim_jobs(&[KIND], "old", clock.now(), lease, 1).await?.len(),
            1
        );
        clock.advance(chrono::Duration::seconds(31));
        let taken = app.store.claim_jobs(&[KIND], "new", clock.now(), lease, 1).await?;
        assert_eq!(taken.len(), 1);
        assert_eq!((taken[0].attempt, taken[0].holder.as_str()), (2, "new"));
        let before = stored(&app, id).await?;

        for finish in [
            JobFinish::Done,
            JobFinish::Failed { error: "old".into() },
            JobFinish::Retry {
                at: clock.now(),
                error: "old".into(),
            },
        ] {
            assert!(!app.store.finish_job(id, "old", &finish, clock.now()).await?);
        }
        let later = clock.now() + chrono::Duration::hours(1);
        assert!(!app.store.renew_job_lease(id, "old", later).await?);
        assert_eq!(stored(&app, id).await?, before, "the old holder changed the job");

        assert!(app.store.renew_job_lease(id, "new", later).await?);
        assert!(app.store.finish_job(id, "new", &JobFinish::Done, clock.now()).await?);
        assert!(
            !app.store.finish_job(id, "new", &JobFinish::Done, clock.now()).await?,
            "finished twice"
        );
        assert_eq!(stored(&app, id).await?.status, JobStatus::Done);
        Ok(())
    }
);

backend_tests!(
    a_worker_whose_lease_is_taken_while_its_handler_runs_stops_it_and_finishes_nothing,
    |app| {
        let clock = ManualClock::starting_now();
        let id = enqueued(&app, NewJob::now(KIND, None, json!({}), clock.now()), clock.now()).await?;
        let hanging = Scripted::new(Script::Hang);
        // Renews every second of real time, on the test's clock.
        let slow = worker(&app, &clock, "slow", &hanging).with_lease(Duration::from_secs(3));
        let run = tokio::spawn(async move { slow.run_once().await });
        tokio::time::timeout(Duration::from_secs(10), hanging.started.notified()).await?;
        // Past the lease, another claimer takes the job (a renewal landing first extends the lease: move on again).
        let mut taken = Vec::new();
        for _ in 0..5 {
            clock.advance(chrono::Duration::seconds(10));
            taken = app
                .store
                .claim_jobs(&[KIND], "other", clock.now(), Duration::from_secs(600), 1)
                .await?;
            if !taken.is_empty() {
                break;
            }
        }
        assert_eq!(taken.len(), 1, "the lease was never taken over");
        // The hanging handler would never return: the run ends only because the renewal found the lease lost.
        assert_eq!(tokio::time::timeout(Duration::from_secs(10), run).await???, 1);
        let job = stored(&app, id).await?;
        assert_eq!((job.status, job.holder.as_deref()), (JobStatus::Running, Some("other")));
        assert_eq!(job.attempts, 2);
        Ok(())
    }
);

backend_tests!(pruning_deletes_only_jobs_finished_before_the_cutoff, |app| {
    let clock = ManualClock::starting_now();
    let t0 = clock.now();
    let job = |n: u32| NewJob::now(KIND, None, json!({ "n": n }), t0);
    let done = enqueued(&app, job(1), t0).await?;
    let failed = enqueued(&app, job(2), t0).await?;
    let running = enqueued(&app, job(3), t0).await?;
    let lease = Duration::from_secs(24 * 60 * 60);
    let claims = app.store.claim_jobs(&[KIND], "w", t0, lease, 3).await?;
    assert_eq!(claims.len(), 3);
    assert!(app.store.finish_job(done, "w", &JobFinish::Done, t0).await?);
    let fail = JobFinish::Failed { error: "no".into() };
    assert!(app.store.finish_job(failed, "w", &fail, t0).await?);
    let queued = enqueued(&app, job(4), t0).await?;
    let later = enqueued(&app, NewJob::now("test.later", None, json!({}), t0), t0).await?;

    let t1 = clock.advance(chrono::Duration::hours(2));
    assert_eq!(
        app.store.claim_jobs(&["test.later"], "w2", t1, lease, 1).await?.len(),
        1
    );
    assert!(app.store.finish_job(later, "w2", &JobFinish::Done, t1).await?);

    let handler = Scripted::new(Script::Done);
    let pruner = worker(&app, &clock, "pruner", &handler);
    assert_eq!(pruner.prune(Duration::from_secs(60 * 60)).await?, 2);
    assert_eq!(app.store.job(done).await?, None);
    assert_eq!(app.store.job(failed).await?, None);
    assert_eq!(stored(&app, running).await?.status, JobStatus::Running);
    assert_eq!(stored(&app, queued).await?.status, JobStatus::Queued);
    assert_eq!(
        stored(&app, later).await?.status,
        JobStatus::Done,
        "finished after the cutoff"
    );
    assert_eq!(pruner.prune(Duration::from_secs(60 * 60)).await?, 0);
    Ok(())
});

backend_tests!(the_queue_counts_due_jobs_per_kind_with_the_oldest_due_time, |app| {
    let clock = ManualClock::starting_now();
    let t0 = clock.now();
    let minute = chrono::Duration::minutes(1);
    enqueued(&app, NewJob::now("a", None, json!({}), t0 - minute * 5), t0).await?;
    enqueued(&app, NewJob::now("a", None, json!({}), t0 - minute), t0).await?;
    enqueued(&app, NewJob::now("a", None, json!({}), t0 + minute), t0).await?;
    enqueued(&app, NewJob::now("b", None, json!({}), t0 - minute * 2), t0).await?;
    let mut queue = app.store.job_queue(t0).await?;
    queue.sort_by(|x, y| x.kind.cmp(&y.kind));
    let seen: Vec<(&str, u64, DateTime<Utc>)> = queue
        .iter()
        .map(|depth| (depth.kind.as_str(), depth.due, depth.oldest_due))
        .collect();
    assert_eq!(seen, vec![("a", 2, t0 - minute * 5), ("b", 1, t0 - minute * 2)]);

    // Claimed jobs are not due until their lease lapses; finished ones never again.
    let claims = app
        .store
        .claim_jobs(&["b"], "w", t0, Duration::from_secs(60), 1)
        .await?;
    assert!(app.store.job_queue(t0).await?.iter().all(|depth| depth.kind != "b"));
    let lapsed = app.store.job_queue(t0 + minute * 2).await?;
    assert!(lapsed.iter().any(|depth| depth.kind == "b" && depth.due == 1));
    assert!(app.store.finish_job(claims[0].id, "w", &JobFinish::Done, t0).await?);
    assert!(
        app.store
            .job_queue(t0 + minute * 2)
            .await?
            .iter()
            .all(|depth| depth.kind != "b")
    );
    Ok(())
});

backend_tests!(the_server_job_loop_runs_a_job_as_soon_as_it_is_signalled, |app| {
    let handler = Scripted::new(Script::Done);
    let worker = JobWorker::new(app.store.clone(), Arc::new(tgos_domain::clock::SystemClock), "loop")
        .with_handler(handler.clone());
    let signal = JobSignal::new();
    let timing = tgos_api::workers::JobLoop {
        poll: Duration::from_secs(600),
        keep_finished: Duration::from_secs(3600),
        prune_every: Duration::from_secs(3600),
        gauges_every: Duration::from_secs(3600),
    };
    let running = tgos_api::workers::spawn_jobs(worker, signal.clone(), timing, None);
    // Let the loop find nothing and settle into its (long) wait.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let now = tgos_domain::clock::SystemClock.now();
    let id = enqueued(&app, NewJob::now(KIND, None, json!({}), now), now).await?;
    signal.enqueued();
    let ran = tokio::time::timeout(Duration::from_secs(10), async {
        while handler.runs().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    running.abort();
    assert!(ran.is_ok(), "the signal did not wake the loop");
    assert_eq!(handler.runs()[0].0, id);
    Ok(())
});
