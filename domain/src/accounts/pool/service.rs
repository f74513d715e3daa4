//! The pool's use cases share one service.

use std::sync::Arc;

use crate::events::Outbox;

use crate::clock::Clock;
use crate::store::Store;
use crate::vault::Vault;

/// Pool settings.
#[derive(Debug, Clone)]
pub struct AccountsConfig {
    /// The longest rental or renewal, in days.
    pub max_lease_days: i64,
    /// A rental or renewal that takes the wallet below this (minor units) tells the owner; 0 turns it off.
    pub low_balance_minor: i64,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            max_lease_days: 90,
            low_balance_minor: 500,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AccountsService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) vault: Vault,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: AccountsConfig,
    pub(crate) outbox: Outbox,
}

impl AccountsService {
    pub fn new(store: Arc<dyn Store>, vault: Vault, clock: Arc<dyn Clock>, config: AccountsConfig) -> Self {
        Self {
            store,
            vault,
            clock,
            config,
            outbox: Outbox::default(),
        }
    }

    /// Wakes this outbox's relay when a use case committed events.
    #[must_use]
    pub fn with_outbox(mut self, outbox: Outbox) -> Self {
        self.outbox = outbox;
        self
    }

    /// Now, by the service's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
