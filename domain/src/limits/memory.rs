//! The counter in this process's memory: exact for one process, and each process counts its own.
//!
//! Memory stays bounded: windows that ended are dropped whenever the table grows past [`PRUNE_ABOVE`]
//! entries (at most once a second, so a table full of live windows is not scanned on every check), and by
//! [`RateCounter::prune`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::ports::{Counted, RateCounter, RateKey};
use super::window::Window;
use crate::store::{StoreError, StoreResult};

/// Entries past which ended windows are dropped early.
pub const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Default)]
struct Table {
    windows: HashMap<RateKey, (Window, u32)>,
    /// When (Unix milliseconds) the last pass dropped ended windows.
    pruned_at_ms: i64,
}

impl Table {
    fn prune(&mut self, now: DateTime<Utc>) -> u64 {
        let before = self.windows.len();
        self.windows.retain(|_, (window, _)| !window.ended(now));
        self.pruned_at_ms = now.timestamp_millis();
        u64::try_from(before - self.windows.len()).unwrap_or(0)
    }
}

/// Counts in a mutex-guarded table (one per process; every limit shares it, keys carry the limit's name).
#[derive(Debug, Default)]
pub struct MemoryRateCounter {
    table: Mutex<Table>,
}

impl MemoryRateCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many windows are held (for tests of the pruning).
    pub fn len(&self) -> usize {
        self.table.lock().map(|table| table.windows.len()).unwrap_or(0)
    }

    /// Whether no window is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn table(&self) -> StoreResult<std::sync::MutexGuard<'_, Table>> {
        self.table
            .lock()
            .map_err(|_| StoreError::backend("the rate counter's lock is poisoned"))
    }
}

#[async_trait]
impl RateCounter for MemoryRateCounter {
    async fn count(&self, key: &RateKey, limit: u32, length: Duration, now: DateTime<Utc>) -> StoreResult<Counted> {
        let mut table = self.table()?;
        if table.windows.len() > PRUNE_ABOVE && now.timestamp_millis() - table.pruned_at_ms >= 1_000 {
            table.prune(now);
        }
        let entry = table
            .windows
            .entry(key.clone())
            .or_insert((Window::at(None, now, length), 0));
        let window = Window::at(Some(entry.0), now, length);
        if window != entry.0 {
            *entry = (window, 0);
        }
        entry.1 = entry.1.saturating_add(1).min(limit.saturating_add(1));
        Ok(Counted { count: entry.1, window })
    }

    async fn prune(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        Ok(self.table()?.prune(now))
    }
}
