//! Automations over GraphQL: definitions, executions, the dry run, manual runs and `automationEvents`.

pub mod events;
pub mod inputs;
pub mod mutation;
pub mod query;
pub mod types;
