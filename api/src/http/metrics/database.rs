//! Database gauges: the connection pool's occupancy, read at each scrape (no statement), and the outbox's
//! lag, read by the background work's gauge loop (one indexed read every few seconds).
//!
//! Rules: the pool gauges describe this process's pool; the lag describes the database, so only processes
//! that measure it (those running the background work) expose it: a process that serves only shows no lag
//! rather than a zero it did not measure.

use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;

use prometheus::{Gauge, IntGauge, Registry};

/// A pool's occupancy as the metrics show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolReading {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

type PoolReader = Box<dyn Fn() -> PoolReading + Send + Sync>;

/// The database gauges.
#[derive(Clone)]
pub struct DatabaseGauges {
    registry: Registry,
    open: IntGauge,
    idle: IntGauge,
    in_use: IntGauge,
    max: IntGauge,
    reader: Arc<OnceLock<PoolReader>>,
    outbox_lag: Gauge,
    /// Whether the lag gauge is registered yet (at its first measure).
    outbox_lag_shown: Arc<Once>,
}

impl DatabaseGauges {
    pub(super) fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let open = IntGauge::new(
            "tgos_db_pool_open_connections",
            "Connections this process's database pool holds open (idle and in use)",
        )?;
        let idle = IntGauge::new(
            "tgos_db_pool_idle_connections",
            "Connections of this process's database pool waiting idle",
        )?;
        let in_use = IntGauge::new(
            "tgos_db_pool_in_use_connections",
            "Connections of this process's database pool lent to a statement or transaction",
        )?;
        let max = IntGauge::new(
            "tgos_db_pool_max_connections",
            "The most connections this process's database pool may open (database.max_connections)",
        )?;
        for gauge in [&open, &idle, &in_use, &max] {
            registry.register(Box::new(gauge.clone()))?;
        }
        Ok(Self {
            registry: registry.clone(),
            open,
            idle,
            in_use,
            max,
            reader: Arc::new(OnceLock::new()),
            outbox_lag: Gauge::new(
                "tgos_outbox_oldest_unpublished_seconds",
                "How long the oldest outbox event not yet published has waited, in seconds (0: none waits)",
            )?,
            outbox_lag_shown: Arc::new(Once::new()),
        })
    }

    /// Reads the pool with `reader` at every scrape from now on (the first reader set stays).
    pub fn watch_pool(&self, reader: impl Fn() -> PoolReading + Send + Sync + 'static) {
        let _first_stays = self.reader.set(Box::new(reader));
    }

    /// Sets the pool gauges from the reader, if one is set.
    pub(super) fn refresh(&self) {
        if let Some(reader) = self.reader.get() {
            let reading = reader();
            self.open.set(i64::from(reading.open));
            self.idle.set(i64::from(reading.idle));
            self.in_use.set(i64::from(reading.open.saturating_sub(reading.idle)));
            self.max.set(i64::from(reading.max));
        }
    }

    /// Sets `tgos_outbox_oldest_unpublished_seconds`, exposing it from the first call on.
    pub fn record_outbox_lag(&self, lag: Duration) {
        self.outbox_lag_shown.call_once(|| {
            if let Err(error) = self.registry.register(Box::new(self.outbox_lag.clone())) {
                tracing::error!(%error, "registering the outbox lag gauge failed");
            }
        });
        self.outbox_lag.set(lag.as_secs_f64());
    }
}

impl std::fmt::Debug for DatabaseGauges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseGauges")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_is_read_at_each_refresh_and_the_lag_appears_once_measured() -> Result<(), prometheus::Error> {
        let registry = Registry::new();
        let gauges = DatabaseGauges::register(&registry)?;
        gauges.watch_pool(|| PoolReading {
            open: 5,
            idle: 2,
            max: 10,
        });
        gauges.refresh();
        assert_eq!(
            (
                gauges.open.get(),
                gauges.idle.get(),
                gauges.in_use.get(),
                gauges.max.get()
            ),
            (5, 2, 3, 10)
        );
        let names = |registry: &Registry| -> Vec<String> {
            registry
                .gather()
                .iter()
                .map(|family| family.name().to_owned())
                .collect()
        };
        assert!(!names(&registry).contains(&"tgos_outbox_oldest_unpublished_seconds".to_owned()));
        gauges.record_outbox_lag(Duration::from_millis(2500));
        gauges.record_outbox_lag(Duration::from_secs(3));
        assert!(names(&registry).contains(&"tgos_outbox_oldest_unpublished_seconds".to_owned()));
        assert!((gauges.outbox_lag.get() - 3.0).abs() < f64::EPSILON);
        Ok(())
    }
}
