//! `POST /graphql` as `multipart/form-data`: the GraphQL multipart request spec, for uploading files.
//!
//! Rules:
//! - A multipart request must carry `Authorization` (a browser form cannot set it, so no cross-site form
//!   reaches a mutation this way either); without it 401 before the body is read.
//! - Files are held in memory, never written to disk: each at most [`MAX_UPLOAD_BYTES`], and the whole body
//!   at most [`MAX_MULTIPART_BYTES`] (the file plus the JSON parts). A declared `Content-Length` over that is
//!   refused before reading; otherwise reading stops at the first byte past a limit. Both refusals are 413,
//!   `BAD_USER_INPUT` on `document`, the schema's one upload argument (`sendMessage(document:)`).
//! - Anything else malformed is 400, `BAD_USER_INPUT` on `body`.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::ParseRequestError;
use async_graphql::http::MultipartOptions;
use futures_util::{StreamExt as _, TryStreamExt as _};
use poem::http::{StatusCode, header};
use poem::{Body, Request};
use tgos_domain::accounts::gateway::MAX_UPLOAD_BYTES;
use tgos_domain::inbox::content::DOCUMENT_FIELD;

use super::MAX_BODY_BYTES;
use crate::graphql::errors::code;

/// The largest multipart body: one file at its cap and the operation beside it.
pub const MAX_MULTIPART_BYTES: usize = MAX_UPLOAD_BYTES + MAX_BODY_BYTES;

/// Why a multipart request was not run.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<&'static str>,
}

fn too_large() -> Refusal {
    Refusal {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: code::BAD_USER_INPUT,
        message: format!("the file is larger than {MAX_UPLOAD_BYTES} bytes"),
        field: Some(DOCUMENT_FIELD),
    }
}

/// Whether the request's body is declared `multipart/form-data`.
pub fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// The GraphQL request a multipart body carries, its files attached to their variables.
pub async fn receive(req: &Request, body: Body) -> Result<async_graphql::Request, Refusal> {
    if crate::http::bearer(req.headers()).is_none() {
        return Err(Refusal {
            status: StatusCode::UNAUTHORIZED,
            code: code::UNAUTHENTICATED,
            message: "a multipart request needs Authorization: Bearer <token>".to_owned(),
            field: None,
        });
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_MULTIPART_BYTES as u64) {
        return Err(too_large());
    }
    let overflowed = Arc::new(AtomicBool::new(false));
    let flag = overflowed.clone();
    let mut seen = 0usize;
    let capped = body.into_bytes_stream().map(move |chunk| {
        let chunk = chunk?;
        seen = seen.saturating_add(chunk.len());
        if seen > MAX_MULTIPART_BYTES {
            flag.store(true, Ordering::Release);
            return Err(io::Error::other("the body is larger than allowed"));
        }
        Ok(chunk)
    });
    let reader = Box::pin(capped).into_async_read();
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let options = MultipartOptions::default().max_file_size(MAX_UPLOAD_BYTES);
    match async_graphql::http::receive_body(content_type, reader, options).await {
        Ok(request) => Ok(request),
        Err(_) if overflowed.load(Ordering::Acquire) => Err(too_large()),
        Err(ParseRequestError::PayloadTooLarge) => Err(too_large()),
        Err(error) => Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            code: code::BAD_USER_INPUT,
            message: format!("the multipart request is malformed: {error}"),
            field: Some("body"),
        }),
    }
}
