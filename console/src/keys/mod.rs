//! `tgos-console keys …`: the session vault's data keys and the master key that wraps them.
//!
//! Rules: staff sign-in first; the use cases audit every rotation on the platform chain; no key, wrapped or
//! not, and no payload is ever printed (only owners, versions, counts, account ids and key file paths).

mod key_files;
mod rotate;
mod rotate_master;

use clap::Subcommand;

use crate::context::ConnectionArgs;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new data key version for a workspace or the platform's pool and re-seal its payloads under it.
    Rotate(rotate::RotateArgs),
    /// Rotate the master key: re-wrap every data key and re-seal every two-factor secret under a new key, then
    /// switch the key file (embedded default) or tell how to switch TGOS_MASTER_KEY. Stop the servers first.
    RotateMaster(rotate_master::RotateMasterArgs),
}

pub async fn run(command: KeysCommand, connection: &ConnectionArgs) -> anyhow::Result<()> {
    match command {
        KeysCommand::Rotate(args) => rotate::run(args, connection).await,
        KeysCommand::RotateMaster(args) => rotate_master::run(args, connection).await,
    }
}
