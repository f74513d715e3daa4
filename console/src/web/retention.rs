//! The retention page: what the sweep would change now (the report, a dry run), and running it.
//!
//! Rules: the report changes nothing and is audited as a view; a run is audited as the staff member's request
//! (`console.retention_run`) and by the sweep itself as the system (`retention.swept`, platform chain), and
//! the page then shows what it changed. Windows and batch are the console's `[retention]` settings.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Form};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};
use tgos_domain::retention::{Action, CLASSES, Keep, RetentionSummary, class};

use super::Console;
use super::auth::{StaffSession, csrf_of, staff, staff_form};
use super::render::{status_of, text_of, when};

fn frame(console: &Console, session: &StaffSession) -> Value {
    json!({ "staff": session.name, "csrf": csrf_of(console, session), "section": "retention" })
}

/// What a class keeps, in words.
fn keep_text(keep: Keep) -> String {
    match keep {
        Keep::Window(window) => format!("the window of {}", window.key()),
        Keep::WhileParentLives(parent) => format!("while {parent} lives"),
        Keep::Setting { key, default } => format!("{key} ({default})"),
        Keep::Obligation(what) => format!("as long as {what} requires"),
    }
}

/// The summary as the page shows it: each class the sweep runs or reports, and every other class with what
/// carries it out.
fn summary_json(summary: &RetentionSummary) -> Value {
    let classes: Vec<Value> = summary
        .classes
        .iter()
        .map(|c| {
            json!({
                "class": c.class,
                "rows": c.rows,
                "acts": c.acts,
                "cutoff": when(c.cutoff),
                "why": class(c.class).map(|k| k.why).unwrap_or_default(),
            })
        })
        .collect();
    let others: Vec<Value> = CLASSES
        .iter()
        .filter(|c| !summary.classes.iter().any(|s| s.class == c.name))
        .map(|c| {
            let by = match c.action {
                Action::ByJob(job) | Action::Kept(job) => job,
                Action::ReportOnly(_, why) => why,
                Action::Purge(_) => "the retention sweep",
            };
            json!({ "class": c.name, "keep": keep_text(c.keep), "by": by, "why": c.why })
        })
        .collect();
    json!({
        "classes": classes,
        "others": others,
        "total": summary.acted_rows(),
        "backup_keys_removed": summary.backup_keys_removed,
        "batches": summary.batches,
    })
}

/// `GET /retention`: the report.
#[handler]
pub async fn report(console: Data<&Arc<Console>>, req: &Request) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ctx = session.context();
    let summary = match console.compliance.retention_report(ctx, &console.retention).await {
        Ok(summary) => summary,
        Err(error) => {
            return console
                .pages
                .message(status_of(&error), "Refused", &text_of(&error), "/");
        }
    };
    if let Err(error) = console.compliance.record_view(ctx, "retention", None).await {
        return console
            .pages
            .message(status_of(&error), "Refused", &text_of(&error), "/");
    }
    let mut context = frame(&console, &session);
    context["summary"] = summary_json(&summary);
    context["ran"] = json!(false);
    console.pages.page("retention.html", context, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct RunForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /retention/run`: runs the sweep now and shows what it changed.
#[handler]
pub async fn run(console: Data<&Arc<Console>>, req: &Request, Form(form): Form<RunForm>) -> Response {
    let session = match staff_form(&console, req, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let summary = match console
        .compliance
        .run_retention(session.context(), &console.retention)
        .await
    {
        Ok(summary) => summary,
        Err(error) => {
            return console
                .pages
                .message(status_of(&error), "The sweep failed", &text_of(&error), "/retention");
        }
    };
    let mut context = frame(&console, &session);
    context["summary"] = summary_json(&summary);
    context["ran"] = json!(true);
    context["notice"] = json!(format!(
        "The sweep ran: {} rows changed, {} destroyed data keys removed from backups.",
        summary.acted_rows(),
        summary.backup_keys_removed
    ));
    console.pages.page("retention.html", context, StatusCode::OK)
}
