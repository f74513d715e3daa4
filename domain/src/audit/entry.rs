//! What an audit entry holds, and its hash.

use chrono::{DateTime, SubsecRound as _, Utc};
use serde::Serialize;

use crate::identity::Principal;
use crate::ids::{AuditEntryId, UserId, WorkspaceId};
use crate::request::ClientInfo;

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActorKind {
    User,
    ApiKey,
    Staff,
    /// The service itself, or nobody known (a failed sign-in for an unknown login).
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "USER",
            ActorKind::ApiKey => "API_KEY",
            ActorKind::Staff => "STAFF",
            ActorKind::System => "SYSTEM",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [ActorKind::User, ActorKind::ApiKey, ActorKind::Staff, ActorKind::System]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<String>,
    /// The actor's name when the entry was written (entries outlive renames).
    pub display_name: String,
}

impl Actor {
    pub fn user(id: UserId, display_name: &str) -> Self {
        Self {
            kind: ActorKind::User,
            id: Some(id.to_string()),
            display_name: display_name.to_owned(),
        }
    }

    /// A staff member acting through the console.
    pub fn staff(id: UserId, display_name: &str) -> Self {
        Self {
            kind: ActorKind::Staff,
            id: Some(id.to_string()),
            display_name: display_name.to_owned(),
        }
    }

    pub fn system() -> Self {
        Self {
            kind: ActorKind::System,
            id: None,
            display_name: "system".to_owned(),
        }
    }

    pub fn of(principal: &Principal) -> Self {
        match principal {
            Principal::User {
                user_id, display_name, ..
            } => Self::user(*user_id, display_name),
            Principal::ApiKey {
                key_id, display_name, ..
            } => Self {
                kind: ActorKind::ApiKey,
                id: Some(key_id.to_string()),
                display_name: display_name.clone(),
            },
        }
    }
}

/// Which chain an entry belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChainId {
    Workspace(WorkspaceId),
    User(UserId),
    Platform,
}

impl ChainId {
    pub fn key(&self) -> String {
        match self {
            ChainId::Workspace(id) => format!("workspace:{id}"),
            ChainId::User(id) => format!("user:{id}"),
            ChainId::Platform => "platform".to_owned(),
        }
    }

    pub fn workspace(&self) -> Option<WorkspaceId> {
        match self {
            ChainId::Workspace(id) => Some(*id),
            _ => None,
        }
    }
}

/// An entry as a use case describes it.
#[derive(Debug, Clone)]
pub struct AuditDraft {
    pub chain: ChainId,
    pub actor: Actor,
    /// Dotted, e.g. `member.role_changed`, `auth.sign_in_failed`.
    pub action: &'static str,
    pub target_type: Option<&'static str>,
    pub target_id: Option<String>,
    pub client: ClientInfo,
    /// Small structured details; never secrets.
    pub metadata: serde_json::Value,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: AuditEntryId,
    pub chain: String,
    pub sequence: i64,
    pub workspace_id: Option<WorkspaceId>,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    /// The metadata as canonical JSON text (the exact bytes hashed).
    pub metadata: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    /// How the hash covers the personal fields ([`super::hashing`]).
    pub seal: PersonalSeal,
}

/// How an entry's hash covers its personal fields (chain key, actor, target id, IP, user agent, metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonalSeal {
    /// Written before redaction existed: the hash covers every field directly. Redacting such an entry leaves
    /// only its link to its neighbours checkable (`redacted_at` set).
    V1 { redacted_at: Option<DateTime<Utc>> },
    /// The hash covers the non-personal fields and `digest` = SHA-256(salt ‖ personal fields). While `salt` is
    /// kept the digest is recomputed from the fields; redaction removes the salt and sets `redacted_at`.
    V2 {
        salt: Option<Vec<u8>>,
        digest: Vec<u8>,
        redacted_at: Option<DateTime<Utc>>,
    },
}

impl PersonalSeal {
    pub fn version(&self) -> i16 {
        match self {
            PersonalSeal::V1 { .. } => 1,
            PersonalSeal::V2 { .. } => 2,
        }
    }

    pub fn redacted_at(&self) -> Option<DateTime<Utc>> {
        match self {
            PersonalSeal::V1 { redacted_at } | PersonalSeal::V2 { redacted_at, .. } => *redacted_at,
        }
    }
}

/// The hash of the first entry's predecessor.
pub const GENESIS: [u8; 32] = [0; 32];

impl AuditRecord {
    /// Microsecond precision: what both databases store, so a re-read entry hashes the same.
    pub fn normalize_time(at: DateTime<Utc>) -> DateTime<Utc> {
        at.trunc_subsecs(6)
    }
}
