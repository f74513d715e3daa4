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
