//! The lawful requests register's pages: the list and the registration form, a request's page with its next
//! step (approval by a second staff member, the package, the delivery), and the package's download.
//! Every view and the download are audited; the steps are audited by the register's use cases.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone as _, Utc};
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path, Query};
use poem::{Body, Request, Response, handler};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tgos_domain::DomainError;
use tgos_domain::compliance::lawful::{Category, NewLawfulRequest};
use tgos_domain::ids::{LawfulRequestId, UserId, WorkspaceId};
use tgos_domain::paging::PageRequest;

use super::Console;
use super::auth::{StaffSession, staff, staff_form};
use super::render::{frame, merge, status_of, text_of};
use crate::lawful::output::to_json;

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct RegisterForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    authority: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    users: String,
    #[serde(default)]
    workspaces: String,
    #[serde(default)]
    categories: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    notes: String,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    after: Option<String>,
}

fn date(field: &str, text: &str) -> Result<NaiveDate, DomainError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| DomainError::invalid(field, "a date, YYYY-MM-DD"))
}

fn ids<T: std::str::FromStr>(field: &str, text: &str) -> Result<Vec<T>, DomainError> {
    text.split([',', '\n', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse()
                .map_err(|_| DomainError::invalid(field, format!("not an id: {t}")))
        })
        .collect()
}

impl RegisterForm {
    fn parse(&self) -> Result<NewLawfulRequest, DomainError> {
        let midnight = |field: &str, text: &str| -> Result<chrono::DateTime<Utc>, DomainError> {
            let day = date(field, text)?;
            Ok(Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default()))
        };
        let categories = self
            .categories
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                Category::parse(t).ok_or_else(|| DomainError::invalid("categories", format!("not a category: {t}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let notes = Some(self.notes.trim().to_owned()).filter(|n| !n.is_empty());
        Ok(NewLawfulRequest {
            authority: self.authority.clone(),
            reference: self.reference.clone(),
            legal_basis: self.legal_basis.clone(),
            received_on: date("receivedOn", &self.received_on)?,
            due_on: date("dueOn", &self.due_on)?,
            users: ids::<UserId>("users", &self.users)?,
            workspaces: ids::<WorkspaceId>("workspaces", &self.workspaces)?,
            categories,
            period_from: midnight("from", &self.from)?,
            period_to: midnight("to", &self.to)?,
            notes,
        })
    }
}

async fn list_page(
    console: &Console,
    session: &StaffSession,
    after: Option<LawfulRequestId>,
    form: &RegisterForm,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let page = match console
        .lawful
        .list(&session.principal, PageRequest::new(after, 50))
        .await
    {
        Ok(page) => page,
        Err(error) => {
            return console
                .pages
                .message(status_of(&error), "Refused", &text_of(&error), "/");
        }
    };
    if let Err(error) = console.compliance.record_view(session.context(), "lawful", None).await {
        return console
            .pages
            .message(status_of(&error), "Refused", &text_of(&error), "/");
    }
    let rows: Vec<_> = page.items.iter().map(|r| to_json(&console.lawful, r)).collect();
    let next = page.items.last().map(|r| r.id.to_string());
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let context = merge(
        frame(console, session, "lawful"),
        json!({
            "requests": rows, "has_next": page.has_next, "next": next, "form": form,
            "categories": categories.join(", "), "error": error,
        }),
    );
    console.pages.page("lawful.html", context, status)
}

/// `GET /lawful`.
#[handler]
pub async fn list(console: Data<&Arc<Console>>, req: &Request, Query(query): Query<ListQuery>) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let after = query.after.and_then(|a| a.parse().ok());
    list_page(
        &console,
        &session,
        after,
        &RegisterForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /lawful`: registers a request.
#[handler]
pub async fn register(console: Data<&Arc<Console>>, req: &Request, Form(form): Form<RegisterForm>) -> Response {
    let session = match staff_form(&console, req, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let registered = match form.parse() {
        Ok(input) => {
            console
                .lawful
                .register(&session.principal, &session.client, input)
                .await
        }
        Err(error) => Err(error),
    };
    match registered {
        Ok(request) => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, format!("/lawful/{}", request.id))
            .finish(),
        Err(error) => {
            list_page(
                &console,
                &session,
                None,
                &form,
                Some(text_of(&error)),
                status_of(&error),
            )
            .await
        }
    }
}

async fn request_page(
    console: &Console,
    session: &StaffSession,
    id: LawfulRequestId,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let request = match console.lawful.get(&session.principal, id).await {
        Ok(request) => request,
        Err(error) => {
            return console
                .pages
                .message(status_of(&error), "Not shown", &text_of(&error), "/lawful");
        }
    };
    let target = Some(("LAWFUL_REQUEST", id.to_string()));
    if let Err(error) = console
        .compliance
        .record_view(session.context(), "lawful request", target)
        .await
    {
        return console
            .pages
            .message(status_of(&error), "Refused", &text_of(&error), "/lawful");
    }
    let context = merge(
        frame(console, session, "lawful"),
        json!({ "r": to_json(&console.lawful, &request), "error": error }),
    );
    console.pages.page("lawful_request.html", context, status)
}

/// `GET /lawful/:id`.
#[handler]
pub async fn show(console: Data<&Arc<Console>>, req: &Request, Path(id): Path<String>) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<LawfulRequestId>() else {
        return console
            .pages
            .message(StatusCode::NOT_FOUND, "Not found", "no such request", "/lawful");
    };
    request_page(&console, &session, id, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

/// `POST /lawful/:id/approve|package|deliver`.
#[handler]
pub async fn act(
    console: Data<&Arc<Console>>,
    req: &Request,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<StepForm>,
) -> Response {
    let session = match staff_form(&console, req, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<LawfulRequestId>() else {
        return console
            .pages
            .message(StatusCode::NOT_FOUND, "Not found", "no such request", "/lawful");
    };
    let (principal, client) = (&session.principal, &session.client);
    let note = Some(form.note.trim()).filter(|n| !n.is_empty());
    let done = match action.as_str() {
        "approve" => console.lawful.approve(principal, client, id).await,
        "package" => console.lawful.build_package(principal, client, id).await,
        "deliver" => console.lawful.mark_delivered(principal, client, id, note).await,
        _ => {
            return console
                .pages
                .message(StatusCode::NOT_FOUND, "Not found", "no such step", "/lawful");
        }
    };
    match done {
        Ok(_) => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, format!("/lawful/{id}"))
            .finish(),
        Err(error) => request_page(&console, &session, id, Some(text_of(&error)), status_of(&error)).await,
    }
}

/// `GET /lawful/:id/package.zip`: the built package, streamed; audited as a view of it.
#[handler]
pub async fn download(console: Data<&Arc<Console>>, req: &Request, Path(id): Path<String>) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<LawfulRequestId>() else {
        return console
            .pages
            .message(StatusCode::NOT_FOUND, "Not found", "no such request", "/lawful");
    };
    let request = match console.lawful.get(&session.principal, id).await {
        Ok(request) => request,
        Err(error) => {
            return console
                .pages
                .message(status_of(&error), "Not shown", &text_of(&error), "/lawful");
        }
    };
    let Some(path) = console.lawful.package_path(&request) else {
        return console
            .pages
            .message(StatusCode::NOT_FOUND, "Not found", "no package is built yet", "/lawful");
    };
    let target = Some(("LAWFUL_REQUEST", id.to_string()));
    if let Err(error) = console
        .compliance
        .record_view(session.context(), "lawful package", target)
        .await
    {
        return console
            .pages
            .message(status_of(&error), "Refused", &text_of(&error), "/lawful");
    }
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(_) => {
            return console.pages.message(
                StatusCode::NOT_FOUND,
                "Not found",
                "the package file is missing",
                "/lawful",
            );
        }
    };
    Response::builder()
        .status(StatusCode::OK)
        .content_type("application/zip")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"lawful-{id}.zip\""),
        )
        .body(Body::from_async_read(file))
}
