//! `sendMessage` and `markDialogRead`: what an operator does in a dialog, through the account's connection.
//!
//! Rules:
//! - **Health decides first.** A message is refused before anything is stored when the account may not send:
//!   `RATE_LIMITED` with the wait during a cooldown, `ACCOUNT_UNAVAILABLE` naming the state otherwise.
//! - **Nothing is lost.** The message is stored PENDING before Telegram is asked, then SENT with Telegram's
//!   id, or FAILED with Telegram's reason, which also becomes a health signal. The sync that later sees the
//!   same message from Telegram finds it stored and adds nothing.
//! - Text is Telegram's: 1 to 4096 UTF-16 code units, not only whitespace (`BAD_USER_INPUT` on `text`); with a
//!   document it is the caption and may be empty ([`Outgoing`]). A document goes as one send under the same
//!   random id as a text would, so a repeated send delivers it once.
//! - **Authorized before counted.** The per-account send budget and the per-dialog read-mark budget
//!   ([`Admit`]) are spent only after the role or scope check and after the dialog and account are found
//!   held by the caller's workspace, so another tenant or a lower rank cannot use them up.

use std::time::Duration;

use serde_json::json;

use super::content::{DocumentUpload, Outgoing};
use super::records::{DeliveryStatus, DialogRecord, Direction, MessageRecord};
use super::service::InboxService;
use crate::accounts::gateway::GatewayError;
use crate::accounts::health::{
    CounterHolder, DailyCounters, HealthObservation, HealthSignal, RefusalReason, SendKind, SendPolicy,
};
use crate::accounts::pool::connections::Connected;
use crate::accounts::pool::records::{AccountRecord, AccountStatus};
use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::error::{DomainError, DomainResult};
use crate::events::{self, EventDraft, InboxEvent, announce};
use crate::identity::Principal;
use crate::ids::{AccountId, DialogId, MessageId, WorkspaceId};
use crate::request::{Admit, ClientInfo};
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenantScope};

/// The refusal while the workspace's owner has restricted the processing of their data (policy §8).
pub const RESTRICTED: &str = "the workspace owner restricted the processing of their data: sending and \
                              automations are stopped until the restriction is lifted";

/// How long a send waits for the account's connection while a sync holds it.
const CONNECT_ATTEMPTS: u32 = 10;
const CONNECT_PAUSE: Duration = Duration::from_millis(100);

impl InboxService {
    /// The workspace of a dialog named by id: an API key's own, or for a person one of their workspaces.
    #[tracing::instrument(skip_all)]
    pub async fn dialog_workspace(&self, principal: &Principal, id: DialogId) -> DomainResult<WorkspaceId> {
        match principal {
            Principal::ApiKey { workspace_id, .. } => Ok(*workspace_id),
            Principal::User { user_id, .. } => self
                .store
                .dialog_workspace_of_member(*user_id, id)
                .await?
                .ok_or(DomainError::NotFound("dialog")),
        }
    }

    pub(super) async fn held_dialog(
        &self,
        scope: &TenantScope,
        account: AccountId,
        dialog: DialogId,
    ) -> DomainResult<(AccountRecord, DialogRecord)> {
        // The bare row: sending needs the peer, not the tags.
        let dialog = self
            .store
            .find_dialogs(scope, &[dialog])
            .await?
            .into_iter()
            .find(|d| d.account_id == account)
            .ok_or(DomainError::NotFound("dialog"))?;
        let account = self
            .store
            .find_account(Some(scope), account)
            .await?
            .filter(|a| a.status == AccountStatus::Leased && a.leased_to == Some(scope.workspace_id()))
            .ok_or(DomainError::NotFound("account"))?;
        Ok((account, dialog))
    }

    pub(super) async fn connect_soon(&self, account: &AccountRecord) -> DomainResult<Connected> {
        self.connect_within(account, CONNECT_ATTEMPTS).await
    }

    /// Connects the account, trying again every [`CONNECT_PAUSE`] while another holds its connection, at most
    /// `attempts` times; an account live in this process lends its live connection instead.
    pub(super) async fn connect_within(&self, account: &AccountRecord, attempts: u32) -> DomainResult<Connected> {
        let mut attempt = 0;
        loop {
            if let Some(live) = self.live.connection(account.id) {
                return Ok(Connected::borrowed(account.id, live));
            }
            match self.connections.connect(account).await {
                Err(DomainError::AccountUnavailable(_)) if attempt + 1 < attempts => {
                    attempt += 1;
                    tokio::time::sleep(CONNECT_PAUSE).await;
                }
                other => return other,
            }
        }
    }

    /// Sends `text`, or `document` captioned by `text`, in the dialog as the account (OPERATOR and above, or
    /// keys with `INBOX_WRITE`); `admit` spends the account's send budget once the caller is authorized and the
    /// dialog is the account's.
    #[expect(clippy::too_many_arguments, reason = "the operation's inputs, each from the request")]
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn send_message(
        &self,
        scope: &TenantScope,
        principal: &Principal,
        client: &ClientInfo,
        account: AccountId,
        dialog: DialogId,
        text: &str,
        document: Option<DocumentUpload>,
        reply_to: Option<MessageId>,
        admit: impl Admit,
    ) -> DomainResult<MessageRecord> {
        scope.require(Role::Operator, Some(Scope::InboxWrite), "sending messages")?;
        let content = Outgoing::parse(text, document)?;
        let (account, dialog) = self.held_dialog(scope, account, dialog).await?;
        if self.store.owner_restricted(scope).await? {
            return Err(DomainError::Forbidden(RESTRICTED.to_owned()));
        }
        admit.admit().await?;
        let reply_to = match reply_to {
            Some(id) => Some(
                self.store
                    .find_message(scope, id)
                    .await?
                    .filter(|m| m.dialog_id == dialog.id)
                    .and_then(|m| m.telegram_id)
                    .ok_or_else(|| DomainError::invalid("replyToId", "not a sent message of this dialog"))?,
            ),
            None => None,
        };
        let now = self.clock.now();
        let health = self
            .store
            .load(CounterHolder::Workspace(scope.workspace_id()), account.id)
            .await?
            .map(|s| s.health)
            .unwrap_or_default();
        if let Err(refusal) = SendPolicy::default().decide(&health, SendKind::Manual, now) {
            return Err(match (refusal.reason, refusal.retry_after) {
                (RefusalReason::HardState(_), Some(wait)) if refusal.retry_at.is_some() => DomainError::RateLimited {
                    retry_after_secs: wait.as_secs().max(1),
                },
                (RefusalReason::HardState(state), _) => {
                    DomainError::AccountUnavailable(format!("the account cannot send while it is {}", state.as_str()))
                }
                (RefusalReason::RiskTooHigh, _) => {
                    DomainError::AccountUnavailable("the account's risk is too high to send".to_owned())
                }
            });
        }
        let pending = MessageRecord {
            id: MessageId::generate(),
            workspace_id: scope.workspace_id(),
            account_id: account.id,
            dialog_id: dialog.id,
            peer: dialog.peer,
            telegram_id: None,
            direction: Direction::Outgoing,
            text: content.text().to_owned(),
            sent_at: now,
            edited_at: None,
            reply_to,
            status: DeliveryStatus::Pending,
            failure: None,
            deleted_at: None,
            edit_history: Vec::new(),
            media: content.media(),
        };
        let tx = self.store.begin().await?;
        tx.insert_message(scope, &pending).await?;
        let event = InboxEvent::MessageSent {
            message: pending.clone(),
        };
        events::append(&*tx, scope, EventDraft::new(account.id, event), now).await?;
        tx.commit().await?;
        self.outbox.committed();
        let connected = match self.connect_soon(&account).await {
            Ok(connected) => connected,
            Err(error) => {
                let reason = match &error {
                    DomainError::Conflict { message, .. } | DomainError::AccountUnavailable(message) => message.clone(),
                    _ => "the account could not connect".to_owned(),
                };
                self.settle(scope, &pending, None, DeliveryStatus::Failed, Some(&reason), now)
                    .await?;
                return Err(error);
            }
        };
        let random_id = super::automated::random_id_of(scope, &pending.id.to_string());
        let sent = match content.attached() {
            None => {
                connected
                    .connection
                    .send_message_once(dialog.peer, content.text(), reply_to, random_id)
                    .await
            }
            Some(document) => {
                connected
                    .connection
                    .send_document_once(dialog.peer, document, content.text(), reply_to, random_id)
                    .await
            }
        };
        self.connections.disconnect(connected).await?;
        let now = self.clock.now();
        let settled = match sent {
            Ok(remote) => {
                self.record_sent(scope, &account, &dialog, &pending, &remote, reply_to.is_some())
                    .await?;
                "message.sent"
            }
            Err(error) => {
                let reason = failure_reason(&error);
                self.settle(scope, &pending, None, DeliveryStatus::Failed, Some(&reason), now)
                    .await?;
                self.connections.refused(&account, &error).await?;
                "message.failed"
            }
        };
        let tx = self.store.begin().await?;
        let draft = AuditDraft {
            chain: ChainId::Workspace(scope.workspace_id()),
            actor: Actor::of(principal),
            action: settled,
            target_type: Some("MESSAGE"),
            target_id: Some(pending.id.to_string()),
            client: client.clone(),
            metadata: json!({ "account": account.id.to_string(), "dialog": dialog.id.to_string() }),
        };
        audit::append(&*tx, draft, now).await?;
        tx.commit().await?;
        self.store
            .find_message(scope, pending.id)
            .await?
            .ok_or_else(|| DomainError::internal("a sent message vanished"))
    }

    /// Marks the dialog read up to its newest message, on Telegram and here (OPERATOR and above, or keys with
    /// `INBOX_WRITE`); `admit` spends the dialog's read-mark budget once the caller may act on it.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn mark_dialog_read(
        &self,
        scope: &TenantScope,
        dialog: DialogId,
        admit: impl Admit,
    ) -> DomainResult<DialogRecord> {
        scope.require(Role::Operator, Some(Scope::InboxWrite), "marking dialogs read")?;
        let found = self
            .store
            .find_dialogs(scope, &[dialog])
            .await?
            .into_iter()
            .next()
            .ok_or(DomainError::NotFound("dialog"))?;
        let (account, dialog) = self.held_dialog(scope, found.account_id, found.id).await?;
        admit.admit().await?;
        let connected = self.connect_soon(&account).await?;
        let read = connected.connection.mark_read(dialog.peer, dialog.top_message_id).await;
        self.connections.disconnect(connected).await?;
        if let Err(error) = read {
            return Err(self.connections.refused(&account, &error).await?);
        }
        let now = self.clock.now();
        self.mark_read_and_announce(scope, account.id, dialog.id, dialog.top_message_id, now)
            .await?;
        self.store
            .find_dialog(scope, dialog.id)
            .await?
            .ok_or(DomainError::NotFound("dialog"))
    }
}

impl InboxService {
    /// What a send Telegram took leaves behind: the message settled SENT with Telegram's id, the healthy
    /// observation, and the workspace's counters.
    pub(super) async fn record_sent(
        &self,
        scope: &TenantScope,
        account: &AccountRecord,
        dialog: &DialogRecord,
        pending: &MessageRecord,
        remote: &crate::accounts::gateway::RemoteMessage,
        reply: bool,
    ) -> DomainResult<()> {
        self.settle(
            scope,
            pending,
            Some(remote.id),
            DeliveryStatus::Sent,
            None,
            remote.sent_at,
        )
        .await?;
        let now = self.clock.now();
        let observation = HealthObservation::new(HealthSignal::SendSucceeded, now);
        announce::observe(
            &*self.store,
            &self.outbox,
            Some(scope.workspace_id()),
            account.id,
            observation,
            now,
        )
        .await?;
        let mut delta = DailyCounters::new(now.date_naive());
        delta.record_sent(dialog.peer, reply);
        self.store
            .bump_counters(account.id, CounterHolder::Workspace(scope.workspace_id()), &delta)
            .await?;
        Ok(())
    }

    /// Records Telegram's answer for a pending message and announces it, in one transaction.
    pub(super) async fn settle(
        &self,
        scope: &TenantScope,
        pending: &MessageRecord,
        telegram_id: Option<i32>,
        status: DeliveryStatus,
        failure: Option<&str>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<()> {
        let tx = self.store.begin().await?;
        if !tx
            .settle_message(scope, pending.id, telegram_id, status, failure, at)
            .await?
        {
            return Ok(());
        }
        let message = tx
            .find_message(scope, pending.id)
            .await?
            .ok_or_else(|| DomainError::internal("a settled message vanished"))?;
        let event = InboxEvent::MessageSent { message };
        events::append(
            &*tx,
            scope,
            EventDraft::new(pending.account_id, event),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        self.outbox.committed();
        Ok(())
    }
}

/// What a failed message shows: what Telegram said, never anything of the session.
fn failure_reason(error: &GatewayError) -> String {
    error.to_string()
}
