//! `tgos-console staff list|add|disable|reset-2fa [--json]`: the staff accounts, as the web page manages
//! them (`tgos_domain::compliance`). `add` makes an existing account staff: it acts as staff once it has
//! two-factor on. `reset-2fa` proposes a reset; `reset-2fa --approve`, by a second staff member, carries it
//! out. Staff sign-in first; refusals with `--json` print `{"error": {…}}`; exit 0 done, 1 refused, 3 no
//! sign-in or no data.

use std::io::Write as _;

use clap::Args;
use serde_json::{Value, json};
use tgos_domain::DomainError;
use tgos_domain::compliance::StaffContext;

use crate::context::{Connection, ConnectionArgs};
use crate::errors::{code_of, field_of};
use crate::session::{StaffLogin, StaffSession};
use crate::users::{the_user, user_json};

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    staff: StaffLogin,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    #[command(flatten)]
    staff: StaffLogin,
    #[arg(long)]
    json: bool,
    /// The account: email, username or id.
    user: String,
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    #[command(flatten)]
    staff: StaffLogin,
    #[arg(long)]
    json: bool,
    user: String,
    /// Approve another staff member's proposal (instead of proposing).
    #[arg(long)]
    approve: bool,
}

/// What to do, once signed in.
pub enum Manage {
    List(ListArgs),
    Add(TargetArgs),
    Disable(TargetArgs),
    Reset(ResetArgs),
}

pub async fn run(command: Manage, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let (login, json_output) = match &command {
        Manage::List(a) => (&a.staff, a.json),
        Manage::Add(a) | Manage::Disable(a) => (&a.staff, a.json),
        Manage::Reset(a) => (&a.staff, a.json),
    };
    let console = Connection::open(connection).await?;
    let session = StaffSession::sign_in(&console, login).await?;
    let outcome = execute(&console, &session, &command).await;
    let printed = print(json_output, outcome);
    session.end(&console, printed).await
}

async fn execute(console: &Connection, session: &StaffSession, command: &Manage) -> Result<Value, DomainError> {
    let compliance = console.compliance();
    let ctx = StaffContext {
        principal: session.principal(),
        client: session.client(),
    };
    match command {
        Manage::List(_) => {
            let staff = compliance.list_staff(ctx).await?;
            compliance.record_view(ctx, "staff", None).await?;
            Ok(json!({ "staff": staff.iter().map(user_json).collect::<Vec<_>>() }))
        }
        Manage::Add(args) => {
            let user = compliance.grant_staff(ctx, &args.user).await?;
            Ok(json!({ "added": user.id.to_string(), "actsAsStaff": user.two_factor_enabled() }))
        }
        Manage::Disable(args) => {
            let id = the_user(console, ctx, &args.user).await?;
            compliance.disable_staff(ctx, id).await?;
            Ok(json!({ "disabled": id.to_string() }))
        }
        Manage::Reset(args) => {
            let id = the_user(console, ctx, &args.user).await?;
            if args.approve {
                compliance.approve_totp_reset(ctx, id).await?;
                Ok(json!({ "reset": id.to_string() }))
            } else {
                let proposal = compliance.propose_totp_reset(ctx, id).await?;
                Ok(json!({ "proposed": proposal.id.to_string(), "awaits": "a second staff member's approval" }))
            }
        }
    }
}

fn print(json_output: bool, outcome: Result<Value, DomainError>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match outcome {
        Ok(value) if json_output => writeln!(out, "{value}")?,
        Ok(value) => writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?,
        Err(error) => {
            if json_output {
                let body = json!({ "error": { "code": code_of(&error), "field": field_of(&error), "message": error.to_string() } });
                writeln!(out, "{body}")?;
            }
            return Err(anyhow::Error::new(error));
        }
    }
    Ok(())
}
