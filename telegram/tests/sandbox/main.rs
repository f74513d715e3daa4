//! The sandbox gateway against the port's promises: delivery, ids, receipts, faults, updates, paging.

mod contacts;
mod faults;
mod groups;
mod history;
mod limits;
mod login;
mod media;
mod messaging;
mod receipts;
// Marked as test code so the helpers may unwrap, like the tests themselves (clippy.toml).
#[cfg(test)]
mod support;
mod updates;
