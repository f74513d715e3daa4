//! Automated sends: an automation's message goes through the inbox like an operator's, with health deciding
//! first and an idempotency key making it happen once.
//!
//! Rules:
//! - **Health decides first**, for automated sending: a hard state stops it, and so does a risk at or above
//!   the automated limit ([`SendPolicy`]). Nothing is stored for a refused send.
//! - **Once per key.** The pending message and its key are stored in one transaction; the send to Telegram
//!   carries a random id derived from the key, so a repeat after a crash, a retry or a second worker finds the
//!   stored message (sent: answered as is; pending: sent again under the same random id, which Telegram does
//!   not deliver twice; failed: the failure) instead of sending a second message.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::records::{DeliveryStatus, DialogRecord, Direction, MessageRecord};
use super::service::InboxService;
use crate::accounts::gateway::{GatewayError, check_outgoing_text};
use crate::accounts::health::{CounterHolder, SendKind, SendPolicy};
use crate::accounts::pool::records::{AccountRecord, AccountStatus};
use crate::error::{DomainError, DomainResult};
use crate::events::{self, EventDraft, InboxEvent};
use crate::ids::{DialogId, MessageId};
use crate::store::StoreError;
use crate::tenancy::TenantScope;

/// How an automated send ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutomatedSend {
    /// Telegram has the message (now or from an earlier attempt under the same key).
    Sent(Box<MessageRecord>),
    /// Health refused it; nothing was stored or sent. The text says why ("account LIMITED", "risk 72 over the
    /// automated limit 50").
    Refused(String),
    /// Telegram refused it (stored FAILED with the reason), or it could not be tried now.
    Failed { reason: String, retryable: bool },
    /// The account's connection stayed busy (a sync or other sends hold it): nothing was tried; try again
    /// soon. Not a failure of the send.
    Busy(String),
}

/// How long an automated action waits for the account's connection before it gives the job back: automations
/// are not in a hurry, and a busy account is not a failed attempt.
const AUTOMATED_CONNECT_ATTEMPTS: u32 = 100;

/// The MTProto random id of the send with `key` in `workspace`: the same key always gives the same id.
pub fn random_id_of(scope: &TenantScope, key: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(scope.workspace_id().as_uuid().as_bytes())
        .chain_update(key.as_bytes())
        .finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

impl InboxService {
    /// Sends `text` in `dialog` as an automation, once per `key` (see the module rules). The caller has checked
    /// the automation may act in this workspace.
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn send_automated(
        &self,
        scope: &TenantScope,
        dialog: DialogId,
        text: &str,
        key: &str,
    ) -> DomainResult<AutomatedSend> {
        if let Err(error) = check_outgoing_text(text) {
            return Ok(AutomatedSend::Failed {
                reason: format!("the rendered text cannot be sent: {error}"),
                retryable: false,
            });
        }
        let dialog = self
            .store
            .find_dialog(scope, dialog)
            .await?
            .ok_or(DomainError::NotFound("dialog"))?;
        let Some(account) = self
            .store
            .find_account(Some(scope), dialog.account_id)
            .await?
            .filter(|a| a.status == AccountStatus::Leased && a.leased_to == Some(scope.workspace_id()))
        else {
            return Ok(AutomatedSend::Refused(
                "the workspace no longer holds the account".to_owned(),
            ));
        };
        let now = self.clock.now();
        let pending = match self.store.find_automated_send(scope, key).await? {
            Some(id) => {
                let message = self
                    .store
                    .find_message(scope, id)
                    .await?
                    .ok_or_else(|| DomainError::internal("an automated message vanished"))?;
                match message.status {
                    DeliveryStatus::Sent => return Ok(AutomatedSend::Sent(Box::new(message))),
                    DeliveryStatus::Failed => {
                        return Ok(AutomatedSend::Failed {
                            reason: message.failure.unwrap_or_else(|| "Telegram refused it".to_owned()),
                            retryable: false,
                        });
                    }
                    DeliveryStatus::Pending => message,
                }
            }
            None => {
                if let Some(refusal) = self.automated_refusal(scope, &account, now).await? {
                    return Ok(AutomatedSend::Refused(refusal));
                }
                match self.store_pending(scope, &dialog, text, key, now).await? {
                    Some(pending) => pending,
                    // Another worker stored it first: its attempt decides.
                    None => {
                        return Ok(AutomatedSend::Busy(
                            "another attempt of this step is in flight".to_owned(),
                        ));
                    }
                }
            }
        };
        self.deliver_pending(scope, &account, &dialog, pending, key).await
    }

    /// Marks the dialog read up to its newest message as an automation, on Telegram and here (the caller has
    /// checked the automation may act in this workspace).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn mark_read_automated(&self, scope: &TenantScope, dialog: DialogId) -> DomainResult<DialogRecord> {
        let found = self
            .store
            .find_dialog(scope, dialog)
            .await?
            .ok_or(DomainError::NotFound("dialog"))?;
        let (account, dialog) = self.held_dialog(scope, found.account_id, found.id).await?;
        let connected = self.connect_within(&account, AUTOMATED_CONNECT_ATTEMPTS).await?;
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

    /// Why health refuses an automated send now, if it does.
    async fn automated_refusal(
        &self,
        scope: &TenantScope,
        account: &AccountRecord,
        now: DateTime<Utc>,
    ) -> DomainResult<Option<String>> {
        let health = self
            .store
            .load(CounterHolder::Workspace(scope.workspace_id()), account.id)
            .await?
            .map(|s| s.health)
            .unwrap_or_default();
        let policy = SendPolicy::default();
        Ok(policy
            .decide(&health, SendKind::Automated, now)
            .err()
            .map(|refusal| match refusal.reason {
                crate::accounts::health::RefusalReason::HardState(state) => format!("account {}", state.as_str()),
                crate::accounts::health::RefusalReason::RiskTooHigh => format!(
                    "risk {} over the automated limit {}",
                    refusal.risk.value(),
                    policy.automated_max_risk.value()
                ),
            }))
    }

    /// Stores the pending message with its key; `None` when another attempt stored the key first.
    async fn store_pending(
        &self,
        scope: &TenantScope,
        dialog: &DialogRecord,
        text: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<Option<MessageRecord>> {
        let pending = MessageRecord {
            id: MessageId::generate(),
            workspace_id: scope.workspace_id(),
            account_id: dialog.account_id,
            dialog_id: dialog.id,
            peer: dialog.peer,
            telegram_id: None,
            direction: Direction::Outgoing,
            text: text.to_owned(),
            sent_at: now,
            edited_at: None,
            reply_to: None,
            status: DeliveryStatus::Pending,
            failure: None,
            deleted_at: None,
            edit_history: Vec::new(),
            media: None,
        };
        let tx = self.store.begin().await?;
        match tx
            .record_automated_send(scope, key, pending.id, dialog.account_id, now)
            .await
        {
            Ok(()) => {}
            Err(StoreError::UniqueViolation(_)) => return Ok(None),
            Err(error) => return Err(error.into()),
        }
        tx.insert_message(scope, &pending).await?;
        let event = InboxEvent::MessageSent {
            message: pending.clone(),
        };
        events::append(&*tx, scope, EventDraft::new(dialog.account_id, event), now).await?;
        tx.commit().await?;
        self.outbox.committed();
        Ok(Some(pending))
    }

    /// Sends a stored pending message under its key's random id and settles it.
    async fn deliver_pending(
        &self,
        scope: &TenantScope,
        account: &AccountRecord,
        dialog: &DialogRecord,
        pending: MessageRecord,
        key: &str,
    ) -> DomainResult<AutomatedSend> {
        let connected = match self.connect_within(account, AUTOMATED_CONNECT_ATTEMPTS).await {
            Ok(connected) => connected,
            Err(DomainError::AccountUnavailable(reason)) => return Ok(AutomatedSend::Busy(reason)),
            Err(error) => return Err(error),
        };
        let sent = connected
            .connection
            .send_message_once(dialog.peer, &pending.text, None, random_id_of(scope, key))
            .await;
        self.connections.disconnect(connected).await?;
        let now = self.clock.now();
        match sent {
            Ok(remote) => {
                self.record_sent(scope, account, dialog, &pending, &remote, false)
                    .await?;
                let message = self
                    .store
                    .find_message(scope, pending.id)
                    .await?
                    .ok_or_else(|| DomainError::internal("a sent message vanished"))?;
                Ok(AutomatedSend::Sent(Box::new(message)))
            }
            Err(error) if is_retryable(&error) => {
                // Left pending: the retry sends again under the same random id.
                self.connections.refused(account, &error).await?;
                Ok(AutomatedSend::Failed {
                    reason: error.to_string(),
                    retryable: true,
                })
            }
            Err(error) => {
                let reason = error.to_string();
                self.settle(scope, &pending, None, DeliveryStatus::Failed, Some(&reason), now)
                    .await?;
                self.connections.refused(account, &error).await?;
                Ok(AutomatedSend::Failed {
                    reason,
                    retryable: false,
                })
            }
        }
    }
}

/// Whether repeating the send later may work: the network, or a flood wait (which health also records).
fn is_retryable(error: &GatewayError) -> bool {
    error.is_transient()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::WorkspaceId;

    #[test]
    fn a_key_always_gives_the_same_random_id_and_other_keys_or_workspaces_another() {
        let workspace = TenantScope::system(WorkspaceId::generate());
        let other = TenantScope::system(WorkspaceId::generate());
        let id = random_id_of(&workspace, "execution:1:0");
        assert_eq!(id, random_id_of(&workspace, "execution:1:0"));
        assert_ne!(id, random_id_of(&workspace, "execution:1:1"));
        assert_ne!(id, random_id_of(&other, "execution:1:0"));
    }
}
