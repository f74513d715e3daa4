//! Workspaces, members and the audit log (API.md "Workspaces, members, API keys, audit").

pub mod audit;
pub mod connection;
pub mod invitations;
pub mod mutation;
pub mod query;
pub mod types;
