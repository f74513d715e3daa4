//! The gauge loop of the background work: what the database says about the system as a whole, read every
//! few seconds into the metrics (the outbox's lag). Only processes that run the background work run it, so a
//! serving-only replica costs the database nothing for it.

use std::time::Duration;

use tgos_domain::events::OutboxRelay;

use crate::http::metrics::Metrics;

/// How often the database-wide gauges are read.
pub const EVERY: Duration = Duration::from_secs(5);

/// Reads the outbox's lag every `period` into `tgos_outbox_oldest_unpublished_seconds`.
pub async fn outbox_lag(relay: OutboxRelay, metrics: Metrics, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match relay.lag().await {
            Ok(lag) => metrics.database.record_outbox_lag(lag),
            Err(error) => tracing::warn!(%error, "reading the outbox's lag failed"),
        }
    }
}
