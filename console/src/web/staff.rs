//! The staff page: the list, adding an account as staff, disabling one, and the two-person two-factor reset.

use std::sync::Arc;

use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::json;
use tgos_domain::ids::UserId;

use super::Console;
use super::auth::{StaffSession, csrf_of, csrf_ok, csrf_refused, staff};
use super::render::{status_of, text_of};
use crate::users::user_json;

async fn staff_page(console: &Console, session: &StaffSession, error: Option<String>, status: StatusCode) -> Response {
    let ctx = session.context();
    let listed = match console.compliance.list_staff(ctx).await {
        Ok(listed) => listed,
        Err(error) => {
            return console
                .pages
                .message(status_of(&error), "Refused", &text_of(&error), "/");
        }
    };
    if let Err(error) = console.compliance.record_view(ctx, "staff", None).await {
        return console
            .pages
            .message(status_of(&error), "Refused", &text_of(&error), "/");
    }
    let mut rows = Vec::with_capacity(listed.len());
    for member in &listed {
        let mut row = user_json(member);
        if let Ok(Some(proposal)) = console.compliance.pending_reset(ctx, member.id).await {
            let by = listed
                .iter()
                .find(|s| s.id == proposal.proposed_by)
                .map_or_else(|| proposal.proposed_by.to_string(), |s| s.username.clone());
            row["reset_proposed_by"] = json!(by);
        }
        rows.push(row);
    }
    let me = session.principal.user_id().map(|id| id.to_string());
    let context = json!({
        "staff": session.name, "csrf": csrf_of(console, session), "section": "staff",
        "staff_list": rows, "me": me, "error": error,
    });
    console.pages.page("staff.html", context, status)
}

/// `GET /staff`.
#[handler]
pub async fn list(console: Data<&Arc<Console>>, req: &Request) -> Response {
    match staff(&console, req).await {
        Ok(session) => staff_page(&console, &session, None, StatusCode::OK).await,
        Err(response) => response,
    }
}

#[derive(Debug, Deserialize)]
pub struct StaffForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

fn back() -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, "/staff")
        .finish()
}

/// `POST /staff`: adds an account as staff.
#[handler]
pub async fn add(console: Data<&Arc<Console>>, req: &Request, Form(form): Form<StaffForm>) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if !csrf_ok(&console, &session, &form.csrf) {
        return csrf_refused(&console);
    }
    match console.compliance.grant_staff(session.context(), &form.text).await {
        Ok(_) => back(),
        Err(error) => staff_page(&console, &session, Some(text_of(&error)), status_of(&error)).await,
    }
}

/// `POST /staff/:id/disable|propose-reset|approve-reset`.
#[handler]
pub async fn act(
    console: Data<&Arc<Console>>,
    req: &Request,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<StaffForm>,
) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if !csrf_ok(&console, &session, &form.csrf) {
        return csrf_refused(&console);
    }
    let Ok(id) = id.parse::<UserId>() else {
        return console
            .pages
            .message(StatusCode::NOT_FOUND, "Not found", "no such staff member", "/staff");
    };
    let ctx = session.context();
    let done = match action.as_str() {
        "disable" => console.compliance.disable_staff(ctx, id).await,
        "propose-reset" => console.compliance.propose_totp_reset(ctx, id).await.map(|_| ()),
        "approve-reset" => console.compliance.approve_totp_reset(ctx, id).await,
        _ => {
            return console
                .pages
                .message(StatusCode::NOT_FOUND, "Not found", "no such action", "/staff");
        }
    };
    match done {
        Ok(()) => back(),
        Err(error) => staff_page(&console, &session, Some(text_of(&error)), status_of(&error)).await,
    }
}
