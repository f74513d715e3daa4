//! GraphQL views of money, the wallet and top-ups.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tgos_domain::billing::ledger::EntryKind as DomainEntryKind;
use tgos_domain::billing::money::Money as DomainMoney;
use tgos_domain::billing::ports::WalletEntry;
use tgos_domain::billing::{Provider, TopUpRecord, TopUpStatus as DomainTopUpStatus};
use tgos_domain::ids::PostingId;
use tgos_domain::tenancy::TenantScope;

use crate::graphql::billing_service;
use crate::graphql::errors::ApiResult;
use crate::graphql::tenancy::connection::{page_size, parse_cursor};

/// An amount in integer minor units (cents) of a currency.
#[derive(Debug, SimpleObject)]
pub struct Money {
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// For display, e.g. `12.34 USD`.
    pub formatted: String,
}

impl From<DomainMoney> for Money {
    fn from(money: DomainMoney) -> Self {
        Self {
            amount_minor: money.minor(),
            currency: money.currency().code().to_owned(),
            formatted: money.to_string(),
        }
    }
}

/// What a ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum LedgerEntryKind {
    TopUp,
    Charge,
    Refund,
    Reversal,
    /// Credit given by the platform (the demo's starting credit, goodwill).
    Grant,
}

impl From<DomainEntryKind> for LedgerEntryKind {
    fn from(kind: DomainEntryKind) -> Self {
        match kind {
            DomainEntryKind::TopUp => LedgerEntryKind::TopUp,
            DomainEntryKind::Charge => LedgerEntryKind::Charge,
            DomainEntryKind::Refund => LedgerEntryKind::Refund,
            DomainEntryKind::Reversal => LedgerEntryKind::Reversal,
            DomainEntryKind::Grant => LedgerEntryKind::Grant,
        }
    }
}

/// One movement of the wallet, with the balance it left.
#[derive(Debug, SimpleObject)]
pub struct LedgerEntry {
    pub id: ID,
    pub at: DateTime<Utc>,
    pub kind: LedgerEntryKind,
    /// Signed: positive credits the wallet, negative spends from it.
    pub amount: Money,
    pub balance_after: Money,
    pub description: String,
    /// The unique reference the movement was applied under (a top-up step or an idempotency key).
    pub reference: String,
}

impl From<WalletEntry> for LedgerEntry {
    fn from(entry: WalletEntry) -> Self {
        Self {
            id: ID(entry.id.to_string()),
            at: entry.at,
            kind: entry.kind.into(),
            amount: entry.amount.into(),
            balance_after: entry.balance_after.into(),
            description: entry.description,
            reference: entry.reference,
        }
    }
}

pub type LedgerEntryConnection = Connection<String, LedgerEntry>;

/// A workspace's prepaid wallet (ADMIN and OWNER, or an API key with `BILLING_READ`).
#[derive(Debug)]
pub struct Wallet {
    pub scope: TenantScope,
    pub balance: DomainMoney,
}

#[Object]
impl Wallet {
    async fn balance(&self) -> Money {
        self.balance.into()
    }

    /// Entries newest first, `first` at most 100.
    async fn entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<LedgerEntryConnection> {
        let limit = page_size(first)?;
        let before: Option<PostingId> = parse_cursor(after.as_deref())?;
        let mut page = billing_service(ctx)?
            .wallet_entries(&self.scope, before, limit + 1)
            .await?;
        let has_next = page.len() as u64 > limit;
        page.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut connection = Connection::new(before.is_some(), has_next);
        connection.edges.extend(
            page.into_iter()
                .map(|entry| Edge::new(entry.id.to_string(), LedgerEntry::from(entry))),
        );
        Ok(connection)
    }
}

/// A payment provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PaymentProvider {
    Stripe,
    Nowpayments,
}

impl From<PaymentProvider> for Provider {
    fn from(provider: PaymentProvider) -> Self {
        match provider {
            PaymentProvider::Stripe => Provider::Stripe,
            PaymentProvider::Nowpayments => Provider::NowPayments,
        }
    }
}

impl From<Provider> for PaymentProvider {
    fn from(provider: Provider) -> Self {
        match provider {
            Provider::Stripe => PaymentProvider::Stripe,
            Provider::NowPayments => PaymentProvider::Nowpayments,
        }
    }
}

/// Where a top-up stands; it only moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TopUpStatus {
    Pending,
    Expired,
    Failed,
    PartiallyPaid,
    Paid,
}

impl From<DomainTopUpStatus> for TopUpStatus {
    fn from(status: DomainTopUpStatus) -> Self {
        match status {
            DomainTopUpStatus::Pending => TopUpStatus::Pending,
            DomainTopUpStatus::Expired => TopUpStatus::Expired,
            DomainTopUpStatus::Failed => TopUpStatus::Failed,
            DomainTopUpStatus::PartiallyPaid => TopUpStatus::PartiallyPaid,
            DomainTopUpStatus::Paid => TopUpStatus::Paid,
        }
    }
}

/// A payment started with a provider; the wallet is credited when the provider confirms it.
#[derive(Debug, SimpleObject)]
pub struct TopUp {
    pub id: ID,
    pub status: TopUpStatus,
    /// The provider's payment page.
    pub checkout_url: Option<String>,
    pub amount: Money,
    pub provider: PaymentProvider,
}

impl From<TopUpRecord> for TopUp {
    fn from(record: TopUpRecord) -> Self {
        Self {
            id: ID(record.id.to_string()),
            status: record.status.into(),
            checkout_url: record.checkout_url,
            amount: record.amount.into(),
            provider: record.provider.into(),
        }
    }
}
