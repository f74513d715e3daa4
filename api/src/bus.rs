//! The event bus the configuration names (`events.bus`), and the tasks that keep it going.
//!
//! Rules:
//! - `memory`: the in-process bus is also the broker; one process per database.
//! - `nats`: subscribers still follow the in-process bus, which the NATS consumer feeds; the relay publishes
//!   to JetStream; access changes and commit announcements travel between replicas.
//! - Whenever the relay may run in another process (a NATS bus, or `server.workers = false`), a process watches for degraded delivery (the broker unreachable from
//!   here, or events left unpublished for longer than [`STALLED_AFTER`]) and meanwhile reads its
//!   subscribers' events from the outbox every relay tick ([`OutboxPoller`]). Entering and leaving that mode
//!   is logged once each and shown by `tgos_events_bus_degraded`; a pass the bus refused counts in
//!   `tgos_events_bus_publish_failures_total`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use tgos_domain::events::{EventBus, EventPublisher, LocalEventBus, OutboxPoller, PublishFailed, StoredEvent};
use tgos_persistence::bus::{NatsBus, NatsSettings};
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::config::{EventBusKind, Settings};
use crate::http::metrics::Metrics;

/// Events committed this long ago and still unpublished mean the relay is not reaching the bus (or not
/// running): subscribers are then served from the outbox.
pub const STALLED_AFTER: Duration = Duration::from_secs(3);

/// The configured bus: what subscribers follow, and where the relay publishes.
#[derive(Debug, Clone)]
pub struct BusParts {
    pub local: Arc<LocalEventBus>,
    pub nats: Option<NatsBus>,
}

impl BusParts {
    /// Builds the bus of `settings` (a NATS bus connects in the background and is degraded until it has).
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let events = &settings.events;
        let local = Arc::new(LocalEventBus::new(events.live_window.min(events.subscriber_buffer)));
        let nats = match events.bus {
            EventBusKind::Memory => None,
            EventBusKind::Nats => {
                check_prefix(&events.nats_prefix)?;
                let nats = NatsBus::connect(
                    &NatsSettings {
                        url: events.nats_url.clone(),
                        prefix: events.nats_prefix.clone(),
                        client_name: format!("tgos {}", std::process::id()),
                    },
                    Arc::clone(&local),
                )
                .await
                .context("events.nats_url")?;
                tracing::info!(url = %events.nats_url, prefix = %events.nats_prefix, "event bus: NATS");
                Some(nats)
            }
        };
        Ok(Self { local, nats })
    }

    /// What subscriptions follow.
    pub fn bus(&self) -> Arc<dyn EventBus> {
        self.local.clone()
    }

    /// Where the relay publishes, counting the passes the bus refuses in `metrics`.
    pub fn publisher(&self, metrics: &Metrics) -> Arc<dyn EventPublisher> {
        let inner: Arc<dyn EventPublisher> = match &self.nats {
            Some(nats) => Arc::new(nats.clone()),
            None => self.local.clone(),
        };
        Arc::new(Counted {
            inner,
            metrics: metrics.clone(),
        })
    }
}

/// A prefix is one or more subject tokens of letters, digits, `_` and `-`.
fn check_prefix(prefix: &str) -> anyhow::Result<()> {
    let valid = !prefix.is_empty()
        && prefix
            .split('.')
            .all(|token| !token.is_empty() && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    anyhow::ensure!(
        valid,
        "events.nats_prefix {prefix:?} is not a NATS subject prefix: use letters, digits, '_', '-', and '.' between tokens"
    );
    Ok(())
}

/// Counts refused passes.
#[derive(Debug)]
struct Counted {
    inner: Arc<dyn EventPublisher>,
    metrics: Metrics,
}

#[async_trait]
impl EventPublisher for Counted {
    async fn publish(&self, events: &[Arc<StoredEvent>]) -> Result<(), PublishFailed> {
        let published = self.inner.publish(events).await;
        if published.is_err() {
            self.metrics.bus_publish_failed();
        }
        published
    }

    fn delivery_degraded(&self) -> bool {
        self.inner.delivery_degraded()
    }
}

/// The bus's own tasks; stopped with the server.
#[derive(Debug, Default)]
pub struct BusTasks {
    tasks: Vec<JoinHandle<()>>,
}

impl BusTasks {
    /// Starts the NATS consumer and bridges (with a NATS bus) and the degraded-delivery watch.
    pub fn start(state: &AppState) -> Self {
        let mut tasks = Vec::new();
        if let Some(nats) = &state.bus_parts.nats {
            // Degraded until the consumer runs.
            state.metrics.set_bus_degraded(true);
            tasks.push(tokio::spawn(nats.clone().consume()));
            tasks.push(tokio::spawn(nats.clone().bridge_access(state.access.clone())));
            tasks.push(tokio::spawn(nats.clone().bridge_wakes(state.outbox.clone())));
        }
        // In one process with its own relay, nothing is ever left for the outbox poller.
        let relay_elsewhere = state.bus_parts.nats.is_some() || !state.settings.server.workers;
        if !relay_elsewhere {
            return Self { tasks };
        }
        tasks.push(tokio::spawn(watch_delivery(
            OutboxPoller::new(state.store.clone(), Arc::clone(&state.bus_parts.local)),
            Arc::clone(&state.publisher),
            state.metrics.clone(),
            Duration::from_millis(state.settings.events.relay_tick_ms.max(10)),
        )));
        Self { tasks }
    }

    pub fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Every `tick`: is delivery degraded? If so, serve the followed workspaces from the outbox.
async fn watch_delivery(poller: OutboxPoller, publisher: Arc<dyn EventPublisher>, metrics: Metrics, tick: Duration) {
    let mut ticks = tokio::time::interval(tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Unknown until the first check, which always sets the gauge.
    let mut was_degraded: Option<bool> = None;
    loop {
        ticks.tick().await;
        let unreachable = publisher.delivery_degraded();
        let stalled = !unreachable
            && poller
                .relay_stalled(chrono::Utc::now(), STALLED_AFTER)
                .await
                .unwrap_or_else(|error| {
                    tracing::warn!(%error, "reading the outbox's oldest unpublished event failed");
                    false
                });
        let degraded = unreachable || stalled;
        if was_degraded != Some(degraded) {
            if degraded {
                tracing::warn!(
                    broker_unreachable = unreachable,
                    relay_stalled = stalled,
                    "live events degrade to reading the outbox every {tick:?}"
                );
            } else if was_degraded.is_some() {
                tracing::info!("live events come from the bus again");
            }
            metrics.set_bus_degraded(degraded);
            was_degraded = Some(degraded);
        }
        if degraded && let Err(error) = poller.poll_once().await {
            tracing::warn!(%error, "reading live events from the outbox failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_prefix;

    #[test]
    fn a_prefix_is_subject_tokens() {
        for good in ["tgos", "tgos.prod", "tgos_test-1.a"] {
            assert!(check_prefix(good).is_ok(), "{good}");
        }
        for bad in ["", "tgos.", ".tgos", "tg os", "tgos.*", "tgos.>", "a..b"] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
    }
}
