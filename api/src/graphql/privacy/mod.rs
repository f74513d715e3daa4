//! The "Your data" part of the schema (API.md): a person's data-subject requests and the data export.

pub mod deletion;
pub mod mutation;
pub mod types;
