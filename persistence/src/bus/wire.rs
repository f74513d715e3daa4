//! What an event looks like on the wire: JSON of the stored event, workspace and sequence included, so a
//! replica needs no database read to pass it on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tgos_domain::events::{AccessChange, InboxEvent, StoredEvent};
use tgos_domain::ids::{AccountId, WorkspaceId};

#[derive(Debug, Serialize, Deserialize)]
struct WireEvent {
    workspace_id: WorkspaceId,
    sequence: i64,
    account_id: Option<AccountId>,
    occurred_at: DateTime<Utc>,
    event: InboxEvent,
}

pub(super) fn encode(event: &StoredEvent) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&WireEvent {
        workspace_id: event.workspace_id,
        sequence: event.sequence,
        account_id: event.account_id,
        occurred_at: event.occurred_at,
        event: event.event.clone(),
    })
}

pub(super) fn decode(bytes: &[u8]) -> Result<StoredEvent, serde_json::Error> {
    let wire: WireEvent = serde_json::from_slice(bytes)?;
    Ok(StoredEvent {
        workspace_id: wire.workspace_id,
        sequence: wire.sequence,
        account_id: wire.account_id,
        occurred_at: wire.occurred_at,
        event: wire.event,
    })
}

/// An access change and the replica that made it.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(super) struct WireAccess {
    pub origin: String,
    pub change: AccessChange,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tgos_domain::ids::{DialogId, MessageId, UserId};

    #[test]
    fn an_event_and_an_access_change_read_back_as_they_were_written() {
        let event = StoredEvent {
            workspace_id: WorkspaceId::generate(),
            sequence: 42,
            account_id: Some(AccountId::generate()),
            occurred_at: Utc::now(),
            event: InboxEvent::MessageDeleted {
                message_id: MessageId::generate(),
                dialog_id: DialogId::generate(),
            },
        };
        let bytes = encode(&event).unwrap();
        assert_eq!(decode(&bytes).unwrap(), event);
        assert!(decode(b"{\"workspace_id\": 1}").is_err());
        let access = WireAccess {
            origin: "replica-1".into(),
            change: AccessChange::User(UserId::generate()),
        };
        let text = serde_json::to_string(&access).unwrap();
        assert_eq!(serde_json::from_str::<WireAccess>(&text).unwrap(), access);
    }
}
