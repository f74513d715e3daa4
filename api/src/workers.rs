//! The server's background work, as loops around the domain's one-step functions: the outbox relay
//! (`relay_once`, `prune`), the lease expiry sweep (`expire_due_leases`) and the inbox sync (`sync_all`).
//!
//! Rules: the domain decides what one step does; only this composition root decides when steps run (ticks,
//! wakes) and stops them (dropping the task). A failed step is logged and retried at the next tick; nothing
//! it half-did stays half-done, because each step commits per item.

use std::sync::Arc;
use std::time::Duration;

use tgos_domain::clock::SystemClock;
use tgos_domain::events::OutboxRelay;
use tokio::task::JoinHandle;

use crate::app::AppState;

/// The running loops; dropping them does not stop them, [`Workers::stop`] does.
#[derive(Debug)]
pub struct Workers {
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts every loop on the state's services and settings.
    pub fn start(state: &AppState) -> Self {
        let settings = &state.settings;
        let relay = OutboxRelay::new(
            state.store.clone(),
            state.bus.clone(),
            Arc::new(SystemClock),
            state.outbox.clone(),
        );
        let tasks = vec![
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
            tokio::spawn(every(
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
        ];
        Self { tasks }
    }

    /// No background work: a server that only serves (`server.workers = false`).
    pub fn none() -> Self {
        Self { tasks: Vec::new() }
    }

    /// Stops every loop.
    pub fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Runs `step` every `period` (a tick missed while a step ran is not made up), logging failures.
async fn every<F, Fut>(period: Duration, what: &'static str, step: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = tgos_domain::error::DomainResult<()>>,
{
    let mut ticks = tokio::time::interval(period);
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
