//! The automations' use cases, one file per concern.

mod decide;
pub mod definitions;
pub mod execute;
pub mod runs;
mod schedules;
mod steps;
