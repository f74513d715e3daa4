//! `tgos-console audit …`

mod verify;

use clap::Subcommand;

use crate::context::ConnectionArgs;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit log's hash chains and report the first broken link of each.
    Verify(verify::VerifyArgs),
}

pub async fn run(command: AuditCommand, connection: &ConnectionArgs) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify(args) => verify::run(args, connection).await,
    }
}
