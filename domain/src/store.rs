//! The storage ports: a [`Store`] hands out [`Transaction`]s, and both expose the repositories.
//!
//! Rule: one use case, one transaction. A use case that changes state opens a transaction, makes every change
//! through it and commits once; dropping a transaction without committing rolls it back, so an early return
//! on error leaves nothing half-written. Reads that need no consistency with a write go to the store directly,
//! or, when a use case makes several, to one read transaction ([`Store::begin_read`]).

use async_trait::async_trait;

use crate::accounts::health::HealthRepository;
use crate::accounts::pool::connections::ConnectionLeaseRepository;
use crate::accounts::pool::ports::{AccountRepository, LeaseRepository, StaffPoolRepository};
use crate::audit::ports::AuditRepository;
use crate::automation::ports::AutomationRepository;
use crate::billing::ports::{LedgerRepository, PaymentMatchingRepository, TopUpRepository};
use crate::compliance::StaffRepository;
use crate::compliance::lawful::ports::{DisclosureSource, LawfulRequestRepository};
use crate::erasure::AccountErasureRepository;
use crate::erasure::WorkspaceErasureRepository;
use crate::error::InternalError;
use crate::events::OutboxRepository;
use crate::identity::ports::{SessionRepository, ThrottleRepository, UserRepository};
use crate::inbox::ports::InboxRepository;
use crate::jobs::JobRepository;
use crate::privacy::ports::{DataSubjectRequestRepository, ExportSource};
use crate::retention::RetentionRepository;
use crate::tenancy::ports::{ApiKeyRepository, InvitationRepository, TenancyRepository};

/// What storage can fail with. Unique-constraint violations are named so use cases can turn them into
/// `Conflict` outcomes deliberately; everything else is infrastructure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint {0} violated")]
    UniqueViolation(&'static str),
    #[error("storage failure: {0}")]
    Backend(#[source] InternalError),
}

impl StoreError {
    pub fn backend(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Backend(InternalError::new(error))
    }
}

impl From<StoreError> for crate::DomainError {
    /// Storage failures are infrastructure. A unique violation that reaches this conversion was not
    /// expected by the use case, so it is infrastructure too (a bug to log), never a silent business outcome.
    fn from(error: StoreError) -> Self {
        Self::Internal(InternalError::new(error))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Every repository, on one connection or transaction.
pub trait Repositories:
    UserRepository
    + SessionRepository
    + ThrottleRepository
    + TenancyRepository
    + InvitationRepository
    + ApiKeyRepository
    + AuditRepository
    + LedgerRepository
    + TopUpRepository
    + PaymentMatchingRepository
    + AccountRepository
    + LeaseRepository
    + HealthRepository
    + ConnectionLeaseRepository
    + InboxRepository
    + OutboxRepository
    + JobRepository
    + AutomationRepository
    + DataSubjectRequestRepository
    + ExportSource
    + LawfulRequestRepository
    + DisclosureSource
    + WorkspaceErasureRepository
    + AccountErasureRepository
    + RetentionRepository
    + StaffRepository
    + StaffPoolRepository
{
}

impl<T> Repositories for T where
    T: UserRepository
        + SessionRepository
        + ThrottleRepository
        + TenancyRepository
        + InvitationRepository
        + ApiKeyRepository
        + AuditRepository
        + LedgerRepository
        + TopUpRepository
        + PaymentMatchingRepository
        + AccountRepository
        + LeaseRepository
        + HealthRepository
        + ConnectionLeaseRepository
        + InboxRepository
        + OutboxRepository
        + JobRepository
        + AutomationRepository
        + DataSubjectRequestRepository
        + ExportSource
        + LawfulRequestRepository
        + DisclosureSource
        + WorkspaceErasureRepository
        + AccountErasureRepository
        + RetentionRepository
        + StaffRepository
        + StaffPoolRepository
{
}

/// The storage of the service.
#[async_trait]
pub trait Store: Repositories + Send + Sync + std::fmt::Debug {
    /// Opens a transaction. Dropping it without [`Transaction::commit`] rolls back.
    async fn begin(&self) -> StoreResult<Box<dyn Transaction>>;
    /// Opens a transaction for reads that belong together, such as a page and what its nested fields need:
    /// they share one connection and, on PostgreSQL, a tenant wall set once for the run of reads behind it,
    /// instead of a transaction each. It takes no write lock (on SQLite it is DEFERRED), so a use case that
    /// writes opens [`Store::begin`] instead, and nothing writes through this one (on SQLite a write would
    /// have to upgrade its lock and could fail as busy instead of queueing). Commit it when done (or drop it:
    /// with nothing written, both end it alike).
    async fn begin_read(&self) -> StoreResult<Box<dyn Transaction>>;
    /// Whether the database answers (readiness).
    async fn ping(&self) -> StoreResult<()>;
}

/// One transaction's repositories. Its calls are made one after another, never concurrently from two tasks:
/// on PostgreSQL each call sets its tenant wall on the one connection before its statement, so two calls in
/// flight at once could run one behind the other's wall.
#[async_trait]
pub trait Transaction: Repositories + Send + Sync {
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}
