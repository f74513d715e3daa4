//! GraphQL views of pool accounts and leases. No field ever carries a session payload, a key fingerprint or a
//! full phone number: the records hold them sealed or masked, and these views copy only what is listed here.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tgos_domain::accounts::pool::{
    AccountRecord, AccountStatus as DomainAccountStatus, LeaseRecord, LeaseStatus as DomainLeaseStatus,
};
use tgos_domain::tenancy::TenantScope;

use crate::graphql::accounts_service;
use crate::graphql::billing::types::Money;
use crate::graphql::errors::ApiResult;

/// An account on offer in the pool.
#[derive(Debug, SimpleObject)]
pub struct AccountOffer {
    pub id: ID,
    /// ISO 3166-1 alpha-2 code of the account's phone number, when known.
    pub country: Option<String>,
    pub price_per_day: Money,
    /// Whole days since the Telegram account was registered, when known.
    pub account_age_days: Option<i64>,
    pub premium: bool,
    /// Lives on the sandbox gateway's simulated network, not on Telegram.
    pub sandbox: bool,
}

impl AccountOffer {
    pub fn new(record: AccountRecord, now: DateTime<Utc>) -> Self {
        Self {
            id: ID(record.id.to_string()),
            country: record.profile.country.as_ref().map(|c| c.as_str().to_owned()),
            price_per_day: record.price_per_day.into(),
            account_age_days: record.age_days(now),
            premium: record.profile.premium,
            sandbox: record.sandbox,
        }
    }
}

pub type AccountOfferConnection = Connection<String, AccountOffer>;

/// Where an account stands in the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AccountStatus {
    Available,
    Leased,
    Retired,
}

impl From<DomainAccountStatus> for AccountStatus {
    fn from(status: DomainAccountStatus) -> Self {
        match status {
            DomainAccountStatus::Available => Self::Available,
            DomainAccountStatus::Leased => Self::Leased,
            DomainAccountStatus::Retired => Self::Retired,
        }
    }
}

/// A Telegram account the workspace holds.
#[derive(Debug, SimpleObject)]
pub struct TelegramAccount {
    pub id: ID,
    pub display_name: Option<String>,
    pub username: Option<String>,
    /// The phone number with all but its first and last digits hidden.
    pub phone_masked: Option<String>,
    pub country: Option<String>,
    pub premium: bool,
    pub status: AccountStatus,
    /// Lives on the sandbox gateway's simulated network, not on Telegram.
    pub sandbox: bool,
    /// When the workspace's current lease ends.
    pub leased_until: Option<DateTime<Utc>>,
}

impl From<AccountRecord> for TelegramAccount {
    fn from(record: AccountRecord) -> Self {
        Self {
            id: ID(record.id.to_string()),
            display_name: record.profile.display_name,
            username: record.profile.username,
            phone_masked: record.profile.phone_masked,
            country: record.profile.country.as_ref().map(|c| c.as_str().to_owned()),
            premium: record.profile.premium,
            status: record.status.into(),
            sandbox: record.sandbox,
            leased_until: record.leased_until,
        }
    }
}

pub type TelegramAccountConnection = Connection<String, TelegramAccount>;

/// Where a lease stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum LeaseStatus {
    Active,
    /// Given back early.
    Released,
    /// Ran out.
    Expired,
}

impl From<DomainLeaseStatus> for LeaseStatus {
    fn from(status: DomainLeaseStatus) -> Self {
        match status {
            DomainLeaseStatus::Active => Self::Active,
            DomainLeaseStatus::Released => Self::Released,
            DomainLeaseStatus::Expired => Self::Expired,
        }
    }
}

/// A workspace's rental of one account.
#[derive(Debug)]
pub struct Lease {
    pub record: LeaseRecord,
    pub scope: TenantScope,
}

#[Object]
impl Lease {
    async fn id(&self) -> ID {
        ID(self.record.id.to_string())
    }

    /// The account, while the workspace holds it; `null` once the lease ended and it went back to the pool.
    async fn account(&self, ctx: &Context<'_>) -> ApiResult<Option<TelegramAccount>> {
        if self.record.status != DomainLeaseStatus::Active {
            return Ok(None);
        }
        let account = accounts_service(ctx)?
            .account(&self.scope, self.record.account_id)
            .await?
            .filter(|a| a.leased_to == Some(self.scope.workspace_id()));
        Ok(account.map(TelegramAccount::from))
    }

    async fn starts_at(&self) -> DateTime<Utc> {
        self.record.starts_at
    }

    async fn ends_at(&self) -> DateTime<Utc> {
        self.record.ends_at
    }

    async fn status(&self) -> LeaseStatus {
        self.record.status.into()
    }

    async fn price_per_day(&self) -> Money {
        self.record.price_per_day.into()
    }
}

pub type LeaseConnection = Connection<String, Lease>;
