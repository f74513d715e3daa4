//! `POST /graphql` as `multipart/form-data`: the GraphQL multipart request spec, for uploading files.
//!
//! Rules:
//! - A multipart request must carry `Authorization` (a browser form cannot set it, so no cross-site form
//!   reaches a mutation this way either); without it 415, like any other body that is not JSON, before the
//!   body is read.
//! - Files are held in memory, never written to disk, and never more than [`MAX_MULTIPART_BYTES`] of a body
//!   (one file at its cap, [`MAX_UPLOAD_BYTES`], plus the JSON parts): a declared `Content-Length` over that
//!   is refused before anything is kept, and a body that runs past it is refused at the first byte over.
//!   The rest of a refused body is read and dropped (up to [`DRAIN_BYTES`], then the connection is cut) so
//!   the client hears the refusal instead of a reset. Both are 413, `BAD_USER_INPUT` on `document`, the
//!   schema's one upload argument (`sendMessage(document:)`); a file over its cap within that body is refused
//!   the same way by the use case.
//! - Anything else malformed is 400, `BAD_USER_INPUT` on `body`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use async_graphql::http::MultipartOptions;
use futures_util::{Stream, StreamExt as _, TryStreamExt as _};
use poem::http::{StatusCode, header};
use poem::{Body, Request};
use tgos_domain::accounts::gateway::MAX_UPLOAD_BYTES;
use tgos_domain::inbox::content::DOCUMENT_FIELD;

use super::MAX_BODY_BYTES;
use crate::graphql::errors::code;

/// The largest multipart body: one file at its cap and the operation beside it.
pub const MAX_MULTIPART_BYTES: usize = MAX_UPLOAD_BYTES + MAX_BODY_BYTES;
/// How much of a refused body is read and dropped before the connection is cut instead.
pub const DRAIN_BYTES: usize = 4 * MAX_MULTIPART_BYTES;

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
        // What a cross-site form would send: refused as any body that is not JSON is.
        return Err(Refusal {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: code::BAD_USER_INPUT,
            message: "POST /graphql takes a body of Content-Type application/json, or multipart/form-data with \
                      Authorization: Bearer <token> for uploads"
                .to_owned(),
            field: None,
        });
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut chunks = body.into_bytes_stream().boxed();
    if declared.is_some_and(|length| length > MAX_MULTIPART_BYTES as u64) {
        drain(&mut chunks, 0).await;
        return Err(too_large());
    }
    let overflowed = Arc::new(AtomicBool::new(false));
    let capped = Capped {
        chunks,
        seen: 0,
        draining: false,
        overflowed: overflowed.clone(),
    };
    let reader = capped.into_async_read();
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    // The body's cap bounds every part; the file's own cap is the use case's, so it is refused by name.
    let options = MultipartOptions::default();
    match async_graphql::http::receive_body(content_type, reader, options).await {
        Ok(request) => Ok(request),
        Err(_) if overflowed.load(Ordering::Acquire) => Err(too_large()),
        Err(error) => Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            code: code::BAD_USER_INPUT,
            message: format!("the multipart request is malformed: {error}"),
            field: Some("body"),
        }),
    }
}

/// Reads and drops the rest of a refused body, `seen` bytes of it already read, up to [`DRAIN_BYTES`].
async fn drain<T: AsRef<[u8]>>(chunks: &mut (impl Stream<Item = io::Result<T>> + Unpin), mut seen: usize) {
    while seen <= DRAIN_BYTES {
        match chunks.next().await {
            Some(Ok(chunk)) => seen = seen.saturating_add(chunk.as_ref().len()),
            Some(Err(_)) | None => return,
        }
    }
}

/// The body's chunks until [`MAX_MULTIPART_BYTES`]; past it, the rest is read and dropped (up to
/// [`DRAIN_BYTES`]) and the stream ends with an error, `overflowed` set.
struct Capped<S> {
    chunks: S,
    seen: usize,
    draining: bool,
    overflowed: Arc<AtomicBool>,
}

impl<S, T> Stream for Capped<S>
where
    S: Stream<Item = io::Result<T>> + Unpin,
    T: AsRef<[u8]>,
{
    type Item = io::Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let next = match self.chunks.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(next) => next,
            };
            let this = &mut *self;
            match next {
                Some(Ok(chunk)) => {
                    this.seen = this.seen.saturating_add(chunk.as_ref().len());
                    if this.draining && this.seen <= DRAIN_BYTES {
                        continue;
                    }
                    if this.seen > MAX_MULTIPART_BYTES || this.draining {
                        this.draining = true;
                        this.overflowed.store(true, Ordering::Release);
                        if this.seen <= DRAIN_BYTES {
                            continue;
                        }
                        return Poll::Ready(Some(Err(io::Error::other("the body is larger than allowed"))));
                    }
                    return Poll::Ready(Some(Ok(chunk)));
                }
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None if this.draining => {
                    return Poll::Ready(Some(Err(io::Error::other("the body is larger than allowed"))));
                }
                None => return Poll::Ready(None),
            }
        }
    }
}
