//! The request queue and a request's page, with the actions staff take on it.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone as _, Utc};
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use serde_json::{Value, json};
use tgos_domain::DomainError;
use tgos_domain::ids::{DataSubjectRequestId, UserId};
use tgos_domain::privacy::ports::{QueueFilter, QueuedRequest};
use tgos_domain::privacy::{ObjectionDecision, RequestChannel, RequestKind, RequestStatus};

use super::Console;
use super::auth::{StaffSession, staff, staff_form};
use super::render::{frame, merge, status_of, text_of, when};
use crate::requests::{RequestView, view_of};

fn kinds() -> Vec<&'static str> {
    RequestKind::ALL.iter().map(|k| k.as_str()).collect()
}

fn statuses() -> Vec<&'static str> {
    RequestStatus::ALL.iter().map(|s| s.as_str()).collect()
}

fn see_other(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .finish()
}

#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    status: String,
}

/// `GET /requests`: every request, soonest to answer first; open ones unless a status is chosen.
#[handler]
pub async fn queue(console: Data<&Arc<Console>>, req: &Request, Query(query): Query<QueueQuery>) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let filter = QueueFilter {
        kind: RequestKind::parse(&query.kind),
        status: RequestStatus::parse(&query.status),
        open_only: query.status.is_empty(),
        user: None,
    };
    let staff_ctx = session.context();
    let listed = match console.compliance.queue(staff_ctx, &filter).await {
        Ok(listed) => listed,
        Err(error) => {
            return console
                .pages
                .message(status_of(&error), "Refused", &text_of(&error), "/");
        }
    };
    if let Err(error) = console.compliance.record_view(staff_ctx, "requests", None).await {
        return console
            .pages
            .message(status_of(&error), "Refused", &text_of(&error), "/");
    }
    let now = Utc::now();
    let rows: Vec<Value> = listed
        .iter()
        .map(|queued| {
            let r = &queued.request;
            json!({
                "id": r.id.to_string(),
                "kind": r.kind.as_str(),
                "status": r.status.as_str(),
                "channel": r.channel.as_str(),
                "email": queued.email,
                "username": queued.username,
                "received": when(r.received_at),
                "answer_by": when(r.answer_by()),
                "extended": r.extended_until.is_some(),
                "overdue": r.is_overdue(now),
            })
        })
        .collect();
    let context = merge(
        frame(&console, &session, "requests"),
        json!({
            "requests": rows,
            "kinds": kinds(),
            "statuses": statuses(),
            "filter": { "kind": query.kind, "status": query.status },
        }),
    );
    console.pages.page("requests.html", context, StatusCode::OK)
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub struct NewRequestForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    received: String,
    #[serde(default)]
    details: String,
}

fn new_request_page(
    console: &Console,
    session: &StaffSession,
    form: &NewRequestForm,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let context = merge(
        frame(console, session, "requests"),
        json!({ "kinds": kinds(), "form": form, "error": error }),
    );
    console.pages.page("new_request.html", context, status)
}

/// `GET /requests/new`.
#[handler]
pub async fn new_form(console: Data<&Arc<Console>>, req: &Request) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let form = NewRequestForm {
        received: Utc::now().format("%Y-%m-%d").to_string(),
        kind: "ACCESS".to_owned(),
        ..NewRequestForm::default()
    };
    new_request_page(&console, &session, &form, None, StatusCode::OK)
}

/// A date field (`YYYY-MM-DD`) as the start of that day, UTC.
fn day(field: &str, text: &str) -> Result<chrono::DateTime<Utc>, DomainError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|at| Utc.from_utc_datetime(&at))
        .ok_or_else(|| DomainError::invalid(field, "a date, YYYY-MM-DD"))
}

/// `POST /requests`: registers an emailed request.
#[handler]
pub async fn register(console: Data<&Arc<Console>>, req: &Request, Form(form): Form<NewRequestForm>) -> Response {
    let session = match staff_form(&console, req, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let registered = async {
        let kind = RequestKind::parse(&form.kind).ok_or_else(|| DomainError::invalid("kind", "not a request kind"))?;
        let received_at = day("receivedAt", &form.received)?;
        let input = tgos_domain::compliance::EmailedRequest {
            subject_email: form.email.clone(),
            kind,
            received_at,
            details: form.details.clone(),
        };
        console
            .compliance
            .register_emailed_request(session.context(), input)
            .await
    }
    .await;
    match registered {
        Ok(request) => see_other(&format!("/requests/{}", request.id)),
        Err(error) => new_request_page(&console, &session, &form, Some(text_of(&error)), status_of(&error)),
    }
}

/// Which actions the request's page offers.
fn actions(view: &RequestView, me: UserId) -> Value {
    let r = &view.queued.request;
    let open = !r.status.is_final();
    let working = r.status == RequestStatus::InProgress;
    let erasing = working && r.kind == RequestKind::Deletion && r.handling.erasure_approved.is_none();
    json!({
        "begin_verification": r.status == RequestStatus::Received && r.channel == RequestChannel::Email,
        "verify": matches!(r.status, RequestStatus::Received | RequestStatus::Verifying),
        "export": working && matches!(r.kind, RequestKind::Access | RequestKind::Export) && r.archive.is_none(),
        "rectify": working && r.kind == RequestKind::Rectification,
        "restrict": working && r.kind == RequestKind::Restriction,
        "object": working && r.kind == RequestKind::Objection,
        "propose": erasing && r.handling.erasure_proposed.is_none(),
        "approve": erasing && r.handling.erasure_proposed.is_some_and(|(by, _)| by != me),
        "extend": open && r.extended_until.is_none(),
        "reject": open && r.handling.erasure_approved.is_none(),
    })
}

async fn detail_page(
    console: &Console,
    session: &StaffSession,
    id: DataSubjectRequestId,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let staff_ctx = session.context();
    let queued: QueuedRequest = match console.compliance.request(staff_ctx, id).await {
        Ok(queued) => queued,
        Err(error) => {
            return console
                .pages
                .message(status_of(&error), "Not shown", &text_of(&error), "/requests");
        }
    };
    if let Err(error) = console
        .compliance
        .record_view(staff_ctx, "request", Some(("DATA_SUBJECT_REQUEST", id.to_string())))
        .await
    {
        return console
            .pages
            .message(status_of(&error), "Refused", &text_of(&error), "/requests");
    }
    let view = view_of(&console.connection, queued).await;
    let Ok(me) = session.principal.require_staff() else {
        return console
            .pages
            .message(StatusCode::FORBIDDEN, "Refused", "staff only", "/login");
    };
    let context = merge(
        frame(console, session, "requests"),
        json!({ "r": view.json(Utc::now()), "can": actions(&view, me), "error": error }),
    );
    console.pages.page("request.html", context, status)
}

/// `GET /requests/:id`.
#[handler]
pub async fn detail(console: Data<&Arc<Console>>, req: &Request, Path(id): Path<String>) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<DataSubjectRequestId>() else {
        return console
            .pages
            .message(StatusCode::NOT_FOUND, "Not found", "no such request", "/requests");
    };
    detail_page(&console, &session, id, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    decision: String,
}

/// `POST /requests/:id/:action`: one of the page's actions; back to the page, with the refusal if any.
#[handler]
pub async fn act(
    console: Data<&Arc<Console>>,
    req: &Request,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    let session = match staff_form(&console, req, &form.csrf).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<DataSubjectRequestId>() else {
        return console
            .pages
            .message(StatusCode::NOT_FOUND, "Not found", "no such request", "/requests");
    };
    let staff_ctx = session.context();
    let compliance = &console.compliance;
    let done = match action.as_str() {
        "begin-verification" => compliance.begin_verification(staff_ctx, id, &form.text).await,
        "verify" => compliance.verify_identity(staff_ctx, id, &form.text).await,
        "export" => compliance.generate_export(staff_ctx, id).await,
        "rectify" => compliance.complete_rectification(staff_ctx, id, &form.text).await,
        "restrict" => compliance.apply_restriction(staff_ctx, id, &form.text).await,
        "object" => match ObjectionDecision::parse(&form.decision) {
            Some(decision) => compliance.decide_objection(staff_ctx, id, decision, &form.text).await,
            None => Err(DomainError::invalid("decision", "UPHELD or DISMISSED")),
        },
        "propose-erasure" => compliance.propose_erasure(staff_ctx, id).await,
        "approve-erasure" => compliance.approve_erasure(staff_ctx, id).await,
        "extend" => match day("until", &form.until) {
            Ok(until) => compliance.extend(staff_ctx, id, until, &form.text).await,
            Err(error) => Err(error),
        },
        "reject" => compliance.reject(staff_ctx, id, &form.text).await,
        _ => {
            return console
                .pages
                .message(StatusCode::NOT_FOUND, "Not found", "no such action", "/requests");
        }
    };
    match done {
        Ok(_) => see_other(&format!("/requests/{id}")),
        Err(error) => detail_page(&console, &session, id, Some(text_of(&error)), status_of(&error)).await,
    }
}
