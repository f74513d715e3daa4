//! Creating staff accounts (console only).
//!
//! Rule (policy §9): staff must have two-factor enrolled. A staff account is therefore created in two steps:
//! [`IdentityService::prepare_staff`] validates the input, hashes the password and draws a TOTP secret
//! without storing anything; [`IdentityService::create_staff`] stores the account with two-factor already on
//! only once a valid code proves the authenticator works. There is never a staff account without TOTP.
//!
//! Rule (bootstrap): without a sign-in ([`StaffCreator::Bootstrap`], the operator's access to the database and
//! key alone) only the first staff account can be created; once any exists, a signed-in staff member creates
//! the next ([`StaffCreator::Staff`]) and the platform audit chain names them. The check runs inside the
//! creating transaction after its platform audit entry has taken that chain's lock, so two bootstraps at once
//! cannot both see "no staff yet".

use serde_json::json;

use crate::audit::{self, Actor, ActorKind, AuditDraft, ChainId};
use crate::error::{DomainError, DomainResult};
use crate::identity::records::UserRecord;
use crate::identity::totp::TotpSecret;
use crate::identity::use_cases::sign_up::{SignUpInput, conflict_of, parse};
use crate::identity::use_cases::totp_enrollment::TotpEnrollment;
use crate::identity::{IdentityService, Principal};
use crate::request::ClientInfo;

pub type NewStaff = SignUpInput;

/// The refusal of a bootstrap once staff exist.
pub const STAFF_EXIST: &str = "a staff account already exists: only the first is created without a sign-in; \
                               a signed-in staff member creates the next";

/// Who creates a staff account.
#[derive(Debug, Clone, Copy)]
pub enum StaffCreator<'a> {
    /// The operator, from access to the database and key alone: allowed only while no staff account exists.
    Bootstrap,
    /// A signed-in staff member (two-factor on), audited as the creator.
    Staff(&'a Principal, &'a ClientInfo),
}

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

    /// Whether any staff account exists (a bootstrap is refused then).
    pub async fn staff_exists(&self) -> DomainResult<bool> {
        Ok(self.store.count_staff().await? > 0)
    }

    /// Stores the staff account with two-factor on, if `code` is valid now and `by` may create it (see the
    /// bootstrap rule); returns its backup codes.
    #[tracing::instrument(skip_all)]
    pub async fn create_staff(
        &self,
        prepared: PreparedStaff,
        code: &str,
        by: StaffCreator<'_>,
    ) -> DomainResult<(UserRecord, Vec<String>)> {
        if let StaffCreator::Staff(principal, _) = by {
            principal.require_staff()?;
        }
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
        let (actor, client) = match by {
            StaffCreator::Bootstrap => (
                Actor {
                    kind: ActorKind::System,
                    id: None,
                    display_name: "console bootstrap".to_owned(),
                },
                ClientInfo::default(),
            ),
            StaffCreator::Staff(principal, client) => (
                Actor {
                    kind: ActorKind::Staff,
                    ..Actor::of(principal)
                },
                client.clone(),
            ),
        };
        let draft = AuditDraft {
            chain: ChainId::Platform,
            actor,
            action: "staff.created",
            target_type: Some("USER"),
            target_id: Some(user.id.to_string()),
            client,
            metadata: json!({
                "username": user.username,
                "bootstrap": matches!(by, StaffCreator::Bootstrap),
            }),
        };
        audit::append(&*tx, draft, now).await?;
        if matches!(by, StaffCreator::Bootstrap) && tx.count_staff().await? > 0 {
            return Err(DomainError::Forbidden(STAFF_EXIST.to_owned()));
        }
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
