//! `tgos-console users find|show|suspend|unsuspend [--json]`: looking a person up and suspending their
//! account, as the web pages do it (`tgos_domain::compliance`). Staff sign-in first; `--json` prints one JSON
//! document (a refusal as `{"error": {…}}`); exit 0 done, 1 refused, 3 no sign-in or no data.

use std::io::Write as _;

use chrono::Utc;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use tgos_domain::DomainError;
use tgos_domain::compliance::{StaffContext, UserDossier};
use tgos_domain::identity::records::UserRecord;
use tgos_domain::ids::UserId;

use crate::context::{Connection, ConnectionArgs};
use crate::errors::{code_of, field_of};
use crate::session::{StaffLogin, StaffSession};
use crate::web::when;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Accounts whose email, username or id is exactly the query.
    Find(QueryArgs),
    /// A person's profile, workspaces and roles, sessions, requests and audit trail.
    Show(QueryArgs),
    /// Suspends an account: signed out everywhere, sign-in refused, the person told.
    Suspend(SuspendArgs),
    /// Lifts a suspension.
    Unsuspend(QueryArgs),
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    staff: StaffLogin,
    #[arg(long)]
    json: bool,
    /// An email, a username or an account id.
    query: String,
}

#[derive(Debug, Args)]
pub struct SuspendArgs {
    #[command(flatten)]
    staff: StaffLogin,
    #[arg(long)]
    json: bool,
    query: String,
    /// Why (the person is told).
    #[arg(long)]
    reason: String,
}

/// A person as the pages and `--json` show them (never a secret: no password hash, no TOTP secret).
pub fn user_json(user: &UserRecord) -> Value {
    json!({
        "id": user.id.to_string(),
        "email": user.email,
        "username": user.username,
        "full_name": user.full_name,
        "staff": user.is_staff,
        "two_factor": user.two_factor_enabled(),
        "email_verified": user.email_verified(),
        "created": when(user.created_at),
        "closed": user.closed_at.map(when),
        "restricted": user.restricted_at.map(when),
        "suspended": user.suspended_at.map(when),
        "suspension_reason": user.suspension_reason,
    })
}

/// The whole page of a person.
pub fn dossier_json(dossier: &UserDossier) -> Value {
    let now = Utc::now();
    json!({
        "user": user_json(&dossier.user),
        "workspaces": dossier.workspaces.iter().map(|(w, role)| json!({
            "id": w.id.to_string(), "name": w.name, "role": role.as_str(),
        })).collect::<Vec<_>>(),
        "sessions": dossier.sessions.iter().map(|s| json!({
            "created": when(s.created_at), "last_seen": when(s.last_seen_at),
            "ip_address": s.ip_address, "user_agent": s.user_agent,
        })).collect::<Vec<_>>(),
        "requests": dossier.requests.iter().map(|r| json!({
            "id": r.id.to_string(), "kind": r.kind.as_str(), "status": r.status.as_str(),
            "received": when(r.received_at), "answer_by": when(r.answer_by()), "overdue": r.is_overdue(now),
        })).collect::<Vec<_>>(),
        "trail": dossier.trail.iter().map(|e| json!({
            "at": when(e.at), "action": e.action, "actor": e.actor.display_name,
            "actor_kind": e.actor.kind.as_str(), "ip_address": e.ip_address, "user_agent": e.user_agent,
        })).collect::<Vec<_>>(),
    })
}

/// The one account a query names; `NOT_FOUND` for none.
pub async fn the_user(console: &Connection, ctx: StaffContext<'_>, query: &str) -> Result<UserId, DomainError> {
    console
        .compliance()
        .find_users(ctx, query)
        .await?
        .first()
        .map(|user| user.id)
        .ok_or(DomainError::NotFound("account"))
}

pub async fn run(command: UsersCommand, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let (staff, json_output) = match &command {
        UsersCommand::Find(a) | UsersCommand::Show(a) | UsersCommand::Unsuspend(a) => (&a.staff, a.json),
        UsersCommand::Suspend(a) => (&a.staff, a.json),
    };
    let console = Connection::open(connection).await?;
    let session = StaffSession::sign_in(&console, staff).await?;
    let outcome = execute(&console, &session, &command).await;
    let printed = print(json_output, outcome);
    session.end(&console, printed).await
}

async fn execute(console: &Connection, session: &StaffSession, command: &UsersCommand) -> Result<Value, DomainError> {
    let compliance = console.compliance();
    let ctx = StaffContext {
        principal: session.principal(),
        client: session.client(),
    };
    match command {
        UsersCommand::Find(args) => {
            let found = compliance.find_users(ctx, &args.query).await?;
            compliance.record_view(ctx, "users", None).await?;
            Ok(json!({ "users": found.iter().map(user_json).collect::<Vec<_>>() }))
        }
        UsersCommand::Show(args) => {
            let id = the_user(console, ctx, &args.query).await?;
            let dossier = compliance.user_dossier(ctx, id).await?;
            compliance
                .record_view(ctx, "user", Some(("USER", id.to_string())))
                .await?;
            Ok(dossier_json(&dossier))
        }
        UsersCommand::Suspend(args) => {
            let id = the_user(console, ctx, &args.query).await?;
            compliance.suspend_user(ctx, id, &args.reason).await?;
            Ok(json!({ "suspended": id.to_string() }))
        }
        UsersCommand::Unsuspend(args) => {
            let id = the_user(console, ctx, &args.query).await?;
            compliance.unsuspend_user(ctx, id).await?;
            Ok(json!({ "unsuspended": id.to_string() }))
        }
    }
}

fn print(json_output: bool, outcome: Result<Value, DomainError>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match outcome {
        Ok(value) if json_output => {
            writeln!(out, "{value}")?;
            Ok(())
        }
        Ok(value) => {
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
            Ok(())
        }
        Err(error) => {
            if json_output {
                let body = json!({ "error": { "code": code_of(&error), "field": field_of(&error), "message": error.to_string() } });
                writeln!(out, "{body}")?;
            }
            Err(anyhow::Error::new(error))
        }
    }
}
