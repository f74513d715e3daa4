//! The inbox over GraphQL: a workspace's dialogs and their messages.

pub mod dialogs;
pub mod events;
pub mod media;
pub mod mutation;
pub mod types;
