//! The account pool over GraphQL: offers, rentals and leases, and the accounts a workspace holds.

pub mod lists;
pub mod mutation;
pub mod query;
pub mod sandbox;
pub mod types;
