//! `[limits]`: where the per-window limits count (request budgets, the inbox's and accounts' budgets).

use serde::{Deserialize, Serialize};

/// Where limits count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LimitsStore {
    /// In this process: exact for one process, and each replica counts its own.
    Memory,
    /// In the database's `rate_windows` table: every replica on the database shares the count.
    Database,
}

impl std::fmt::Display for LimitsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Memory => "memory",
            Self::Database => "database",
        })
    }
}

/// The limits' settings (docs/CONFIGURATION.md).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitsSettings {
    /// `memory` or `database`; unset: `database` on PostgreSQL (replicas share one database, so they share
    /// the counts), `memory` on SQLite (one process per file; a write per request would queue every request
    /// on SQLite's one writer).
    pub store: Option<LimitsStore>,
}

impl super::Settings {
    /// Where limits count: `limits.store`, else by the database's kind.
    pub fn limits_store(&self) -> LimitsStore {
        self.limits.store.unwrap_or_else(|| {
            if self.database_url().starts_with("postgres") {
                LimitsStore::Database
            } else {
                LimitsStore::Memory
            }
        })
    }
}
