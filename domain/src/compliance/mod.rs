//! The staff side of data-subject requests (policy §8): the queue, intake of emailed requests, identity
//! verification, extensions, fulfilment per kind, two-person erasure and rejection; and the audit log as
//! staff search, export and verify it ([`audit`]). The lawful requests register (policy §6) is its own
//! module, [`lawful`], with its own service (`LawfulRequests`).
//!
//! Rules:
//! - **Staff only.** Every use case starts with [`Principal::require_staff`] (a staff account with two-factor
//!   on, policy §9); anyone else is `FORBIDDEN` before anything is read.
//! - **Moves by the table.** Status moves follow `privacy::rules::can_move`; each write happens only if the
//!   request is as it was read (`update_request_unchanged`), so two staff members acting at once cannot both
//!   win: the second gets `CONFLICT`.
//! - **Audited twice, told once.** Each action is audited on the subject's own chain (what happened to their
//!   request) and on the platform chain (what the staff member did, with their IP address and user agent),
//!   and the subject is emailed the new status (`Notice::RequestStatus`), all in the action's transaction.
//! - **Verified before worked.** An emailed request is worked (`IN_PROGRESS`) only after staff record how the
//!   requester was verified to be the data subject; a request made through the API was made by the signed-in
//!   subject, which is its verification.
//! - **Two people erase.** An erasure runs only when a second staff member, not the one who proposed it,
//!   approves it; then the account closes at once and the erasure job runs without the 30-day grace (the
//!   person asked for it and was verified).

mod actions;
pub mod audit;
mod erasure;
mod fulfilment;
mod intake;
pub mod lawful;
pub mod ports;
mod retention;
mod staff;
mod users;

use std::sync::Arc;

use crate::clock::Clock;
use crate::erasure::WorkspaceErasure;
use crate::identity::Principal;
use crate::jobs::JobSignal;
use crate::store::Store;

pub use actions::StaffContext;
pub use audit::{AUDIT_EXPORT_MAX, AUDIT_PAGE_MAX, AuditExport, AuditExportFormat};
pub use intake::EmailedRequest;
pub use ports::{ApprovalAction, ApprovalRecord, StaffRepository};
pub use staff::PROPOSAL_HOURS;
pub use users::{TRAIL_LIMIT, UserDossier};

/// The most requests one queue page lists.
pub const QUEUE_LIMIT: u64 = 500;

/// The staff compliance use cases.
#[derive(Clone)]
pub struct ComplianceService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) erasure: WorkspaceErasure,
    pub(crate) jobs: JobSignal,
}

impl std::fmt::Debug for ComplianceService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComplianceService").finish_non_exhaustive()
    }
}

impl ComplianceService {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, erasure: WorkspaceErasure, jobs: JobSignal) -> Self {
        Self {
            store,
            clock,
            erasure,
            jobs,
        }
    }
}

/// The staff member's display name as the audit log shows it.
pub(crate) fn staff_name(principal: &Principal) -> String {
    match principal {
        Principal::User { display_name, .. } | Principal::ApiKey { display_name, .. } => display_name.clone(),
    }
}
