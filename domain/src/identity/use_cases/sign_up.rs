//! Sign-up: a new account and its first session, together or not at all.
//!
//! Every bad field is reported at once. A taken email or username (in any letter case) is a `Conflict`
//! naming the field; the unique index decides, so two racing sign-ups cannot both win. Sign-ups from one IP
//! address are limited (`IdentityConfig::sign_ups_per_ip`), so account creation cannot be scripted at will.
//! The attempt is counted before the conflict check, so taken emails and usernames cannot be probed past the
//! limit (a conflict counts like a success; only input refused on its own form does not).

use secrecy::ExposeSecret as _;
use serde_json::json;

use crate::error::{DomainError, DomainResult, FieldError, FieldErrors};
use crate::identity::lockout::Reservation;
use crate::identity::password::PasswordContext;
use crate::identity::ports::constraints;
use crate::identity::records::{IssuedSession, UserRecord};
use crate::identity::{Email, FullName, IdentityService, Password, Username};
use crate::ids::UserId;
use crate::notices::{self, Notice};
use crate::request::{ClientInfo, LimitedNetwork};
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct SignUpInput {
    pub email: String,
    pub full_name: String,
    pub username: String,
    pub password: secrecy::SecretString,
    /// The person confirms they are 16 or older (policy §11); sign-up is refused otherwise.
    pub age_confirmed: bool,
}

/// The privacy policy version a sign-up accepts (`shared/privacy-policy.txt`, "Last updated").
pub const POLICY_VERSION: &str = "2026-04-30";

/// A valid sign-up, parsed.
pub(crate) struct NewAccount {
    pub email: Email,
    pub full_name: FullName,
    pub username: Username,
    pub password: Password,
}

impl NewAccount {
    /// The account as stored, before any second factor.
    pub(crate) fn into_record(
        self,
        password_hash: String,
        is_staff: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> UserRecord {
        UserRecord {
            id: UserId::generate(),
            email_key: self.email.key(),
            email: self.email.as_str().to_owned(),
            full_name: self.full_name.as_str().to_owned(),
            username_key: self.username.key(),
            username: self.username.as_str().to_owned(),
            password_hash,
            is_staff,
            totp_secret_sealed: None,
            totp_pending_sealed: None,
            totp_last_step: None,
            created_at: now,
            email_verified_at: None,
            pending_email: None,
            age_confirmed_at: None,
            policy_version: None,
            notify_billing: true,
            notify_leases: true,
            closed_at: None,
            erase_after: None,
            restricted_at: None,
            suspended_at: None,
            suspension_reason: None,
        }
    }
}

pub(crate) fn parse(input: &SignUpInput) -> DomainResult<NewAccount> {
    let mut errors = FieldErrors::default();
    let email = errors.check(Email::parse("email", &input.email));
    let full_name = errors.check(FullName::parse("fullName", &input.full_name));
    let username = errors.check(Username::parse("username", &input.username));
    let context = PasswordContext {
        email: &input.email,
        username: &input.username,
    };
    let password = errors.check(Password::parse("password", input.password.expose_secret(), context));
    if !input.age_confirmed {
        errors.push(FieldError::new(
            "ageConfirmed",
            "the service is not for people under 16: confirm that you are 16 or older",
        ));
    }
    errors.into_result()?;
    match (email, full_name, username, password) {
        (Some(email), Some(full_name), Some(username), Some(password)) => Ok(NewAccount {
            email,
            full_name,
            username,
            password,
        }),
        _ => Err(DomainError::internal("field errors collected but not reported")),
    }
}

pub(crate) fn conflict_of(error: StoreError) -> DomainError {
    match error {
        StoreError::UniqueViolation(constraints::USER_EMAIL) => {
            DomainError::conflict("email", "an account with this email already exists")
        }
        StoreError::UniqueViolation(constraints::USER_USERNAME) => {
            DomainError::conflict("username", "this username is taken")
        }
        other => other.into(),
    }
}

impl IdentityService {
    #[tracing::instrument(skip_all)]
    pub async fn sign_up(&self, input: SignUpInput, client: &ClientInfo) -> DomainResult<(UserRecord, IssuedSession)> {
        let account = parse(&input)?;
        // Counted before anything about existing accounts is looked at: a conflict answered first would let
        // one request of many aliased sign-ups test emails and usernames past the limit.
        self.reserve_sign_up(client).await?;
        self.ensure_available(&account).await?;
        let password_hash = self.hasher.hash(account.password.secret()).await?;
        let now = self.now();
        let user = UserRecord {
            age_confirmed_at: Some(now),
            policy_version: Some(POLICY_VERSION.to_owned()),
            ..account.into_record(password_hash, false, now)
        };
        let tx = self.store.begin().await?;
        tx.insert_user(&user).await.map_err(conflict_of)?;
        let session = self.issue_session(&*tx, user.id, client, now).await?;
        self.audit_account(
            &*tx,
            &user,
            "account.created",
            client,
            json!({ "policyVersion": POLICY_VERSION, "ageConfirmed": true }),
        )
        .await?;
        notices::queue(&*tx, user.id, Notice::VerifyEmail, now).await?;
        tx.commit().await?;
        self.wake_jobs();
        Ok((user, session))
    }

    /// Counts a sign-up against the client's IP address (an IPv6 address's /64); `RateLimited` beyond the
    /// allowance. Every well-formed attempt counts, whether it then succeeds or conflicts.
    async fn reserve_sign_up(&self, client: &ClientInfo) -> DomainResult<()> {
        let Some(ip) = client.ip else {
            return Ok(());
        };
        let policy = &self.config.sign_ups_per_ip;
        let now = self.now();
        match self
            .store
            .reserve_attempt(&format!("signup:{}", LimitedNetwork::of(ip)), policy, now)
            .await?
        {
            Reservation::Granted => Ok(()),
            Reservation::Denied { locked_until } => Err(DomainError::RateLimited {
                retry_after_secs: Reservation::retry_after_secs(locked_until, now, policy),
            }),
        }
    }

    /// Answers a taken email or username before paying for a password hash. The unique index still decides.
    pub(crate) async fn ensure_available(&self, account: &NewAccount) -> DomainResult<()> {
        if self.store.find_user_by_login(&account.email.key()).await?.is_some() {
            return Err(DomainError::conflict(
                "email",
                "an account with this email already exists",
            ));
        }
        if self.store.find_user_by_login(&account.username.key()).await?.is_some() {
            return Err(DomainError::conflict("username", "this username is taken"));
        }
        Ok(())
    }
}
