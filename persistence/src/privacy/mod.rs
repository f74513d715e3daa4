//! Data-subject requests on both databases, the paged read of a person's data, and the archives' files.

pub mod files;
mod requests;
pub(crate) mod source;
