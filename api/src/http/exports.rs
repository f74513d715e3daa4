//! `GET /exports/<token>`: a data-export archive, streamed to its owner.
//!
//! Rules: the requester's bearer token is required (none, or one that no longer authenticates: 401); an API
//! key, another person's session, an unknown token and an expired archive all get the same 404, so the
//! answer never says whether a token exists. The file is streamed from disk, never read whole, as
//! `application/zip`, an attachment, `Cache-Control: no-store`.

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{Body, Request, Response, handler};
use tgos_domain::DomainError;

use crate::app::AppState;

fn status(code: StatusCode) -> Response {
    Response::builder()
        .status(code)
        .header(header::CACHE_CONTROL, "no-store")
        .finish()
}

#[handler]
pub async fn download(req: &Request, Path(token): Path<String>) -> Response {
    let Some(state) = req.data::<AppState>() else {
        return status(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let Some(bearer) = super::bearer(req.headers()) else {
        return status(StatusCode::UNAUTHORIZED);
    };
    let caller = match state.identity.authenticate(bearer).await {
        Ok(Some(caller)) => caller,
        Ok(None) => return status(StatusCode::UNAUTHORIZED),
        Err(error) => {
            tracing::error!(%error, "resolving the caller of an export download failed");
            return status(StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    if caller.session.is_none() {
        return status(StatusCode::NOT_FOUND);
    }
    let client = super::client_info(req);
    let (request, path) = match state.privacy.open_download(&caller.principal, &client, &token).await {
        Ok(found) => found,
        Err(DomainError::NotFound(_)) => return status(StatusCode::NOT_FOUND),
        Err(error) => {
            tracing::error!(%error, "opening an export failed");
            return status(StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return status(StatusCode::NOT_FOUND),
        Err(error) => {
            tracing::error!(%error, "reading an export failed");
            return status(StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let length = file.metadata().await.map(|meta| meta.len()).ok();
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .content_type("application/zip")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"tgos-export-{}.zip\"", request.id),
        )
        .header(header::CACHE_CONTROL, "no-store");
    if let Some(length) = length {
        response = response.header(header::CONTENT_LENGTH, length);
    }
    response.body(Body::from_async_read(file))
}
