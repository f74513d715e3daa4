//! Liveness and readiness.

use poem::web::Data;
use poem::{IntoResponse as _, Response, handler, http::StatusCode};

use crate::app::AppState;

/// `GET /healthz`: the process is up. Static on purpose: it is also the throughput ceiling in benchmarks.
#[handler]
pub fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers.
#[handler]
pub async fn readyz(state: Data<&AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}
