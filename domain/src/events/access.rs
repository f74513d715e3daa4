//! Signals that someone's access may have shrunk, so open subscriptions check again at once.
//!
//! Rule: a use case that revokes a session or an API key, removes a member or lowers a role sends an
//! [`AccessChange`] after it commits; whoever holds a live subscription for that user, key or workspace
//! re-checks the caller's credentials and membership and closes what is no longer allowed. The signal only
//! triggers the check (the database decides), so a missed or extra signal is never a hole: holders also
//! re-check on a slow timer.

use tokio::sync::broadcast;

use crate::ids::{ApiKeyId, UserId, WorkspaceId};

/// Whose access may have changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

impl Default for AccessSignals {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(256).0,
        }
    }
}

impl AccessSignals {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn changed(&self, change: AccessChange) {
        // No receiver means no open subscription to close.
        let _ = self.sender.send(change);
    }

    pub fn listen(&self) -> broadcast::Receiver<AccessChange> {
        self.sender.subscribe()
    }
}
