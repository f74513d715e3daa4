//! The Identity part of the schema (API.md "Identity"): sign-up, sign-in with two-factor, sessions, TOTP.

pub mod account;
pub mod mutation;
pub mod query;
pub mod types;
