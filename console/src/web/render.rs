//! The templates, loaded once (checked in beside the code, HTML-escaped by file name), and turning a page or
//! a refusal into a response.

use chrono::{DateTime, Utc};
use minijinja::Environment;
use poem::Response;
use poem::http::StatusCode;
use serde_json::json;
use tgos_domain::DomainError;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("login.html", include_str!("templates/login.html")),
    ("code.html", include_str!("templates/code.html")),
    ("requests.html", include_str!("templates/requests.html")),
    ("request.html", include_str!("templates/request.html")),
    ("new_request.html", include_str!("templates/new_request.html")),
    ("message.html", include_str!("templates/message.html")),
    ("users.html", include_str!("templates/users.html")),
    ("user.html", include_str!("templates/user.html")),
    ("lawful.html", include_str!("templates/lawful.html")),
    ("lawful_request.html", include_str!("templates/lawful_request.html")),
    ("staff.html", include_str!("templates/staff.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("pool.html", include_str!("templates/pool.html")),
    ("retention.html", include_str!("templates/retention.html")),
    ("backups.html", include_str!("templates/backups.html")),
];

/// The console's templates.
#[derive(Debug)]
pub struct Pages {
    env: Environment<'static>,
}

impl Pages {
    pub fn new() -> anyhow::Result<Self> {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Self { env })
    }

    /// `template` rendered with `context`, as an HTML response with `status`.
    pub fn page(&self, template: &str, context: serde_json::Value, status: StatusCode) -> Response {
        let rendered = self
            .env
            .get_template(template)
            .and_then(|page| page.render(minijinja::Value::from_serialize(&context)));
        match rendered {
            Ok(html) => Response::builder()
                .status(status)
                .content_type("text/html; charset=utf-8")
                .body(html),
            Err(error) => {
                tracing::error!(%error, template, "a console page failed to render");
                Response::builder()
                    .status(StatusCode::INTERNAL_SERVER_ERROR)
                    .content_type("text/plain; charset=utf-8")
                    .body("the page could not be shown")
            }
        }
    }

    /// A page that only says something (a refusal, a form that expired).
    pub fn message(&self, status: StatusCode, heading: &str, text: &str, back: &str) -> Response {
        self.page(
            "message.html",
            json!({ "heading": heading, "text": text, "back": back }),
            status,
        )
    }
}

/// A page's frame: who is signed in, their forms' token, and the section the navigation marks.
pub fn frame(console: &super::Console, session: &super::auth::StaffSession, section: &str) -> serde_json::Value {
    json!({ "staff": session.name, "csrf": super::auth::csrf_of(console, session), "section": section })
}

/// `base` with the fields of `extra` added (an object's fields win over the frame's).
pub fn merge(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (Some(base), serde_json::Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
    base
}

/// The status a refusal answers with.
pub fn status_of(error: &DomainError) -> StatusCode {
    match error {
        DomainError::Unauthenticated | DomainError::InvalidCredentials(_) => StatusCode::UNAUTHORIZED,
        DomainError::Forbidden(_) | DomainError::TwoFactorRequired(_) | DomainError::ReauthenticationRequired(_) => {
            StatusCode::FORBIDDEN
        }
        DomainError::NotFound(_) => StatusCode::NOT_FOUND,
        DomainError::Invalid(_) => StatusCode::BAD_REQUEST,
        DomainError::Conflict { .. } | DomainError::InsufficientFunds(_) | DomainError::AccountUnavailable(_) => {
            StatusCode::CONFLICT
        }
        DomainError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        DomainError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// What a refusal says to staff: its own sentence (with the field), never an infrastructure detail.
pub fn text_of(error: &DomainError) -> String {
    match error {
        DomainError::Internal(inner) => {
            tracing::error!(error = %inner, "a console action failed");
            "something went wrong; nothing was changed. Try again, and tell engineering if it persists.".to_owned()
        }
        other => format!(
            "{}{}",
            crate::errors::field_of(other)
                .map(|f| format!("{f}: "))
                .unwrap_or_default(),
            other
        ),
    }
}

/// A time as the pages show it.
pub fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}
