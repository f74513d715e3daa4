//! Who is calling: resolved once per request from its credentials.

use crate::ids::{SessionId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A person signed in with a session.
    User {
        user_id: UserId,
        session_id: SessionId,
        /// Staff powers apply only with two-factor enrolled (policy §9).
        acts_as_staff: bool,
        /// The username, as audit entries name the actor.
        display_name: String,
    },
}

impl Principal {
    pub fn user_id(&self) -> UserId {
        match self {
            Self::User { user_id, .. } => *user_id,
        }
    }

    pub fn display_name(&self) -> &str {
        match self {
            Self::User { display_name, .. } => display_name,
        }
    }
}
