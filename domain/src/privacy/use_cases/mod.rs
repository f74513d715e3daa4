//! The use cases of data-subject requests: one file per concern.

pub mod export;
pub mod requests;
pub mod transitions;
