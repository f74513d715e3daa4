//! `tgos-console audit verify [--workspace ID]`: exits 0 when every chain checks out, 1 when one breaks.

use std::io::Write as _;

use clap::Args;
use tgos_domain::audit::ChainId;
use tgos_domain::audit::verify::verify_chains;
use tgos_domain::ids::WorkspaceId;

use crate::context::{Connection, ConnectionArgs};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Only this workspace's chain.
    #[arg(long)]
    workspace: Option<WorkspaceId>,
}

pub async fn run(args: VerifyArgs, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let console = Connection::open(connection).await?;
    let reports = verify_chains(&*console.store, args.workspace.map(ChainId::Workspace))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = std::io::stdout().lock();
    let mut broken = 0;
    for report in &reports {
        match &report.verdict {
            Ok(entries) => writeln!(out, "ok      {} ({entries} entries)", report.chain)?,
            Err(link) => {
                broken += 1;
                writeln!(out, "BROKEN  {}: {link}", report.chain)?;
            }
        }
    }
    anyhow::ensure!(broken == 0, "{broken} of {} audit chains are broken", reports.len());
    writeln!(out, "{} audit chains verified", reports.len())?;
    Ok(())
}
