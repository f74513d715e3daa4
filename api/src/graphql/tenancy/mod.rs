//! Workspaces, members and the audit log (API.md "Workspaces, members, API keys, audit").

pub mod api_keys;
pub mod audit;
pub mod deletion;
pub mod invitations;
pub mod members;
pub mod mutation;
pub mod query;
pub mod types;
pub mod workspace;
