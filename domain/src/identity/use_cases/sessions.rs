//! Sessions: issuing, resolving a bearer token to a principal, listing, revoking, signing out.
//!
//! Rules: a token is 32 random bytes shown once and stored as its SHA-256 hash; a session expires after the
//! configured lifetime, and earlier when unused for the idle timeout; a revoked, expired or idle session
//! authenticates nothing. `lastSeenAt` is refreshed at most once per touch interval so that reads stay reads
//! ([`crate::identity::IdentityConfig::touch_every`]). A resolved session is kept in memory for
//! `credential_cache_ttl` and until the next access change ([`crate::events::AccessCache`]); its expiry and
//! idleness are checked on every use, against the `lastSeenAt` the cache keeps current.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::crypto::token;
use crate::error::{DomainError, DomainResult};
use crate::identity::IdentityService;
use crate::identity::principal::Principal;
use crate::identity::records::{IssuedSession, SessionRecord, UserRecord};
use crate::identity::service::to_chrono;
use crate::ids::{SessionId, UserId};
use crate::request::ClientInfo;
use crate::store::Repositories;
use crate::tenancy::{TenantScope, api_keys};
use subtle::ConstantTimeEq as _;

pub const SESSION_TOKEN_PREFIX: &str = "tgs";

/// A resolved bearer token: a person's session, or an API key.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub principal: Principal,
    /// The session, for a person; `None` for an API key. (Not the user: a connection keeps its caller for
    /// hours, and what is current about the user is read when asked for.)
    pub session: Option<SessionRecord>,
    /// The person's account is closed (deletion pending): it may only see and cancel the deletion.
    pub account_closed: bool,
}

/// What a bearer token comes to when it is checked (again): an open connection closes differently for a
/// credential that ran out of time (sign in again, or use a new key) and one that was taken away.
#[derive(Debug, Clone)]
pub enum Standing {
    /// It authenticates.
    Valid(Box<Authenticated>),
    /// Its session or key passed its expiry.
    Expired,
    /// It was revoked (signed out, revoked, its password changed), or is unknown.
    Revoked,
}

impl Standing {
    /// The caller, when the token still authenticates.
    pub fn valid(self) -> Option<Authenticated> {
        match self {
            Self::Valid(authenticated) => Some(*authenticated),
            Self::Expired | Self::Revoked => None,
        }
    }
}

impl IdentityService {
    pub(crate) async fn issue_session(
        &self,
        repos: &dyn Repositories,
        user_id: UserId,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> DomainResult<IssuedSession> {
        let token = token::generate(SESSION_TOKEN_PREFIX);
        let record = SessionRecord {
            id: SessionId::generate(),
            user_id,
            token_hash: token::hash(&token),
            created_at: now,
            last_seen_at: now,
            expires_at: now + to_chrono(self.config.session_ttl),
            ip_address: client.ip.map(|ip| ip.to_string()),
            user_agent: client.user_agent.clone(),
            revoked_at: None,
            reauthenticated_at: None,
        };
        repos.insert_session(&record).await?;
        Ok(IssuedSession { record, token })
    }

    /// Resolves a bearer token (a session token or an API key); `None` when it is unknown, revoked or expired.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, bearer: &str) -> DomainResult<Option<Authenticated>> {
        Ok(self.standing(bearer).await?.valid())
    }

    /// Resolves a bearer token as [`Self::authenticate`] does, saying why one that no longer authenticates
    /// does not. As cheap as `authenticate`: a session checked again within the credential cache's time to
    /// live is a memory read (its expiry and revocation time are still compared with the clock).
    #[tracing::instrument(skip_all)]
    pub async fn standing(&self, bearer: &str) -> DomainResult<Standing> {
        if api_keys::prefix_of(bearer).is_some() {
            return self.api_key_standing(bearer).await;
        }
        if !bearer.starts_with(SESSION_TOKEN_PREFIX) {
            return Ok(Standing::Revoked);
        }
        let now = self.now();
        let token_hash = token::hash(bearer);
        let epoch = self.sessions.epoch();
        let ((session, user), read) = match self.sessions.get(&token_hash) {
            Some(cached) => (cached, false),
            None => match self.store.find_session_with_user(&token_hash).await? {
                Some(found) => (found, true),
                None => return Ok(Standing::Revoked),
            },
        };
        let mut session = session;
        if !session.is_live(now, to_chrono(self.config.session_idle)) {
            self.sessions.forget(&token_hash);
            return Ok(if session.revoked_at.is_some() {
                Standing::Revoked
            } else {
                Standing::Expired
            });
        }
        if now - session.last_seen_at >= to_chrono(self.config.touch_every()) {
            self.store.touch_session(session.id, now).await?;
            session.last_seen_at = now;
            if !read {
                // Served from memory: the entry keeps its age, only its `lastSeenAt` moves.
                self.sessions
                    .refresh(&token_hash, (session.clone(), user.clone()), epoch);
            }
        }
        if read {
            self.sessions.put(token_hash, (session.clone(), user.clone()), epoch);
        }
        let principal = Principal::User {
            user_id: user.id,
            session_id: session.id,
            acts_as_staff: user.is_staff && user.two_factor_enabled(),
            display_name: user.username.clone(),
        };
        Ok(Standing::Valid(Box::new(Authenticated {
            principal,
            session: Some(session),
            account_closed: user.closed_at.is_some(),
        })))
    }

    async fn api_key_standing(&self, bearer: &str) -> DomainResult<Standing> {
        let Some(prefix) = api_keys::prefix_of(bearer) else {
            return Ok(Standing::Revoked);
        };
        let Some(key) = self.store.find_api_key_by_prefix(prefix).await? else {
            return Ok(Standing::Revoked);
        };
        let now = self.now();
        let matches: bool = key.secret_hash.as_slice().ct_eq(&token::hash(bearer)).into();
        if !matches || key.revoked_at.is_some() {
            return Ok(Standing::Revoked);
        }
        if !key.is_live(now) {
            return Ok(Standing::Expired);
        }
        let principal = Principal::ApiKey {
            key_id: key.id,
            workspace_id: key.workspace_id,
            scopes: key.scopes.clone(),
            display_name: key.name.clone(),
        };
        let stale_before = now - to_chrono(self.config.touch_interval);
        if key.last_used_at.is_none_or(|at| at < stale_before) {
            // Use is recorded (and audited) at most once per touch interval; the conditional update picks
            // exactly one of the requests that race at the boundary.
            let tx = self.store.begin().await?;
            let scope = TenantScope::api_key(key.workspace_id, key.id, key.scopes.clone());
            if tx.touch_api_key(&scope, key.id, now, stale_before).await? {
                let draft = AuditDraft {
                    chain: ChainId::Workspace(key.workspace_id),
                    actor: Actor::of(&principal),
                    action: "api_key.used",
                    target_type: Some("API_KEY"),
                    target_id: Some(key.id.to_string()),
                    client: ClientInfo::default(),
                    metadata: json!({ "prefix": key.prefix }),
                };
                audit::append(&*tx, draft, now).await?;
            }
            tx.commit().await?;
        }
        Ok(Standing::Valid(Box::new(Authenticated {
            principal,
            session: None,
            account_closed: false,
        })))
    }

    #[tracing::instrument(skip_all)]
    pub async fn current_user(&self, principal: &Principal) -> DomainResult<UserRecord> {
        self.store
            .find_user(principal.require_user()?)
            .await?
            .ok_or(DomainError::Unauthenticated)
    }

    #[tracing::instrument(skip_all)]
    pub async fn list_sessions(&self, principal: &Principal) -> DomainResult<Vec<SessionRecord>> {
        let now = self.now();
        let seen_since = now - to_chrono(self.config.session_idle);
        Ok(self
            .store
            .list_live_sessions(principal.require_user()?, now, seen_since)
            .await?)
    }

    /// Revokes one of the caller's own sessions (the current one included).
    #[tracing::instrument(skip_all)]
    pub async fn revoke_session(
        &self,
        principal: &Principal,
        session: SessionId,
        client: &ClientInfo,
    ) -> DomainResult<()> {
        let user = self.current_user(principal).await?;
        let tx = self.store.begin().await?;
        if !tx.revoke_session(user.id, session, self.now()).await? {
            return Err(DomainError::NotFound("session"));
        }
        self.audit_account(
            &*tx,
            &user,
            "auth.session_revoked",
            client,
            json!({ "session": session.to_string() }),
        )
        .await?;
        let _signal = self.access.armed(crate::events::AccessChange::User(user.id));
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    pub async fn sign_out(&self, principal: &Principal, client: &ClientInfo) -> DomainResult<()> {
        let Principal::User { session_id, .. } = principal else {
            return Err(DomainError::Forbidden(
                crate::identity::principal::PEOPLE_ONLY.to_owned(),
            ));
        };
        let user = self.current_user(principal).await?;
        let tx = self.store.begin().await?;
        if tx.revoke_session(user.id, *session_id, self.now()).await? {
            self.audit_account(&*tx, &user, "auth.signed_out", client, json!({}))
                .await?;
        }
        let _signal = self.access.armed(crate::events::AccessChange::User(user.id));
        tx.commit().await?;
        Ok(())
    }
}
