//! The counter in this process's memory: exact for one process, and each process counts its own.
//!
//! Memory stays bounded: windows that ended are dropped once per window of the newest check, and whenever
//! the table grows past [`PRUNE_ABOVE`] entries (at most once a second, so a table full of live windows is
//! not scanned on every check).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::ports::{Counted, RateCounter, RateKey};
use super::window::Window;
use crate::store::{StoreError, StoreResult};

/// Entries past which ended windows are dropped early.
pub const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Default)]
struct Table {
    /// Count and end (Unix seconds) of each key's window.
    windows: HashMap<(RateKey, i64), (u32, i64)>,
    /// The Unix second of the last pass that dropped ended windows.
    pruned_at: i64,
}

impl Table {
    fn prune(&mut self, now: i64) -> u64 {
        let before = self.windows.len();
        self.windows.retain(|_, (_, end)| *end > now);
        self.pruned_at = now;
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
}

#[async_trait]
impl RateCounter for MemoryRateCounter {
    async fn count(&self, key: &RateKey, window: Window, limit: u32, now: DateTime<Utc>) -> StoreResult<Counted> {
        let mut table = self
            .table
            .lock()
            .map_err(|_| StoreError::backend("the rate counter's lock is poisoned"))?;
        let now = now.timestamp();
        let due = table.pruned_at < window.start() || (table.windows.len() > PRUNE_ABOVE && table.pruned_at < now);
        if due {
            table.prune(now);
        }
        let (count, _) = table
            .windows
            .entry((key.clone(), window.start()))
            .or_insert((0, window.end()));
        if *count >= limit {
            return Ok(Counted::Full);
        }
        *count += 1;
        Ok(Counted::Counted(*count))
    }

    async fn prune(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut table = self
            .table
            .lock()
            .map_err(|_| StoreError::backend("the rate counter's lock is poisoned"))?;
        Ok(table.prune(now.timestamp()))
    }
}
