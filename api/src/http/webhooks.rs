//! `POST /webhooks/stripe` and `POST /webhooks/nowpayments`: payment providers' signed notifications.
//!
//! Rules: nothing is read from a body before its signature verifies against the raw bytes; a bad signature
//! is 400 and changes nothing; event types we do not act on are acknowledged (200) so the provider stops
//! retrying; a failure on our side is 500 so it retries, which is safe because settling is idempotent. A
//! notification that does not match its top-up (another checkout, amount or currency) credits nothing, is
//! recorded for staff and is acknowledged (200): retrying cannot make it match.

use chrono::Utc;
use poem::web::Data;
use poem::{Body, IntoResponse as _, Response, handler, http::HeaderMap, http::StatusCode};
use tgos_domain::DomainError;
use tgos_domain::billing::{PaymentEvent, ProviderNotice, Reversed, Settled};
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

async fn settle(state: &AppState, parsed: Result<Option<ProviderNotice>, WebhookError>) -> Response {
    match parsed {
        Ok(Some(ProviderNotice::Payment(event))) => pay(state, &event).await,
        Ok(Some(ProviderNotice::Reversal(event))) => {
            let outcome = state.billing.reverse(&event).await;
            if let Ok(reversed) = &outcome {
                tracing::info!(provider = event.provider.key(), event = %event.event_id, ?reversed, "payment reversal");
            }
            match outcome {
                Ok(Reversed::Mismatched { .. }) => (StatusCode::OK, "recorded for review").into_response(),
                Ok(_) => (StatusCode::OK, "ok").into_response(),
                Err(error) => failed(&error, &event.event_id),
            }
        }
        Ok(None) => (StatusCode::OK, "ignored").into_response(),
        Err(error) => {
            tracing::warn!(%error, "refused a payment notification");
            (StatusCode::BAD_REQUEST, error.to_string()).into_response()
        }
    }
}

fn failed(error: &DomainError, event: &str) -> Response {
    tracing::error!(%error, event, "settling a payment notification failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "try again").into_response()
}

async fn pay(state: &AppState, event: &PaymentEvent) -> Response {
    match state.billing.settle(event).await {
        Ok(Settled::Mismatched { .. }) => (StatusCode::OK, "recorded for review").into_response(),
        Ok(settled) => {
            tracing::info!(provider = event.provider.key(), event = %event.event_id, ?settled, "payment notification");
            (StatusCode::OK, "ok").into_response()
        }
        Err(DomainError::NotFound(_)) => (StatusCode::NOT_FOUND, "unknown top-up").into_response(),
        Err(DomainError::Conflict { message, .. }) => {
            tracing::warn!(event = %event.event_id, %message, "payment notification conflicts with its top-up");
            (StatusCode::CONFLICT, message).into_response()
        }
        Err(error) => failed(&error, &event.event_id),
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
    let parsed = verifier
        .parse(header(headers, "x-nowpayments-sig"), &body)
        .map(|event| event.map(ProviderNotice::Payment));
    settle(&state, parsed).await
}
