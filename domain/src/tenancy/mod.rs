//! Tenancy: workspaces (the tenant boundary), their members and ranked roles.
//!
//! Rule: tenant data is reached only through a [`TenantScope`], which only this module creates, after the
//! caller's membership has been checked. Every repository method on tenant data takes one, so an unscoped
//! query cannot be written by accident.

pub mod api_keys;
pub mod invitations;
pub mod ports;
pub mod records;
pub mod role;
pub mod rules;
pub mod scope;
pub mod service;
pub mod use_cases;
pub mod workspace_name;

pub use role::Role;
pub use scope::TenantScope;
pub use service::TenancyService;
pub use workspace_name::WorkspaceName;
