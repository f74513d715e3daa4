//! The tenancy use cases share one service.

use std::sync::Arc;
use std::time::Duration;

use super::scope::TenantScope;
use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::events::{AccessCache, AccessSignals, Outbox};
use crate::identity::Principal;
use crate::ids::{UserId, WorkspaceId};
use crate::mail::Mailer;
use crate::request::ClientInfo;
use crate::store::{Repositories, Store};

#[derive(Debug, Clone)]
pub struct TenancyService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) mailer: Arc<dyn Mailer>,
    pub(crate) access: AccessSignals,
    /// (workspace, user) → the member's role, as last read; see [`TenancyService::with_membership_cache`].
    pub(crate) memberships: AccessCache<(WorkspaceId, UserId), super::Role>,
    /// Woken when a change committed inbox events (a departure unassigning dialogs).
    pub(crate) outbox: Outbox,
}

/// How long a member's role is served from memory unless configured otherwise.
const DEFAULT_MEMBERSHIP_CACHE_TTL: Duration = Duration::from_secs(5);

/// What happened in a workspace, for its audit chain.
#[derive(Debug)]
pub(crate) struct WorkspaceEvent {
    pub action: &'static str,
    /// The kind and id of what was acted on.
    pub target: Option<(&'static str, String)>,
    pub metadata: serde_json::Value,
}

pub(crate) const NOT_A_MEMBER: &str = "you are not a member of this workspace";

impl TenancyService {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, mailer: Arc<dyn Mailer>) -> Self {
        let access = AccessSignals::default();
        Self {
            store,
            clock,
            mailer,
            memberships: AccessCache::new(access.clone(), DEFAULT_MEMBERSHIP_CACHE_TTL),
            access,
            outbox: Outbox::default(),
        }
    }

    /// Wakes this outbox's relay when a change committed inbox events.
    #[must_use]
    pub fn with_outbox(mut self, outbox: Outbox) -> Self {
        self.outbox = outbox;
        self
    }

    /// Signals member and key changes here, so open subscriptions re-check at once.
    #[must_use]
    pub fn with_access_signals(mut self, access: AccessSignals) -> Self {
        // Whichever builder runs first, the cache keeps its time to live and follows these signals.
        self.memberships = AccessCache::new(access.clone(), self.memberships.ttl());
        self.access = access;
        self
    }

    /// Serves a member's role from memory for `ttl` after reading it (zero: reads it for every request).
    /// Member changes signalled in this process take effect at once; those of another process within `ttl`.
    #[must_use]
    pub fn with_membership_cache(mut self, ttl: Duration) -> Self {
        self.memberships = AccessCache::new(self.access.clone(), ttl);
        self
    }

    /// The caller's scope in a workspace. A workspace that does not exist and one the caller is not a member
    /// of are refused alike, so ids reveal nothing. A member's role comes from the membership cache while it
    /// is valid (see [`TenancyService::with_membership_cache`]); a refusal is never cached.
    pub async fn scope(&self, principal: &Principal, workspace: WorkspaceId) -> DomainResult<TenantScope> {
        match principal {
            Principal::User { user_id, .. } => {
                let key = (workspace, *user_id);
                if let Some(role) = self.memberships.get(&key) {
                    return Ok(TenantScope::member(workspace, *user_id, role));
                }
                let epoch = self.memberships.epoch();
                match self.store.find_membership(workspace, *user_id).await? {
                    Some(membership) => {
                        self.memberships.put(key, membership.role, epoch);
                        Ok(TenantScope::member(workspace, *user_id, membership.role))
                    }
                    None => Err(DomainError::Forbidden(NOT_A_MEMBER.to_owned())),
                }
            }
            Principal::ApiKey {
                key_id,
                workspace_id,
                scopes,
                ..
            } if *workspace_id == workspace => Ok(TenantScope::api_key(workspace, *key_id, scopes.clone())),
            Principal::ApiKey { .. } => Err(DomainError::Forbidden(NOT_A_MEMBER.to_owned())),
        }
    }

    /// Appends an entry to the workspace's audit chain within `repos`.
    pub(crate) async fn audit(
        &self,
        repos: &dyn Repositories,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        event: WorkspaceEvent,
    ) -> DomainResult<()> {
        let (target_type, target_id) = event.target.map_or((None, None), |(kind, id)| (Some(kind), Some(id)));
        let draft = AuditDraft {
            chain: ChainId::Workspace(scope.workspace_id()),
            actor: Actor::of(principal),
            action: event.action,
            target_type,
            target_id,
            client: client.clone(),
            metadata: event.metadata,
        };
        audit::append(repos, draft, self.clock.now()).await?;
        Ok(())
    }
}
