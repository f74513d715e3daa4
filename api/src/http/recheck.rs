//! Whether an open WebSocket connection's caller still holds the access it had at `connection_init`.
//!
//! Rules:
//! - The caller is checked again before every operation the client starts over the connection (`subscribe`),
//!   on every access change that may concern it, and on a slow timer (`events.access_recheck_secs`) whether
//!   or not subscriptions are open; an operation that finds the caller gone is not run.
//! - A session or key past its expiry closes the connection with 4401 (sign in again, or use another key).
//! - A session or key revoked (signed out, revoked, the password changed), a caller whose powers changed since
//!   the connection began (staff powers after two-factor went off), or a member removed from a workspace one of
//!   the connection's subscriptions follows closes it with 4403.
//! - Cheap: a session checked again within the credential cache's time to live, and a member's role, are
//!   memory reads; a key is one indexed read, as on every HTTP request.
//! - Storage trouble is not a revocation: the connection stays and is checked again later.

use tgos_domain::DomainError;
use tgos_domain::identity::use_cases::sessions::{Authenticated, Standing};
use tgos_domain::identity::{IdentityService, Principal};
use tgos_domain::tenancy::TenancyService;

use crate::graphql::context::ConnectionControl;

/// The close of a connection whose session or key expired.
pub const EXPIRED: (u16, &str) = (4401, "Unauthorized: the session or key has expired");
/// The close of a connection whose session or key was revoked or whose member left a workspace it follows.
pub const REVOKED: (u16, &str) = (4403, "Forbidden: access was revoked");
/// The close of a connection whose caller's powers changed since it began (it may reconnect).
const CHANGED: (u16, &str) = (4403, "Forbidden: the caller's access changed; reconnect");

/// What a connection needs to check its caller again. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Recheck {
    identity: IdentityService,
    tenancy: TenancyService,
    /// The bearer token of `connection_init` and what it resolved to; `None` for an anonymous connection.
    caller: Option<(String, Authenticated)>,
    control: ConnectionControl,
}

impl Recheck {
    pub fn new(
        identity: IdentityService,
        tenancy: TenancyService,
        token: Option<String>,
        caller: Option<Authenticated>,
        control: ConnectionControl,
    ) -> Self {
        Self {
            identity,
            tenancy,
            caller: token.zip(caller),
            control,
        }
    }

    /// The close code and reason when the caller no longer holds its access; `None` while it does (and for
    /// an anonymous connection, which holds nothing).
    pub async fn close(&self) -> Option<(u16, String)> {
        let (token, was) = self.caller.as_ref()?;
        let now = match self.identity.standing(token).await {
            Ok(Standing::Valid(now)) => now,
            Ok(Standing::Expired) => return Some(owned(EXPIRED)),
            Ok(Standing::Revoked) => return Some(owned(REVOKED)),
            Err(error) => {
                tracing::warn!(%error, "re-checking a websocket caller failed");
                return None;
            }
        };
        if !same_powers(&was.principal, &now.principal) {
            return Some(owned(CHANGED));
        }
        for workspace in self.control.watched() {
            match self.tenancy.scope(&now.principal, workspace).await {
                Ok(_) => {}
                Err(DomainError::Forbidden(_) | DomainError::NotFound(_)) => return Some(owned(REVOKED)),
                Err(error) => {
                    tracing::warn!(%error, "re-checking a websocket caller's membership failed");
                }
            }
        }
        None
    }

    /// Checks the caller and, when it no longer holds, asks the connection to close; `true` while it holds.
    pub async fn holds(&self) -> bool {
        match self.close().await {
            Some((code, reason)) => {
                self.control.close(code, reason);
                false
            }
            None => true,
        }
    }
}

fn owned((code, reason): (u16, &str)) -> (u16, String) {
    (code, reason.to_owned())
}

/// Whether two resolutions of one token carry the same powers (a name may change; who and what may not).
fn same_powers(was: &Principal, now: &Principal) -> bool {
    match (was, now) {
        (
            Principal::User {
                user_id,
                session_id,
                acts_as_staff,
                ..
            },
            Principal::User {
                user_id: user_now,
                session_id: session_now,
                acts_as_staff: staff_now,
                ..
            },
        ) => user_id == user_now && session_id == session_now && acts_as_staff == staff_now,
        (
            Principal::ApiKey {
                key_id,
                workspace_id,
                scopes,
                ..
            },
            Principal::ApiKey {
                key_id: key_now,
                workspace_id: workspace_now,
                scopes: scopes_now,
                ..
            },
        ) => key_id == key_now && workspace_id == workspace_now && scopes == scopes_now,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tgos_domain::ids::{ApiKeyId, SessionId, UserId, WorkspaceId};
    use tgos_domain::tenancy::api_keys::Scope;

    fn person(staff: bool, name: &str) -> Principal {
        Principal::User {
            user_id: UserId::from_uuid(uuid::Uuid::nil()),
            session_id: SessionId::from_uuid(uuid::Uuid::nil()),
            acts_as_staff: staff,
            display_name: name.to_owned(),
        }
    }

    #[test]
    fn a_new_name_keeps_the_connection_and_lost_staff_powers_do_not() {
        assert!(same_powers(&person(false, "ada"), &person(false, "ada-renamed")));
        assert!(!same_powers(&person(true, "ada"), &person(false, "ada")));
        let key = |scopes: Vec<Scope>| Principal::ApiKey {
            key_id: ApiKeyId::from_uuid(uuid::Uuid::nil()),
            workspace_id: WorkspaceId::from_uuid(uuid::Uuid::nil()),
            scopes,
            display_name: "bot".to_owned(),
        };
        assert!(same_powers(&key(vec![Scope::InboxRead]), &key(vec![Scope::InboxRead])));
        assert!(!same_powers(
            &key(vec![Scope::InboxRead]),
            &key(vec![Scope::InboxWrite])
        ));
        assert!(!same_powers(&person(false, "ada"), &key(vec![])));
    }
}
