//! `POST /webhooks/stripe` and `POST /webhooks/nowpayments`: payment providers' signed notifications.
//!
//! Rules: nothing is read from a body before its signature verifies against the raw bytes; a bad signature
//! is 400 and changes nothing; event types we do not act on are acknowledged (200) so the provider stops
//! retrying; a failure on our side is 500 so it retries, which is safe because settling is idempotent.

use chrono::Utc;
use poem::web::Data;
use poem::{Body, IntoResponse as _, Response, handler, http::HeaderMap, http::StatusCode};
use tgos_domain::DomainError;
use tgos_domain::billing::PaymentEvent;
use tgos_persistence::payments::WebhookError;

use crate::app::AppState;

/// The most a notification body may hold.
const MAX_BODY: usize = 256 * 1024;

async fn read_body(body: Body) -> Result<Vec<u8>, Response> {
    let bytes = body
        .into_bytes_limit(MAX_BODY)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "notification too large").into_response())?;
    Ok(bytes.to_vec())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

async fn settle(state: &AppState, parsed: Result<Option<PaymentEvent>, WebhookError>) -> Response {
    let event = match parsed {
        Ok(Some(event)) => event,
        Ok(None) => return (StatusCode::OK, "ignored").into_response(),
        Err(error) => {
            tracing::warn!(%error, "refused a payment notification");
            return (StatusCode::BAD_REQUEST, error.to_string()).into_response();
        }
    };
    match state.billing.settle(&event).await {
        Ok(settled) => {
            tracing::info!(provider = event.provider.key(), event = %event.event_id, ?settled, "payment notification");
            (StatusCode::OK, "ok").into_response()
        }
        Err(DomainError::NotFound(_)) => (StatusCode::NOT_FOUND, "unknown top-up").into_response(),
        Err(DomainError::Conflict { message, .. }) => {
            tracing::warn!(event = %event.event_id, %message, "payment notification conflicts with its top-up");
            (StatusCode::CONFLICT, message).into_response()
        }
        Err(error) => {
            tracing::error!(%error, event = %event.event_id, "settling a payment notification failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "try again").into_response()
        }
    }
}

#[handler]
pub async fn stripe(state: Data<&AppState>, headers: &HeaderMap, body: Body) -> Response {
    let Some(verifier) = &state.stripe_webhook else {
        return (StatusCode::SERVICE_UNAVAILABLE, "Stripe webhooks are not configured").into_response();
    };
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let parsed = verifier.parse(header(headers, "stripe-signature"), &body, Utc::now());
    settle(&state, parsed).await
}

#[handler]
pub async fn nowpayments(state: Data<&AppState>, headers: &HeaderMap, body: Body) -> Response {
    let Some(verifier) = &state.nowpayments_ipn else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "NOWPayments callbacks are not configured",
        )
            .into_response();
    };
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let parsed = verifier.parse(header(headers, "x-nowpayments-sig"), &body);
    settle(&state, parsed).await
}
