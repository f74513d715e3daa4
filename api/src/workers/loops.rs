//! The leader-held loops: each runs its domain step on a tick (the relay also on a wake), and only while
//! this process holds the step's leader lease ([`LeaderHandle::holds`], checked before every step).

use std::time::Duration;

use tgos_domain::events::OutboxRelay;
use tgos_domain::jobs::JobSignal;
use tgos_domain::leadership::LeaderHandle;
use tgos_domain::retention;

/// When a leader-held loop runs its step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tick {
    /// The first tick.
    pub first: tokio::time::Instant,
    pub period: Duration,
    /// Whether taking the lead runs a step at once (and the next a period later) rather than waiting for the
    /// tick: for work that should happen as soon as someone does it (an expiry, an upkeep), not for the inbox
    /// sync, which waits a period so it does not race the first requests.
    pub on_gain: bool,
}

impl Tick {
    /// Every `period`, starting now, and at once on taking the lead.
    pub(crate) fn every(period: Duration) -> Self {
        Self {
            first: tokio::time::Instant::now(),
            period,
            on_gain: true,
        }
    }
}

/// Runs `step` on every tick while `leader` holds its name (a tick missed while a step ran is not made up),
/// logging failures.
pub(crate) async fn leader_every<F, Fut>(mut leader: LeaderHandle, tick: Tick, what: &'static str, step: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = tgos_domain::error::DomainResult<()>>,
{
    let mut ticks = tokio::time::interval_at(tick.first, tick.period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = leader.gained(), if tick.on_gain => ticks.reset(),
        }
        if !leader.holds() {
            continue;
        }
        if let Err(error) = step().await {
            tracing::error!(error = %error, detail = ?error, "{what} failed");
        }
    }
}

/// Relays on every wake and at least every `tick` while `leader` holds the relay's name, pruning the replay
/// window every 600 passes.
pub(crate) async fn relay_events(relay: OutboxRelay, mut leader: LeaderHandle, tick: Duration, window: Duration) {
    const PRUNE_EVERY: u32 = 600;
    let mut passes = 0_u32;
    loop {
        if leader.holds() {
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
        }
        tokio::select! {
            () = relay.woken() => {}
            () = leader.gained() => {}
            () = tokio::time::sleep(tick) => {}
        }
    }
}

/// Offers the retention sweep every `period` while `leader` holds its name: one job per UTC hour is stored
/// whatever the number of processes (the dedupe key names the hour), and the job worker runs it.
pub(crate) async fn offer_retention_sweep(
    store: std::sync::Arc<dyn tgos_domain::store::Store>,
    signal: JobSignal,
    leader: LeaderHandle,
    period: Duration,
) {
    leader_every(
        leader,
        Tick::every(period),
        "enqueueing the retention sweep",
        move || {
            let store = store.clone();
            let signal = signal.clone();
            async move {
                if retention::enqueue_hourly(&*store, chrono::Utc::now()).await? {
                    signal.enqueued();
                }
                Ok(())
            }
        },
    )
    .await;
}
