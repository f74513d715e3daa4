//! The lawful requests register on both databases, the paged read of a disclosure's scope, and the packages'
//! files.

pub mod files;
mod requests;
mod source;
