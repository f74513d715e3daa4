//! `events.bus`: where committed events and access changes travel between replicas.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which event bus the server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventBusKind {
    /// In process: one server process per database (the embedded default).
    #[default]
    Memory,
    /// NATS with JetStream (`events.nats_url`): any number of replicas on one database.
    Nats,
}

impl fmt::Display for EventBusKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Memory => "memory",
            Self::Nats => "nats",
        })
    }
}
