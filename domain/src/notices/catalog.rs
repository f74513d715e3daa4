//! Every notice the service sends, what it says, and whether a person can turn it off.
//!
//! Rule: security and account notices always go (a person must learn that their password changed or that
//! their account closes); billing and lease notices follow the person's preferences. A notice carries no
//! secret: links are signed when the notice is sent ([`super::send`]), never stored in its queue row.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::identity::records::UserRecord;
use crate::ids::{LeaseId, WorkspaceId};

/// Who may turn a notice off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Sign-ins, password, two-factor, email, API keys: always sent.
    Security,
    /// Requests about the person's own data and account: always sent.
    Account,
    /// Top-ups credited, low balance: `users.notify_billing`.
    Billing,
    /// Leases ending and ended: `users.notify_leases`.
    Leases,
}

impl Category {
    /// Whether `user` gets notices of this category.
    pub fn wanted_by(self, user: &UserRecord) -> bool {
        match self {
            Category::Security | Category::Account => true,
            Category::Billing => user.notify_billing,
            Category::Leases => user.notify_leases,
        }
    }
}

/// One notice, with what it needs to be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum Notice {
    /// Sign-up: confirm the address (the link is bound to the address the account has when it is sent).
    VerifyEmail,
    /// An email change was asked for: confirm the new address (sent to it).
    ConfirmEmailChange,
    /// An email change was asked for (sent to the current address, which keeps working until it is confirmed).
    EmailChangeRequested {
        new_email: String,
    },
    /// The address changed (sent to the old one).
    EmailChanged {
        new_email: String,
    },
    /// A sign-in from a device or address not seen on the account before.
    NewSignIn {
        ip_address: Option<String>,
        user_agent: Option<String>,
        at: DateTime<Utc>,
    },
    PasswordChanged,
    TwoFactorEnabled,
    TwoFactorDisabled,
    BackupCodesRegenerated,
    ApiKeyCreated {
        workspace: String,
        key_name: String,
    },
    TopUpCredited {
        workspace: String,
        amount: String,
    },
    LowBalance {
        workspace: String,
        balance: String,
        threshold: String,
    },
    /// Sent 24 hours before the end; skipped when the lease was renewed or ended meanwhile.
    LeaseEnding {
        workspace_id: WorkspaceId,
        workspace: String,
        lease_id: LeaseId,
        ends_at: DateTime<Utc>,
    },
    LeaseEnded {
        workspace: String,
        ended_at: DateTime<Utc>,
    },
    /// The archive is ready: the person downloads it from the app, signed in (no token travels by mail).
    ExportReady {
        expires_at: DateTime<Utc>,
    },
    DeletionScheduled {
        erase_at: DateTime<Utc>,
    },
    DeletionCancelled,
    DeletionDone,
    /// Staff suspended the account (the reason is theirs to give).
    AccountSuspended {
        reason: String,
    },
    AccountUnsuspended,
    RequestStatus {
        kind: String,
        status: String,
        resolution: Option<String>,
        /// When it will be answered by, when that changed (an extension).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        answer_by: Option<DateTime<Utc>>,
    },
}

impl Notice {
    pub fn category(&self) -> Category {
        match self {
            Notice::VerifyEmail
            | Notice::ConfirmEmailChange
            | Notice::EmailChangeRequested { .. }
            | Notice::EmailChanged { .. }
            | Notice::NewSignIn { .. }
            | Notice::PasswordChanged
            | Notice::TwoFactorEnabled
            | Notice::TwoFactorDisabled
            | Notice::BackupCodesRegenerated
            | Notice::ApiKeyCreated { .. } => Category::Security,
            Notice::ExportReady { .. }
            | Notice::DeletionScheduled { .. }
            | Notice::DeletionCancelled
            | Notice::DeletionDone
            | Notice::AccountSuspended { .. }
            | Notice::AccountUnsuspended
            | Notice::RequestStatus { .. } => Category::Account,
            Notice::TopUpCredited { .. } | Notice::LowBalance { .. } => Category::Billing,
            Notice::LeaseEnding { .. } | Notice::LeaseEnded { .. } => Category::Leases,
        }
    }

    /// The stable name of the notice (logs, tests).
    pub fn name(&self) -> &'static str {
        match self {
            Notice::VerifyEmail => "verify_email",
            Notice::ConfirmEmailChange => "confirm_email_change",
            Notice::EmailChangeRequested { .. } => "email_change_requested",
            Notice::EmailChanged { .. } => "email_changed",
            Notice::NewSignIn { .. } => "new_sign_in",
            Notice::PasswordChanged => "password_changed",
            Notice::TwoFactorEnabled => "two_factor_enabled",
            Notice::TwoFactorDisabled => "two_factor_disabled",
            Notice::BackupCodesRegenerated => "backup_codes_regenerated",
            Notice::ApiKeyCreated { .. } => "api_key_created",
            Notice::TopUpCredited { .. } => "top_up_credited",
            Notice::LowBalance { .. } => "low_balance",
            Notice::LeaseEnding { .. } => "lease_ending",
            Notice::LeaseEnded { .. } => "lease_ended",
            Notice::ExportReady { .. } => "export_ready",
            Notice::DeletionScheduled { .. } => "deletion_scheduled",
            Notice::DeletionCancelled => "deletion_cancelled",
            Notice::DeletionDone => "deletion_done",
            Notice::AccountSuspended { .. } => "account_suspended",
            Notice::AccountUnsuspended => "account_unsuspended",
            Notice::RequestStatus { .. } => "request_status",
        }
    }
}
