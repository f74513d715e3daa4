//! A workspace's dialogs as a page, with what the operation's selection shows of each read alongside.

use std::collections::HashMap;

use async_graphql::{Context, ID};
use tgos_domain::ids::AccountId;
use tgos_domain::inbox::{DialogQuery, InboxService, PageIncludes};
use tgos_domain::tenancy::TenantScope;

use super::types::{Dialog, DialogConnection, Prefetched};
use crate::graphql::errors::ApiResult;
use crate::graphql::ids::parse_optional_id;
use crate::graphql::paging::{connection, page_request};
use crate::graphql::service;

/// `workspace.dialogs`: newest message first, optionally of one account and only unread ones (VIEWER and
/// above, or keys with `INBOX_READ`).
pub(crate) async fn dialogs(
    ctx: &Context<'_>,
    scope: &TenantScope,
    account_id: Option<&ID>,
    unread_only: Option<bool>,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<DialogConnection> {
    let request = page_request(first, after)?;
    let account: Option<AccountId> = parse_optional_id(account_id, "accountId", "account")?;
    let mut query = DialogQuery::page(request);
    if let Some(account) = account {
        query = query.of_account(account);
    }
    if unread_only.unwrap_or(false) {
        query = query.unread();
    }
    let include = page_includes(ctx);
    let page = service::<InboxService>(ctx)?.dialog_page(scope, query, include).await?;
    let mut last: HashMap<_, _> = page.last_messages.into_iter().map(|m| (m.dialog_id, m)).collect();
    let held: Option<HashMap<_, _>> = page
        .accounts
        .map(|accounts| accounts.into_iter().map(|a| (a.id, a)).collect());
    Ok(connection(&request, page.dialogs, |record| {
        let prefetched = Prefetched {
            account: held.as_ref().map(|held| held.get(&record.account_id).cloned()),
            last_message: include.last_messages.then(|| last.remove(&record.id)),
        };
        let dialog = Dialog {
            scope: scope.clone(),
            prefetched: Some(prefetched),
            record,
        };
        (dialog.record.id, dialog)
    }))
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
