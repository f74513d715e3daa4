//! The lawful requests register (policy §6: data goes out on lawful requests "only when legally compelled,
//! and limited to what is required").
//!
//! Rules:
//! - Staff register each request an authority sends: who asks, their reference, the legal basis, when it was
//!   received and is due, and its scope ([`scope::DisclosureScope`]: users and workspaces by id, categories
//!   from a fixed set, a period). A second staff member approves it; the registrar never can
//!   ([`rules::check_approval`]).
//! - Only an approved request gets a disclosure package, and only a packaged request is marked delivered.
//! - The register only grows: a registration is stored once and each later step (approval, package,
//!   delivery) is appended once ([`records`]).

pub mod records;
pub mod rules;
pub mod scope;

#[cfg(test)]
mod tests;

pub use records::{
    Approval, Delivery, LawfulRequest, LawfulStep, NewLawfulRequest, PackageName, PackageRecord, Stage, StepKind,
};
pub use scope::{Category, DisclosureScope, Period};
