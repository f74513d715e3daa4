//! The account pool: accounts staff import or create, offered for rent, leased to one workspace at a time for
//! wallet credit, and returned when the lease is released or runs out.
//!
//! Rules:
//! - **One holder.** An account is on offer or leased to exactly one workspace; a rental is one conditional
//!   update, so of two workspaces racing for an account one wins and the other gets `ACCOUNT_UNAVAILABLE` and
//!   is not charged.
//! - **Paid in the same transaction.** A rental or renewal charges `days × pricePerDay` to the wallet through
//!   the ledger in the transaction that creates or extends the lease; without the funds nothing changes
//!   (`INSUFFICIENT_FUNDS`).
//! - **Sealed for the holder.** The session payload is sealed under the platform's key while on offer and under
//!   the renting workspace's key while leased; it is re-sealed when it changes hands, so a workspace's key
//!   never opens another workspace's sessions, and destroying a workspace's keys (crypto-erasure) leaves the
//!   pool's copy intact only after it was returned.
//! - **Audited.** Every import, rental, renewal, release and expiry writes an audit entry in its transaction;
//!   a key rotation, a reprice and a retirement (staff, through the console) are audited on the platform chain.
//! - **Staff curate the stock** ([`rules`]): a reprice is for the next rental only (a lease keeps its price);
//!   a retired account is never offered again, and one retired while leased stays with its holder until the
//!   lease ends as paid for, without renewal.

pub mod connections;
pub mod ports;
pub mod records;
pub mod rules;
pub mod service;
pub mod use_cases;

pub use ports::{AccountRepository, LeaseRepository, PoolFilter, StaffPoolRepository};
pub use records::{AccountProfile, AccountRecord, AccountStatus, LeaseRecord, LeaseStatus};
pub use service::{AccountsConfig, AccountsService};
pub use use_cases::import::{ImportSummary, NewPoolAccount};
pub use use_cases::keys::KeyRotation;
pub use use_cases::staff::{Holder, PoolAccount};
