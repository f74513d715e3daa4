//! The identity use cases share one service: its ports and its configuration.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::backup_codes::BackupCodeKey;
use super::email_links::EmailLinkKey;
use super::lockout::{LockoutPolicy, Reservation, ThrottleKey, ThrottlePolicy};
use super::records::{SessionRecord, UserRecord};
use super::totp::TotpSecret;
use crate::clock::Clock;
use crate::crypto::{MasterKey, PasswordHasher};
use crate::error::{DomainError, DomainResult};
use crate::events::{AccessCache, AccessSignals};
use crate::jobs::JobSignal;
use crate::request::ClientInfo;
use crate::store::{Repositories, Store};

/// Tunables of identity, from the server's configuration.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// A session's absolute lifetime, however busy it is.
    pub session_ttl: Duration,
    /// A session unused for this long stops working (the idle timeout, beside the absolute one).
    pub session_idle: Duration,
    pub challenge_ttl: Duration,
    /// Sessions record `lastSeenAt` at most this often, so reads do not each cost a write (and at least four
    /// times per idle timeout, so a session in use never looks idle: [`IdentityConfig::touch_every`]).
    pub touch_interval: Duration,
    pub lockout: LockoutPolicy,
    /// Sign-ups allowed from one IP address within an hour of each other.
    pub sign_ups_per_ip: ThrottlePolicy,
    /// The issuer shown in authenticator apps.
    pub totp_issuer: String,
    /// How long a resolved session token is served from memory (zero: read every time). Revocations in this
    /// process take effect at once regardless ([`crate::events::AccessCache`]).
    pub credential_cache_ttl: Duration,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            session_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            session_idle: Duration::from_secs(7 * 24 * 60 * 60),
            challenge_ttl: Duration::from_secs(5 * 60),
            touch_interval: Duration::from_secs(60),
            lockout: LockoutPolicy::default(),
            sign_ups_per_ip: ThrottlePolicy {
                threshold: 20,
                window: Duration::from_secs(60 * 60),
                base_lock: Duration::from_secs(60 * 60),
                max_lock: Duration::from_secs(60 * 60),
            },
            totp_issuer: "Telegram OS".to_owned(),
            credential_cache_ttl: Duration::from_secs(5),
        }
    }
}

impl IdentityConfig {
    /// How often a session in use records that it was seen: the touch interval, or a quarter of the idle
    /// timeout when that is shorter. A session is then taken for idle between `session_idle - touch_every`
    /// and `session_idle` after its last request.
    pub fn touch_every(&self) -> Duration {
        self.touch_interval.min(self.session_idle / 4)
    }
}

#[derive(Debug, Clone)]
pub struct IdentityService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) hasher: Arc<dyn PasswordHasher>,
    pub(crate) master_key: Arc<MasterKey>,
    /// Backup codes are stored hashed under this key (derived from the vault's `backup-codes` data key).
    pub(crate) backup_code_key: BackupCodeKey,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: IdentityConfig,
    pub(crate) access: AccessSignals,
    /// Session token hash → the session and its user, as last read.
    pub(crate) sessions: AccessCache<Vec<u8>, (SessionRecord, UserRecord)>,
    /// Email links (verification, email change) are signed under this key.
    pub(crate) links: EmailLinkKey,
    /// Woken after a commit that queued notices.
    pub(crate) jobs: Option<JobSignal>,
}

/// Reserved attempts for one check; settle it with [`Attempts::failed`] or [`Attempts::succeeded`].
#[derive(Debug)]
pub(crate) struct Attempts {
    keys: Vec<(String, ThrottlePolicy, bool)>,
}

pub(crate) fn to_chrono(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

impl IdentityService {
    pub fn new(
        store: Arc<dyn Store>,
        hasher: Arc<dyn PasswordHasher>,
        master_key: Arc<MasterKey>,
        backup_code_key: BackupCodeKey,
        clock: Arc<dyn Clock>,
        config: IdentityConfig,
    ) -> Self {
        let access = AccessSignals::default();
        let links = EmailLinkKey::from_master(&master_key);
        Self {
            links,
            jobs: None,
            store,
            hasher,
            backup_code_key,
            master_key,
            clock,
            sessions: AccessCache::new(access.clone(), config.credential_cache_ttl),
            config,
            access,
        }
    }

    /// Checks backup codes under `key` instead (the console, when only a rotation's new master key opens it).
    #[must_use]
    pub fn with_backup_code_key(mut self, key: BackupCodeKey) -> Self {
        self.backup_code_key = key;
        self
    }

    /// Signals session revocations here, so open subscriptions re-check at once.
    #[must_use]
    pub fn with_access_signals(mut self, access: AccessSignals) -> Self {
        self.sessions = AccessCache::new(access.clone(), self.config.credential_cache_ttl);
        self.access = access;
        self
    }

    /// Wakes the workers after commits that queued notices.
    #[must_use]
    pub fn with_jobs(mut self, jobs: JobSignal) -> Self {
        self.jobs = Some(jobs);
        self
    }

    pub(crate) fn wake_jobs(&self) {
        if let Some(jobs) = &self.jobs {
            jobs.enqueued();
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Reserves one attempt against the client's IP address and then the account key; refuses with
    /// `RateLimited` when either is exhausted.
    pub(crate) async fn reserve_attempts(&self, account: ThrottleKey, client: &ClientInfo) -> DomainResult<Attempts> {
        let now = self.now();
        let policy = self.config.lockout;
        let mut keys = Vec::with_capacity(2);
        if let Some(ip) = client.ip {
            keys.push((ThrottleKey::Ip(ip).storage_key(), policy.ip, false));
        }
        let forget = matches!(account, ThrottleKey::Account(_));
        keys.push((account.storage_key(), policy.account, forget));
        for (key, key_policy, _) in &keys {
            match self.store.reserve_attempt(key, key_policy, now).await? {
                Reservation::Granted => {}
                Reservation::Denied { locked_until } => {
                    return Err(DomainError::RateLimited {
                        retry_after_secs: Reservation::retry_after_secs(locked_until, now, key_policy),
                    });
                }
            }
        }
        Ok(Attempts { keys })
    }

    pub(crate) async fn verify_password(
        &self,
        user: &UserRecord,
        password: &secrecy::SecretString,
    ) -> DomainResult<bool> {
        self.hasher.verify(password, &user.password_hash).await
    }

    pub(crate) fn open_totp(&self, user: &UserRecord, sealed: &[u8]) -> DomainResult<TotpSecret> {
        let bytes = self
            .master_key
            .open(&totp_aad(user), sealed)
            .map_err(DomainError::internal)?;
        Ok(TotpSecret::from_bytes(bytes))
    }

    pub(crate) fn seal_totp(&self, user: &UserRecord, secret: &TotpSecret) -> DomainResult<Vec<u8>> {
        self.master_key
            .seal(&totp_aad(user), secret.bytes())
            .map_err(DomainError::internal)
    }
}

/// TOTP secrets are sealed for their user: a sealed secret copied to another user's row fails to open.
pub(crate) fn totp_aad(user: &UserRecord) -> Vec<u8> {
    format!("totp:{}", user.id).into_bytes()
}

impl Attempts {
    pub(crate) async fn failed(self, repos: &dyn Repositories, now: DateTime<Utc>) -> DomainResult<()> {
        for (key, policy, _) in &self.keys {
            repos.lock_if_exhausted(key, policy, now).await?;
        }
        Ok(())
    }

    /// The check passed but the account's counter must stand (a password right with two-factor still due):
    /// gives back this attempt without clearing earlier failures or back-off.
    pub(crate) async fn keep_counting(self, repos: &dyn Repositories) -> DomainResult<()> {
        for (key, _, _) in &self.keys {
            repos.release_attempt(key, false).await?;
        }
        Ok(())
    }

    pub(crate) async fn succeeded(self, repos: &dyn Repositories) -> DomainResult<()> {
        for (key, _, forget) in &self.keys {
            repos.release_attempt(key, *forget).await?;
        }
        Ok(())
    }
}
