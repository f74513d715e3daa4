//! The automations' use cases, one file per concern.

pub mod definitions;
pub mod execute;
pub mod runs;
