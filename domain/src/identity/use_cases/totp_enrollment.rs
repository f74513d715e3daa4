//! Turning TOTP two-factor on and off, and managing backup codes.
//!
//! Rules:
//! - Enrollment is two steps: `begin` stores a new secret as pending (sealed under the master key) and shows
//!   it; `confirm` with a valid code turns it on, records the code's step as used, and issues ten backup
//!   codes, all in one transaction.
//! - Regenerating backup codes needs a valid code; the old codes stop working in the same transaction.
//! - Turning two-factor off needs the password and a code; the backup codes go with it.
//! - Every code or password check is throttled like sign-in.
//! - Each of these changes needs a recent re-authentication on the calling session
//!   ([`IdentityService::require_recent_reauthentication`]), so a stolen session token alone cannot take over
//!   or remove the second factor.

use secrecy::SecretString;
use serde_json::json;

use crate::error::{DomainError, DomainResult};
use crate::identity::lockout::ThrottleKey;
use crate::identity::principal::Principal;
use crate::identity::records::UserRecord;
use crate::identity::totp::{TotpSecret, qr_svg};
use crate::identity::{IdentityService, backup_codes};
use crate::request::ClientInfo;
use crate::store::Repositories;

/// What a person needs to add the account to an authenticator app.
#[derive(Debug, Clone)]
pub struct TotpEnrollment {
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

const WRONG_CODE: &str = "the code is wrong or was already used";

impl IdentityService {
    #[tracing::instrument(skip_all)]
    pub async fn begin_totp_enrollment(&self, principal: &Principal) -> DomainResult<TotpEnrollment> {
        let user = self.require_recent_reauthentication(principal).await?;
        if user.two_factor_enabled() {
            return Err(DomainError::Conflict {
                field: None,
                message: "two-factor sign-in is already on; turn it off first to enroll a new authenticator".into(),
            });
        }
        let secret = TotpSecret::generate();
        let sealed = self.seal_totp(&user, &secret)?;
        self.store.set_pending_totp(user.id, Some(&sealed)).await?;
        self.describe_enrollment(&user, &secret)
    }

    pub(crate) fn describe_enrollment(&self, user: &UserRecord, secret: &TotpSecret) -> DomainResult<TotpEnrollment> {
        let otpauth_uri = secret.otpauth_uri(&self.config.totp_issuer, &user.username)?;
        Ok(TotpEnrollment {
            secret: secret.base32(),
            qr_svg: qr_svg(&otpauth_uri)?,
            otpauth_uri,
        })
    }

    #[tracing::instrument(skip_all)]
    pub async fn confirm_totp_enrollment(
        &self,
        principal: &Principal,
        code: &str,
        client: &ClientInfo,
    ) -> DomainResult<Vec<String>> {
        let user = self.require_recent_reauthentication(principal).await?;
        if user.two_factor_enabled() {
            return Err(DomainError::Conflict {
                field: None,
                message: "two-factor sign-in is already on".into(),
            });
        }
        let Some(pending) = user.totp_pending_sealed.clone() else {
            return Err(DomainError::Conflict {
                field: None,
                message: "no enrollment in progress; call beginTotpEnrollment first".into(),
            });
        };
        let attempts = self.reserve_attempts(ThrottleKey::Account(user.id), client).await?;
        let secret = self.open_totp(&user, &pending)?;
        let now = self.now();
        let Some(step) = secret.matching_step(code.trim(), now.timestamp())? else {
            attempts.failed(&*self.store, now).await?;
            return Err(DomainError::invalid("code", WRONG_CODE));
        };
        let tx = self.store.begin().await?;
        tx.enable_totp(user.id, &pending, step).await?;
        let codes = self.replace_backup_codes(&*tx, &user, now).await?;
        self.audit_account(&*tx, &user, "two_factor.enabled", client, json!({}))
            .await?;
        crate::notices::queue(&*tx, user.id, crate::notices::Notice::TwoFactorEnabled, now).await?;
        attempts.succeeded(&*tx).await?;
        // What the caller may do depends on it (staff act as staff only with a second factor).
        let _signal = self.access.armed(crate::events::AccessChange::User(user.id));
        tx.commit().await?;
        self.wake_jobs();
        Ok(codes)
    }

    #[tracing::instrument(skip_all)]
    pub async fn regenerate_backup_codes(
        &self,
        principal: &Principal,
        code: &str,
        client: &ClientInfo,
    ) -> DomainResult<Vec<String>> {
        let user = self.enabled_user(principal).await?;
        let attempts = self.reserve_attempts(ThrottleKey::Account(user.id), client).await?;
        let now = self.now();
        let tx = self.store.begin().await?;
        if !self.consume_second_factor(&*tx, &user, code, now).await? {
            drop(tx);
            attempts.failed(&*self.store, now).await?;
            return Err(DomainError::invalid("code", WRONG_CODE));
        }
        let codes = self.replace_backup_codes(&*tx, &user, now).await?;
        self.audit_account(&*tx, &user, "two_factor.backup_codes_regenerated", client, json!({}))
            .await?;
        crate::notices::queue(&*tx, user.id, crate::notices::Notice::BackupCodesRegenerated, now).await?;
        attempts.succeeded(&*tx).await?;
        tx.commit().await?;
        self.wake_jobs();
        Ok(codes)
    }

    #[tracing::instrument(skip_all)]
    pub async fn disable_totp(
        &self,
        principal: &Principal,
        password: &SecretString,
        code: &str,
        client: &ClientInfo,
    ) -> DomainResult<()> {
        let user = self.enabled_user(principal).await?;
        let attempts = self.reserve_attempts(ThrottleKey::Account(user.id), client).await?;
        let now = self.now();
        if !self.verify_password(&user, password).await? {
            attempts.failed(&*self.store, now).await?;
            return Err(DomainError::invalid("password", "the password is wrong"));
        }
        let tx = self.store.begin().await?;
        if !self.consume_second_factor(&*tx, &user, code, now).await? {
            drop(tx);
            attempts.failed(&*self.store, now).await?;
            return Err(DomainError::invalid("code", WRONG_CODE));
        }
        tx.disable_totp(user.id).await?;
        self.audit_account(&*tx, &user, "two_factor.disabled", client, json!({}))
            .await?;
        crate::notices::queue(&*tx, user.id, crate::notices::Notice::TwoFactorDisabled, now).await?;
        attempts.succeeded(&*tx).await?;
        let _signal = self.access.armed(crate::events::AccessChange::User(user.id));
        tx.commit().await?;
        self.wake_jobs();
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    pub async fn backup_codes_remaining(&self, principal: &Principal) -> DomainResult<u64> {
        Ok(self.store.count_unused_backup_codes(principal.require_user()?).await?)
    }

    /// The caller, re-authenticated recently and with two-factor on.
    async fn enabled_user(&self, principal: &Principal) -> DomainResult<UserRecord> {
        let user = self.require_recent_reauthentication(principal).await?;
        if !user.two_factor_enabled() {
            return Err(DomainError::Conflict {
                field: None,
                message: "two-factor sign-in is off".into(),
            });
        }
        Ok(user)
    }

    pub(crate) async fn replace_backup_codes(
        &self,
        repos: &dyn Repositories,
        user: &UserRecord,
        now: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<Vec<String>> {
        let codes = backup_codes::generate();
        let hashes = codes
            .iter()
            .map(|code| {
                self.backup_code_key
                    .hash(user.id, code)
                    .ok_or_else(|| DomainError::internal("generated backup code failed to parse"))
            })
            .collect::<DomainResult<Vec<_>>>()?;
        repos.replace_backup_codes(user.id, &hashes, now).await?;
        Ok(codes)
    }
}
