//! A page of dialogs with what its nested fields show, read together.
//!
//! Rule: a page reads its dialogs with their last messages (one statement), their accounts (one more) and their
//! tags (one more) in one read transaction (one connection and, on PostgreSQL, one tenant wall), whatever the
//! page's length, and only what the caller asked for. Accounts are read only for callers who may read accounts
//! ([`may_read_accounts`]); other callers' pages carry none and each dialog's account answers for itself.
//! A page may be narrowed to one tag, one assignee or the unassigned dialogs; each is one indexed condition.

use crate::accounts::pool::records::AccountRecord;
use crate::accounts::pool::use_cases::offers::may_read_accounts;
use crate::error::{DomainError, DomainResult};
use crate::ids::{AccountId, DialogId, UserId};
use crate::paging::{Page, PageRequest};
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenantScope};

use super::records::{DialogRecord, MessageRecord};
use super::service::InboxService;
use super::tags::normalize_tag;

/// Which dialogs a page lists: newest first, after the `after` cursor, at most `limit` (capped like every
/// page, [`crate::paging::MAX_PAGE`]).
#[derive(Debug, Clone)]
pub struct DialogQuery {
    pub account: Option<AccountId>,
    pub unread_only: bool,
    /// Only dialogs holding this tag (in its normalized form: [`Self::tagged`] normalizes).
    pub tag: Option<String>,
    /// Only dialogs assigned to this member.
    pub assignee: Option<UserId>,
    /// Only dialogs assigned to nobody.
    pub unassigned: bool,
    pub after: Option<DialogId>,
    pub limit: u64,
}

impl DialogQuery {
    /// The newest `limit` dialogs of every account, read or not.
    pub fn newest(limit: u64) -> Self {
        Self::page(PageRequest::first(limit))
    }

    /// The dialogs of one page of the list, of every account, read or not.
    pub fn page(page: PageRequest<DialogId>) -> Self {
        Self {
            account: None,
            unread_only: false,
            tag: None,
            assignee: None,
            unassigned: false,
            after: page.after().copied(),
            limit: page.limit(),
        }
    }

    /// Only `account`'s dialogs.
    #[must_use]
    pub fn of_account(self, account: AccountId) -> Self {
        Self {
            account: Some(account),
            ..self
        }
    }

    /// Only dialogs with unread messages.
    #[must_use]
    pub fn unread(self) -> Self {
        Self {
            unread_only: true,
            ..self
        }
    }

    /// Only dialogs holding `tag`; `BAD_USER_INPUT` on `tag` when it is no tag ([`normalize_tag`]).
    pub fn tagged(self, tag: &str) -> DomainResult<Self> {
        let tag = normalize_tag(tag).map_err(|rule| DomainError::invalid("tag", rule))?;
        Ok(Self { tag: Some(tag), ..self })
    }

    /// Only dialogs assigned to `member`.
    #[must_use]
    pub fn assigned_to(self, member: UserId) -> Self {
        Self {
            assignee: Some(member),
            ..self
        }
    }

    /// Only dialogs assigned to nobody.
    #[must_use]
    pub fn unassigned(self) -> Self {
        Self {
            unassigned: true,
            ..self
        }
    }

    /// The dialogs after `cursor` (a dialog a page gave out) in the list's order.
    #[must_use]
    pub fn after_dialog(self, cursor: Option<DialogId>) -> Self {
        Self { after: cursor, ..self }
    }
}

/// What the page's nested fields need besides the dialogs.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageIncludes {
    pub last_messages: bool,
    pub accounts: bool,
    /// Fill each dialog's [`DialogRecord::tags`] (one more statement); without it they are left empty.
    pub tags: bool,
}

/// One page of dialogs and what was asked for with it.
#[derive(Debug, Default)]
pub struct DialogPage {
    /// The dialogs, their `tags` filled when asked for ([`PageIncludes::tags`]).
    pub dialogs: Page<DialogRecord>,
    /// The newest message of each dialog that has one; empty unless asked for.
    pub last_messages: Vec<MessageRecord>,
    /// Those of the dialogs' accounts the workspace holds now; `None` unless asked for by a caller who may
    /// read accounts.
    pub accounts: Option<Vec<AccountRecord>>,
}

impl InboxService {
    /// A page of the workspace's dialogs, newest first, with their last messages and accounts when asked
    /// (VIEWER and above, or keys with `INBOX_READ`).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn dialog_page(
        &self,
        scope: &TenantScope,
        query: DialogQuery,
        include: PageIncludes,
    ) -> DomainResult<DialogPage> {
        scope.require(Role::Viewer, Some(Scope::InboxRead), "reading the inbox")?;
        if query.assignee.is_some() && query.unassigned {
            return Err(DomainError::invalid(
                "unassigned",
                "a list is of one assignee's dialogs or of the unassigned ones, not both",
            ));
        }
        let tx = self.store.begin_read().await?;
        // The bare row is enough to know the cursor (a whole dialog would read its tags too).
        if let Some(after) = query.after
            && tx.find_dialogs(scope, &[after]).await?.is_empty()
        {
            return Err(DomainError::invalid(
                "after",
                "the cursor is not one this list gave out",
            ));
        }
        let request = PageRequest::new(query.after, query.limit);
        let read = DialogQuery {
            limit: request.rows_to_read(),
            ..query
        };
        let (dialogs, last_messages) = if include.last_messages {
            tx.dialogs_with_last_message(scope, &read).await?.into_iter().unzip()
        } else {
            (tx.dialogs(scope, &read).await?, Vec::new())
        };
        let mut dialogs = request.page_of(dialogs);
        let last_messages = request.page_of(last_messages).items;
        let mut page = DialogPage {
            last_messages: last_messages.into_iter().flatten().collect(),
            ..DialogPage::default()
        };
        if include.accounts && may_read_accounts(scope) {
            let mut ids: Vec<AccountId> = dialogs.items.iter().map(|d| d.account_id).collect();
            ids.sort_unstable();
            ids.dedup();
            page.accounts = Some(if ids.is_empty() {
                Vec::new()
            } else {
                tx.held_accounts(scope, &ids).await?
            });
        }
        if include.tags && !dialogs.items.is_empty() {
            let ids: Vec<DialogId> = dialogs.items.iter().map(|d| d.id).collect();
            let mut tags = super::triage::tags_by_dialog(tx.tags_of(scope, &ids).await?);
            for dialog in &mut dialogs.items {
                dialog.tags = tags.remove(&dialog.id).unwrap_or_default();
            }
        }
        tx.commit().await?;
        page.dialogs = dialogs;
        Ok(page)
    }
}
