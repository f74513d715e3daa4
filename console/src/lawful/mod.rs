//! `tgos-console lawful register|list|show|approve|package|deliver [--json]`: the lawful requests register
//! (policy §6).
//!
//! Rules: every command signs a staff member in first (see `session`) and calls the register's use cases
//! (`LawfulRequests`) as that staff member; the rules (a second staff member approves, the order of the steps,
//! what a package holds) and the audit entries are theirs, the console decides nothing. Packages are written
//! under `<exports dir>/lawful` (`--exports-dir` or `TGOS_EXPORTS__DIR`, else `<data dir>/exports`, as the
//! server's exports). The exit status tells a script what happened ([`status`]).

pub(crate) mod output;
mod register;
mod status;
mod steps;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use tgos_domain::clock::SystemClock;
use tgos_domain::compliance::lawful::LawfulRequests;
use tgos_domain::ids::LawfulRequestId;
use tgos_persistence::ZipPackages;

use crate::context::{Connection, ConnectionArgs};
use crate::session::{StaffLogin, StaffSession};

#[derive(Debug, Subcommand)]
pub enum LawfulCommand {
    /// Register a request received from an authority (its scope: users, workspaces, categories, period).
    Register(register::RegisterArgs),
    /// The register, newest first.
    List(ListArgs),
    /// One request with its steps.
    Show(IdArgs),
    /// Approve a request (a second staff member: never its registrar).
    Approve(IdArgs),
    /// Build the disclosure package of an approved request.
    Package(IdArgs),
    /// Record that the package was handed to the authority.
    Deliver(DeliverArgs),
}

/// What every `lawful` command takes.
#[derive(Debug, Args)]
pub struct Common {
    #[command(flatten)]
    staff: StaffLogin,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// The exports directory (`exports.dir`); packages go to its `lawful/`. `<data dir>/exports` when unset.
    #[arg(long = "exports-dir", env = "TGOS_EXPORTS__DIR")]
    exports_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    common: Common,
    /// How many to list (at most 100).
    #[arg(long, default_value_t = 50)]
    limit: u64,
    /// List the requests older than this one (the next page).
    #[arg(long)]
    after: Option<LawfulRequestId>,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    #[command(flatten)]
    common: Common,
    /// The request's id.
    id: LawfulRequestId,
}

#[derive(Debug, Args)]
pub struct DeliverArgs {
    #[command(flatten)]
    common: Common,
    /// The request's id.
    id: LawfulRequestId,
    /// How the package was handed over (registered post, the authority's portal, …).
    #[arg(long)]
    note: Option<String>,
}

impl LawfulCommand {
    fn common(&self) -> &Common {
        match self {
            LawfulCommand::Register(args) => &args.common,
            LawfulCommand::List(args) => &args.common,
            LawfulCommand::Show(args) | LawfulCommand::Approve(args) | LawfulCommand::Package(args) => &args.common,
            LawfulCommand::Deliver(args) => &args.common,
        }
    }
}

pub async fn run(command: LawfulCommand, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let common = command.common();
    let exports = common
        .exports_dir
        .clone()
        .unwrap_or_else(|| connection.data_dir.join("exports"));
    let console = Connection::open(connection).await?;
    let files = ZipPackages::under(&exports).map_err(|error| {
        anyhow::anyhow!(
            "cannot open the packages' directory under {}: {error}",
            exports.display()
        )
    })?;
    let lawful = LawfulRequests::new(Arc::clone(&console.store), Arc::new(SystemClock), Arc::new(files));
    let staff = StaffSession::sign_in(&console, &common.staff).await?;
    let json = common.json;
    let outcome = match command {
        LawfulCommand::Register(args) => register::run(&lawful, &staff, args, json).await,
        LawfulCommand::List(args) => steps::list(&lawful, &staff, args.after, args.limit, json).await,
        LawfulCommand::Show(args) => steps::show(&lawful, &staff, args.id, json).await,
        LawfulCommand::Approve(args) => steps::approve(&lawful, &staff, args.id, json).await,
        LawfulCommand::Package(args) => steps::package(&lawful, &staff, args.id, json).await,
        LawfulCommand::Deliver(args) => steps::deliver(&lawful, &staff, args.id, args.note.as_deref(), json).await,
    };
    staff.end(&console, outcome).await
}
