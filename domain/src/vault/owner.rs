//! Who a data key belongs to, and which version of it.
//!
//! Rule: an owner has one stable text form (`workspace:<uuid>` or `platform`) that goes into associated data
//! and may be stored; it never changes, or every sealed value would stop opening.

use std::fmt;
use std::str::FromStr;

use crate::ids::WorkspaceId;

/// The tenant a data key belongs to: a workspace, or the platform's own account pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyOwner {
    Workspace(WorkspaceId),
    Platform,
    /// The key stored backup codes are hashed under (`identity::backup_codes`): never used to seal.
    BackupCodes,
}

const WORKSPACE_PREFIX: &str = "workspace:";
const PLATFORM: &str = "platform";
const BACKUP_CODES: &str = "backup-codes";

impl KeyOwner {
    /// The stable text form: `workspace:<uuid>` (lower-case, hyphenated), `platform` or `backup-codes`.
    pub fn to_text(&self) -> String {
        match self {
            Self::Workspace(id) => format!("{WORKSPACE_PREFIX}{}", id.as_uuid().hyphenated()),
            Self::Platform => PLATFORM.to_owned(),
            Self::BackupCodes => BACKUP_CODES.to_owned(),
        }
    }
}

impl fmt::Display for KeyOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// The text was not a key owner's stable form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a key owner: expected `workspace:<uuid>`, `platform` or `backup-codes`")]
pub struct MalformedKeyOwner;

impl FromStr for KeyOwner {
    type Err = MalformedKeyOwner;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == PLATFORM {
            return Ok(Self::Platform);
        }
        if text == BACKUP_CODES {
            return Ok(Self::BackupCodes);
        }
        let uuid = text
            .strip_prefix(WORKSPACE_PREFIX)
            .and_then(|rest| uuid::Uuid::parse_str(rest).ok())
            .ok_or(MalformedKeyOwner)?;
        Ok(Self::Workspace(WorkspaceId::from_uuid(uuid)))
    }
}

/// The version of an owner's data key. Versions start at 1 and only grow; the highest is the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyVersion(u32);

impl KeyVersion {
    /// The first version of every owner's key.
    pub const FIRST: Self = Self(1);

    /// A stored version; `None` for 0, which no key ever has.
    pub fn new(version: u32) -> Option<Self> {
        (version >= 1).then_some(Self(version))
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// The version after this one (saturating: four billion rotations are not a real concern).
    pub fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

impl fmt::Display for KeyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_round_trips_through_its_stable_text() {
        let workspace = KeyOwner::Workspace(WorkspaceId::generate());
        for owner in [workspace, KeyOwner::Platform] {
            assert_eq!(owner.to_text().parse::<KeyOwner>(), Ok(owner));
        }
        assert_eq!(KeyOwner::Platform.to_text(), "platform");
        assert!(workspace.to_text().starts_with("workspace:"));
    }

    #[test]
    fn malformed_owner_text_is_refused() {
        for text in [
            "",
            "Platform",
            "workspace:",
            "workspace:nope",
            "tenant:00000000-0000-0000-0000-000000000000",
        ] {
            assert_eq!(text.parse::<KeyOwner>(), Err(MalformedKeyOwner), "{text}");
        }
    }

    #[test]
    fn versions_start_at_one_and_only_grow() {
        assert_eq!(KeyVersion::new(0), None);
        assert_eq!(KeyVersion::new(1), Some(KeyVersion::FIRST));
        assert_eq!(KeyVersion::FIRST.next().get(), 2);
        assert!(KeyVersion::FIRST.next() > KeyVersion::FIRST);
    }
}
