//! `tgos-console keys rotate --workspace ID | --platform`
//!
//! Rules: staff sign-in first; the owner's data key gets a new version and every payload sealed for the owner
//! under an older version is re-sealed under it, one account at a time (see
//! `AccountsService::rotate_owner_key`). Accounts whose payload did not open are named and the command fails,
//! leaving them as they were; running the command again finishes an interrupted rotation.

use std::io::Write as _;

use anyhow::Context as _;
use clap::{ArgGroup, Args};
use tgos_domain::ids::WorkspaceId;
use tgos_domain::vault::KeyOwner;

use crate::context::{Connection, ConnectionArgs};
use crate::errors::domain;
use crate::session::{StaffLogin, StaffSession};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("owner").required(true).args(["workspace", "platform"])))]
pub struct RotateArgs {
    #[command(flatten)]
    staff: StaffLogin,
    /// The workspace whose data key to rotate.
    #[arg(long)]
    workspace: Option<WorkspaceId>,
    /// Rotate the data key of the platform's own account pool.
    #[arg(long)]
    platform: bool,
}

pub async fn run(args: RotateArgs, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let owner = match args.workspace {
        Some(workspace) => KeyOwner::Workspace(workspace),
        None => KeyOwner::Platform,
    };
    let console = Connection::open(connection).await?;
    let staff = StaffSession::sign_in(&console, &args.staff).await?;
    let outcome = rotate(&console, &staff, owner).await;
    staff.end(&console, outcome).await
}

async fn rotate(console: &Connection, staff: &StaffSession, owner: KeyOwner) -> anyhow::Result<()> {
    let rotation = console
        .accounts
        .rotate_owner_key(staff.principal(), staff.client(), owner)
        .await
        .map_err(domain)
        .with_context(|| format!("rotating the data key of {owner}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "rotated the data key of {owner} from {} to {}",
        rotation.previous, rotation.version
    )?;
    writeln!(out, "re-sealed {} payloads", rotation.resealed)?;
    if rotation.changed_meanwhile > 0 {
        writeln!(
            out,
            "{} payloads changed meanwhile (rented or returned) and were left to that change",
            rotation.changed_meanwhile
        )?;
    }
    if !rotation.unreadable.is_empty() {
        for id in &rotation.unreadable {
            eprintln!("account {id}: the session payload does not open; left as it was");
        }
        anyhow::bail!(
            "{} payloads of {owner} did not open and stay under their old key version",
            rotation.unreadable.len()
        );
    }
    Ok(())
}
