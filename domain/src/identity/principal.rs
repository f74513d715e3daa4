//! Who is calling: resolved once per request from its credentials.

use crate::error::{DomainError, DomainResult};
use crate::ids::{ApiKeyId, SessionId, UserId, WorkspaceId};
use crate::tenancy::api_keys::Scope;

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
    /// An integrator's key: one workspace, some scopes, no person.
    ApiKey {
        key_id: ApiKeyId,
        workspace_id: WorkspaceId,
        scopes: Vec<Scope>,
        /// The key's name, as audit entries name the actor.
        display_name: String,
    },
}

pub(crate) const PEOPLE_ONLY: &str = "API keys cannot do this; it needs a signed-in person";

impl Principal {
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Self::User { user_id, .. } => Some(*user_id),
            Self::ApiKey { .. } => None,
        }
    }

    /// The person calling, or `FORBIDDEN` for an API key.
    pub fn require_user(&self) -> DomainResult<UserId> {
        self.user_id()
            .ok_or_else(|| DomainError::Forbidden(PEOPLE_ONLY.to_owned()))
    }

    /// The staff member calling (a person with staff powers, two-factor enrolled), or `FORBIDDEN`.
    pub fn require_staff(&self) -> DomainResult<UserId> {
        match self {
            Self::User {
                user_id,
                acts_as_staff: true,
                ..
            } => Ok(*user_id),
            _ => Err(DomainError::Forbidden(
                "this is for staff with two-factor enrolled".to_owned(),
            )),
        }
    }

    pub fn display_name(&self) -> &str {
        match self {
            Self::User { display_name, .. } | Self::ApiKey { display_name, .. } => display_name,
        }
    }
}
