//! Signals that someone's access may have shrunk, so open subscriptions check again at once.
//!
//! Rule: a use case that revokes a session or an API key, removes a member or lowers a role sends an
//! [`AccessChange`] after it commits; whoever holds a live subscription for that user, key or workspace
//! re-checks the caller's credentials and membership and closes what is no longer allowed. The signal only
//! triggers the check (the database decides), so a missed or extra signal is never a hole: holders also
//! re-check on a slow timer.
//! - With several replicas, a change made here is also handed to whoever carries it to the others
//!   ([`AccessSignals::made_here`]); a change made elsewhere arrives through [`AccessSignals::apply_remote`],
//!   which acts on it here exactly like a local one but is not handed on again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::broadcast;

use crate::ids::{ApiKeyId, UserId, WorkspaceId};

/// Whose access may have changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessChange {
    /// A user's sessions (one or all) or their memberships.
    User(UserId),
    /// An API key.
    ApiKey(ApiKeyId),
    /// Someone's membership of this workspace.
    Workspace(WorkspaceId),
}

/// The in-process channel of access changes. Cheap to clone; sending with nobody listening is a no-op.
#[derive(Debug, Clone)]
pub struct AccessSignals {
    sender: broadcast::Sender<AccessChange>,
    /// The changes made in this process, for the other replicas.
    made_here: broadcast::Sender<AccessChange>,
    /// Counts the changes signalled so far; [`super::access_cache::AccessCache`] serves only what was read
    /// since the last one.
    epoch: Arc<AtomicU64>,
}

impl Default for AccessSignals {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(256).0,
            made_here: broadcast::channel(256).0,
            epoch: Arc::default(),
        }
    }
}

impl AccessSignals {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn changed(&self, change: AccessChange) {
        self.apply_remote(change);
        // No receiver means one process: nobody else to tell.
        let _ = self.made_here.send(change);
    }

    /// A change another replica made: cached credentials go and subscriptions check again, as for a local
    /// change, without handing it on.
    pub fn apply_remote(&self, change: AccessChange) {
        // First the epoch, so no cached read survives the change; then the holders of subscriptions.
        self.epoch.fetch_add(1, Ordering::SeqCst);
        // No receiver means no open subscription to close.
        let _ = self.sender.send(change);
    }

    /// The changes made in this process from now on (not those applied from elsewhere).
    pub fn made_here(&self) -> broadcast::Receiver<AccessChange> {
        self.made_here.subscribe()
    }

    /// Sends `change` when the returned guard is dropped. Armed just before a use case commits, it signals
    /// even when the request is cancelled while the commit is under way (the commit may have landed); a
    /// commit that failed signals too, which only makes holders check again for nothing.
    pub fn armed(&self, change: AccessChange) -> SignalOnDrop {
        SignalOnDrop {
            signals: self.clone(),
            change,
        }
    }

    /// How many access changes have been signalled.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    pub fn listen(&self) -> broadcast::Receiver<AccessChange> {
        self.sender.subscribe()
    }
}

/// Signals its change when dropped; see [`AccessSignals::armed`].
#[derive(Debug)]
#[must_use = "the change is signalled when this guard is dropped"]
pub struct SignalOnDrop {
    signals: AccessSignals,
    change: AccessChange,
}

impl Drop for SignalOnDrop {
    fn drop(&mut self) {
        self.signals.changed(self.change);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_armed_change_is_signalled_when_its_guard_is_dropped_even_early() {
        let signals = AccessSignals::new();
        let mut listener = signals.listen();
        let user = UserId::generate();
        let guard = signals.armed(AccessChange::User(user));
        assert_eq!(signals.epoch(), 0, "not before the guard goes");
        assert!(listener.try_recv().is_err());
        // As when a request is cancelled in the middle of its commit.
        drop(guard);
        assert_eq!(signals.epoch(), 1);
        assert_eq!(listener.try_recv().ok(), Some(AccessChange::User(user)));
    }

    #[test]
    fn a_remote_change_acts_here_but_is_not_handed_on() {
        let signals = AccessSignals::new();
        let mut listener = signals.listen();
        let mut outgoing = signals.made_here();
        let (user, workspace) = (UserId::generate(), WorkspaceId::generate());
        signals.apply_remote(AccessChange::User(user));
        assert_eq!(signals.epoch(), 1);
        assert_eq!(listener.try_recv().ok(), Some(AccessChange::User(user)));
        assert!(outgoing.try_recv().is_err(), "a remote change goes nowhere else");
        signals.changed(AccessChange::Workspace(workspace));
        assert_eq!(signals.epoch(), 2);
        assert_eq!(listener.try_recv().ok(), Some(AccessChange::Workspace(workspace)));
        assert_eq!(outgoing.try_recv().ok(), Some(AccessChange::Workspace(workspace)));
    }
}
