//! Billing: a double-entry ledger behind each workspace's prepaid wallet, and top-ups through payment
//! providers confirmed by their signed notifications (policy §3.4, §7).

pub mod ledger;
pub mod matching;
pub mod money;
pub mod ports;
pub mod service;
pub mod top_up;
mod use_cases;

pub use ledger::{EntryKind, LedgerAccount, LedgerTransaction, Posting, RetentionClass};
pub use matching::{Mismatch, short_of_funds};
pub use money::{Currency, Money};
pub use service::{BillingConfig, BillingService};
pub use top_up::{
    PaymentEvent, PaymentOutcome, Provider, ProviderNotice, ReversalEvent, ReversalKind, TopUpRecord, TopUpStatus,
};
pub use use_cases::charge::Charged;
pub use use_cases::reverse::Reversed;
pub use use_cases::settle::Settled;
