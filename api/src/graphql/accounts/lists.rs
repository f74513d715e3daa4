//! A workspace's leases and the accounts it holds, as pages.

use async_graphql::Context;
use tgos_domain::accounts::pool::AccountsService;
use tgos_domain::tenancy::TenantScope;

use super::types::{Lease, LeaseConnection, TelegramAccount, TelegramAccountConnection};
use crate::graphql::errors::ApiResult;
use crate::graphql::paging::{connection, page_request};
use crate::graphql::service;

/// `workspace.leases`: newest first (VIEWER and above, or keys with `ACCOUNTS_READ`).
pub(crate) async fn leases(
    ctx: &Context<'_>,
    scope: &TenantScope,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<LeaseConnection> {
    let request = page_request(first, after)?;
    let page = service::<AccountsService>(ctx)?.leases(scope, request).await?;
    Ok(connection(&request, page, |record| {
        let scope = scope.clone();
        (record.id, Lease { record, scope })
    }))
}

/// `workspace.accounts`: the accounts held now, oldest first (VIEWER and above, or keys with
/// `ACCOUNTS_READ`).
pub(crate) async fn held_accounts(
    ctx: &Context<'_>,
    scope: &TenantScope,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<TelegramAccountConnection> {
    let request = page_request(first, after)?;
    let page = service::<AccountsService>(ctx)?.leased_accounts(scope, request).await?;
    Ok(connection(&request, page, |record| {
        let scope = scope.clone();
        (record.id, TelegramAccount { record, scope })
    }))
}
