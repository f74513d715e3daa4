//! What billing needs from storage and from payment providers.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::ledger::LedgerTransaction;
use super::matching::PaymentDiscrepancy;
use super::money::{Currency, Money};
use super::top_up::{Provider, TopUpRecord, TopUpStatus};
use crate::error::InternalError;
use crate::ids::{PostingId, TopUpId, WorkspaceId};
use crate::store::StoreResult;
use crate::tenancy::TenantScope;

/// What posting a transaction came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// Applied now; the wallet's balance after it.
    Applied { balance_after: Money },
    /// This reference was applied before with the same postings: nothing changed; the wallet's balance after
    /// that first application.
    AlreadyApplied { balance_after: Money },
    /// This reference was applied before with other postings (or in another workspace): nothing changed.
    ReferenceConflict,
    /// The wallet would go below zero: nothing changed.
    InsufficientFunds { balance: Money },
}

/// A wallet entry: a posting on a workspace's wallet with the balance it left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletEntry {
    pub id: PostingId,
    pub at: DateTime<Utc>,
    pub kind: super::ledger::EntryKind,
    pub amount: Money,
    pub balance_after: Money,
    pub description: String,
    pub reference: String,
}

#[async_trait]
pub trait LedgerRepository: Send + Sync {
    /// Applies `transaction` within the caller's transaction: records it under its unique reference, moves
    /// the wallet balance with a conditional update that never lets it go below zero (unless the transaction
    /// [`LedgerTransaction::allows_debt`]), and stores the postings.
    /// Anything but [`Posted::Applied`] leaves no trace; the caller must not commit partial work on it.
    async fn post(
        &self,
        scope: &TenantScope,
        transaction: &LedgerTransaction,
        now: DateTime<Utc>,
    ) -> StoreResult<Posted>;
    /// The wallet's balance (zero before any movement).
    async fn wallet_balance(&self, scope: &TenantScope, currency: Currency) -> StoreResult<Money>;
    /// Wallet entries newest first, before `before` (exclusive), at most `limit`.
    async fn wallet_entries(
        &self,
        scope: &TenantScope,
        before: Option<PostingId>,
        limit: u64,
    ) -> StoreResult<Vec<WalletEntry>>;
    /// Sum of all postings of the workspace's transactions (zero when the books balance) and, per wallet, the
    /// stored balance against the sum of its postings: the invariants, for tests and the console.
    async fn ledger_check(&self, workspace: WorkspaceId) -> StoreResult<LedgerCheck>;
}

/// The ledger invariants of one workspace as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerCheck {
    pub postings_sum: i64,
    pub wallet_postings_sum: i64,
    pub wallet_balance: i64,
    pub transactions: u64,
}

#[async_trait]
pub trait TopUpRepository: Send + Sync {
    async fn insert_top_up(&self, scope: &TenantScope, top_up: &TopUpRecord) -> StoreResult<()>;
    /// Records the provider's checkout once it exists.
    async fn set_top_up_checkout(
        &self,
        scope: &TenantScope,
        id: TopUpId,
        provider_ref: &str,
        checkout_url: &str,
    ) -> StoreResult<()>;
    /// The top-up with this id in any workspace: a provider's signed notification names it.
    async fn find_top_up(&self, id: TopUpId) -> StoreResult<Option<TopUpRecord>>;
    /// Moves the top-up from `from` to `to` with `credited_minor`; `false` when it is no longer at `from`
    /// (another notification got there first).
    async fn advance_top_up(
        &self,
        scope: &TenantScope,
        id: TopUpId,
        from: TopUpStatus,
        to: TopUpStatus,
        credited_minor: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Records that the provider has refunded `to_refunded_minor` of the top-up in total, from
    /// `from_refunded_minor`; `false` when it is no longer at `from_refunded_minor` (another notification got
    /// there first).
    async fn advance_top_up_refund(
        &self,
        scope: &TenantScope,
        id: TopUpId,
        from_refunded_minor: i64,
        to_refunded_minor: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// How many top-ups this workspace started since `since` (rate limit).
    async fn count_top_ups_since(&self, scope: &TenantScope, since: DateTime<Utc>) -> StoreResult<u64>;
}

/// Platform records of payment matching: notifications that did not match (for staff), and which top-up a
/// provider's payment paid (for its later refunds and disputes). Neither belongs to a tenant.
#[async_trait]
pub trait PaymentMatchingRepository: Send + Sync {
    /// Keeps `discrepancy`; `false` when this provider event was recorded before (nothing changed).
    async fn record_discrepancy(&self, discrepancy: &PaymentDiscrepancy) -> StoreResult<bool>;
    /// Discrepancies newest first, at most `limit`.
    async fn list_discrepancies(&self, limit: u64) -> StoreResult<Vec<PaymentDiscrepancy>>;
    /// Records that the provider's payment `payment_ref` paid `top_up` (once; a repeat changes nothing).
    async fn record_payment_reference(
        &self,
        provider: Provider,
        payment_ref: &str,
        top_up: &TopUpRecord,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The top-up the provider's payment `payment_ref` paid.
    async fn find_payment_reference(&self, provider: Provider, payment_ref: &str) -> StoreResult<Option<TopUpId>>;
}

/// What to ask a provider for.
#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    pub top_up_id: TopUpId,
    pub workspace_id: WorkspaceId,
    pub amount: Money,
    pub description: String,
}

/// The provider's checkout: its id and the page the customer pays on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    pub provider_ref: String,
    pub url: String,
}

/// Why a provider could not start a checkout.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// The provider is not configured on this server: a clear refusal, never a silent success.
    #[error("{0} is not configured on this server")]
    NotConfigured(&'static str),
    /// The provider refused or could not be reached.
    #[error("payment provider failure: {0}")]
    Provider(#[source] InternalError),
}

/// A payment provider's checkout API (the `PaymentProvider` port of the architecture).
#[async_trait]
pub trait PaymentGateway: Send + Sync + std::fmt::Debug {
    fn provider(&self) -> Provider;
    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout, CheckoutError>;
}
