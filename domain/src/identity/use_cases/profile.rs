//! The person's own account details: name and username, the email address (changed only through a link to
//! the new address), and which optional notices they get.
//!
//! Rules:
//! - Full name and username follow sign-up's rules and conflicts (a taken username, in any letter case, is a
//!   `CONFLICT` on `username`, decided by the unique index).
//! - An email change needs a recent re-authentication. It only records the new address as pending: a link
//!   goes to the new address and a notice to the current one, and nothing changes until the link comes back.
//!   Confirming makes the new address the account's (confirmed, since the link proved it) and tells the old
//!   address; a newer request, or the change itself, makes every earlier link fail.
//! - Every change is audited on the account's chain, with the old and new values of what changed.

use serde_json::json;

use super::email_verification::LINK_REFUSED;
use crate::error::{DomainError, DomainResult, FieldErrors};
use crate::identity::email_links::{Binding, EmailLinkKey, LinkPurpose};
use crate::identity::ports::constraints;
use crate::identity::principal::Principal;
use crate::identity::records::UserRecord;
use crate::identity::{Email, FullName, IdentityService, Username};
use crate::notices::{self, Delivery, Notice};
use crate::request::ClientInfo;
use crate::store::StoreError;

/// What `updateProfile` changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub full_name: Option<String>,
    pub username: Option<String>,
}

/// Which optional notices a person gets; `None` leaves a preference as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoticePreferences {
    pub billing: Option<bool>,
    pub leases: Option<bool>,
}

impl IdentityService {
    #[tracing::instrument(skip_all)]
    pub async fn update_profile(
        &self,
        principal: &Principal,
        change: ProfileChange,
        client: &ClientInfo,
    ) -> DomainResult<UserRecord> {
        let user = self.current_user(principal).await?;
        let mut errors = FieldErrors::default();
        let full_name = change
            .full_name
            .as_deref()
            .and_then(|name| errors.check(FullName::parse("input.fullName", name)));
        let username = change
            .username
            .as_deref()
            .and_then(|name| errors.check(Username::parse("input.username", name)));
        errors.into_result()?;
        let full_name = full_name.map_or(user.full_name.clone(), |name| name.as_str().to_owned());
        let (username, username_key) = match username {
            Some(name) => (name.as_str().to_owned(), name.key()),
            None => (user.username.clone(), user.username_key.clone()),
        };
        if full_name == user.full_name && username == user.username {
            return Ok(user);
        }
        if username_key != user.username_key && self.store.find_user_by_login(&username_key).await?.is_some() {
            return Err(DomainError::conflict("input.username", "this username is taken"));
        }
        let tx = self.store.begin().await?;
        tx.update_profile(user.id, &full_name, &username, &username_key)
            .await
            .map_err(|error| match error {
                StoreError::UniqueViolation(constraints::USER_USERNAME) => {
                    DomainError::conflict("input.username", "this username is taken")
                }
                other => other.into(),
            })?;
        self.audit_account(
            &*tx,
            &user,
            "account.profile_updated",
            client,
            json!({
                "fullNameChanged": full_name != user.full_name,
                "username": { "from": user.username, "to": username },
            }),
        )
        .await?;
        // Cached credentials carry the display name: let them be read again.
        let _signal = self.access.armed(crate::events::AccessChange::User(user.id));
        tx.commit().await?;
        Ok(UserRecord {
            full_name,
            username,
            username_key,
            ..user
        })
    }

    /// Asks to move the account to `new_email`: a link to it, a notice to the current address.
    #[tracing::instrument(skip_all)]
    pub async fn request_email_change(
        &self,
        principal: &Principal,
        new_email: &str,
        client: &ClientInfo,
    ) -> DomainResult<()> {
        let user = self.require_recent_reauthentication(principal).await?;
        let email = Email::parse("newEmail", new_email).map_err(|e| DomainError::Invalid(vec![e]))?;
        if email.key() == user.email_key {
            return Err(DomainError::invalid("newEmail", "this is already your address"));
        }
        if self.store.find_user_by_login(&email.key()).await?.is_some() {
            return Err(DomainError::conflict(
                "newEmail",
                "an account with this email already exists",
            ));
        }
        let now = self.now();
        let tx = self.store.begin().await?;
        tx.set_pending_email(user.id, Some(email.as_str())).await?;
        self.audit_account(
            &*tx,
            &user,
            "account.email_change_requested",
            client,
            json!({ "newEmail": email.as_str() }),
        )
        .await?;
        notices::queue(&*tx, user.id, Notice::ConfirmEmailChange, now).await?;
        let told = Notice::EmailChangeRequested {
            new_email: email.as_str().to_owned(),
        };
        let to_current = Delivery {
            to: Some(user.email.clone()),
            ..Delivery::default()
        };
        notices::queue_with(&*tx, user.id, told, to_current, now).await?;
        tx.commit().await?;
        self.wake_jobs();
        Ok(())
    }

    /// Makes the pending address the account's, when the link is the latest one for it.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_email_change(&self, token: &str, client: &ClientInfo) -> DomainResult<UserRecord> {
        let refused = || DomainError::invalid("token", LINK_REFUSED);
        let claim = EmailLinkKey::read(token, LinkPurpose::ChangeEmail).ok_or_else(refused)?;
        let user = self.store.find_user(claim.user).await?.ok_or_else(refused)?;
        let pending = user.pending_email.clone().ok_or_else(refused)?;
        let pending = Email::parse("token", &pending).map_err(|_| refused())?;
        let binding = Binding {
            email_key: &user.email_key,
            pending_email_key: Some(&pending.key()),
        };
        let now = self.now();
        if !self.links.holds(&claim, binding, now) {
            return Err(refused());
        }
        let tx = self.store.begin().await?;
        let applied = tx
            .apply_pending_email(user.id, &user.email_key, pending.as_str(), &pending.key(), now)
            .await
            .map_err(|error| match error {
                StoreError::UniqueViolation(constraints::USER_EMAIL) => {
                    DomainError::conflict("token", "another account took this address meanwhile")
                }
                other => other.into(),
            })?;
        if !applied {
            return Err(refused());
        }
        self.audit_account(
            &*tx,
            &user,
            "account.email_changed",
            client,
            json!({ "from": user.email, "to": pending.as_str() }),
        )
        .await?;
        let told = Notice::EmailChanged {
            new_email: pending.as_str().to_owned(),
        };
        let to_old = Delivery {
            to: Some(user.email.clone()),
            ..Delivery::default()
        };
        notices::queue_with(&*tx, user.id, told, to_old, now).await?;
        let _signal = self.access.armed(crate::events::AccessChange::User(user.id));
        tx.commit().await?;
        self.wake_jobs();
        Ok(UserRecord {
            email: pending.as_str().to_owned(),
            email_key: pending.key(),
            email_verified_at: Some(now),
            pending_email: None,
            ..user
        })
    }

    #[tracing::instrument(skip_all)]
    pub async fn update_notice_preferences(
        &self,
        principal: &Principal,
        preferences: NoticePreferences,
        client: &ClientInfo,
    ) -> DomainResult<UserRecord> {
        let user = self.current_user(principal).await?;
        let billing = preferences.billing.unwrap_or(user.notify_billing);
        let leases = preferences.leases.unwrap_or(user.notify_leases);
        let tx = self.store.begin().await?;
        tx.set_notice_preferences(user.id, billing, leases).await?;
        self.audit_account(
            &*tx,
            &user,
            "account.notice_preferences_changed",
            client,
            json!({ "billing": billing, "leases": leases }),
        )
        .await?;
        tx.commit().await?;
        Ok(UserRecord {
            notify_billing: billing,
            notify_leases: leases,
            ..user
        })
    }
}
