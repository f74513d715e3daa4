//! GraphQL view of audit entries.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tgos_domain::audit::{ActorKind as DomainActorKind, AuditRecord};
use tgos_domain::tenancy::{TenancyService, TenantScope};

use crate::graphql::errors::ApiResult;
use crate::graphql::paging::{connection, page_request};
use crate::graphql::service;

pub type AuditEntryConnection = Connection<String, AuditEntry>;

/// `workspace.auditLog`: newest first, optionally of one action (ADMIN and OWNER, or keys with
/// `AUDIT_READ`).
pub(crate) async fn audit_log(
    ctx: &Context<'_>,
    scope: &TenantScope,
    first: Option<i32>,
    after: Option<&str>,
    action: Option<&str>,
) -> ApiResult<AuditEntryConnection> {
    let request = page_request(first, after)?;
    let page = service::<TenancyService>(ctx)?
        .audit_log(scope, request, action)
        .await?;
    Ok(connection(&request, page, |entry| (entry.sequence, AuditEntry(entry))))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ActorKind {
    User,
    ApiKey,
    Staff,
    System,
}

/// Who acted, as named when the entry was written.
#[derive(Debug, SimpleObject)]
pub struct AuditActor {
    pub kind: ActorKind,
    pub id: Option<ID>,
    pub display_name: String,
}

#[derive(Debug)]
pub struct AuditEntry(pub AuditRecord);

#[Object]
impl AuditEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// Dotted action name, e.g. `member.role_changed`.
    async fn action(&self) -> &str {
        &self.0.action
    }

    async fn actor(&self) -> AuditActor {
        let kind = match self.0.actor.kind {
            DomainActorKind::User => ActorKind::User,
            DomainActorKind::ApiKey => ActorKind::ApiKey,
            DomainActorKind::Staff => ActorKind::Staff,
            DomainActorKind::System => ActorKind::System,
        };
        AuditActor {
            kind,
            id: self.0.actor.id.clone().map(ID),
            display_name: self.0.actor.display_name.clone(),
        }
    }

    async fn target_type(&self) -> Option<&str> {
        self.0.target_type.as_deref()
    }

    async fn target_id(&self) -> Option<ID> {
        self.0.target_id.clone().map(ID)
    }

    async fn ip_address(&self) -> Option<&str> {
        self.0.ip_address.as_deref()
    }

    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }

    async fn metadata(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.0.metadata).unwrap_or(serde_json::Value::Null))
    }

    /// Position in the workspace's hash chain.
    async fn sequence(&self) -> i64 {
        self.0.sequence
    }
}
