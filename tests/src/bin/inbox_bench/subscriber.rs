//! A lean graphql-transport-ws subscriber for the fan-out: small socket buffers (its memory is measured
//! along with the server's), one subscription, and a check of every event it receives: sequences exactly
//! consecutive, the delay from `occurredAt` to arrival recorded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Only scalars, so fanning an event out reads nothing and resolves nothing but the event itself.
pub const EVENTS: &str = "subscription($w: ID!, $after: Int) { inboxEvents(workspaceId: $w, afterSequence: $after) { ... on MessageReceived { sequence occurredAt } } }";

/// Where the run is, as subscribers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Events are being published.
    Running,
    /// Publishing stopped: leave once the workspace's last event has arrived.
    Draining,
    /// Leave now.
    Stop,
}

/// What one subscriber saw.
#[derive(Debug, Default)]
pub struct Outcome {
    pub workspace: usize,
    /// The last sequence number received.
    pub last: i64,
    /// Distinct events received, the first one (the replayed event 1) included.
    pub delivered: u64,
    /// Numbers skipped between two received events.
    pub skipped: u64,
    /// Numbers received again, or out of order.
    pub duplicated: u64,
    /// From `occurredAt` to arrival, in microseconds, of the events published during the run.
    pub latencies_us: Vec<u32>,
    /// The sequence of each of those, and when it arrived (Unix clock, microseconds).
    pub arrivals: Vec<(i64, i64)>,
    /// Why the connection ended before the subscriber left, if it did.
    pub ended: Option<String>,
}

fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024)
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}

/// One open subscription that has received the workspace's first event.
#[derive(Debug)]
pub struct Subscriber {
    socket: Socket,
    outcome: Outcome,
}

impl Subscriber {
    /// Connects and authenticates with `token`; returns once the server acknowledged.
    pub async fn connect(addr: SocketAddr, token: &str, workspace: usize) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let mut request = format!("ws://{addr}/graphql/ws").into_client_request()?;
        request
            .headers_mut()
            .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
        let (socket, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(socket_config())).await?;
        let mut subscriber = Self {
            socket,
            outcome: Outcome {
                workspace,
                ..Outcome::default()
            },
        };
        let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
        subscriber.send(&init).await?;
        let ack = subscriber.json(Duration::from_secs(30)).await?;
        anyhow::ensure!(ack["type"] == "connection_ack", "expected connection_ack, got {ack}");
        Ok(subscriber)
    }

    /// Subscribes to `workspace_id` from sequence 0 and waits for event 1 (published before anyone
    /// connected), so the subscription is surely open.
    pub async fn subscribe(&mut self, workspace_id: &str) -> anyhow::Result<()> {
        let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": EVENTS, "variables": { "w": workspace_id, "after": 0 } } });
        self.send(&subscribe).await?;
        let first = self.json(Duration::from_secs(30)).await?;
        let (sequence, _) = event_of(&first)?;
        anyhow::ensure!(sequence == 1, "the first event was {sequence}, not 1");
        self.outcome.last = 1;
        self.outcome.delivered = 1;
        Ok(())
    }

    async fn send(&mut self, message: &Value) -> anyhow::Result<()> {
        self.socket.send(Message::Text(message.to_string().into())).await?;
        Ok(())
    }

    /// The next JSON message within `within`, answering protocol pings.
    async fn json(&mut self, within: Duration) -> anyhow::Result<Value> {
        loop {
            let message = tokio::time::timeout(within, self.socket.next())
                .await
                .context("nothing arrived in time")?
                .context("the server closed the connection")??;
            match message {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text)?;
                    if value["type"] == "ping" {
                        self.send(&json!({ "type": "pong" })).await?;
                        continue;
                    }
                    return Ok(value);
                }
                Message::Close(frame) => anyhow::bail!("closed: {frame:?}"),
                _ => {}
            }
        }
    }

    /// Reads events until told to stop, or until the workspace's last event arrived once draining.
    pub async fn follow(mut self, expected: Arc<[AtomicI64]>, mut phase: watch::Receiver<Phase>) -> Outcome {
        let workspace = self.outcome.workspace;
        loop {
            let now = *phase.borrow();
            if now == Phase::Stop
                || (now == Phase::Draining && self.outcome.last >= expected[workspace].load(Ordering::Acquire))
            {
                break;
            }
            tokio::select! {
                message = self.socket.next() => {
                    let received = Utc::now();
                    match message {
                        Some(Ok(Message::Text(text))) => {
                            if let Err(error) = self.take(&text, received).await {
                                self.outcome.ended = Some(format!("{error:#}"));
                                break;
                            }
                        }
                        Some(Ok(Message::Close(frame))) => {
                            self.outcome.ended = Some(format!("closed by the server: {frame:?}"));
                            break;
                        }
                        Some(Ok(_)) => {}
                        Some(Err(error)) => {
                            self.outcome.ended = Some(format!("socket error: {error}"));
                            break;
                        }
                        None => {
                            self.outcome.ended = Some("the connection ended".to_owned());
                            break;
                        }
                    }
                }
                changed = phase.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        let _closed = self.socket.close(None).await;
        self.outcome
    }

    async fn take(&mut self, text: &str, received: DateTime<Utc>) -> anyhow::Result<()> {
        let message: Value = serde_json::from_str(text)?;
        match message["type"].as_str() {
            Some("next") => {}
            Some("ping") => return self.send(&json!({ "type": "pong" })).await,
            _ => anyhow::bail!("unexpected message {message}"),
        }
        let (sequence, occurred_at) = event_of(&message)?;
        let outcome = &mut self.outcome;
        if sequence <= outcome.last {
            outcome.duplicated += 1;
            return Ok(());
        }
        outcome.skipped += u64::try_from(sequence - outcome.last - 1).unwrap_or(0);
        outcome.last = sequence;
        outcome.delivered += 1;
        let delay = (received - occurred_at).num_microseconds().unwrap_or(i64::MAX);
        outcome
            .latencies_us
            .push(u32::try_from(delay.max(0)).unwrap_or(u32::MAX));
        outcome.arrivals.push((sequence, received.timestamp_micros()));
        Ok(())
    }
}

/// The sequence and `occurredAt` of a `next` message.
fn event_of(message: &Value) -> anyhow::Result<(i64, DateTime<Utc>)> {
    anyhow::ensure!(message["type"] == "next", "expected an event, got {message}");
    let event = &message["payload"]["data"]["inboxEvents"];
    let sequence = event["sequence"]
        .as_i64()
        .with_context(|| format!("an event without a sequence: {message}"))?;
    let occurred_at = event["occurredAt"].as_str().context("an event without occurredAt")?;
    let occurred_at = DateTime::parse_from_rfc3339(occurred_at)?.with_timezone(&Utc);
    Ok((sequence, occurred_at))
}
