//! `tgos-console keys …`: the session vault's data keys.
//!
//! Rules: staff sign-in first; the use case audits every rotation on the platform chain; no key, wrapped or
//! not, and no payload is ever printed (only owners, versions, counts and account ids).

mod rotate;

use clap::Subcommand;

use crate::context::ConnectionArgs;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new data key version for a workspace or the platform's pool and re-seal its payloads under it.
    Rotate(rotate::RotateArgs),
}

pub async fn run(command: KeysCommand, connection: &ConnectionArgs) -> anyhow::Result<()> {
    match command {
        KeysCommand::Rotate(args) => rotate::run(args, connection).await,
    }
}
