//! GraphQL views of pool accounts and leases. No field ever carries a session payload, a key fingerprint or a
//! full phone number: the records hold them sealed or masked, and these views copy only what is listed here.
//! Nested reads (an account's health and counters, a lease's account) go through the operation's loaders, so
//! a page of accounts or leases costs the same statements however long it is.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use tgos_domain::DomainError;
use tgos_domain::accounts::health::{DayCounts, HealthState as DomainHealthState, HealthStateKind};
use tgos_domain::accounts::pool::use_cases::health::HealthView;
use tgos_domain::accounts::pool::{
    AccountRecord, AccountStatus as DomainAccountStatus, LeaseRecord, LeaseStatus as DomainLeaseStatus,
};
use tgos_domain::tenancy::TenantScope;

use crate::graphql::billing::types::Money;
use crate::graphql::errors::ApiResult;
use crate::graphql::loaders::{CountersOf, HealthOf, HeldAccount, load};

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
#[derive(Debug)]
pub struct TelegramAccount {
    pub record: AccountRecord,
    pub scope: TenantScope,
}

#[Object]
impl TelegramAccount {
    async fn id(&self) -> ID {
        ID(self.record.id.to_string())
    }

    async fn display_name(&self) -> Option<&str> {
        self.record.profile.display_name.as_deref()
    }

    async fn username(&self) -> Option<&str> {
        self.record.profile.username.as_deref()
    }

    /// The phone number with all but its first and last digits hidden.
    async fn phone_masked(&self) -> Option<&str> {
        self.record.profile.phone_masked.as_deref()
    }

    async fn country(&self) -> Option<&str> {
        self.record.profile.country.as_ref().map(|c| c.as_str())
    }

    async fn premium(&self) -> bool {
        self.record.profile.premium
    }

    async fn status(&self) -> AccountStatus {
        self.record.status.into()
    }

    /// Lives on the sandbox gateway's simulated network, not on Telegram.
    async fn sandbox(&self) -> bool {
        self.record.sandbox
    }

    /// When the workspace's current lease ends.
    async fn leased_until(&self) -> Option<DateTime<Utc>> {
        self.record.leased_until
    }

    /// The account's standing with Telegram now: its hard state, risk score and the signals behind it.
    async fn health(&self, ctx: &Context<'_>) -> ApiResult<AccountHealth> {
        let view = load(ctx, HealthOf(self.scope.clone(), self.record.id))
            .await?
            .ok_or(DomainError::NotFound("account"))?;
        Ok(AccountHealth::from(view))
    }

    /// Engagement per UTC day over the last `days` days (default 7, at most 90), oldest first; days without
    /// activity are absent.
    #[graphql(complexity = "crate::graphql::paging::list_cost(days, child_complexity)")]
    async fn counters(&self, ctx: &Context<'_>, #[graphql(default = 7)] days: i32) -> ApiResult<Vec<DayCounters>> {
        let key = CountersOf {
            scope: self.scope.clone(),
            account: self.record.id,
            days: i64::from(days),
        };
        let days = load(ctx, key).await?.ok_or(DomainError::NotFound("account"))?;
        Ok(days.into_iter().map(DayCounters::from).collect())
    }
}

/// An account's hard state with Telegram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum HealthState {
    Active,
    /// Waiting out a flood wait until `cooldownUntil`.
    Cooldown,
    /// Paused by an operator.
    Paused,
    /// Telegram limited it for spam (peer flood).
    Limited,
    Frozen,
    /// The session was revoked or expired; the account must sign in again.
    SessionInvalid,
    Banned,
}

impl From<&DomainHealthState> for HealthState {
    fn from(state: &DomainHealthState) -> Self {
        Self::from(state.kind())
    }
}

impl From<HealthStateKind> for HealthState {
    fn from(kind: HealthStateKind) -> Self {
        match kind {
            HealthStateKind::Active => Self::Active,
            HealthStateKind::Cooldown => Self::Cooldown,
            HealthStateKind::Paused => Self::Paused,
            HealthStateKind::Limited => Self::Limited,
            HealthStateKind::Frozen => Self::Frozen,
            HealthStateKind::SessionInvalid => Self::SessionInvalid,
            HealthStateKind::Banned => Self::Banned,
        }
    }
}

impl HealthState {
    /// The domain's state kind.
    pub fn kind(self) -> HealthStateKind {
        match self {
            Self::Active => HealthStateKind::Active,
            Self::Cooldown => HealthStateKind::Cooldown,
            Self::Paused => HealthStateKind::Paused,
            Self::Limited => HealthStateKind::Limited,
            Self::Frozen => HealthStateKind::Frozen,
            Self::SessionInvalid => HealthStateKind::SessionInvalid,
            Self::Banned => HealthStateKind::Banned,
        }
    }
}

/// Points of bad signals observed in the 15 minutes ending at `at`.
#[derive(Debug, SimpleObject)]
pub struct HealthSignals {
    pub at: DateTime<Utc>,
    pub points: i32,
}

/// An account's health. Sending stops in any state but ACTIVE; automated sending also stops at risk 50.
#[derive(Debug, SimpleObject)]
pub struct AccountHealth {
    pub state: HealthState,
    /// 0 (nothing recent) to 100.
    pub risk_score: i32,
    /// Every restriction in force, most severe first.
    pub restrictions: Vec<HealthState>,
    /// When a flood-wait cooldown ends, while one is in force.
    pub cooldown_until: Option<DateTime<Utc>>,
    /// The risk ledger of the last 24 hours, oldest first.
    pub signals: Vec<HealthSignals>,
    pub last_observed_at: Option<DateTime<Utc>>,
}

impl From<HealthView> for AccountHealth {
    fn from(view: HealthView) -> Self {
        Self {
            state: (&view.state).into(),
            risk_score: i32::from(view.risk.value()),
            restrictions: view.restrictions.iter().map(HealthState::from).collect(),
            cooldown_until: view.state.cooldown_until(),
            signals: view
                .signals
                .iter()
                .map(|bucket| HealthSignals {
                    at: bucket.at,
                    points: i32::try_from(bucket.points).unwrap_or(i32::MAX),
                })
                .collect(),
            last_observed_at: view.last_observed_at,
        }
    }
}

/// One UTC day's engagement of an account.
#[derive(Debug, SimpleObject)]
pub struct DayCounters {
    pub day: NaiveDate,
    pub messages_sent: i64,
    pub messages_received: i64,
    /// Sent messages that replied to something the peer wrote.
    pub replies: i64,
    pub distinct_peers: i64,
}

impl From<DayCounts> for DayCounters {
    fn from(counts: DayCounts) -> Self {
        Self {
            day: counts.day,
            messages_sent: counts.sent,
            messages_received: counts.received,
            replies: counts.replies,
            distinct_peers: counts.distinct_peers,
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
        let account = load(ctx, HeldAccount(self.scope.clone(), self.record.account_id)).await?;
        Ok(account.map(|record| TelegramAccount {
            record,
            scope: self.scope.clone(),
        }))
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
