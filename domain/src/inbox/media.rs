//! Fetching a message's media: the file streamed from Telegram through the account's connection.
//!
//! Rules:
//! - **Read like the message.** Whoever may read the message's dialog may fetch its media (VIEWER and above,
//!   or keys with `INBOX_READ`), in the workspace the message belongs to; for anyone else the message does not
//!   exist (`NotFound`, the same as an unknown id), so the answer never says whether it exists elsewhere.
//! - **Nothing is kept.** The file is streamed chunk by chunk from the gateway to the caller, never written to
//!   disk or held whole; the service stores only its description.
//! - **Capped.** A file larger than the caller's cap is refused ([`MediaError::TooLarge`]) before any
//!   connection when its size is known, else by the gateway before the first byte or when it runs past.
//! - **Only through a held account.** The workspace must still rent the account
//!   ([`MediaError::AccountNotHeld`]); the connection is the account's one connection, given back when the
//!   stream ends (or is dropped).

use crate::accounts::gateway::{GatewayError, MediaDownload, MediaInfo, MediaKind};
use crate::accounts::pool::connections::{Connected, Connections};
use crate::accounts::pool::records::AccountStatus;
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::{MessageId, WorkspaceId};
use crate::tenancy::api_keys::Scope;
use crate::tenancy::{Role, TenantScope};

use super::records::MessageRecord;
use super::service::InboxService;

/// How many times a fetch tries for the account's connection while a sync holds it.
const CONNECT_ATTEMPTS: u32 = 10;

/// Why a file cannot be fetched.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The file is larger than the cap the caller allows.
    #[error("the file is larger than the {limit} bytes allowed")]
    TooLarge { limit: u64 },
    /// The workspace no longer rents the account the message came through.
    #[error("the workspace no longer rents the account this message came through")]
    AccountNotHeld,
    #[error(transparent)]
    Domain(#[from] DomainError),
}

/// A file on its way to the caller: its description and its chunks, holding the account's connection until
/// the last chunk (or until dropped).
#[derive(Debug)]
pub struct MediaStream {
    pub info: MediaInfo,
    /// The message the file belongs to (a download that names no file is named after it).
    pub message_id: MessageId,
    download: MediaDownload,
    connection: Option<(Connections, Connected)>,
}

impl MediaStream {
    /// The next chunk; `None` at the end. The connection is given back at the end or at the first error.
    pub async fn next_chunk(&mut self) -> Option<Result<Vec<u8>, GatewayError>> {
        let next = self.download.next_chunk().await;
        if !matches!(next, Some(Ok(_))) {
            self.release().await;
        }
        next
    }

    async fn release(&mut self) {
        if let Some((connections, connected)) = self.connection.take()
            && let Err(error) = connections.disconnect(connected).await
        {
            tracing::warn!(%error, "giving back the account's connection after a download failed");
        }
    }
}

impl Drop for MediaStream {
    fn drop(&mut self) {
        // A caller that went away mid-file: give the connection back without waiting for its lease to lapse.
        if let Some((connections, connected)) = self.connection.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                if let Err(error) = connections.disconnect(connected).await {
                    tracing::warn!(%error, "giving back the account's connection after a download failed");
                }
            });
        }
    }
}

impl InboxService {
    /// The workspace of a message named by id: an API key's own, or for a person the one of their workspaces
    /// that holds it.
    #[tracing::instrument(skip_all)]
    pub async fn message_workspace(&self, principal: &Principal, id: MessageId) -> DomainResult<WorkspaceId> {
        match principal {
            Principal::ApiKey { workspace_id, .. } => Ok(*workspace_id),
            Principal::User { user_id, .. } => self
                .store
                .message_workspace_of_member(*user_id, id)
                .await?
                .ok_or(DomainError::NotFound("message")),
        }
    }

    /// Streams the media of the workspace's message `id`, at most `max_bytes` (VIEWER and above, or keys with
    /// `INBOX_READ`).
    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn fetch_media(
        &self,
        scope: &TenantScope,
        id: MessageId,
        max_bytes: u64,
    ) -> Result<MediaStream, MediaError> {
        scope.require(Role::Viewer, Some(Scope::InboxRead), "reading the inbox")?;
        let message = self
            .store
            .find_message(scope, id)
            .await
            .map_err(DomainError::from)?
            .ok_or(DomainError::NotFound("message"))?;
        let (info, telegram_id) = fetchable(&message, max_bytes)?;
        let account = self
            .store
            .find_account(Some(scope), message.account_id)
            .await
            .map_err(DomainError::from)?
            .filter(|a| a.status == AccountStatus::Leased && a.leased_to == Some(scope.workspace_id()))
            .ok_or(MediaError::AccountNotHeld)?;
        let connected = self.connect_within(&account, CONNECT_ATTEMPTS).await?;
        match connected
            .connection
            .download_media(message.peer, telegram_id, max_bytes)
            .await
        {
            Ok(download) => Ok(MediaStream {
                info: merged(info, download.info.clone()),
                message_id: message.id,
                download,
                connection: Some((self.connections.clone(), connected)),
            }),
            Err(error) => {
                self.connections.disconnect(connected).await?;
                Err(match error {
                    GatewayError::FileTooLarge { limit } => MediaError::TooLarge { limit },
                    GatewayError::NoMedia => MediaError::Domain(DomainError::NotFound("media")),
                    // Telegram or the network is down: nothing to say about the account, try again later.
                    GatewayError::Network(_) => MediaError::Domain(DomainError::AccountUnavailable(
                        "Telegram cannot be reached now".to_owned(),
                    )),
                    other => MediaError::Domain(self.connections.refused(&account, &other).await?),
                })
            }
        }
    }
}

/// What a stored message allows to fetch: its media and Telegram's id, or why not.
fn fetchable(message: &MessageRecord, max_bytes: u64) -> Result<(MediaInfo, i32), MediaError> {
    let (Some(info), Some(telegram_id), None) = (&message.media, message.telegram_id, message.deleted_at) else {
        // No media, never sent, or deleted on Telegram: nothing to fetch.
        return Err(DomainError::NotFound("media").into());
    };
    if info.size_bytes.is_some_and(|size| size > max_bytes) {
        return Err(MediaError::TooLarge { limit: max_bytes });
    }
    Ok((info.clone(), telegram_id))
}

/// The stored description completed by what the gateway says of the file now.
fn merged(stored: MediaInfo, fetched: MediaInfo) -> MediaInfo {
    MediaInfo {
        kind: stored.kind.or(fetched.kind).or(Some(MediaKind::Document)),
        file_name: stored.file_name.or(fetched.file_name),
        size_bytes: fetched.size_bytes.or(stored.size_bytes),
        mime_type: stored.mime_type.or(fetched.mime_type),
        width: stored.width.or(fetched.width),
        height: stored.height.or(fetched.height),
        duration_secs: stored.duration_secs.or(fetched.duration_secs),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::accounts::gateway::PeerKey;
    use crate::ids::{AccountId, DialogId};
    use crate::inbox::{DeliveryStatus, Direction};

    fn message(media: Option<MediaInfo>) -> MessageRecord {
        MessageRecord {
            id: MessageId::generate(),
            workspace_id: WorkspaceId::generate(),
            account_id: AccountId::generate(),
            dialog_id: DialogId::generate(),
            peer: PeerKey::user(42).unwrap(),
            telegram_id: Some(7),
            direction: Direction::Incoming,
            text: String::new(),
            sent_at: Utc::now(),
            edited_at: None,
            reply_to: None,
            status: DeliveryStatus::Sent,
            failure: None,
            deleted_at: None,
            edit_history: Vec::new(),
            media,
        }
    }

    fn photo(size: Option<u64>) -> MediaInfo {
        MediaInfo {
            size_bytes: size,
            ..MediaInfo::of(MediaKind::Photo)
        }
    }

    #[test]
    fn only_a_sent_undeleted_message_with_media_can_be_fetched() {
        assert!(matches!(
            fetchable(&message(None), 100),
            Err(MediaError::Domain(DomainError::NotFound(_)))
        ));
        let mut pending = message(Some(photo(Some(10))));
        pending.telegram_id = None;
        assert!(matches!(
            fetchable(&pending, 100),
            Err(MediaError::Domain(DomainError::NotFound(_)))
        ));
        let mut deleted = message(Some(photo(Some(10))));
        deleted.deleted_at = Some(Utc::now());
        assert!(matches!(
            fetchable(&deleted, 100),
            Err(MediaError::Domain(DomainError::NotFound(_)))
        ));
        assert_eq!(fetchable(&message(Some(photo(Some(10)))), 100).unwrap().1, 7);
    }

    #[test]
    fn a_file_known_to_be_over_the_cap_is_refused_before_any_connection() {
        assert!(matches!(
            fetchable(&message(Some(photo(Some(101)))), 100),
            Err(MediaError::TooLarge { limit: 100 })
        ));
        assert!(
            fetchable(&message(Some(photo(Some(100)))), 100).is_ok(),
            "the cap itself is allowed"
        );
        assert!(
            fetchable(&message(Some(photo(None))), 100).is_ok(),
            "an unknown size is the gateway's to cap"
        );
    }

    #[test]
    fn the_stored_description_wins_and_the_gateway_fills_what_it_lacks() {
        let stored = MediaInfo {
            file_name: Some("cat.jpg".to_owned()),
            ..photo(None)
        };
        let fetched = MediaInfo {
            size_bytes: Some(5),
            mime_type: Some("image/jpeg".to_owned()),
            file_name: Some("other.jpg".to_owned()),
            ..MediaInfo::default()
        };
        let info = merged(stored, fetched);
        assert_eq!(info.file_name.as_deref(), Some("cat.jpg"));
        assert_eq!(info.size_bytes, Some(5));
        assert_eq!(info.mime_type.as_deref(), Some("image/jpeg"));
        assert_eq!(info.kind, Some(MediaKind::Photo));
    }
}
