//! `[workers]`: how the processes running background work share it.

use serde::{Deserialize, Serialize};

/// The background work's settings (docs/CONFIGURATION.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkersSettings {
    /// How long a leader lease lasts without renewal, in seconds (at least 3): the outbox relay, the lease
    /// expiry sweep, the inbox sync, the automations' upkeep and the retention enqueue run in the one process
    /// holding their lease, which renews it every third of this; a process that dies is replaced after at
    /// most this long (one that stops gracefully, at once).
    pub leader_lease_secs: u64,
}

impl Default for WorkersSettings {
    fn default() -> Self {
        Self {
            leader_lease_secs: tgos_domain::leadership::DEFAULT_LEADER_LEASE.as_secs(),
        }
    }
}
