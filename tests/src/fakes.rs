//! Local fakes of the payment providers' HTTP APIs, so the real client code runs against them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use poem::listener::{Acceptor as _, Listener as _, TcpListener};
use poem::web::{Data, Json};
use poem::{EndpointExt as _, Route, handler, http::HeaderMap, post};
use serde_json::{Value, json};

/// What the fake NOWPayments received: the API key header and the JSON body of each invoice request.
#[derive(Debug, Default, Clone)]
pub struct Recorded(Arc<Mutex<Vec<(String, Value)>>>);

impl Recorded {
    pub fn requests(&self) -> Vec<(String, Value)> {
        self.0.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

#[handler]
fn create_invoice(recorded: Data<&Recorded>, headers: &HeaderMap, body: Json<Value>) -> Json<Value> {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let id = {
        let mut requests = recorded.0.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        requests.push((key, body.0.clone()));
        4_000_000_000_u64 + requests.len() as u64
    };
    Json(json!({
        "id": id.to_string(),
        "order_id": body.0.get("order_id"),
        "price_amount": body.0.get("price_amount"),
        "price_currency": body.0.get("price_currency"),
        "invoice_url": format!("https://nowpayments.test/payment/?iid={id}"),
        "created_at": "2026-11-28T12:00:00.000Z",
    }))
}

/// NOWPayments' invoice endpoint (`POST /v1/invoice`) on a local port.
#[derive(Debug)]
pub struct FakeNowPayments {
    pub base_url: String,
    pub recorded: Recorded,
    server: tokio::task::JoinHandle<()>,
}

impl FakeNowPayments {
    pub async fn start() -> anyhow::Result<Self> {
        let recorded = Recorded::default();
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
        let addr: SocketAddr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| anyhow::anyhow!("the fake has no address"))?;
        let app = Route::new()
            .at("/v1/invoice", post(create_invoice))
            .data(recorded.clone());
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
        });
        Ok(Self {
            base_url: format!("http://{addr}"),
            recorded,
            server,
        })
    }
}

impl Drop for FakeNowPayments {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// One Checkout Session request as the fake Stripe received it: the bearer key and the form fields.
#[derive(Debug, Clone)]
pub struct StripeRequest {
    pub authorization: String,
    pub idempotency_key: Option<String>,
    pub form: Vec<(String, String)>,
}

impl StripeRequest {
    /// The value of one form field (`metadata[top_up_id]`, `line_items[0][price_data][unit_amount]`, …).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// What the fake Stripe received.
#[derive(Debug, Default, Clone)]
pub struct StripeRecorded(Arc<Mutex<Vec<StripeRequest>>>);

impl StripeRecorded {
    pub fn requests(&self) -> Vec<StripeRequest> {
        self.0.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// Answers `POST /v1/checkout/sessions` as Stripe does: form-encoded parameters in, the Checkout Session
/// object out (the fields Stripe always returns, so the real client's strict decoding runs), 401 without a
/// `sk_` bearer key.
#[handler]
fn create_checkout_session(recorded: Data<&StripeRecorded>, headers: &HeaderMap, body: String) -> poem::Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let authorization = header("authorization").unwrap_or_default();
    if !authorization.starts_with("Bearer sk_") {
        let error = json!({ "error": { "type": "invalid_request_error", "message": "Invalid API Key provided" } });
        return poem::Response::builder()
            .status(poem::http::StatusCode::UNAUTHORIZED)
            .content_type("application/json")
            .body(error.to_string());
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let request = StripeRequest {
        authorization,
        idempotency_key: header("idempotency-key"),
        form,
    };
    let number = {
        let mut requests = recorded.0.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        requests.push(request.clone());
        requests.len()
    };
    let id = format!("cs_test_a1{number:08}");
    let amount = request
        .field("line_items[0][price_data][unit_amount]")
        .and_then(|a| a.parse::<i64>().ok());
    let metadata: serde_json::Map<String, Value> = request
        .form
        .iter()
        .filter_map(|(key, value)| {
            let name = key.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((name.to_owned(), Value::String(value.clone())))
        })
        .collect();
    let created = chrono::Utc::now().timestamp();
    let session = json!({
        "id": id,
        "object": "checkout.session",
        "amount_subtotal": amount,
        "amount_total": amount,
        "automatic_tax": { "enabled": false, "liability": null, "provider": null, "status": null },
        "cancel_url": request.field("cancel_url"),
        "client_reference_id": request.field("client_reference_id"),
        "created": created,
        "currency": request.field("line_items[0][price_data][currency]"),
        "custom_fields": [],
        "custom_text": { "after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null },
        "customer": null,
        "customer_creation": "if_required",
        "expires_at": created + 86_400,
        "livemode": false,
        "metadata": metadata,
        "mode": request.field("mode"),
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "shipping_options": [],
        "status": "open",
        "success_url": request.field("success_url"),
        "ui_mode": "hosted",
        "url": format!("https://checkout.stripe.com/c/pay/{id}#fidkdWxOYHwnPyd1blpxYHZxWjA0"),
    });
    poem::Response::builder()
        .content_type("application/json")
        .header("request-id", format!("req_{number:014}"))
        .body(session.to_string())
}

/// Stripe's Checkout Session endpoint on a local port, for the real async-stripe client.
#[derive(Debug)]
pub struct FakeStripe {
    /// Ends with `/`, as `TGOS_STRIPE__API_BASE` does for the real API.
    pub base_url: String,
    pub recorded: StripeRecorded,
    server: tokio::task::JoinHandle<()>,
}

impl FakeStripe {
    pub async fn start() -> anyhow::Result<Self> {
        let recorded = StripeRecorded::default();
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
        let addr: SocketAddr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| anyhow::anyhow!("the fake has no address"))?;
        let app = Route::new()
            .at("/v1/checkout/sessions", post(create_checkout_session))
            .data(recorded.clone());
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
        });
        Ok(Self {
            base_url: format!("http://{addr}/"),
            recorded,
            server,
        })
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// One request a webhook receiver got: its headers that matter and its body.
#[derive(Debug, Clone)]
pub struct ReceivedWebhook {
    pub delivery: String,
    pub event: String,
    pub signature: String,
    pub body: Vec<u8>,
    /// What the receiver answered.
    pub status: u16,
}

#[derive(Debug, Default, Clone)]
struct WebhookLog {
    received: Arc<Mutex<Vec<ReceivedWebhook>>>,
    /// How many requests still get a 500 before the receiver answers 200.
    failures_left: Arc<Mutex<u32>>,
}

#[handler]
fn receive_webhook(log: Data<&WebhookLog>, headers: &HeaderMap, body: Vec<u8>) -> poem::Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let status = {
        let mut left = log.0.failures_left.lock().unwrap_or_else(|p| p.into_inner());
        if *left > 0 {
            *left -= 1;
            500
        } else {
            200
        }
    };
    log.0
        .received
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(ReceivedWebhook {
            delivery: header("x-tgos-delivery"),
            event: header("x-tgos-event"),
            signature: header("x-tgos-signature"),
            body,
            status,
        });
    poem::Response::builder()
        .status(poem::http::StatusCode::from_u16(status).unwrap_or(poem::http::StatusCode::OK))
        .finish()
}

/// A webhook receiver on 127.0.0.1 that answers 500 to its first `failures` requests, then 200.
#[derive(Debug)]
pub struct FakeWebhookReceiver {
    pub url: String,
    log: WebhookLog,
    server: tokio::task::JoinHandle<()>,
}

impl FakeWebhookReceiver {
    pub async fn start(failures: u32) -> anyhow::Result<Self> {
        let log = WebhookLog::default();
        *log.failures_left.lock().unwrap_or_else(|p| p.into_inner()) = failures;
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
        let addr: SocketAddr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| anyhow::anyhow!("the fake has no address"))?;
        let app = Route::new().at("/hook", post(receive_webhook)).data(log.clone());
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
        });
        Ok(Self {
            url: format!("http://{addr}/hook"),
            log,
            server,
        })
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<ReceivedWebhook> {
        self.log.received.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for FakeWebhookReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}
