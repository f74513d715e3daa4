//! `tgos-console audit …`: `verify` from the operator's access alone (read only); `search` and `export` as a
//! signed-in staff member, each audited on the platform chain.

mod export;
mod filters;
mod search;
pub mod table;
mod verify;

use clap::Subcommand;

use crate::context::ConnectionArgs;

pub use export::render as render_export;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit log's hash chains and report the first broken link of each.
    Verify(verify::VerifyArgs),
    /// One page of the audit log, newest first, across every chain (staff sign-in).
    Search(search::SearchArgs),
    /// The entries a search lists as a CSV or JSON file (staff sign-in).
    Export(export::ExportArgs),
}

pub async fn run(command: AuditCommand, connection: &ConnectionArgs) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify(args) => verify::run(args, connection).await,
        AuditCommand::Search(args) => search::run(args, connection).await,
        AuditCommand::Export(args) => export::run(args, connection).await,
    }
}
