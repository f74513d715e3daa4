//! Looking a person up, their page, and suspending or unsuspending their account.

use std::sync::Arc;

use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::json;
use tgos_domain::ids::UserId;

use super::Console;
use super::auth::{StaffSession, csrf_of, csrf_ok, csrf_refused, staff};
use super::render::{status_of, text_of};
use crate::users::{dossier_json, user_json};

#[derive(Debug, Deserialize)]
pub struct LookUp {
    #[serde(default)]
    q: String,
}

fn frame(console: &Console, session: &StaffSession) -> serde_json::Value {
    json!({ "staff": session.name, "csrf": csrf_of(console, session), "section": "users" })
}

/// `GET /users?q=…`.
#[handler]
pub async fn find(console: Data<&Arc<Console>>, req: &Request, Query(look): Query<LookUp>) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let mut context = frame(&console, &session);
    context["query"] = json!(look.q);
    if !look.q.trim().is_empty() {
        let ctx = session.context();
        let found = match console.compliance.find_users(ctx, &look.q).await {
            Ok(found) => found,
            Err(error) => {
                return console
                    .pages
                    .message(status_of(&error), "Refused", &text_of(&error), "/users");
            }
        };
        if let Err(error) = console.compliance.record_view(ctx, "users", None).await {
            return console
                .pages
                .message(status_of(&error), "Refused", &text_of(&error), "/users");
        }
        context["users"] = json!(found.iter().map(user_json).collect::<Vec<_>>());
    }
    console.pages.page("users.html", context, StatusCode::OK)
}

async fn user_page(
    console: &Console,
    session: &StaffSession,
    id: UserId,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let ctx = session.context();
    let dossier = match console.compliance.user_dossier(ctx, id).await {
        Ok(dossier) => dossier,
        Err(error) => {
            return console
                .pages
                .message(status_of(&error), "Not shown", &text_of(&error), "/users");
        }
    };
    if let Err(error) = console
        .compliance
        .record_view(ctx, "user", Some(("USER", id.to_string())))
        .await
    {
        return console
            .pages
            .message(status_of(&error), "Refused", &text_of(&error), "/users");
    }
    let mut context = frame(console, session);
    context["d"] = dossier_json(&dossier);
    context["error"] = json!(error);
    console.pages.page("user.html", context, status)
}

/// `GET /users/:id`.
#[handler]
pub async fn show(console: Data<&Arc<Console>>, req: &Request, Path(id): Path<String>) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<UserId>() else {
        return console
            .pages
            .message(StatusCode::NOT_FOUND, "Not found", "no such account", "/users");
    };
    user_page(&console, &session, id, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct SuspendForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

/// `POST /users/:id/suspend` and `POST /users/:id/unsuspend`.
#[handler]
pub async fn act(
    console: Data<&Arc<Console>>,
    req: &Request,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<SuspendForm>,
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
            .message(StatusCode::NOT_FOUND, "Not found", "no such account", "/users");
    };
    let ctx = session.context();
    let done = match action.as_str() {
        "suspend" => console.compliance.suspend_user(ctx, id, &form.text).await,
        "unsuspend" => console.compliance.unsuspend_user(ctx, id).await,
        _ => {
            return console
                .pages
                .message(StatusCode::NOT_FOUND, "Not found", "no such action", "/users");
        }
    };
    match done {
        Ok(()) => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, format!("/users/{id}"))
            .finish(),
        Err(error) => user_page(&console, &session, id, Some(text_of(&error)), status_of(&error)).await,
    }
}
