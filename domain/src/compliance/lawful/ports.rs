//! What the register needs from outside: storage that only ever appends, a paged read of the data in a
//! scope, and files for the packages.
//!
//! Rules for implementations:
//! - [`LawfulRequestRepository`] inserts and never updates or deletes: a registration is one row, each later
//!   step one appended row, at most one of each kind per request (a second is
//!   `UniqueViolation(`[`EACH_STEP_ONCE`]`)`). On PostgreSQL the register is platform data behind no tenant's
//!   wall, and a trigger refuses any UPDATE or DELETE of it.
//! - [`DisclosureSource`] reads exactly what a file of the package holds and nothing else: the subject's rows
//!   of that file's table, whose timestamp falls in the period (records that describe a state rather than an
//!   event, a profile, a workspace, a membership, when they existed before the period ended), every column
//!   listed by name and no secret among them (no password hash, TOTP secret, token or key hash, sealed
//!   secret, ledger fingerprint). A workspace's rows are read behind that workspace's wall. Pages are keyset
//!   ordered (`next` is the cursor after the page's last row, `None` on the last page), so any size is read
//!   in bounded memory.
//! - [`PackageFiles`] writes a package under a temporary name and only [`ArchiveWriter::finish`] makes it
//!   visible under its [`PackageName`].

use std::path::PathBuf;

use async_trait::async_trait;

use super::records::{LawfulRequest, LawfulStep, PackageName};
use super::scope::{Period, UserFile, WorkspaceFile};
use crate::ids::{LawfulRequestId, UserId};
use crate::privacy::ports::{ArchiveError, ArchiveWriter, ExportPage};
use crate::store::StoreResult;
use crate::tenancy::TenantScope;

/// Name of the rule "one registration per authority and reference" (a unique index).
pub const ONE_REGISTRATION_PER_REFERENCE: &str = "lawful_requests_reference_idx";
/// Name of the rule "each step once per request" (a unique index).
pub const EACH_STEP_ONCE: &str = "lawful_request_events_step_idx";

#[async_trait]
pub trait LawfulRequestRepository: Send + Sync {
    /// Stores a registration (its steps are appended apart); `UniqueViolation(ONE_REGISTRATION_PER_REFERENCE)`
    /// when the authority's reference is registered already.
    async fn insert_lawful_request(&self, request: &LawfulRequest) -> StoreResult<()>;
    /// A request with its steps folded in.
    async fn lawful_request(&self, id: LawfulRequestId) -> StoreResult<Option<LawfulRequest>>;
    /// Requests newest first (by id), after `after` when given, at most `limit`, with their steps.
    async fn lawful_requests(&self, after: Option<LawfulRequestId>, limit: u64) -> StoreResult<Vec<LawfulRequest>>;
    /// Appends a step; `UniqueViolation(EACH_STEP_ONCE)` when the request has one of that kind.
    async fn append_lawful_step(&self, step: &LawfulStep) -> StoreResult<()>;
}

/// The rows of one file of a package, page by page.
#[async_trait]
pub trait DisclosureSource: Send + Sync {
    /// The rows of `file` about `user` in `period` (a person's own records: no tenant wall, their memberships
    /// behind their own).
    async fn disclose_user_page(
        &self,
        user: UserId,
        file: UserFile,
        period: &Period,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<ExportPage>;
    /// The rows of `file` of the scope's workspace in `period`, behind its wall.
    async fn disclose_workspace_page(
        &self,
        scope: &TenantScope,
        file: WorkspaceFile,
        period: &Period,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<ExportPage>;
}

/// Where packages live.
#[async_trait]
pub trait PackageFiles: Send + Sync + std::fmt::Debug {
    /// A writer for a new package named `name`.
    fn create(&self, name: &PackageName) -> Result<Box<dyn ArchiveWriter>, ArchiveError>;
    /// The SHA-256 of the finished package, read from the file in chunks.
    async fn sha256(&self, name: &PackageName) -> Result<[u8; 32], ArchiveError>;
    /// Where the finished package is.
    fn locate(&self, name: &PackageName) -> PathBuf;
    /// Deletes a package (a build that lost a race or failed); nothing to delete is fine.
    fn delete(&self, name: &PackageName) -> Result<(), ArchiveError>;
}
