//! Changing the password: the current one must be right (a throttled check), the new one must meet the
//! policy and differ from the current, and every other session of the user is revoked in the same
//! transaction, so a stolen session dies with the old password.

use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;

use crate::error::{DomainError, DomainResult};
use crate::identity::lockout::ThrottleKey;
use crate::identity::password::PasswordContext;
use crate::identity::principal::Principal;
use crate::identity::{IdentityService, Password};
use crate::request::ClientInfo;

impl IdentityService {
    #[tracing::instrument(skip_all)]
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: &SecretString,
        new: &SecretString,
        client: &ClientInfo,
    ) -> DomainResult<()> {
        let user = self.current_user(principal).await?;
        let context = PasswordContext {
            email: &user.email,
            username: &user.username,
        };
        let new_password =
            Password::parse("new", new.expose_secret(), context).map_err(|e| DomainError::Invalid(vec![e]))?;
        if new.expose_secret() == current.expose_secret() {
            return Err(DomainError::invalid(
                "new",
                "the new password must differ from the current one",
            ));
        }
        let attempts = self.reserve_attempts(ThrottleKey::Account(user.id), client).await?;
        if !self.verify_password(&user, current).await? {
            attempts.failed(&*self.store, self.now()).await?;
            return Err(DomainError::invalid("current", "the current password is wrong"));
        }
        let hash = self.hasher.hash(new_password.secret()).await?;
        let Principal::User { session_id, .. } = principal else {
            return Err(DomainError::Forbidden(
                crate::identity::principal::PEOPLE_ONLY.to_owned(),
            ));
        };
        let tx = self.store.begin().await?;
        tx.set_password_hash(user.id, &hash).await?;
        let revoked = tx.revoke_other_sessions(user.id, Some(*session_id), self.now()).await?;
        self.audit_account(
            &*tx,
            &user,
            "account.password_changed",
            client,
            json!({ "revokedSessions": revoked }),
        )
        .await?;
        crate::notices::queue(&*tx, user.id, crate::notices::Notice::PasswordChanged, self.now()).await?;
        attempts.succeeded(&*tx).await?;
        let _signal = self.access.armed(crate::events::AccessChange::User(user.id));
        tx.commit().await?;
        self.wake_jobs();
        Ok(())
    }
}
