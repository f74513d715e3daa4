//! The server's erasure use cases on a clock a test moves (the erasure jobs run 30 days after a closure).

use std::sync::Arc;

use tgos_domain::erasure::WorkspaceErasure;
use tgos_domain::events::AccessSignals;
use tgos_domain::jobs::JobSignal;

use crate::app::TestApp;
use crate::clock::ManualClock;

impl TestApp {
    /// Closing and erasing, over the server's store and services, on `clock`.
    pub fn erasure_on(&self, clock: Arc<ManualClock>) -> WorkspaceErasure {
        WorkspaceErasure::new(
            Arc::clone(&self.store),
            clock,
            self.identity.clone(),
            self.tenancy.clone(),
            self.accounts.clone(),
            self.vault.clone(),
            JobSignal::default(),
            AccessSignals::default(),
        )
    }
}
