//! The lawful requests register (policy §6: data goes out on lawful requests "only when legally compelled,
//! and limited to what is required").
//!
//! Rules:
//! - Staff register each request an authority sends: who asks, their reference, the legal basis, when it was
//!   received and is due, and its scope ([`scope::DisclosureScope`]: users and workspaces by id, categories
//!   from a fixed set, a period). A second staff member approves it; the registrar never can
//!   ([`rules::check_approval`]).
//! - Only an approved request gets a disclosure package ([`package`]): a zip of JSON files holding exactly the
//!   scope (the subjects named, the categories named, the rows of the period), with a manifest listing each
//!   file's record count and SHA-256. It is written page by page under the exports directory and recorded
//!   with its size and SHA-256. Only a packaged request is marked delivered.
//! - The register only grows: a registration is stored once and each later step (approval, package,
//!   delivery) is appended once; nothing is changed or deleted ([`ports::LawfulRequestRepository`]; on
//!   PostgreSQL a trigger refuses UPDATE and DELETE). Every step is audited on the platform chain with the
//!   staff member, IP address and user agent, in the transaction that takes it.

pub mod package;
pub mod ports;
pub mod records;
pub mod rules;
pub mod scope;
mod use_cases;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::clock::Clock;
use crate::store::Store;

pub use ports::{DisclosureSource, LawfulRequestRepository, PackageFiles};
pub use records::{
    Approval, Delivery, LawfulRequest, LawfulStep, NewLawfulRequest, PackageName, PackageRecord, Stage, StepKind,
};
pub use scope::{Category, DisclosureScope, Period};

/// The register's use cases: `register`, `list`, `get`, `approve`, `build_package`, `mark_delivered`.
#[derive(Clone)]
pub struct LawfulRequests {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) files: Arc<dyn PackageFiles>,
}

impl std::fmt::Debug for LawfulRequests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LawfulRequests").finish_non_exhaustive()
    }
}

impl LawfulRequests {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, files: Arc<dyn PackageFiles>) -> Self {
        Self { store, clock, files }
    }

    /// The same use cases on another clock (tests move time).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}
