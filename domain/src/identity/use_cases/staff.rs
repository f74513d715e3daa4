//! Creating staff accounts (console only).
//!
//! Rule (policy §9): staff must have two-factor enrolled. A staff account is therefore created in two steps:
//! [`IdentityService::prepare_staff`] validates the input, hashes the password and draws a TOTP secret
//! without storing anything; [`IdentityService::create_staff`] stores the account with two-factor already on
//! only once a valid code proves the authenticator works. There is never a staff account without TOTP.

use crate::error::{DomainError, DomainResult};
use crate::identity::IdentityService;
use crate::identity::records::UserRecord;
use crate::identity::totp::TotpSecret;
use crate::identity::use_cases::sign_up::{SignUpInput, conflict_of, parse};
use crate::identity::use_cases::totp_enrollment::TotpEnrollment;

pub type NewStaff = SignUpInput;

/// A staff account ready to store once its first code is confirmed.
#[derive(Debug)]
pub struct PreparedStaff {
    user: UserRecord,
    secret: TotpSecret,
    pub enrollment: TotpEnrollment,
}

impl IdentityService {
    #[tracing::instrument(skip_all)]
    pub async fn prepare_staff(&self, input: NewStaff) -> DomainResult<PreparedStaff> {
        let account = parse(&input)?;
        self.ensure_available(&account).await?;
        let password_hash = self.hasher.hash(account.password.secret()).await?;
        let user = account.into_record(password_hash, true, self.now());
        let secret = TotpSecret::generate();
        let enrollment = self.describe_enrollment(&user, &secret)?;
        Ok(PreparedStaff {
            user,
            secret,
            enrollment,
        })
    }

    /// Stores the staff account with two-factor on, if `code` is valid now; returns its backup codes.
    #[tracing::instrument(skip_all)]
    pub async fn create_staff(&self, prepared: PreparedStaff, code: &str) -> DomainResult<(UserRecord, Vec<String>)> {
        let now = self.now();
        let Some(step) = prepared.secret.matching_step(code.trim(), now.timestamp())? else {
            return Err(DomainError::invalid(
                "code",
                "the code does not match the authenticator",
            ));
        };
        let mut user = prepared.user;
        let sealed = self.seal_totp(&user, &prepared.secret)?;
        user.totp_secret_sealed = Some(sealed.clone());
        user.totp_last_step = Some(step);
        let tx = self.store.begin().await?;
        tx.insert_user(&user).await.map_err(conflict_of)?;
        tx.enable_totp(user.id, &sealed, step).await?;
        let codes = self.replace_backup_codes(&*tx, &user, now).await?;
        let console = crate::request::ClientInfo::default();
        self.audit_account(&*tx, &user, "staff.created", &console, serde_json::json!({}))
            .await?;
        tx.commit().await?;
        Ok((user, codes))
    }
}
