//! The proof that a caller may reach a workspace's data, and what it may do there.

use super::api_keys::Scope;
use super::role::Role;
use crate::error::{DomainError, DomainResult};
use crate::ids::{ApiKeyId, UserId, WorkspaceId};

/// Who holds a scope: a member with a role, or an API key with scopes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScopeHolder {
    Member {
        user: UserId,
        role: Role,
    },
    ApiKey {
        key: ApiKeyId,
        scopes: Vec<Scope>,
    },
    /// The service itself acting on a workspace's behalf after verifying who asked (a payment provider's
    /// signed notification). It passes no role or scope check; it only scopes storage.
    System,
}

/// A workspace and the caller's standing in it. Only the tenancy service creates one, after checking the
/// membership or the key's workspace; persistence methods on tenant data require it. (`Hash` so a batch of
/// reads can be grouped by the scope each was asked under.)
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantScope {
    workspace_id: WorkspaceId,
    holder: ScopeHolder,
}

pub(crate) const KEYS_DO_NOT_MANAGE: &str = "API keys cannot manage members, invitations, keys or ownership";

impl TenantScope {
    pub(crate) fn member(workspace_id: WorkspaceId, user: UserId, role: Role) -> Self {
        Self {
            workspace_id,
            holder: ScopeHolder::Member { user, role },
        }
    }

    pub(crate) fn api_key(workspace_id: WorkspaceId, key: ApiKeyId, scopes: Vec<Scope>) -> Self {
        Self {
            workspace_id,
            holder: ScopeHolder::ApiKey { key, scopes },
        }
    }

    pub(crate) fn system(workspace_id: WorkspaceId) -> Self {
        Self {
            workspace_id,
            holder: ScopeHolder::System,
        }
    }

    pub fn workspace_id(&self) -> WorkspaceId {
        self.workspace_id
    }

    pub fn holder(&self) -> &ScopeHolder {
        &self.holder
    }

    /// The member's role; `None` for an API key.
    pub fn role(&self) -> Option<Role> {
        match &self.holder {
            ScopeHolder::Member { role, .. } => Some(*role),
            ScopeHolder::ApiKey { .. } | ScopeHolder::System => None,
        }
    }

    /// The member's role, or `FORBIDDEN` for an API key (keys never manage the workspace).
    pub fn member_role(&self) -> DomainResult<Role> {
        self.role()
            .ok_or_else(|| DomainError::Forbidden(KEYS_DO_NOT_MANAGE.to_owned()))
    }

    /// Members of at least `minimum`, or keys holding `scope` (none when `scope` is `None`).
    pub fn allows(&self, minimum: Role, scope: Option<Scope>) -> bool {
        match &self.holder {
            ScopeHolder::Member { role, .. } => role.at_least(minimum),
            ScopeHolder::ApiKey { scopes, .. } => scope.is_some_and(|needed| scopes.contains(&needed)),
            ScopeHolder::System => false,
        }
    }

    /// [`Self::allows`], or `FORBIDDEN` saying who may.
    pub fn require(&self, minimum: Role, scope: Option<Scope>, what: &str) -> DomainResult<()> {
        if self.allows(minimum, scope) {
            return Ok(());
        }
        let who = match scope {
            Some(scope) => format!(
                "members with role {minimum} or above and API keys with {}",
                scope.as_str()
            ),
            None => format!("members with role {minimum} or above"),
        };
        Err(DomainError::Forbidden(format!("{what} is for {who}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_need_the_scope_and_members_the_rank() {
        let ws = WorkspaceId::generate();
        let key = TenantScope::api_key(ws, ApiKeyId::generate(), vec![Scope::InboxRead]);
        assert!(key.allows(Role::Viewer, Some(Scope::InboxRead)));
        assert!(!key.allows(Role::Admin, Some(Scope::AuditRead)));
        assert!(!key.allows(Role::Viewer, None), "keys never pass member-only checks");
        assert!(key.member_role().is_err());
        let operator = TenantScope::member(ws, UserId::generate(), Role::Operator);
        assert!(operator.allows(Role::Operator, Some(Scope::AuditRead)));
        assert!(!operator.allows(Role::Admin, Some(Scope::AuditRead)));
    }
}
