//! `tgos-console staff …`

mod create;

use clap::Subcommand;

use crate::context::ConnectionArgs;

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a staff account with two-factor enrolled.
    Create(create::CreateArgs),
}

pub async fn run(command: StaffCommand, connection: &ConnectionArgs) -> anyhow::Result<()> {
    match command {
        StaffCommand::Create(args) => create::run(args, connection).await,
    }
}
