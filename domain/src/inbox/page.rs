//! A page of dialogs with what its nested fields show, read together.
//!
//! Rule: a page reads its dialogs with their last messages (one statement) and their accounts (one more) in
//! one read transaction (one connection and, on PostgreSQL, one tenant wall), whatever the page's length, and
//! only what the caller asked for. Accounts are read only for callers who may read accounts
//! ([`may_read_accounts`]); other callers' pages carry none and each dialog's account answers for itself.

use crate::accounts::pool::records::AccountRecord;
use crate::accounts::pool::use_cases::offers::may_read_accounts;
use crate::error::{DomainError, DomainResult};
use crate::ids::{AccountId, DialogId};
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenantScope};

use super::records::{DialogRecord, MessageRecord};
use super::service::InboxService;

/// Which dialogs a page lists: newest first, after the `after` cursor, at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct DialogQuery {
    pub account: Option<AccountId>,
    pub unread_only: bool,
    pub after: Option<DialogId>,
    pub limit: u64,
}

impl DialogQuery {
    /// The newest `limit` dialogs of every account, read or not.
    pub fn newest(limit: u64) -> Self {
        Self {
            account: None,
            unread_only: false,
            after: None,
            limit,
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
}

/// One page of dialogs and what was asked for with it.
#[derive(Debug, Default)]
pub struct DialogPage {
    pub dialogs: Vec<DialogRecord>,
    /// Whether dialogs follow the last one of this page.
    pub has_next: bool,
    /// The newest message of each dialog that has one; empty unless asked for.
    pub last_messages: Vec<MessageRecord>,
    /// Those of the dialogs' accounts the workspace holds now; `None` unless asked for by a caller who may
    /// read accounts.
    pub accounts: Option<Vec<AccountRecord>>,
}

impl InboxService {
    /// A page of the workspace's dialogs, newest first, with their last messages and accounts when asked
    /// (VIEWER and above, or keys with `INBOX_READ`).
    pub async fn dialog_page(
        &self,
        scope: &TenantScope,
        query: DialogQuery,
        include: PageIncludes,
    ) -> DomainResult<DialogPage> {
        scope.require(Role::Viewer, Some(Scope::InboxRead), "reading the inbox")?;
        let tx = self.store.begin_read().await?;
        if let Some(after) = query.after {
            if tx.find_dialog(scope, after).await?.is_none() {
                return Err(DomainError::invalid(
                    "after",
                    "the cursor is not one this list gave out",
                ));
            }
        }
        // One more than the page, to tell whether another follows.
        let read = DialogQuery {
            limit: query.limit.saturating_add(1),
            ..query
        };
        let (mut dialogs, mut last_messages) = if include.last_messages {
            tx.dialogs_with_last_message(scope, &read).await?.into_iter().unzip()
        } else {
            (tx.dialogs(scope, &read).await?, Vec::new())
        };
        let has_next = dialogs.len() as u64 > query.limit;
        let keep = usize::try_from(query.limit).unwrap_or(usize::MAX);
        dialogs.truncate(keep);
        last_messages.truncate(keep);
        let mut page = DialogPage {
            has_next,
            last_messages: last_messages.into_iter().flatten().collect(),
            ..DialogPage::default()
        };
        if include.accounts && may_read_accounts(scope) {
            let mut ids: Vec<AccountId> = dialogs.iter().map(|d| d.account_id).collect();
            ids.sort_unstable();
            ids.dedup();
            page.accounts = Some(if ids.is_empty() {
                Vec::new()
            } else {
                tx.held_accounts(scope, &ids).await?
            });
        }
        tx.commit().await?;
        page.dialogs = dialogs;
        Ok(page)
    }
}
