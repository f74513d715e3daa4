//! `GET /media/<messageId>`: a message's photo, voice note or document, streamed from Telegram.
//!
//! Rules:
//! - The caller is a session or an API key (`Authorization: Bearer …`; none, or one that no longer
//!   authenticates: 401) and counts against its request budget like a GraphQL request (429 over it).
//! - Only whoever may read the message's dialog gets the file (members of its workspace, keys of it with
//!   `INBOX_READ`: `inbox::media`); an unknown id, a message of another workspace and a message without media
//!   all get the same 404, so the answer never says whether a message exists elsewhere.
//! - The file passes through chunk by chunk and is never written to disk; larger than
//!   `telegram.media_max_bytes`: 413. The workspace no longer renting the account: 409; the account's
//!   connection busy or Telegram unreachable: 503 with `Retry-After`. Errors are JSON, shaped like GraphQL's
//!   (`errors[0].extensions.code`).
//! - Always an attachment (`Content-Disposition` with an ASCII `filename` and the exact name in RFC 5987
//!   `filename*`), typed by its MIME type (else `application/octet-stream`), `X-Content-Type-Options: nosniff`,
//!   `Cache-Control: private, no-store`, and `Content-Length` when the size is known.

use futures_util::stream;
use poem::http::{HeaderValue, StatusCode, header};
use poem::web::Path;
use poem::{Body, Request, Response, handler};
use serde_json::json;
use tgos_domain::DomainError;
use tgos_domain::accounts::gateway::MediaInfo;
use tgos_domain::ids::MessageId;
use tgos_domain::inbox::{MediaError, MediaStream};

use crate::app::AppState;
use crate::graphql::context::Caller;
use crate::graphql::errors::code;
use crate::http::request_budget::Budgeted;

const NO_STORE: &str = "private, no-store";

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    Response::builder()
        .status(status)
        .content_type("application/json")
        .header(header::CACHE_CONTROL, NO_STORE)
        .body(body.to_string())
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, code::NOT_FOUND, "media not found")
}

#[handler]
pub async fn download(req: &Request, Path(id): Path<String>) -> Response {
    let request_id = super::request_id(req.headers());
    let Some(state) = req.data::<AppState>() else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL_SERVER_ERROR,
            "internal server error",
        );
    };
    let caller = match super::bearer(req.headers()) {
        None => Caller(None),
        Some(token) => match state.identity.authenticate(token).await {
            Ok(found) => Caller(found),
            Err(failure) => {
                tracing::error!(request_id, error = %failure, "resolving the caller of a media download failed");
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    code::INTERNAL_SERVER_ERROR,
                    "internal server error",
                );
            }
        },
    };
    let client = super::client_info(req);
    let spent = match Budgeted::of(&caller, &client) {
        Some(who) => Some(state.request_budget.spend(who).await),
        None => None,
    };
    let mut response = match spent.filter(|spent| !spent.allowed()) {
        Some(spent) => error(StatusCode::TOO_MANY_REQUESTS, code::RATE_LIMITED, &spent.refusal()),
        None => serve(state, caller, &id, &request_id).await,
    };
    if let Some(spent) = spent {
        spent.write_headers(response.headers_mut());
    }
    response
}

async fn serve(state: &AppState, caller: Caller, id: &str, request_id: &str) -> Response {
    let Some(caller) = caller.0 else {
        return error(
            StatusCode::UNAUTHORIZED,
            code::UNAUTHENTICATED,
            "authentication required",
        );
    };
    let Ok(id) = id.parse::<MessageId>() else {
        return not_found();
    };
    let principal = &caller.principal;
    let Ok(workspace) = state.inbox.message_workspace(principal, id).await else {
        return not_found();
    };
    let Ok(scope) = state.tenancy.scope(principal, workspace).await else {
        return not_found();
    };
    let cap = state.settings.telegram.media_max_bytes;
    match state.inbox.fetch_media(&scope, id, cap).await {
        Ok(media) => stream_file(media),
        Err(refusal) => refused(refusal, cap, request_id),
    }
}

fn refused(refusal: MediaError, cap: u64, request_id: &str) -> Response {
    match refusal {
        MediaError::TooLarge { .. } => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::BAD_USER_INPUT,
            &format!("the file is larger than the {cap} bytes this server streams"),
        ),
        MediaError::AccountNotHeld => error(
            StatusCode::CONFLICT,
            code::ACCOUNT_UNAVAILABLE,
            "the workspace no longer rents the account this message came through",
        ),
        MediaError::Domain(DomainError::NotFound(_)) => not_found(),
        MediaError::Domain(DomainError::Forbidden(message)) => error(StatusCode::FORBIDDEN, code::FORBIDDEN, &message),
        MediaError::Domain(DomainError::AccountUnavailable(message)) => {
            let mut response = error(StatusCode::SERVICE_UNAVAILABLE, code::ACCOUNT_UNAVAILABLE, &message);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        MediaError::Domain(DomainError::Conflict { message, .. }) => {
            error(StatusCode::CONFLICT, code::CONFLICT, &message)
        }
        MediaError::Domain(DomainError::RateLimited { retry_after_secs }) => {
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, code::RATE_LIMITED, "rate limited");
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        MediaError::Domain(other) => {
            tracing::error!(request_id, error = %other, "a media download failed");
            let body = json!({ "errors": [{ "message": "internal server error",
                "extensions": { "code": code::INTERNAL_SERVER_ERROR, "requestId": request_id } }] });
            Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .content_type("application/json")
                .header(header::CACHE_CONTROL, NO_STORE)
                .body(body.to_string())
        }
    }
}

fn stream_file(media: MediaStream) -> Response {
    let content_type = media
        .info
        .mime_type
        .as_deref()
        .filter(|mime| is_mime(mime))
        .unwrap_or("application/octet-stream")
        .to_owned();
    let disposition = disposition(&media.info, media.message_id);
    let length = media.info.size_bytes;
    let chunks = stream::unfold(media, |mut media| async move {
        let chunk = media.next_chunk().await?;
        Some((chunk.map_err(std::io::Error::other), media))
    });
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(header::CACHE_CONTROL, NO_STORE)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if let Some(length) = length {
        response = response.header(header::CONTENT_LENGTH, length);
    }
    response.body(Body::from_bytes_stream(chunks))
}

/// Whether a MIME type is plain enough to send as `Content-Type`: `type/subtype` of token characters.
fn is_mime(value: &str) -> bool {
    let token = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    };
    matches!(value.split_once('/'), Some((kind, sub)) if token(kind) && token(sub))
}

/// `attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded>`: the name as Telegram gave it (or
/// `<kind>-<messageId>`), with anything that could end the header value, a path or the quoting replaced.
pub fn disposition(info: &MediaInfo, message: MessageId) -> String {
    let name = info
        .file_name
        .as_deref()
        .map(clean)
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| {
            let kind = info.kind.map_or("file", |kind| kind.as_str());
            format!("{}-{message}", kind.to_ascii_lowercase())
        });
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' })
        .map(|c| if c == '"' || c == '\\' { '_' } else { c })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The name without control characters or path separators, trimmed, at most 255 characters.
fn clean(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || c == '/' || c == '\\' {
                '_'
            } else {
                c
            }
        })
        .take(255)
        .collect();
    cleaned.trim().trim_start_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tgos_domain::accounts::gateway::MediaKind;

    fn named(name: &str) -> MediaInfo {
        MediaInfo {
            file_name: Some(name.to_owned()),
            ..MediaInfo::of(MediaKind::Document)
        }
    }

    #[test]
    fn a_file_name_cannot_break_out_of_the_header_or_name_a_path() {
        let id = MessageId::generate();
        assert_eq!(
            disposition(&named("report.pdf"), id),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        let nasty = disposition(&named("../a\"b\\c\r\nSet-Cookie: x.txt"), id);
        assert!(!nasty.contains('\r') && !nasty.contains('\n'), "{nasty}");
        assert!(
            nasty.starts_with("attachment; filename=\"_a_b_c__Set-Cookie: x.txt\""),
            "{nasty}"
        );
        assert!(HeaderValue::from_str(&nasty).is_ok());
    }

    #[test]
    fn a_name_beyond_ascii_keeps_its_exact_form_in_filename_star() {
        let id = MessageId::generate();
        let header = disposition(&named("отчёт 1.pdf"), id);
        assert!(header.starts_with("attachment; filename=\"_____ 1.pdf\""), "{header}");
        assert!(
            header.ends_with("filename*=UTF-8''%D0%BE%D1%82%D1%87%D1%91%D1%82%201.pdf"),
            "{header}"
        );
        assert!(HeaderValue::from_str(&header).is_ok());
    }

    #[test]
    fn a_file_without_a_name_is_named_after_its_kind_and_message() {
        let id = MessageId::generate();
        let header = disposition(&MediaInfo::of(MediaKind::Photo), id);
        assert_eq!(
            header,
            format!("attachment; filename=\"photo-{id}\"; filename*=UTF-8''photo-{id}")
        );
        assert!(disposition(&named(" .. "), id).contains(&format!("document-{id}")));
    }

    #[test]
    fn only_plain_mime_types_become_the_content_type() {
        assert!(is_mime("image/jpeg"));
        assert!(is_mime("application/vnd.ms-excel"));
        assert!(!is_mime("text/html; charset=utf-8\r\nX: y"));
        assert!(!is_mime("image"));
    }
}
