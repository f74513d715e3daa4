//! The inbox's use cases share one service.

use std::collections::HashMap;
use std::sync::Arc;

use crate::accounts::pool::connections::Connections;
use crate::clock::Clock;
use crate::error::DomainResult;
use crate::events::{EventBus, EventFeed, FeedFilter, Outbox};
use crate::ids::{AccountId, DialogId, MessageId};
use crate::jobs::JobSignal;
use crate::paging::{Page, PageRequest};
use crate::store::Store;
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenantScope};

use super::page::{DialogQuery, PageIncludes};
use super::records::{DialogRecord, MessageRecord};

/// A follower more than this many events behind is disconnected unless configured otherwise.
const DEFAULT_SLOW_CONSUMER_AFTER: u64 = 1024;

#[derive(Debug, Clone)]
pub struct InboxService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) connections: Connections,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) outbox: Outbox,
    /// Wakes the job workers when a use case queued jobs (automation executions).
    pub(crate) jobs: JobSignal,
    /// Events a follower may fall behind its workspace's newest before its feed ends as a slow consumer.
    pub(crate) slow_consumer_after: u64,
    /// The accounts whose live connection runs in this process (the periodic sync leaves them alone).
    pub(crate) live: super::live::LiveSet,
}

impl InboxService {
    pub fn new(store: Arc<dyn Store>, connections: Connections, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            connections,
            clock,
            outbox: Outbox::default(),
            jobs: JobSignal::default(),
            slow_consumer_after: DEFAULT_SLOW_CONSUMER_AFTER,
            live: super::live::LiveSet::default(),
        }
    }

    /// How many events a follower may fall behind before its feed ends as a slow consumer.
    #[must_use]
    pub fn with_slow_consumer_after(mut self, events: u64) -> Self {
        self.slow_consumer_after = events.max(1);
        self
    }

    /// Wakes these job workers when a use case queued jobs.
    #[must_use]
    pub fn with_jobs(mut self, jobs: JobSignal) -> Self {
        self.jobs = jobs;
        self
    }

    /// Wakes this outbox's relay when a use case committed events.
    #[must_use]
    pub fn with_outbox(mut self, outbox: Outbox) -> Self {
        self.outbox = outbox;
        self
    }

    /// Follows the workspace's inbox events (VIEWER and above, or keys with `INBOX_READ`), of one account
    /// when `account` is set, after `after` or from now.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn follow(
        &self,
        bus: &dyn EventBus,
        scope: TenantScope,
        account: Option<AccountId>,
        after: Option<i64>,
    ) -> DomainResult<EventFeed> {
        EventFeed::open(
            Arc::clone(&self.store),
            bus,
            scope,
            FeedFilter::Inbox { account },
            after,
        )
        .await
        .map(|feed| feed.slow_consumer_after(self.slow_consumer_after))
    }

    /// The workspace's dialogs, newest first, without what a page shows with them (VIEWER and above, or keys
    /// with `INBOX_READ`): [`Self::dialog_page`]'s dialogs.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn dialogs(&self, scope: &TenantScope, query: DialogQuery) -> DomainResult<Page<DialogRecord>> {
        Ok(self.dialog_page(scope, query, PageIncludes::default()).await?.dialogs)
    }

    /// One dialog of the workspace (VIEWER and above, or keys with `INBOX_READ`).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn dialog(&self, scope: &TenantScope, id: DialogId) -> DomainResult<Option<DialogRecord>> {
        scope.require(Role::Viewer, Some(Scope::InboxRead), "reading the inbox")?;
        Ok(self.store.find_dialog(scope, id).await?)
    }

    /// Those of the dialogs that are the workspace's, in one read (VIEWER and above, or keys with `INBOX_READ`).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn dialogs_by_ids(&self, scope: &TenantScope, ids: &[DialogId]) -> DomainResult<Vec<DialogRecord>> {
        scope.require(Role::Viewer, Some(Scope::InboxRead), "reading the inbox")?;
        Ok(self.store.find_dialogs(scope, ids).await?)
    }

    /// The newest message of each dialog, in one read (VIEWER and above, or keys with `INBOX_READ`).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn last_messages(&self, scope: &TenantScope, dialogs: &[DialogId]) -> DomainResult<Vec<MessageRecord>> {
        scope.require(Role::Viewer, Some(Scope::InboxRead), "reading the inbox")?;
        Ok(self.store.last_messages(scope, dialogs).await?)
    }

    /// A page of a dialog's messages, newest first (VIEWER and above, or keys with `INBOX_READ`).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn messages(
        &self,
        scope: &TenantScope,
        dialog: DialogId,
        page: PageRequest<MessageId>,
    ) -> DomainResult<Page<MessageRecord>> {
        scope.require(Role::Viewer, Some(Scope::InboxRead), "reading the inbox")?;
        page.read(|before, rows| self.store.messages(scope, dialog, before, rows))
            .await
    }

    /// The same page of each of the dialogs' messages, newest first, in one read: what [`Self::messages`]
    /// answers for each, for a page of dialogs (VIEWER and above, or keys with `INBOX_READ`). A dialog that is
    /// not the workspace's has an empty page.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn messages_of_many(
        &self,
        scope: &TenantScope,
        dialogs: &[DialogId],
        page: PageRequest<MessageId>,
    ) -> DomainResult<HashMap<DialogId, Page<MessageRecord>>> {
        scope.require(Role::Viewer, Some(Scope::InboxRead), "reading the inbox")?;
        let rows = if dialogs.is_empty() {
            Vec::new()
        } else {
            self.store
                .messages_of_dialogs(scope, dialogs, page.after().copied(), page.rows_to_read())
                .await?
        };
        let mut by_dialog: HashMap<DialogId, Vec<MessageRecord>> =
            dialogs.iter().map(|dialog| (*dialog, Vec::new())).collect();
        for message in rows {
            if let Some(messages) = by_dialog.get_mut(&message.dialog_id) {
                messages.push(message);
            }
        }
        Ok(by_dialog
            .into_iter()
            .map(|(dialog, mut messages)| {
                messages.sort_by_key(|message| std::cmp::Reverse(message.id));
                (dialog, page.page_of(messages))
            })
            .collect())
    }
}
