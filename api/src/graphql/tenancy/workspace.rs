//! The `Workspace` type: a thin hub. Each field is one call into its own area (tenancy, billing, accounts,
//! inbox, audit), which authorizes through the caller's scope and reads what it shows.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use tgos_domain::tenancy::records::WorkspaceRecord;
use tgos_domain::tenancy::{TenancyService, TenantScope};

use super::api_keys::{self, ApiKey};
use super::audit::{self, AuditEntryConnection};
use super::invitations::{self, Invitation};
use super::members::{self, MemberConnection};
use super::types::Role;
use crate::graphql::accounts::lists as accounts;
use crate::graphql::accounts::types::{LeaseConnection, TelegramAccountConnection};
use crate::graphql::billing::types::{self as billing, Wallet};
use crate::graphql::errors::ApiResult;
use crate::graphql::inbox::dialogs as inbox;
use crate::graphql::inbox::types::DialogConnection;
use crate::graphql::service;

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
            .get_or_try_init(|| async { Ok(service::<TenancyService>(ctx)?.workspace(&self.scope).await?) })
            .await
    }
}

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
    #[graphql(complexity = "crate::graphql::paging::page_cost(first, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<MemberConnection> {
        members::page(ctx, &self.scope, first, after.as_deref()).await
    }

    /// The workspace's API keys that are not revoked, newest first (ADMIN and OWNER).
    async fn api_keys(&self, ctx: &Context<'_>) -> ApiResult<Vec<ApiKey>> {
        api_keys::of_workspace(ctx, &self.scope).await
    }

    /// Pending invitations, newest first (ADMIN and OWNER).
    async fn invitations(&self, ctx: &Context<'_>) -> ApiResult<Vec<Invitation>> {
        invitations::pending(ctx, &self.scope).await
    }

    /// The prepaid wallet (ADMIN and OWNER, or an API key with `BILLING_READ`).
    async fn wallet(&self, ctx: &Context<'_>) -> ApiResult<Wallet> {
        billing::wallet(ctx, &self.scope).await
    }

    /// The workspace's leases, newest first (VIEWER and above, or keys with `ACCOUNTS_READ`).
    #[graphql(complexity = "crate::graphql::paging::page_cost(first, child_complexity)")]
    async fn leases(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> ApiResult<LeaseConnection> {
        accounts::leases(ctx, &self.scope, first, after.as_deref()).await
    }

    /// The Telegram accounts the workspace holds now (VIEWER and above, or keys with `ACCOUNTS_READ`).
    #[graphql(complexity = "crate::graphql::paging::page_cost(first, child_complexity)")]
    async fn accounts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<TelegramAccountConnection> {
        accounts::held_accounts(ctx, &self.scope, first, after.as_deref()).await
    }

    /// The workspace's dialogs, newest message first, optionally of one account, only unread ones, only those
    /// holding `tag`, only those assigned to `assigneeId`, or only unassigned ones (VIEWER and above, or keys
    /// with `INBOX_READ`).
    #[graphql(complexity = "crate::graphql::paging::page_cost(first, child_complexity)")]
    #[expect(
        clippy::too_many_arguments,
        reason = "the list's filters, each an argument of the GraphQL field"
    )]
    async fn dialogs(
        &self,
        ctx: &Context<'_>,
        account_id: Option<ID>,
        unread_only: Option<bool>,
        tag: Option<String>,
        assignee_id: Option<ID>,
        unassigned: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<DialogConnection> {
        let filters = inbox::DialogFilters {
            account_id: account_id.as_ref(),
            unread_only,
            tag: tag.as_deref(),
            assignee_id: assignee_id.as_ref(),
            unassigned,
        };
        inbox::dialogs(ctx, &self.scope, filters, first, after.as_deref()).await
    }

    /// The workspace's automations, oldest first (VIEWER and above, or keys with `AUTOMATIONS_READ`).
    #[graphql(complexity = "crate::graphql::paging::page_cost(first, child_complexity)")]
    async fn automations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<crate::graphql::automations::types::AutomationConnection> {
        crate::graphql::automations::query::automations(ctx, &self.scope, first, after.as_deref()).await
    }

    /// The workspace's automation executions, newest first, of one automation and one status when given
    /// (VIEWER and above, or keys with `AUTOMATIONS_READ`). Executions that did not run say why in `reason`.
    #[graphql(complexity = "crate::graphql::paging::page_cost(first, child_complexity)")]
    async fn automation_executions(
        &self,
        ctx: &Context<'_>,
        automation_id: Option<ID>,
        status: Option<crate::graphql::automations::types::ExecutionStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<crate::graphql::automations::types::AutomationExecutionConnection> {
        crate::graphql::automations::query::executions(
            ctx,
            &self.scope,
            automation_id.as_ref(),
            status,
            first,
            after.as_deref(),
        )
        .await
    }

    /// The workspace's audit trail, newest first (ADMIN and OWNER).
    #[graphql(complexity = "crate::graphql::paging::page_cost(first, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        action: Option<String>,
    ) -> ApiResult<AuditEntryConnection> {
        audit::audit_log(ctx, &self.scope, first, after.as_deref(), action.as_deref()).await
    }
}
