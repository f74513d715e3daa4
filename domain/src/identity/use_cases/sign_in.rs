//! Sign-in: password first, then (when two-factor is on) a short-lived challenge completed with a code.
//!
//! Rules:
//! - Every check is preceded by an atomic attempt reservation (see `lockout`), per account and per IP.
//! - An unknown login costs the same hashing time and is throttled like an account, so neither timing nor
//!   lockouts reveal which accounts exist.
//! - A right password with two-factor on does not reset the account's counter: only a completed sign-in does,
//!   so re-entering the password cannot buy more code guesses.
//! - A challenge is single-use and expires; a wrong code leaves it usable until the attempts run out.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;

use crate::crypto::token;
use crate::error::{DomainError, DomainResult};
use crate::identity::lockout::ThrottleKey;
use crate::identity::records::{ChallengeRecord, IssuedSession};
use crate::identity::service::to_chrono;
use crate::identity::{IdentityService, Login, password};
use crate::request::ClientInfo;

pub const CHALLENGE_TOKEN_PREFIX: &str = "tgc";
const WRONG_PASSWORD: &str = "invalid login or password";
const WRONG_CODE: &str = "invalid two-factor code";
const BAD_CHALLENGE: &str = "the sign-in challenge is invalid or expired; sign in again";

#[derive(Debug, Clone)]
pub enum SignInOutcome {
    Session(IssuedSession),
    TwoFactorChallenge { token: String, expires_at: DateTime<Utc> },
}

/// The refusal of a suspended account's sign-in.
pub const SUSPENDED: &str = "this account is suspended by staff; reply to the email that told you, or write to \
                             support";

impl IdentityService {
    #[tracing::instrument(skip_all)]
    pub async fn sign_in(
        &self,
        login: &str,
        password: &SecretString,
        client: &ClientInfo,
    ) -> DomainResult<SignInOutcome> {
        let Some(login) = Login::parse(login) else {
            return Err(DomainError::invalid("login", "enter your email or username"));
        };
        if password.expose_secret().is_empty() {
            return Err(DomainError::invalid("password", "enter your password"));
        }
        let user = self.store.find_user_by_login(login.key()).await?;
        let key = match &user {
            Some(user) => ThrottleKey::Account(user.id),
            None => ThrottleKey::UnknownLogin(login.key().to_owned()),
        };
        let attempts = self.reserve_attempts(key, client).await?;
        let too_long = password.expose_secret().chars().count() > password::MAX_LEN;
        let matched = match &user {
            Some(user) if !too_long => self.verify_password(user, password).await?,
            _ => {
                self.hasher.verify_dummy(password).await?;
                false
            }
        };
        let now = self.now();
        if !matched {
            attempts.failed(&*self.store, now).await?;
            let reason = if user.is_some() {
                "wrong_password"
            } else {
                "unknown_login"
            };
            self.audit_failure(
                user.as_ref(),
                "auth.sign_in_failed",
                client,
                json!({ "reason": reason }),
            )
            .await?;
            return Err(DomainError::InvalidCredentials(WRONG_PASSWORD));
        }
        let Some(user) = user else {
            return Err(DomainError::InvalidCredentials(WRONG_PASSWORD));
        };
        if user.suspended_at.is_some() {
            // Said only to whoever knows the password: the account is there, and staff stopped it.
            self.audit_failure(
                Some(&user),
                "auth.sign_in_failed",
                client,
                json!({ "reason": "suspended" }),
            )
            .await?;
            return Err(DomainError::Forbidden(SUSPENDED.to_owned()));
        }

        let tx = self.store.begin().await?;
        if user.two_factor_enabled() {
            attempts.keep_counting(&*tx).await?;
            let token = token::generate(CHALLENGE_TOKEN_PREFIX);
            let challenge = ChallengeRecord {
                token_hash: token::hash(&token),
                user_id: user.id,
                created_at: now,
                expires_at: now + to_chrono(self.config.challenge_ttl),
                consumed_at: None,
            };
            tx.insert_challenge(&challenge).await?;
            self.audit_account(&*tx, &user, "auth.challenge_issued", client, json!({}))
                .await?;
            tx.commit().await?;
            return Ok(SignInOutcome::TwoFactorChallenge {
                token,
                expires_at: challenge.expires_at,
            });
        }
        attempts.succeeded(&*tx).await?;
        let new_client = self.notice_if_new_client(&*tx, &user, client, now).await?;
        let session = self.issue_session(&*tx, user.id, client, now).await?;
        self.audit_account(&*tx, &user, "auth.signed_in", client, json!({ "secondFactor": false }))
            .await?;
        tx.commit().await?;
        if new_client {
            self.wake_jobs();
        }
        Ok(SignInOutcome::Session(session))
    }

    #[tracing::instrument(skip_all)]
    pub async fn complete_sign_in(
        &self,
        challenge: &str,
        code: &str,
        client: &ClientInfo,
    ) -> DomainResult<IssuedSession> {
        let hash = token::hash(challenge);
        let now = self.now();
        let Some(record) = self.store.find_challenge(&hash).await? else {
            return Err(DomainError::InvalidCredentials(BAD_CHALLENGE));
        };
        if record.consumed_at.is_some() || record.expires_at <= now {
            return Err(DomainError::InvalidCredentials(BAD_CHALLENGE));
        }
        let Some(user) = self.store.find_user(record.user_id).await? else {
            return Err(DomainError::InvalidCredentials(BAD_CHALLENGE));
        };
        let attempts = self.reserve_attempts(ThrottleKey::Account(user.id), client).await?;
        let now = self.now();
        let tx = self.store.begin().await?;
        if !self.consume_second_factor(&*tx, &user, code, now).await? {
            drop(tx);
            attempts.failed(&*self.store, now).await?;
            self.audit_failure(Some(&user), "auth.second_factor_failed", client, json!({}))
                .await?;
            return Err(DomainError::InvalidCredentials(WRONG_CODE));
        }
        if !tx.consume_challenge(&hash, now).await? {
            return Err(DomainError::InvalidCredentials(BAD_CHALLENGE));
        }
        attempts.succeeded(&*tx).await?;
        let new_client = self.notice_if_new_client(&*tx, &user, client, now).await?;
        let session = self.issue_session(&*tx, user.id, client, now).await?;
        self.audit_account(&*tx, &user, "auth.signed_in", client, json!({ "secondFactor": true }))
            .await?;
        tx.commit().await?;
        if new_client {
            self.wake_jobs();
        }
        Ok(session)
    }

    /// Queues a new-sign-in notice when no session of the account came from this address, or none from this
    /// client, before; `true` when it did.
    async fn notice_if_new_client(
        &self,
        tx: &dyn crate::store::Transaction,
        user: &crate::identity::records::UserRecord,
        client: &ClientInfo,
        now: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<bool> {
        let ip_address = client.ip.map(|ip| ip.to_string());
        if tx
            .seen_client(user.id, ip_address.as_deref(), client.user_agent.as_deref())
            .await?
        {
            return Ok(false);
        }
        let notice = crate::notices::Notice::NewSignIn {
            ip_address,
            user_agent: client.user_agent.clone(),
            at: now,
        };
        crate::notices::queue(tx, user.id, notice, now).await?;
        Ok(true)
    }
}
