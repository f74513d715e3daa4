//! A workspace's dialogs as a page, with what the operation's selection shows of each read alongside.

use std::collections::HashMap;

use async_graphql::{Context, ID};
use tgos_domain::ids::{AccountId, UserId};
use tgos_domain::inbox::{DialogQuery, InboxService, PageIncludes};
use tgos_domain::tenancy::TenantScope;

use super::types::{Dialog, DialogConnection, Prefetched};
use crate::graphql::errors::ApiResult;
use crate::graphql::ids::parse_optional_id;
use crate::graphql::paging::{connection, page_request};
use crate::graphql::service;

/// Which of the workspace's dialogs `workspace.dialogs` lists, as the client gave them.
#[derive(Debug, Default)]
pub(crate) struct DialogFilters<'a> {
    pub account_id: Option<&'a ID>,
    pub unread_only: Option<bool>,
    pub tag: Option<&'a str>,
    pub assignee_id: Option<&'a ID>,
    pub unassigned: Option<bool>,
}

impl DialogFilters<'_> {
    /// The page of the list the filters name; `BAD_USER_INPUT` on the filter that is malformed.
    fn query(&self, query: DialogQuery) -> ApiResult<DialogQuery> {
        let mut query = query;
        let account: Option<AccountId> = parse_optional_id(self.account_id, "accountId", "account")?;
        if let Some(account) = account {
            query = query.of_account(account);
        }
        if self.unread_only.unwrap_or(false) {
            query = query.unread();
        }
        if let Some(tag) = self.tag {
            query = query.tagged(tag)?;
        }
        let assignee: Option<UserId> = parse_optional_id(self.assignee_id, "assigneeId", "user")?;
        if let Some(assignee) = assignee {
            query = query.assigned_to(assignee);
        }
        if self.unassigned.unwrap_or(false) {
            query = query.unassigned();
        }
        Ok(query)
    }
}

/// `workspace.dialogs`: newest message first, optionally of one account, only unread ones, of one tag, of one
/// assignee or unassigned (VIEWER and above, or keys with `INBOX_READ`).
pub(crate) async fn dialogs(
    ctx: &Context<'_>,
    scope: &TenantScope,
    filters: DialogFilters<'_>,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<DialogConnection> {
    let request = page_request(first, after)?;
    let query = filters.query(DialogQuery::page(request))?;
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
            tags: include.tags,
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
/// (fragments included): a page that shows no last message, account or tags does not read them.
fn page_includes(ctx: &Context<'_>) -> PageIncludes {
    let page = ctx.look_ahead();
    let asks = |field: &str| {
        page.field("edges").field("node").field(field).exists() || page.field("nodes").field(field).exists()
    };
    PageIncludes {
        last_messages: asks("lastMessage"),
        accounts: asks("account"),
        tags: asks("tags"),
    }
}
