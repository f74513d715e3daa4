//! GraphQL views of money, the wallet and top-ups.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use tgos_domain::billing::BillingService;
use tgos_domain::billing::ledger::EntryKind as DomainEntryKind;
use tgos_domain::billing::money::Money as DomainMoney;
use tgos_domain::billing::ports::WalletEntry;
use tgos_domain::billing::{Provider, TopUpRecord, TopUpStatus as DomainTopUpStatus};
use tgos_domain::tenancy::TenantScope;

use crate::graphql::errors::ApiResult;
use crate::graphql::paging::{connection, page_request};
use crate::graphql::service;

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
    #[graphql(complexity = "crate::graphql::paging::page_cost(first, child_complexity)")]
    async fn entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<LedgerEntryConnection> {
        let request = page_request(first, after.as_deref())?;
        let page = service::<BillingService>(ctx)?
            .wallet_entries(&self.scope, request)
            .await?;
        Ok(connection(&request, page, |entry| (entry.id, LedgerEntry::from(entry))))
    }
}

/// `workspace.wallet` (ADMIN and OWNER, or an API key with `BILLING_READ`).
pub(crate) async fn wallet(ctx: &Context<'_>, scope: &TenantScope) -> ApiResult<Wallet> {
    let balance = service::<BillingService>(ctx)?.wallet_balance(scope).await?;
    Ok(Wallet {
        scope: scope.clone(),
        balance,
    })
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
