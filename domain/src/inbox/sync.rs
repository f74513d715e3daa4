//! Keeping a workspace's inbox in step with an account it rents.
//!
//! A sync connects the account (on its connection lease), then either applies the updates since the state it
//! stored last, or, the first time or when the gateway cannot fill the gap, reads the dialogs and their
//! recent history. It stores the state it reached, so a restart continues instead of losing or repeating.
//!
//! The periodic sync ([`InboxService::sync_all`]) and the live connections ([`super::live`]) share the steps
//! here: [`InboxService::catch_up`] (the difference since the stored state, or the backfill) and
//! [`InboxService::apply_live`] (one streamed update), both applying updates with the one `apply`. The periodic
//! sync leaves alone an account whose live connection runs in this process.

use chrono::{DateTime, Utc};

use super::records::{DeliveryStatus, DialogRecord, Direction, MessageRecord, sequence_of};
use super::service::InboxService;
use crate::accounts::gateway::{
    GatewayConnection, GatewayError, GatewayUpdate, Peer, PeerKey, RemoteMessage, StampedUpdate, UpdateDifference,
    UpdateState,
};
use crate::accounts::pool::records::AccountRecord;
use crate::automation;
use crate::error::{DomainError, DomainResult};
use crate::events::{self, EventDraft, InboxEvent};
use crate::ids::{AccountId, DialogId, MessageId};
use crate::store::StoreError;
use crate::tenancy::TenantScope;

/// How many dialogs a backfill reads, and how many recent messages of each.
pub const BACKFILL_DIALOGS: usize = 100;
pub const BACKFILL_MESSAGES: usize = 20;

/// What one sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncReport {
    /// Messages stored now (repeats not counted).
    pub stored: usize,
    /// Updates applied (repeats included: applying one twice changes nothing).
    pub updates: usize,
    /// Whether the dialogs and their history were read afresh.
    pub backfilled: bool,
    pub state: u64,
}

/// Why a sync step stopped: Telegram's refusal, kept classified so a caller can retry, stop or record it on
/// the account's health, or a failure of ours (storage, the vault).
#[derive(Debug)]
pub(crate) enum SyncFailure {
    Gateway(GatewayError),
    Domain(DomainError),
}

impl From<DomainError> for SyncFailure {
    fn from(error: DomainError) -> Self {
        Self::Domain(error)
    }
}

impl From<StoreError> for SyncFailure {
    fn from(error: StoreError) -> Self {
        Self::Domain(error.into())
    }
}

impl From<GatewayError> for SyncFailure {
    fn from(error: GatewayError) -> Self {
        Self::Gateway(error)
    }
}

impl SyncFailure {
    /// As a use case returns it: a refusal is a `CONFLICT` naming what Telegram said.
    fn into_domain(self) -> DomainError {
        match self {
            Self::Gateway(error) => DomainError::Conflict {
                field: None,
                message: format!("Telegram refused: {error}"),
            },
            Self::Domain(error) => error,
        }
    }
}

impl InboxService {
    /// Syncs every rented account into its workspace's inbox, one at a time; an account that fails (connected
    /// elsewhere, refused by Telegram) is logged and the others go on. Returns how many messages were stored.
    #[tracing::instrument(skip_all)]
    pub async fn sync_all(&self) -> DomainResult<usize> {
        let mut stored = 0;
        let mut after = None;
        loop {
            let page = self.store.active_leases(after, 200).await?;
            let Some((last, _, _)) = page.last() else {
                break;
            };
            after = Some(*last);
            for (_, workspace, account) in page {
                if self.live.contains(account) {
                    // Its live connection keeps it in step already; a sync would only wait for its lease.
                    continue;
                }
                let scope = TenantScope::system(workspace);
                let Some(record) = self.account_rented_to(&scope, account).await? else {
                    continue;
                };
                match self.sync_account(&scope, &record).await {
                    Ok(report) => stored += report.stored,
                    Err(error) => tracing::debug!(account = %account, error = %error, "an account did not sync"),
                }
            }
        }
        Ok(stored)
    }

    /// The account when it is still rented to the scope's workspace.
    pub(crate) async fn account_rented_to(
        &self,
        scope: &TenantScope,
        account: AccountId,
    ) -> DomainResult<Option<AccountRecord>> {
        Ok(self
            .store
            .find_account(Some(scope), account)
            .await?
            .filter(|a| a.leased_to == Some(scope.workspace_id())))
    }

    /// Brings the workspace's inbox of `account` (which it holds) up to date with Telegram.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn sync_account(&self, scope: &TenantScope, account: &AccountRecord) -> DomainResult<SyncReport> {
        if account.leased_to != Some(scope.workspace_id()) {
            return Err(DomainError::NotFound("account"));
        }
        let connected = self.connections.connect(account).await?;
        let synced = self.catch_up(scope, account, &*connected.connection).await;
        self.connections.disconnect(connected).await?;
        synced.map_err(SyncFailure::into_domain)
    }

    /// Applies what happened since the stored state (or, the first time or when the gap cannot be filled, reads
    /// the dialogs and their recent history) and stores the state reached.
    pub(crate) async fn catch_up(
        &self,
        scope: &TenantScope,
        account: &AccountRecord,
        connection: &dyn GatewayConnection,
    ) -> Result<SyncReport, SyncFailure> {
        let stored_state = self.store.sync_state(scope, account.id).await?;
        let mut report = SyncReport::default();
        let reached = match stored_state {
            Some(state) => match connection.updates_since(UpdateState::new(state)).await? {
                UpdateDifference::Updates { updates, state } => {
                    for stamped in updates {
                        report.stored += self.apply(scope, account, connection, stamped.update).await?;
                        report.updates += 1;
                    }
                    state
                }
                UpdateDifference::TooLong { state } => {
                    report.stored += self.backfill(scope, account, connection).await?;
                    report.backfilled = true;
                    state
                }
            },
            None => {
                // The state first, then the reading: whatever arrives in between is applied next time.
                let state = connection.update_state().await?;
                report.stored += self.backfill(scope, account, connection).await?;
                report.backfilled = true;
                state
            }
        };
        self.store
            .save_sync_state(scope, account.id, reached.get(), self.clock.now())
            .await?;
        report.state = reached.get();
        Ok(report)
    }

    /// Applies one update streamed live unless its state is not past `applied` (delivery is at least once:
    /// what the catch-up or an earlier delivery applied is skipped), then stores its state. Returns the state
    /// applied through and how many messages were stored.
    pub(crate) async fn apply_live(
        &self,
        scope: &TenantScope,
        account: &AccountRecord,
        connection: &dyn GatewayConnection,
        stamped: StampedUpdate,
        applied: UpdateState,
    ) -> Result<(UpdateState, usize), SyncFailure> {
        if stamped.state <= applied {
            return Ok((applied, 0));
        }
        let stored = self.apply(scope, account, connection, stamped.update).await?;
        self.store
            .save_sync_state(scope, account.id, stamped.state.get(), self.clock.now())
            .await?;
        Ok((stamped.state, stored))
    }

    /// Reads the dialogs and their recent history; how many messages were stored now.
    async fn backfill(
        &self,
        scope: &TenantScope,
        account: &AccountRecord,
        connection: &dyn GatewayConnection,
    ) -> Result<usize, SyncFailure> {
        let mut stored = 0;
        let now = self.clock.now();
        for remote in connection.dialogs(BACKFILL_DIALOGS).await? {
            self.store.upsert_dialog(scope, account.id, &remote.peer, now).await?;
            let history = connection.history(remote.peer.key(), BACKFILL_MESSAGES, None).await?;
            for message in history.into_iter().rev() {
                stored += usize::from(self.store_message(scope, account, None, &message, now).await?);
            }
            if let Some(dialog) = self
                .store
                .find_dialog_by_peer(scope, account.id, remote.peer.key())
                .await?
            {
                self.mark_read_and_announce(scope, account.id, dialog.id, remote.read_inbox_max_id, now)
                    .await?;
            }
        }
        Ok(stored)
    }

    /// Applies one update; how many messages it stored (0 or 1).
    async fn apply(
        &self,
        scope: &TenantScope,
        account: &AccountRecord,
        connection: &dyn GatewayConnection,
        update: GatewayUpdate,
    ) -> DomainResult<usize> {
        let now = self.clock.now();
        Ok(match update {
            GatewayUpdate::NewMessage(message) => usize::from(
                self.store_message(scope, account, Some(connection), &message, now)
                    .await?,
            ),
            GatewayUpdate::EditedMessage(message) => {
                let tx = self.store.begin().await?;
                let edited = tx
                    .edit_message(
                        scope,
                        account.id,
                        sequence_of(message.peer),
                        message.id,
                        &message.text,
                        message.edited_at.unwrap_or(now),
                    )
                    .await?;
                if let Some(message) = edited {
                    let event = InboxEvent::MessageEdited { message };
                    events::append(&*tx, scope, EventDraft::new(account.id, event), now).await?;
                    tx.commit().await?;
                    self.outbox.committed();
                }
                0
            }
            GatewayUpdate::DeletedMessages { peer, ids } => {
                let sequence = peer.map_or(0, sequence_of);
                let tx = self.store.begin().await?;
                let deleted = tx.delete_messages(scope, account.id, sequence, &ids, now).await?;
                for (message_id, dialog_id) in &deleted {
                    let event = InboxEvent::MessageDeleted {
                        message_id: *message_id,
                        dialog_id: *dialog_id,
                    };
                    events::append(&*tx, scope, EventDraft::new(account.id, event), now).await?;
                }
                tx.commit().await?;
                if !deleted.is_empty() {
                    self.outbox.committed();
                }
                0
            }
            GatewayUpdate::ReadInbox { peer, max_id } => {
                if let Some(dialog) = self.store.find_dialog_by_peer(scope, account.id, peer).await? {
                    self.mark_read_and_announce(scope, account.id, dialog.id, max_id, now)
                        .await?;
                }
                0
            }
            // Read receipts of the other side are not stored yet.
            GatewayUpdate::ReadOutbox { .. } => 0,
        })
    }

    /// Stores one message in its dialog (created when new); `true` when it was not stored before. A dialog
    /// first seen through an update is named from the account's dialog list when `connection` is given (an
    /// update names only the peer's id).
    async fn store_message(
        &self,
        scope: &TenantScope,
        account: &AccountRecord,
        connection: Option<&dyn GatewayConnection>,
        message: &RemoteMessage,
        now: DateTime<Utc>,
    ) -> DomainResult<bool> {
        let dialog = match self.store.find_dialog_by_peer(scope, account.id, message.peer).await? {
            Some(dialog) => dialog,
            None => {
                let peer = match connection {
                    Some(connection) => peer_of(connection, message.peer).await,
                    None => placeholder_peer(message.peer),
                };
                self.store.upsert_dialog(scope, account.id, &peer, now).await?
            }
        };
        let record = MessageRecord {
            id: MessageId::generate(),
            workspace_id: scope.workspace_id(),
            account_id: account.id,
            dialog_id: dialog.id,
            peer: message.peer,
            telegram_id: Some(message.id),
            direction: if message.outgoing {
                Direction::Outgoing
            } else {
                Direction::Incoming
            },
            text: message.text.clone(),
            sent_at: message.sent_at,
            edited_at: message.edited_at,
            reply_to: message.reply_to,
            status: DeliveryStatus::Sent,
            failure: None,
            deleted_at: None,
            edit_history: Vec::new(),
            media: message.media.clone(),
        };
        let tx = self.store.begin().await?;
        let stored = tx.insert_message(scope, &record).await?;
        if stored {
            // Automations see the message in the transaction that stores it (incoming ones only).
            let queued = automation::triggers::on_incoming_message(&*tx, scope, &record, now).await?;
            let event = match record.direction {
                Direction::Incoming => InboxEvent::MessageReceived { message: record },
                Direction::Outgoing => InboxEvent::MessageSent { message: record },
            };
            events::append(&*tx, scope, EventDraft::new(account.id, event), now).await?;
            tx.commit().await?;
            self.outbox.committed();
            if queued > 0 {
                self.jobs.enqueued();
            }
        }
        Ok(stored)
    }

    /// Moves a dialog's read watermark and announces it when it moved, in one transaction.
    pub(crate) async fn mark_read_and_announce(
        &self,
        scope: &TenantScope,
        account: AccountId,
        dialog: DialogId,
        max_id: i32,
        now: DateTime<Utc>,
    ) -> DomainResult<Option<DialogRecord>> {
        let tx = self.store.begin().await?;
        let Some(read) = tx.mark_read(scope, dialog, max_id, now).await? else {
            return Ok(None);
        };
        let event = InboxEvent::DialogRead { dialog: read.clone() };
        events::append(&*tx, scope, EventDraft::new(account, event), now).await?;
        tx.commit().await?;
        self.outbox.committed();
        Ok(Some(read))
    }
}

/// The peer as the account's dialog list names it (its title and username), or known only by its key when the
/// list does not show it (then the next backfill gives it its title).
async fn peer_of(connection: &dyn GatewayConnection, key: PeerKey) -> Peer {
    connection
        .dialogs(BACKFILL_DIALOGS)
        .await
        .ok()
        .and_then(|dialogs| dialogs.into_iter().find(|d| d.peer.key() == key))
        .map_or_else(|| placeholder_peer(key), |dialog| dialog.peer)
}

/// A peer known only by its key (an update named it before the dialog list did); the next backfill gives it
/// its title.
fn placeholder_peer(key: PeerKey) -> Peer {
    Peer::new(key, key.get().to_string(), None)
}
