//! `tgos-console staff …`

mod create;
mod manage;

use clap::Subcommand;

use crate::context::ConnectionArgs;

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a staff account with two-factor enrolled.
    Create(create::CreateArgs),
    /// Every staff account.
    List(manage::ListArgs),
    /// Make an existing account staff (it acts as staff once it has two-factor on).
    Add(manage::TargetArgs),
    /// Take the staff flag away and sign the account out everywhere.
    Disable(manage::TargetArgs),
    /// Propose resetting a staff member's two-factor; `--approve` as a second staff member carries it out.
    #[command(name = "reset-2fa")]
    Reset2fa(manage::ResetArgs),
}

pub async fn run(command: StaffCommand, connection: &ConnectionArgs) -> anyhow::Result<()> {
    match command {
        StaffCommand::Create(args) => create::run(args, connection).await,
        StaffCommand::List(args) => manage::run(manage::Manage::List(args), connection).await,
        StaffCommand::Add(args) => manage::run(manage::Manage::Add(args), connection).await,
        StaffCommand::Disable(args) => manage::run(manage::Manage::Disable(args), connection).await,
        StaffCommand::Reset2fa(args) => manage::run(manage::Manage::Reset(args), connection).await,
    }
}
