//! Deleting a workspace: closed at once, erased 30 days later, its data key destroyed (policy §7, §8).
//!
//! Rules:
//! - **Closed at once** ([`close_workspace`], in the caller's transaction): the workspace gets `closed_at` and
//!   `erase_after = closed_at + 30 days`; from then on it is listed nowhere and every operation on it is
//!   refused as for a workspace one is not a member of (membership and API-key lookups see only open
//!   workspaces), its automations are disabled, the change is audited `workspace.deleted` on its chain and an
//!   erasure job is enqueued in the same transaction, due at `erase_after`, keyed by workspace and closure.
//!   After committing, the caller signals the access change and releases the leases (accounts back to the
//!   pool through the release path); the erasure job releases any that are left.
//! - **Reopened** ([`reopen_workspace`], in the caller's transaction) only while the erasure has not started;
//!   the queued job then finds the workspace open (or closed at another time) and does nothing.
//! - **Erased** ([`WorkspaceErasureJob`], kind `erasure.workspace`): marks the erasure started (no reopening
//!   after that), releases remaining leases, deletes the workspace's rows table by table in batches, its audit
//!   chain and head, destroys its data keys, then deletes the workspace row and audits `workspace.erased` on
//!   the platform chain (the workspace id only) in one transaction. Billing rows stay (7 years). Every step
//!   is idempotent, so a crash mid-way is finished by the next attempt.

pub mod account;
pub mod account_job;
pub mod account_ports;
pub mod closure;
pub mod job;
pub mod ports;
pub mod service;

pub use account::{ACCOUNT_ERASURE_JOB, PendingDeletion};
pub use account_job::AccountErasureJob;
pub use account_ports::AccountErasureRepository;
pub use closure::{Closure, ERASE_AFTER_DAYS, ERASURE_JOB, close_workspace, reopen_workspace};
pub use job::WorkspaceErasureJob;
pub use ports::{ErasureStep, WorkspaceClosureRecord, WorkspaceErasureRepository};
pub use service::WorkspaceErasure;
