//! Retention as code: one table of classes saying what each covers, why, for how long, and what happens
//! when the time runs out; the sweep that carries out the classes it owns; and the check that every table
//! and column of the database is in exactly one class.
//!
//! Rules:
//! - **One table.** [`CLASSES`] is the whole retention policy: classes the sweep runs ([`Action::Purge`]),
//!   classes it only reports ([`Action::ReportOnly`], with why), classes other jobs carry out
//!   ([`Action::ByJob`], naming the job), and what nothing removes ([`Action::Kept`], saying why), so an
//!   auditor reads one list.
//! - **Every row in exactly one class.** [`coverage::problems`] names any table without a class, any column
//!   covered twice and any class naming what does not exist; a test runs it on the live schema.
//! - **Windows are configuration.** [`RetentionWindows`] holds the defaults; `[retention]` overrides them.
//! - **Small batches, one summary.** The sweep changes at most a batch of rows per statement, each its own
//!   short transaction, and audits one `retention.swept` entry on the platform chain.

pub mod classes;
pub mod coverage;
pub mod job;
pub mod ports;
pub mod sweep;
pub mod table;
pub mod windows;

pub use classes::{Action, Cover, Keep, Purge, RetentionClass};
pub use job::{RetentionJobs, SWEEP_JOB, enqueue_hourly, hourly_key};
pub use ports::{BackupKeys, RetentionRepository};
pub use sweep::{ClassCount, DEFAULT_BATCH, RetentionService, RetentionSummary};
pub use table::{ACCOUNT_ERASURE_JOB, CLASSES, EXPORT_EXPIRY_JOB, WORKSPACE_ERASURE_JOB, class};
pub use windows::{RetentionWindows, Window};
