//! Identifiers: UUIDv7 newtypes, one per entity, so a session id can never be passed where a user id belongs.

use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            pub fn from_uuid(uuid: uuid::Uuid) -> Self {
                Self(uuid)
            }

            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A person's account.
    UserId
);
id_type!(
    /// One signed-in session of a user.
    SessionId
);
id_type!(
    /// A team workspace: the tenant boundary.
    WorkspaceId
);
id_type!(
    /// One entry of the audit log.
    AuditEntryId
);
id_type!(
    /// An invitation to join a workspace.
    InvitationId
);
id_type!(
    /// An integrator's API key.
    ApiKeyId
);
id_type!(
    /// A balanced transaction of the ledger.
    LedgerTransactionId
);
id_type!(
    /// One posting of a ledger transaction (a wallet entry when it is on a wallet).
    PostingId
);
id_type!(
    /// A payment started with a provider to credit a wallet.
    TopUpId
);
id_type!(
    /// A provider notification that did not match its top-up, kept for staff.
    DiscrepancyId
);
id_type!(
    /// A Telegram account of the pool (the platform's own or a workspace's).
    AccountId
);
id_type!(
    /// A workspace's rental of a Telegram account for a period.
    LeaseId
);
id_type!(
    /// One conversation of an account in a workspace's inbox.
    DialogId
);
id_type!(
    /// One message of a dialog.
    MessageId
);
id_type!(
    /// A unit of background work: claimed, leased and retried until it is done or failed.
    JobId
);
id_type!(
    /// A workspace's automation rule.
    AutomationId
);
id_type!(
    /// One run (or decision not to run) of an automation.
    ExecutionId
);
id_type!(
    /// A data-subject request: one exercise of a person's rights under the policy (§8).
    DataSubjectRequestId
);
id_type!(
    /// A lawful request for disclosure registered by staff (policy §6).
    LawfulRequestId
);
id_type!(
    /// One later step of a lawful request (approval, package, delivery), appended to the register.
    LawfulStepId
);
id_type!(
    /// A staff action waiting for a second staff member's approval.
    StaffApprovalId
);
