//! The tenancy use cases, one area per file. Each change and its audit entry commit together.

pub mod api_keys;
pub mod audit_log;
pub mod departures;
pub mod invitations;
pub mod members;
pub mod ownership;
pub mod workspaces;
