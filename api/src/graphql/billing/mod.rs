//! The wallet, its ledger entries and top-ups.

pub mod mutation;
pub mod types;
