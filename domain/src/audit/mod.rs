//! The audit log: an append-only, hash-chained record of sensitive actions (policy §3.3, §7, §9).
//!
//! Rules:
//! - An entry is appended in the same transaction as the change it records ([`append`]), so a change is
//!   never without its entry and an entry never without its change.
//! - Entries form chains: one per workspace, one per user account (sign-ins, two-factor changes), and one for
//!   the platform (sign-in failures for unknown logins). Each entry's hash covers its content and the previous
//!   entry's hash, so editing or deleting any entry breaks the chain, which [`chain::verify`] detects.
//! - Nothing updates or deletes an entry, with two exceptions the PostgreSQL trigger allows and nothing else:
//!   redacting an erased person's personal fields ([`redaction`], the hash and links untouched) and deleting
//!   the chain of a workspace being erased.

pub mod chain;
pub mod entry;
pub mod hashing;
pub mod ports;
pub mod redaction;
pub mod search;
pub mod verify;

pub use chain::append;
pub use entry::{Actor, ActorKind, AuditDraft, AuditRecord, ChainId, PersonalSeal};
pub use redaction::{ErasureSubject, Pseudonym, PseudonymizeReport, pseudonymize_subject};
pub use search::{AuditCursor, AuditSearch, AuditSearchText};
