//! Telling long-running live work to stop, and knowing which accounts are live in this process.
//!
//! Rules:
//! - A [`StopSignal`] fires once and stays fired; every clone sees it, and one that is waited on after it fired
//!   returns at once. Dropping every [`StopHandle`] counts as stopping (nobody is left to keep the work on).
//! - [`LiveSet`] is shared by the supervisor (which adds and removes accounts), the tasks (which attach their
//!   connection while it is up), the periodic sync (which skips the accounts) and the sends (which borrow an
//!   attached connection instead of waiting for a lease the live task never gives back).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

use crate::accounts::gateway::GatewayConnection;
use crate::ids::AccountId;

/// Fires the paired [`StopSignal`]s.
#[derive(Debug, Clone)]
pub struct StopHandle(Arc<watch::Sender<bool>>);

/// Waits for its [`StopHandle`] to fire.
#[derive(Debug, Clone)]
pub struct StopSignal(watch::Receiver<bool>);

/// A handle and its signal.
pub fn stop_pair() -> (StopHandle, StopSignal) {
    let (sender, receiver) = watch::channel(false);
    (StopHandle(Arc::new(sender)), StopSignal(receiver))
}

impl StopHandle {
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl StopSignal {
    /// Returns once the handle fired (or every handle is gone).
    pub async fn stopped(&mut self) {
        let _fired_or_gone = self.0.wait_for(|stopped| *stopped).await;
    }

    /// Whether the handle fired already.
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }
}

/// Each live account's connection while it is up.
type Slots = HashMap<AccountId, Option<Arc<dyn GatewayConnection>>>;

/// The accounts whose live task runs in this process, with their connection while it is up.
#[derive(Debug, Clone, Default)]
pub struct LiveSet(Arc<Mutex<Slots>>);

impl LiveSet {
    pub fn contains(&self, account: AccountId) -> bool {
        self.lock().contains_key(&account)
    }

    /// The account's live connection, when its task has one up now.
    pub fn connection(&self, account: AccountId) -> Option<Arc<dyn GatewayConnection>> {
        self.lock().get(&account).cloned().flatten()
    }

    pub(super) fn insert(&self, account: AccountId) {
        self.lock().insert(account, None);
    }

    pub(super) fn remove(&self, account: AccountId) {
        self.lock().remove(&account);
    }

    /// The task's connection is up (`Some`) or gone (`None`); nothing when the account left the set.
    pub(super) fn attach(&self, account: AccountId, connection: Option<Arc<dyn GatewayConnection>>) {
        if let Some(slot) = self.lock().get_mut(&account) {
            *slot = connection;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        // The map holds ids and handles: a panic elsewhere cannot leave it half-changed.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_signal_fires_once_for_every_clone_and_stays_fired() {
        let (handle, mut signal) = stop_pair();
        let mut clone = signal.clone();
        assert!(!signal.is_stopped());
        handle.stop();
        signal.stopped().await;
        clone.stopped().await;
        assert!(clone.is_stopped());
        signal.stopped().await;
    }

    #[tokio::test]
    async fn a_signal_whose_handles_are_gone_counts_as_stopped() {
        let (handle, mut signal) = stop_pair();
        drop(handle);
        signal.stopped().await;
    }
}
