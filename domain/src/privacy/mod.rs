//! Data-subject requests (policy §8) and the data export: a person's requests, their status moves, and the
//! archive of their data.
//!
//! Rules:
//! - A request's status moves only as [`rules::can_move`] allows, and each move is audited on the person's
//!   own chain (`ChainId::User`) in the transaction that makes it.
//! - People only: API keys are refused (`FORBIDDEN`); a person sees only their own requests.
//! - An export is an `EXPORT` request created IN_PROGRESS with its `export.build` job in one transaction; one
//!   builds at a time per person (`CONFLICT` naming it), at most [`rules::EXPORTS_PER_DAY`] a day
//!   (`RATE_LIMITED`), both counted behind the person's lock so simultaneous requests are counted one after
//!   the other. The archive is written by [`archive`] page by page, never held in memory.
//! - The download token is a MAC of the request id and ready time under a key derived from the master key:
//!   stored only as its SHA-256, so the database alone cannot produce a link, while the owner can be shown
//!   theirs again. The archive downloads for [`rules::EXPORT_VALID_DAYS`] days, by its owner's session only;
//!   then `export.expire` deletes the file and marks the archive expired.

pub mod archive;
pub mod jobs;
pub mod ports;
pub mod records;
pub mod rules;
pub mod use_cases;

use std::sync::Arc;

use crate::clock::Clock;
use crate::crypto::{DerivedKey, MasterKey};
use crate::jobs::JobSignal;
use crate::store::Store;

pub use jobs::{EXPORT_BUILD, EXPORT_EXPIRE, ExportJobs};
pub use ports::{ExportFiles, ExportSource};
pub use records::{
    DataSubjectRequest, ExportArchive, ObjectionDecision, RequestChannel, RequestKind, RequestStatus, StaffHandling,
};

/// The data-subject request use cases.
#[derive(Clone)]
pub struct PrivacyService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) files: Arc<dyn ExportFiles>,
    pub(crate) links: Arc<DerivedKey>,
    pub(crate) jobs: JobSignal,
}

impl std::fmt::Debug for PrivacyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivacyService").finish_non_exhaustive()
    }
}

impl PrivacyService {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        files: Arc<dyn ExportFiles>,
        master_key: &MasterKey,
        jobs: JobSignal,
    ) -> Self {
        Self {
            store,
            clock,
            files,
            links: Arc::new(master_key.derive("tgos/export-links/v1")),
            jobs,
        }
    }

    /// The same use cases on another clock (tests move time; jobs run on it).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}
