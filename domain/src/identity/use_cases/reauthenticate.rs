//! Re-authenticating on the current session, and the check sensitive changes make (rules in
//! [`crate::identity::reauthentication`]).
//!
//! Rules:
//! - With two-factor on, a missing code is refused before the password is looked at, so a stolen session
//!   cannot learn whether a guessed password is right without also holding the second factor.
//! - The password (and then the code) are checked under the account's attempt reservation, like sign-in; a
//!   failure is audited (`auth.reauthentication_failed`) and counts toward the lockout.
//! - On success the code is consumed, the session's `reauthenticated_at` is set and `auth.reauthenticated` is
//!   audited in one transaction.
//! - [`IdentityService::require_recent_reauthentication`] is the one check every sensitive change calls; it
//!   reads the session as stored, not as a credential cache holds it.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::json;

use crate::error::{DomainError, DomainResult};
use crate::identity::lockout::ThrottleKey;
use crate::identity::principal::{PEOPLE_ONLY, Principal};
use crate::identity::records::UserRecord;
use crate::identity::{IdentityService, reauthentication};
use crate::ids::SessionId;
use crate::request::ClientInfo;

const WRONG_PASSWORD: &str = "the password is wrong";
const WRONG_CODE: &str = "the code is wrong or was already used";
const CODE_NEEDED: &str = "two-factor sign-in is on: enter a code from your authenticator or a backup code";

fn session_of(principal: &Principal) -> DomainResult<SessionId> {
    match principal {
        Principal::User { session_id, .. } => Ok(*session_id),
        Principal::ApiKey { .. } => Err(DomainError::Forbidden(PEOPLE_ONLY.to_owned())),
    }
}

impl IdentityService {
    /// Confirms the password (and, with two-factor on, a code) on the caller's session; returns the end of
    /// the window it opens.
    #[tracing::instrument(skip_all)]
    pub async fn reauthenticate(
        &self,
        principal: &Principal,
        password: &SecretString,
        code: Option<&str>,
        client: &ClientInfo,
    ) -> DomainResult<DateTime<Utc>> {
        let session = session_of(principal)?;
        let user = self.current_user(principal).await?;
        let code = code.map(str::trim).filter(|code| !code.is_empty());
        if user.two_factor_enabled() && code.is_none() {
            return Err(DomainError::invalid("code", CODE_NEEDED));
        }
        let attempts = self.reserve_attempts(ThrottleKey::Account(user.id), client).await?;
        if !self.verify_password(&user, password).await? {
            attempts.failed(&*self.store, self.now()).await?;
            self.audit_reauthentication_failure(&user, "wrong_password", client)
                .await?;
            return Err(DomainError::invalid("password", WRONG_PASSWORD));
        }
        let now = self.now();
        let tx = self.store.begin().await?;
        if let Some(code) = code.filter(|_| user.two_factor_enabled())
            && !self.consume_second_factor(&*tx, &user, code, now).await?
        {
            drop(tx);
            attempts.failed(&*self.store, now).await?;
            self.audit_reauthentication_failure(&user, "wrong_code", client).await?;
            return Err(DomainError::invalid("code", WRONG_CODE));
        }
        if !tx.mark_reauthenticated(user.id, session, now).await? {
            return Err(DomainError::Unauthenticated);
        }
        self.audit_account(
            &*tx,
            &user,
            "auth.reauthenticated",
            client,
            json!({ "session": session.to_string(), "secondFactor": user.two_factor_enabled() }),
        )
        .await?;
        attempts.succeeded(&*tx).await?;
        tx.commit().await?;
        Ok(reauthentication::window_end(now))
    }

    /// The caller, if their session re-authenticated within the window; `ReauthenticationRequired` otherwise.
    /// Every sensitive change calls this first.
    pub async fn require_recent_reauthentication(&self, principal: &Principal) -> DomainResult<UserRecord> {
        let session_id = session_of(principal)?;
        let user = self.current_user(principal).await?;
        let session = self
            .store
            .find_session(session_id)
            .await?
            .filter(|session| session.user_id == user.id)
            .ok_or(DomainError::Unauthenticated)?;
        if !reauthentication::is_recent(session.reauthenticated_at, self.now()) {
            return Err(reauthentication::required());
        }
        Ok(user)
    }

    async fn audit_reauthentication_failure(
        &self,
        user: &UserRecord,
        reason: &'static str,
        client: &ClientInfo,
    ) -> DomainResult<()> {
        self.audit_failure(
            Some(user),
            "auth.reauthentication_failed",
            client,
            json!({ "reason": reason }),
        )
        .await
    }
}
