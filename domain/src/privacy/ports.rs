//! What data-subject requests and exports need from outside: storage of the requests, a paged read of a
//! person's data, and files for the archives.
//!
//! Rules for implementations: [`ExportSource`] lists columns explicitly and never a secret (password hash,
//! TOTP secrets, API key hashes, session and invitation token hashes, sealed automation secrets); it pages in
//! keyset order (`next` is the cursor after the page's last row, `None` on the last page) so a table of any
//! size is read in bounded memory. [`ArchiveWriter`] writes to a temporary name and only
//! [`ArchiveWriter::finish`] makes the archive visible under its final name.

use std::path::PathBuf;

use async_trait::async_trait;

use chrono::{DateTime, Utc};

use super::records::{DataSubjectRequest, RequestKind, RequestStatus};
use crate::ids::{DataSubjectRequestId, UserId, WorkspaceId};
use crate::store::StoreResult;
use crate::tenancy::TenantScope;

/// Which requests the staff queue shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueFilter {
    pub kind: Option<RequestKind>,
    pub status: Option<RequestStatus>,
    /// Only requests not yet completed or rejected.
    pub open_only: bool,
    /// Only this person's.
    pub user: Option<UserId>,
}

/// A request as the staff queue lists it: with whom it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRequest {
    pub request: DataSubjectRequest,
    pub email: String,
    pub username: String,
    pub full_name: String,
}

/// Name of the rule "one export builds at a time per person" (a unique partial index).
pub const ONE_EXPORT_AT_A_TIME: &str = "data_subject_requests_one_export_idx";

#[async_trait]
pub trait DataSubjectRequestRepository: Send + Sync {
    /// Holds the person's lock until the transaction ends, so a count of their requests read after it (three
    /// exports a day, five open) cannot be overtaken by a simultaneous transaction that counted the same rows
    /// (PostgreSQL: `SELECT … FOR NO KEY UPDATE` of their account row, which leaves the foreign-key checks of
    /// their inserts alone; SQLite: its write transactions already run one at a time). Meaningful only inside a
    /// transaction.
    async fn lock_requests_of(&self, user: UserId) -> StoreResult<()>;
    /// Stores a new request; `UniqueViolation(ONE_EXPORT_AT_A_TIME)` for a second export in progress.
    async fn insert_request(&self, request: &DataSubjectRequest) -> StoreResult<()>;
    /// A request by id, whoever made it (jobs, and use cases that then check the subject).
    async fn request_by_id(&self, id: DataSubjectRequestId) -> StoreResult<Option<DataSubjectRequest>>;
    /// The person's requests, newest first.
    async fn list_requests(&self, user: UserId) -> StoreResult<Vec<DataSubjectRequest>>;
    /// Writes `request`'s status, dates, resolution and archive while its stored status is still `expected`;
    /// `false` (nothing written) otherwise.
    async fn update_request(&self, request: &DataSubjectRequest, expected: RequestStatus) -> StoreResult<bool>;
    /// The request whose archive has this token hash.
    async fn request_by_token(&self, token_hash: &[u8]) -> StoreResult<Option<DataSubjectRequest>>;
    /// Requests matching `filter`, the soonest to answer first (the extended date, else the due date), at
    /// most `limit`, with their subjects.
    async fn queue_requests(&self, filter: &QueueFilter, limit: u64) -> StoreResult<Vec<QueuedRequest>>;
    /// Writes `request` whole (status, dates, resolution, archive, handling) only if it was not changed since
    /// it was read (its stored `updated_at` is still `read_at`); `false`, nothing written, otherwise.
    async fn update_request_unchanged(&self, request: &DataSubjectRequest, read_at: DateTime<Utc>)
    -> StoreResult<bool>;
}

/// A person's own data, outside any one workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectPart<'a> {
    /// The account, without its password hash or second-factor secrets.
    Profile,
    /// Sessions with address and user agent, without token hashes.
    Sessions,
    /// Their memberships (the user's own wall).
    Memberships,
    /// Their account chain, and platform entries where they are the actor.
    Audit,
    /// Invitations addressed to their email address (pending, accepted, revoked or expired), without token
    /// hashes; none while the address is not verified, as an unverified address may be somebody else's (the
    /// user's own wall).
    InvitationsTo,
    /// Their own entries (they are the actor) on the chains of workspaces other than these: the workspaces the
    /// archive has a folder for are left out, so each entry is exported once (the user's own wall).
    AuditElsewhere(&'a [WorkspaceId]),
}

/// A workspace's data: the first three are the person's own doing in any workspace they belong to; the rest
/// are exported for workspaces they own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspacePart {
    AuditBy(UserId),
    ApiKeysBy(UserId),
    InvitationsBy(UserId),
    Wallet,
    LedgerTransactions,
    LedgerPostings,
    Leases,
    Automations,
    AutomationExecutions,
    Dialogs,
    Messages,
}

/// One page of rows, as JSON objects.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportPage {
    pub rows: Vec<serde_json::Value>,
    /// The cursor of the next page; `None` when this was the last.
    pub next: Option<String>,
}

#[async_trait]
pub trait ExportSource: Send + Sync {
    async fn export_subject_page(
        &self,
        user: UserId,
        part: SubjectPart<'_>,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<ExportPage>;
    /// Behind `scope`'s wall.
    async fn export_workspace_page(
        &self,
        scope: &TenantScope,
        part: WorkspacePart,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<ExportPage>;
}

#[derive(Debug, thiserror::Error)]
#[error("export archive: {0}")]
pub struct ArchiveError(pub String);

/// One archive being written, entry after entry.
#[async_trait]
pub trait ArchiveWriter: Send {
    /// Starts the next entry (the previous one ends).
    async fn start_file(&mut self, name: &str) -> Result<(), ArchiveError>;
    /// Appends to the current entry.
    async fn write(&mut self, bytes: Vec<u8>) -> Result<(), ArchiveError>;
    /// Completes the archive and moves it to its final name; its size in bytes.
    async fn finish(self: Box<Self>) -> Result<u64, ArchiveError>;
}

/// Where archives live.
pub trait ExportFiles: Send + Sync + std::fmt::Debug {
    /// A writer for the request's archive (a rebuild replaces an earlier one when it finishes).
    fn create(&self, id: DataSubjectRequestId) -> Result<Box<dyn ArchiveWriter>, ArchiveError>;
    /// Where the finished archive is.
    fn locate(&self, id: DataSubjectRequestId) -> PathBuf;
    /// Deletes the archive (and any partial one); nothing to delete is fine.
    fn delete(&self, id: DataSubjectRequestId) -> Result<(), ArchiveError>;
}
