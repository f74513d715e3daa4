//! `tgos-console requests list|show|register|verify|extend|fulfil|approve|reject [--json]`: the
//! data-subject request queue and working one request, as the web pages do it (the same use cases,
//! `tgos_domain::compliance`).
//!
//! Rules: staff sign-in first, and the session ends with the command; `--json` prints one JSON document
//! (a refusal too, as `{"error": {"code", "field", "message"}}`); exit 0 done, 1 refused, 3 no sign-in or
//! no data. `fulfil` does what the request's kind needs: the export for ACCESS and EXPORT, the record of
//! what changed for RECTIFICATION (`--text`), the restriction for RESTRICTION (`--text`), the decision for
//! OBJECTION (`--decision`, `--text`), and proposing the erasure for DELETION, which `approve` (by a second
//! staff member) carries out.

use std::io::Write as _;

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use tgos_domain::DomainError;
use tgos_domain::compliance::{EmailedRequest, StaffContext};
use tgos_domain::ids::{DataSubjectRequestId, UserId};
use tgos_domain::privacy::ports::{QueueFilter, QueuedRequest};
use tgos_domain::privacy::{DataSubjectRequest, ObjectionDecision, RequestKind, RequestStatus};

use crate::context::{Connection, ConnectionArgs};
use crate::errors::{code_of, field_of};
use crate::session::{StaffLogin, StaffSession};

#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// The queue: open requests (or those of `--status`), soonest to answer first.
    List(ListArgs),
    /// One request.
    Show(OneArgs),
    /// Registers a request that arrived by email.
    Register(RegisterArgs),
    /// Records how the requester was verified and starts the work (`--start`: only asks them first).
    Verify(VerifyArgs),
    /// Extends the answer date once, with a reason.
    Extend(ExtendArgs),
    /// Fulfils the request as its kind needs (see the module documentation).
    Fulfil(FulfilArgs),
    /// Approves a proposed erasure, as a second staff member.
    Approve(OneArgs),
    /// Rejects the request with a reason.
    Reject(RejectArgs),
}

#[derive(Debug, Args)]
pub struct Common {
    #[command(flatten)]
    staff: StaffLogin,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    common: Common,
    /// ACCESS, EXPORT, DELETION, RECTIFICATION, RESTRICTION or OBJECTION.
    #[arg(long)]
    kind: Option<String>,
    /// RECEIVED, VERIFYING, IN_PROGRESS, COMPLETED, REJECTED, or ALL; open ones when unset.
    #[arg(long)]
    status: Option<String>,
}

#[derive(Debug, Args)]
pub struct OneArgs {
    #[command(flatten)]
    common: Common,
    id: String,
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    common: Common,
    /// The address it came from.
    #[arg(long)]
    email: String,
    #[arg(long)]
    kind: String,
    /// The day it arrived, YYYY-MM-DD (UTC).
    #[arg(long)]
    received: String,
    /// What the person asked for.
    #[arg(long)]
    details: String,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    common: Common,
    id: String,
    /// How the requester was (or is being) verified.
    #[arg(long, default_value = "")]
    method: String,
    /// Only record that verification started (RECEIVED → VERIFYING).
    #[arg(long)]
    start: bool,
}

#[derive(Debug, Args)]
pub struct ExtendArgs {
    #[command(flatten)]
    common: Common,
    id: String,
    /// The new answer date, YYYY-MM-DD (UTC).
    #[arg(long)]
    until: String,
    #[arg(long)]
    reason: String,
}

#[derive(Debug, Args)]
pub struct FulfilArgs {
    #[command(flatten)]
    common: Common,
    id: String,
    /// What changed (RECTIFICATION), a note (RESTRICTION), or why (OBJECTION).
    #[arg(long, default_value = "")]
    text: String,
    /// UPHELD or DISMISSED (OBJECTION).
    #[arg(long)]
    decision: Option<String>,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    #[command(flatten)]
    common: Common,
    id: String,
    #[arg(long)]
    reason: String,
}

/// A request with the names of the staff who handled it, as the pages and `--json` show it.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub queued: QueuedRequest,
    pub verified_by: Option<String>,
    pub proposed_by: Option<String>,
    pub approved_by: Option<String>,
}

/// The request's view, with staff usernames looked up.
pub async fn view_of(console: &Connection, queued: QueuedRequest) -> RequestView {
    let name = async |id: Option<UserId>| match id {
        Some(id) => Some(match console.store.find_user(id).await {
            Ok(Some(user)) => user.username,
            _ => id.to_string(),
        }),
        None => None,
    };
    let handling = &queued.request.handling;
    RequestView {
        verified_by: name(handling.verified_by).await,
        proposed_by: name(handling.erasure_proposed.map(|(id, _)| id)).await,
        approved_by: name(handling.erasure_approved.map(|(id, _)| id)).await,
        queued,
    }
}

fn time(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |at| Value::String(crate::web::when(at)))
}

impl RequestView {
    pub fn json(&self, now: DateTime<Utc>) -> Value {
        let q = &self.queued;
        let r = &q.request;
        json!({
            "id": r.id.to_string(),
            "kind": r.kind.as_str(),
            "status": r.status.as_str(),
            "channel": r.channel.as_str(),
            "email": q.email,
            "username": q.username,
            "full_name": q.full_name,
            "details": r.details,
            "received": crate::web::when(r.received_at),
            "due": crate::web::when(r.due_at),
            "answer_by": crate::web::when(r.answer_by()),
            "overdue": r.is_overdue(now),
            "extended_until": time(r.extended_until),
            "extension_reason": r.extension_reason,
            "completed": time(r.completed_at),
            "resolution": r.resolution,
            "verification_method": r.handling.verification_method,
            "verified_at": time(r.handling.verified_at),
            "verified_by": self.verified_by,
            "erasure_proposed_by": self.proposed_by,
            "erasure_proposed_at": time(r.handling.erasure_proposed.map(|(_, at)| at)),
            "erasure_approved_by": self.approved_by,
            "erasure_approved_at": time(r.handling.erasure_approved.map(|(_, at)| at)),
            "decision": r.handling.decision.map(|d| d.as_str()),
            "archive_ready": time(r.archive.as_ref().map(|a| a.ready_at)),
            "archive_expires": time(r.archive.as_ref().map(|a| a.expires_at)),
        })
    }
}

fn day(field: &str, text: &str) -> Result<DateTime<Utc>, DomainError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|at| Utc.from_utc_datetime(&at))
        .ok_or_else(|| DomainError::invalid(field, "a date, YYYY-MM-DD"))
}

fn request_id(text: &str) -> Result<DataSubjectRequestId, DomainError> {
    text.trim()
        .parse()
        .map_err(|_| DomainError::invalid("id", "not a request id"))
}

pub async fn run(command: RequestsCommand, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let common = match &command {
        RequestsCommand::List(a) => &a.common,
        RequestsCommand::Show(a) | RequestsCommand::Approve(a) => &a.common,
        RequestsCommand::Register(a) => &a.common,
        RequestsCommand::Verify(a) => &a.common,
        RequestsCommand::Extend(a) => &a.common,
        RequestsCommand::Fulfil(a) => &a.common,
        RequestsCommand::Reject(a) => &a.common,
    };
    let json_output = common.json;
    let console = Connection::open(connection).await?;
    let staff = StaffSession::sign_in(&console, &common.staff).await?;
    let outcome = execute(&console, &staff, &command).await;
    let printed = print(&console, json_output, outcome).await;
    staff.end(&console, printed).await
}

/// What a command produced.
enum Outcome {
    List(Vec<QueuedRequest>),
    One(DataSubjectRequestId),
}

async fn execute(
    console: &Connection,
    staff: &StaffSession,
    command: &RequestsCommand,
) -> Result<Outcome, DomainError> {
    let compliance = console.compliance();
    let ctx = StaffContext {
        principal: staff.principal(),
        client: staff.client(),
    };
    let changed = |request: DataSubjectRequest| Outcome::One(request.id);
    Ok(match command {
        RequestsCommand::List(args) => {
            let kind = match &args.kind {
                Some(text) => {
                    Some(RequestKind::parse(text).ok_or_else(|| DomainError::invalid("kind", "not a request kind"))?)
                }
                None => None,
            };
            let status = args.status.as_deref().filter(|s| *s != "ALL");
            let filter = QueueFilter {
                kind,
                status: match status {
                    Some(text) => Some(
                        RequestStatus::parse(text)
                            .ok_or_else(|| DomainError::invalid("status", "not a request status"))?,
                    ),
                    None => None,
                },
                open_only: args.status.is_none(),
                user: None,
            };
            let listed = compliance.queue(ctx, &filter).await?;
            compliance.record_view(ctx, "requests", None).await?;
            Outcome::List(listed)
        }
        RequestsCommand::Show(args) => Outcome::One(request_id(&args.id)?),
        RequestsCommand::Register(args) => {
            let input = EmailedRequest {
                subject_email: args.email.clone(),
                kind: RequestKind::parse(&args.kind)
                    .ok_or_else(|| DomainError::invalid("kind", "not a request kind"))?,
                received_at: day("received", &args.received)?,
                details: args.details.clone(),
            };
            changed(compliance.register_emailed_request(ctx, input).await?)
        }
        RequestsCommand::Verify(args) => {
            let id = request_id(&args.id)?;
            changed(if args.start {
                compliance.begin_verification(ctx, id, &args.method).await?
            } else {
                compliance.verify_identity(ctx, id, &args.method).await?
            })
        }
        RequestsCommand::Extend(args) => {
            let id = request_id(&args.id)?;
            changed(
                compliance
                    .extend(ctx, id, day("until", &args.until)?, &args.reason)
                    .await?,
            )
        }
        RequestsCommand::Fulfil(args) => {
            let id = request_id(&args.id)?;
            let request = compliance.request(ctx, id).await?.request;
            changed(match request.kind {
                RequestKind::Access | RequestKind::Export => compliance.generate_export(ctx, id).await?,
                RequestKind::Rectification => compliance.complete_rectification(ctx, id, &args.text).await?,
                RequestKind::Restriction => compliance.apply_restriction(ctx, id, &args.text).await?,
                RequestKind::Objection => {
                    let decision = args
                        .decision
                        .as_deref()
                        .and_then(ObjectionDecision::parse)
                        .ok_or_else(|| DomainError::invalid("decision", "UPHELD or DISMISSED"))?;
                    compliance.decide_objection(ctx, id, decision, &args.text).await?
                }
                RequestKind::Deletion => compliance.propose_erasure(ctx, id).await?,
            })
        }
        RequestsCommand::Approve(args) => changed(compliance.approve_erasure(ctx, request_id(&args.id)?).await?),
        RequestsCommand::Reject(args) => changed(compliance.reject(ctx, request_id(&args.id)?, &args.reason).await?),
    })
}

/// Prints the outcome; a refusal is printed (as JSON with `--json`) and fails the command.
async fn print(console: &Connection, json_output: bool, outcome: Result<Outcome, DomainError>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let now = Utc::now();
    match outcome {
        Ok(Outcome::List(listed)) => {
            if json_output {
                let mut rows = Vec::with_capacity(listed.len());
                for queued in listed {
                    rows.push(view_of(console, queued).await.json(now));
                }
                writeln!(out, "{}", json!({ "requests": rows }))?;
            } else if listed.is_empty() {
                writeln!(out, "no requests")?;
            } else {
                for q in &listed {
                    let r = &q.request;
                    let overdue = if r.is_overdue(now) { " OVERDUE" } else { "" };
                    writeln!(
                        out,
                        "{} answer-by={}{overdue} {} {} {} <{}>",
                        r.id,
                        crate::web::when(r.answer_by()),
                        r.kind.as_str(),
                        r.status.as_str(),
                        r.channel.as_str(),
                        q.email
                    )?;
                }
            }
            Ok(())
        }
        Ok(Outcome::One(id)) => {
            let request = console
                .store
                .request_by_id(id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("request {id} not found"))?;
            let filter = QueueFilter {
                user: Some(request.user_id),
                ..QueueFilter::default()
            };
            let queued = console
                .store
                .queue_requests(&filter, tgos_domain::compliance::QUEUE_LIMIT)
                .await?
                .into_iter()
                .find(|q| q.request.id == id)
                .ok_or_else(|| anyhow::anyhow!("request {id} not found"))?;
            let view = view_of(console, queued).await.json(now);
            if json_output {
                writeln!(out, "{}", json!({ "request": view }))?;
            } else if let Value::Object(fields) = view {
                for (key, value) in fields.iter().filter(|(_, v)| !v.is_null()) {
                    let text = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                    writeln!(out, "{key}: {text}")?;
                }
            }
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
