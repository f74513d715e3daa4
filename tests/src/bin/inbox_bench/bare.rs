//! Scenario `bare`: the memory baseline of the fan-out. The same crowd opens the same number of connections
//! to a bare graphql-transport-ws responder in this process (tokio-tungstenite with the server's socket
//! settings; it acknowledges, sends event 1 and then only reads), so the resident memory per connection is
//! what an open WebSocket costs before any GraphQL, bus or feed state. Run it alone (`BENCH_SCENARIOS=bare`):
//! memory freed by another scenario in the same process would be reused and hide part of the cost.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::Config;
use crate::crowd::Crowd;
use crate::probe::{mib, rss_bytes};

/// The server's socket settings (`tgos_api::http::websocket`), on the same library.
fn server_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}

/// The client asked for graphql-transport-ws and refuses an answer without it.
#[expect(
    clippy::result_large_err,
    reason = "the signature of tungstenite's handshake callback, which owns the error type"
)]
fn with_protocol(_: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
    response.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    Ok(response)
}

/// Answers one connection: ack, event 1, then reads until the client leaves.
async fn respond(stream: tokio::net::TcpStream) -> anyhow::Result<()> {
    let mut socket =
        tokio_tungstenite::accept_hdr_async_with_config(stream, with_protocol, Some(server_config())).await?;
    let mut subscribed = false;
    while let Some(message) = socket.next().await {
        let Message::Text(text) = message? else {
            continue;
        };
        let message: serde_json::Value = serde_json::from_str(&text)?;
        match message["type"].as_str() {
            Some("connection_init") => {
                socket
                    .send(Message::Text(json!({ "type": "connection_ack" }).to_string().into()))
                    .await?;
            }
            Some("subscribe") if !subscribed => {
                subscribed = true;
                let event = json!({ "id": message["id"], "type": "next", "payload": { "data": { "inboxEvents": {
                    "sequence": 1, "occurredAt": chrono::Utc::now().to_rfc3339() } } } });
                socket.send(Message::Text(event.to_string().into())).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _answered = Box::pin(respond(stream)).await;
            });
        }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before = rss_bytes()?;
    let connections = config.workspaces * config.subscribers;
    let mut crowd = Crowd::start()?;
    let subscriptions: Vec<serde_json::Value> = (0..connections)
        .map(|n| json!([n % config.workspaces, "bare", "bare"]))
        .collect();
    crowd
        .send(json!({ "addrs": [addr.to_string()], "connecting": config.connecting, "subscriptions": subscriptions }))
        .await?;
    let connected = crowd.expect("connected", Duration::from_secs(900)).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected = rss_bytes()?;
    crowd.send(json!({ "subscribe": true })).await?;
    let ready = crowd.expect("ready", Duration::from_secs(900)).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = rss_bytes()?;
    crowd.send(json!({ "publishing": true })).await?;
    crowd
        .send(json!({ "drain": vec![1; config.workspaces], "seconds": 5 }))
        .await?;
    crowd.expect("summary", Duration::from_secs(60)).await?;
    crowd.finish().await?;
    server.abort();

    let number = |value: &serde_json::Value, key: &str| value[key].as_f64().unwrap_or_default();
    let per = |from: f64, to: f64| (to - from).max(0.0) / connections as f64 / 1024.0;
    println!("\nbare WebSocket baseline: {connections} connections to a bare graphql-transport-ws responder\n");
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| connected / then subscribed | {connections} in {:.1} s / {:.1} s |",
        number(&ready, "connect_secs"),
        number(&ready, "subscribe_secs")
    );
    println!(
        "| responder process RSS: before → connected → subscribed and idle | {:.1} → {:.1} → {:.1} MiB |",
        mib(rss_before),
        mib(rss_connected),
        mib(rss_idle)
    );
    println!(
        "| responder RSS per connection: connected + subscribed | {:.1} + {:.1} KiB |",
        per(rss_before as f64, rss_connected as f64),
        per(rss_connected as f64, rss_idle as f64)
    );
    let crowd_before = number(&ready, "rss_before");
    println!(
        "| client (crowd) RSS per connection: connected + subscribed | {:.1} + {:.1} KiB |",
        per(crowd_before, number(&connected, "rss")),
        per(number(&connected, "rss"), number(&ready, "rss_idle"))
    );
    Ok(())
}
