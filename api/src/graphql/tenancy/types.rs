//! GraphQL view of ranked roles.

use async_graphql::Enum;
use tgos_domain::tenancy::Role as DomainRole;

/// Ranked roles: OWNER > ADMIN > OPERATOR > VIEWER.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Role {
    Owner,
    Admin,
    Operator,
    Viewer,
}

impl From<DomainRole> for Role {
    fn from(role: DomainRole) -> Self {
        match role {
            DomainRole::Owner => Role::Owner,
            DomainRole::Admin => Role::Admin,
            DomainRole::Operator => Role::Operator,
            DomainRole::Viewer => Role::Viewer,
        }
    }
}

impl From<Role> for DomainRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Owner => DomainRole::Owner,
            Role::Admin => DomainRole::Admin,
            Role::Operator => DomainRole::Operator,
            Role::Viewer => DomainRole::Viewer,
        }
    }
}
