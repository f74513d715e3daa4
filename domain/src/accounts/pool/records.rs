//! What the pool stores about an account and its leases.
//!
//! Rule: an account's session payload is only ever held sealed ([`SealedPayload`]): under the platform's key
//! while it is in the pool, under the renting workspace's key while it is leased. Its phone number is kept
//! masked only; the key fingerprint (SHA-256 of the auth key) tells a re-imported session apart without
//! revealing it.

use chrono::{DateTime, NaiveDate, Utc};

use crate::accounts::CountryCode;
use crate::billing::Money;
use crate::ids::{AccountId, LeaseId, UserId, WorkspaceId};
use crate::vault::SealedPayload;

/// Where an account stands in the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountStatus {
    /// On offer: no workspace has it.
    Available,
    /// Rented by one workspace until its lease ends.
    Leased,
    /// Taken out of the pool by staff; never offered again.
    Retired,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "AVAILABLE",
            Self::Leased => "LEASED",
            Self::Retired => "RETIRED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Available, Self::Leased, Self::Retired]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// What is shown about an account, validated at import.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountProfile {
    pub display_name: Option<String>,
    pub username: Option<String>,
    /// `+44 ••••••••56`; the full number is never stored.
    pub phone_masked: Option<String>,
    pub country: Option<CountryCode>,
    pub premium: bool,
    /// When the Telegram account was registered, if the seller said.
    pub account_created: Option<NaiveDate>,
}

/// One account of the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: AccountId,
    pub status: AccountStatus,
    /// Lives on the simulated Telegram network of the sandbox gateway, not on Telegram.
    pub sandbox: bool,
    pub profile: AccountProfile,
    pub dc_id: u8,
    pub telegram_user_id: Option<i64>,
    /// SHA-256 of the auth key: unique in the pool, so one session is never imported twice.
    pub key_fingerprint: [u8; 32],
    pub sealed: SealedPayload,
    pub price_per_day: Money,
    pub leased_to: Option<WorkspaceId>,
    /// When the current holder's lease began: what it may see of the account's history starts here.
    pub leased_since: Option<DateTime<Utc>>,
    pub leased_until: Option<DateTime<Utc>>,
    /// When staff retired it while it was leased: it leaves the pool when that lease ends (see `rules`).
    pub retiring_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AccountRecord {
    /// Whole days since registration, when known.
    pub fn age_days(&self, now: DateTime<Utc>) -> Option<i64> {
        self.profile
            .account_created
            .map(|created| (now.date_naive() - created).num_days().max(0))
    }
}

/// Where a lease stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaseStatus {
    Active,
    /// Given back early by the workspace.
    Released,
    /// Ran out; the sweep returned the account to the pool.
    Expired,
}

impl LeaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Released => "RELEASED",
            Self::Expired => "EXPIRED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Active, Self::Released, Self::Expired]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A workspace's rental of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRecord {
    pub id: LeaseId,
    pub workspace_id: WorkspaceId,
    pub account_id: AccountId,
    pub status: LeaseStatus,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The price per day it was rented (and is renewed) at.
    pub price_per_day: Money,
    /// The person who rented it; `None` when an API key did (the audit entry names the key).
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
