//! GraphQL views of workspaces and members.

use std::collections::HashMap;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tgos_domain::inbox::{DialogQuery, PageIncludes};
use tgos_domain::tenancy::records::{MemberView, WorkspaceRecord};
use tgos_domain::tenancy::{Role as DomainRole, TenantScope};

use super::api_keys::ApiKey;
use super::audit::{AuditEntry, AuditEntryConnection};
use super::connection::{page_size, parse_cursor};
use super::invitations::Invitation;
use crate::graphql::accounts::types::{Lease, LeaseConnection, TelegramAccount, TelegramAccountConnection};
use crate::graphql::billing::types::Wallet;
use crate::graphql::errors::ApiResult;
use crate::graphql::inbox::types::{Dialog, DialogConnection, Prefetched};
use crate::graphql::{accounts_service, billing_service, inbox_service, tenancy_service};

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

/// A team workspace, as seen by one of its members. Its own row is read only when a field shows it (its
/// name, when it was created): the caller's scope already proves the workspace exists, so a query that only
/// reaches through it (its dialogs, say) costs no read of the workspace itself.
#[derive(Debug, Clone)]
pub struct Workspace {
    record: tokio::sync::OnceCell<WorkspaceRecord>,
    pub scope: TenantScope,
}

impl Workspace {
    /// A workspace whose row the caller already read.
    pub fn loaded(record: WorkspaceRecord, scope: TenantScope) -> Self {
        Self {
            record: tokio::sync::OnceCell::new_with(Some(record)),
            scope,
        }
    }

    /// A workspace known by the caller's scope; its row is read when first needed.
    pub fn by_scope(scope: TenantScope) -> Self {
        Self {
            record: tokio::sync::OnceCell::new(),
            scope,
        }
    }

    /// The workspace's row, read at most once per value however many fields need it.
    async fn record(&self, ctx: &Context<'_>) -> ApiResult<&WorkspaceRecord> {
        self.record
            .get_or_try_init(|| async { Ok(tenancy_service(ctx)?.workspace(&self.scope).await?) })
            .await
    }
}

pub type MemberConnection = Connection<String, Member>;

#[Object]
impl Workspace {
    async fn id(&self) -> ID {
        ID(self.scope.workspace_id().to_string())
    }

    async fn name(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        Ok(&self.record(ctx).await?.name)
    }

    async fn created_at(&self, ctx: &Context<'_>) -> ApiResult<DateTime<Utc>> {
        Ok(self.record(ctx).await?.created_at)
    }

    /// The caller's role here.
    /// The caller's role here; `FORBIDDEN` for an API key, which holds scopes instead.
    async fn viewer_role(&self) -> ApiResult<Role> {
        Ok(self.scope.member_role()?.into())
    }

    /// Members ordered by account, `first` at most 100.
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<MemberConnection> {
        let limit = page_size(first)?;
        let after = parse_cursor(after.as_deref())?;
        let mut page = tenancy_service(ctx)?.members(&self.scope, after, limit + 1).await?;
        let has_next = page.len() as u64 > limit;
        page.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(
            page.into_iter()
                .map(|member| Edge::new(member.membership.user_id.to_string(), Member::from(member))),
        );
        Ok(connection)
    }

    /// The workspace's API keys that are not revoked, newest first (ADMIN and OWNER).
    async fn api_keys(&self, ctx: &Context<'_>) -> ApiResult<Vec<ApiKey>> {
        let keys = tenancy_service(ctx)?.api_keys(&self.scope).await?;
        Ok(keys.into_iter().map(ApiKey::from).collect())
    }

    /// Pending invitations, newest first (ADMIN and OWNER).
    async fn invitations(&self, ctx: &Context<'_>) -> ApiResult<Vec<Invitation>> {
        let pending = tenancy_service(ctx)?.invitations(&self.scope).await?;
        Ok(pending.into_iter().map(Invitation::from).collect())
    }

    /// The prepaid wallet (ADMIN and OWNER, or an API key with `BILLING_READ`).
    async fn wallet(&self, ctx: &Context<'_>) -> ApiResult<Wallet> {
        let balance = billing_service(ctx)?.wallet_balance(&self.scope).await?;
        Ok(Wallet {
            scope: self.scope.clone(),
            balance,
        })
    }

    /// The workspace's leases, newest first (VIEWER and above, or keys with `ACCOUNTS_READ`).
    async fn leases(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> ApiResult<LeaseConnection> {
        let limit = page_size(first)?;
        let before = parse_cursor(after.as_deref())?;
        let mut page = accounts_service(ctx)?.leases(&self.scope, before, limit + 1).await?;
        let has_next = page.len() as u64 > limit;
        page.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut connection = Connection::new(before.is_some(), has_next);
        connection.edges.extend(page.into_iter().map(|record| {
            Edge::new(
                record.id.to_string(),
                Lease {
                    record,
                    scope: self.scope.clone(),
                },
            )
        }));
        Ok(connection)
    }

    /// The Telegram accounts the workspace holds now (VIEWER and above, or keys with `ACCOUNTS_READ`).
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<TelegramAccountConnection> {
        let limit = page_size(first)?;
        let after = parse_cursor(after.as_deref())?;
        let mut page = accounts_service(ctx)?
            .leased_accounts(&self.scope, after, limit + 1)
            .await?;
        let has_next = page.len() as u64 > limit;
        page.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(page.into_iter().map(|record| {
            Edge::new(
                record.id.to_string(),
                TelegramAccount {
                    record,
                    scope: self.scope.clone(),
                },
            )
        }));
        Ok(connection)
    }

    /// The workspace's dialogs, newest message first, optionally of one account and only unread ones (VIEWER
    /// and above, or keys with `INBOX_READ`).
    async fn dialogs(
        &self,
        ctx: &Context<'_>,
        account_id: Option<ID>,
        unread_only: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<DialogConnection> {
        let limit = page_size(first)?;
        let after = parse_cursor(after.as_deref())?;
        let account = account_id
            .map(|id| {
                id.parse().map_err(|_| {
                    crate::graphql::errors::ApiError::from(tgos_domain::DomainError::invalid(
                        "accountId",
                        "not an account id",
                    ))
                })
            })
            .transpose()?;
        let include = page_includes(ctx);
        let query = DialogQuery {
            account,
            unread_only: unread_only.unwrap_or(false),
            after,
            limit,
        };
        let page = inbox_service(ctx)?.dialog_page(&self.scope, query, include).await?;
        let mut last: HashMap<_, _> = page.last_messages.into_iter().map(|m| (m.dialog_id, m)).collect();
        let held: Option<HashMap<_, _>> = page
            .accounts
            .map(|accounts| accounts.into_iter().map(|a| (a.id, a)).collect());
        let mut connection = Connection::new(after.is_some(), page.has_next);
        connection.edges.extend(page.dialogs.into_iter().map(|record| {
            let prefetched = Prefetched {
                account: held.as_ref().map(|held| held.get(&record.account_id).cloned()),
                last_message: include.last_messages.then(|| last.remove(&record.id)),
            };
            Edge::new(
                record.id.to_string(),
                Dialog {
                    record,
                    scope: self.scope.clone(),
                    prefetched: Some(prefetched),
                },
            )
        }));
        Ok(connection)
    }

    /// The workspace's audit trail, newest first (ADMIN and OWNER).
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        action: Option<String>,
    ) -> ApiResult<AuditEntryConnection> {
        let limit = page_size(first)?;
        let before: Option<i64> = parse_cursor(after.as_deref())?;
        let mut page = tenancy_service(ctx)?
            .audit_log(&self.scope, before, limit + 1, action.as_deref())
            .await?;
        let has_next = page.len() as u64 > limit;
        page.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut connection = Connection::new(before.is_some(), has_next);
        connection.edges.extend(
            page.into_iter()
                .map(|entry| Edge::new(entry.sequence.to_string(), AuditEntry(entry))),
        );
        Ok(connection)
    }
}

/// Which of a dialog page's nested reads the operation's selection needs, under `edges { node }` or `nodes`
/// (fragments included): a page that shows no last message or account does not read them.
fn page_includes(ctx: &Context<'_>) -> PageIncludes {
    let page = ctx.look_ahead();
    let asks = |field: &str| {
        page.field("edges").field("node").field(field).exists() || page.field("nodes").field(field).exists()
    };
    PageIncludes {
        last_messages: asks("lastMessage"),
        accounts: asks("account"),
    }
}

/// The public part of a member's account.
#[derive(Debug, SimpleObject)]
pub struct MemberUser {
    pub id: ID,
    pub full_name: String,
    pub username: String,
    pub email: String,
}

#[derive(Debug, SimpleObject)]
pub struct Member {
    pub user: MemberUser,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

impl From<MemberView> for Member {
    fn from(view: MemberView) -> Self {
        Self {
            user: MemberUser {
                id: ID(view.membership.user_id.to_string()),
                full_name: view.full_name,
                username: view.username,
                email: view.email,
            },
            role: view.membership.role.into(),
            joined_at: view.membership.joined_at,
        }
    }
}
