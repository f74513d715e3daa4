//! A graphql-transport-ws client for tests: connect, subscribe, and read what the server sends, frame by
//! frame, with a deadline on every read.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// The subscription document the inbox tests and the load generator use: every event kind with its
/// sequence.
pub const INBOX_EVENTS: &str = "subscription($w: ID!, $a: ID, $after: Int) { inboxEvents(workspaceId: $w, accountId: $a, afterSequence: $after) { __typename ... on MessageReceived { sequence occurredAt accountId message { id text direction status } } ... on MessageSent { sequence occurredAt accountId message { id text direction status failure } } ... on MessageEdited { sequence occurredAt accountId message { id text editHistory } } ... on MessageDeleted { sequence occurredAt accountId messageId dialogId } ... on DialogRead { sequence occurredAt accountId dialog { id unreadCount readInboxMaxId } } ... on AccountHealthChanged { sequence occurredAt accountId state riskScore previousState previousRiskScore } } }";

/// One thing the server sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A `next` payload's data (the subscription field's value).
    Next(Value),
    /// A `next` with errors, or an `error` message: the errors.
    Errors(Vec<Value>),
    Complete,
    /// The socket closed, with its code and reason (1005 when the server sent no code).
    Closed(u16, String),
}

/// One connection with one subscription.
#[derive(Debug)]
pub struct Subscriber {
    socket: Socket,
}

impl Subscriber {
    /// Connects to `addr`, authenticates with `token` and subscribes to `query`. With `receive_buffer`,
    /// the client's socket buffer is that small, so a client that stops reading fills it quickly.
    pub async fn start(
        addr: SocketAddr,
        token: &str,
        query: &str,
        variables: Value,
        receive_buffer: Option<u32>,
    ) -> anyhow::Result<Self> {
        let mut subscriber = Self::connect(addr, token, receive_buffer).await?;
        subscriber.add("1", query, variables).await?;
        Ok(subscriber)
    }

    /// Connects to `addr` and authenticates with `token`, starting no operation (an idle connection).
    pub async fn connect(addr: SocketAddr, token: &str, receive_buffer: Option<u32>) -> anyhow::Result<Self> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        if let Some(size) = receive_buffer {
            socket.set_recv_buffer_size(size)?;
        }
        let stream = socket.connect(addr).await?;
        let mut request = format!("ws://{addr}/graphql/ws").into_client_request()?;
        request
            .headers_mut()
            .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
        let (mut socket, _) = tokio_tungstenite::client_async(request, stream).await?;
        let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
        socket.send(Message::Text(init.to_string().into())).await?;
        let mut subscriber = Self { socket };
        match subscriber.raw(Duration::from_secs(5)).await? {
            RawFrame::Json(ack) if ack["type"] == "connection_ack" => {}
            other => anyhow::bail!("expected connection_ack, got {other:?}"),
        }
        Ok(subscriber)
    }

    /// Starts another subscription on the same connection under `id`.
    pub async fn add(&mut self, id: &str, query: &str, variables: Value) -> anyhow::Result<()> {
        let subscribe = json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } });
        self.socket.send(Message::Text(subscribe.to_string().into())).await?;
        Ok(())
    }

    /// Ends the subscription `id` from the client's side (`complete`).
    pub async fn complete(&mut self, id: &str) -> anyhow::Result<()> {
        let complete = json!({ "id": id, "type": "complete" });
        self.socket.send(Message::Text(complete.to_string().into())).await?;
        Ok(())
    }

    /// The next frame within `within`.
    pub async fn frame(&mut self, within: Duration) -> anyhow::Result<Frame> {
        loop {
            match self.raw(within).await? {
                RawFrame::Json(message) => match message["type"].as_str() {
                    Some("next") => {
                        let payload = &message["payload"];
                        if let Some(errors) = payload["errors"].as_array().filter(|e| !e.is_empty()) {
                            return Ok(Frame::Errors(errors.clone()));
                        }
                        let data = payload["data"]
                            .as_object()
                            .and_then(|data| data.values().next())
                            .cloned()
                            .context("a next message without data")?;
                        return Ok(Frame::Next(data));
                    }
                    Some("error") => {
                        return Ok(Frame::Errors(
                            message["payload"].as_array().cloned().unwrap_or_default(),
                        ));
                    }
                    Some("complete") => return Ok(Frame::Complete),
                    Some("ping") => {
                        self.socket
                            .send(Message::Text(json!({ "type": "pong" }).to_string().into()))
                            .await?;
                    }
                    _ => {}
                },
                RawFrame::Closed(code, reason) => return Ok(Frame::Closed(code, reason)),
            }
        }
    }

    /// The next event, failing on anything else.
    pub async fn event(&mut self, within: Duration) -> anyhow::Result<Value> {
        match self.frame(within).await? {
            Frame::Next(event) => Ok(event),
            other => anyhow::bail!("expected an event, got {other:?}"),
        }
    }

    /// Fails if the server sends anything within `quiet`.
    pub async fn expect_nothing(&mut self, quiet: Duration) -> anyhow::Result<()> {
        match tokio::time::timeout(quiet, self.socket.next()).await {
            Err(_) => Ok(()),
            Ok(other) => anyhow::bail!("expected nothing, got {other:?}"),
        }
    }

    /// Closes the connection from the client's side.
    pub async fn close(mut self) -> anyhow::Result<()> {
        let _ = self.socket.close(None).await;
        Ok(())
    }

    async fn raw(&mut self, within: Duration) -> anyhow::Result<RawFrame> {
        loop {
            let message = tokio::time::timeout(within, self.socket.next())
                .await
                .context("nothing arrived in time")?;
            match message {
                None => return Ok(RawFrame::Closed(1006, String::new())),
                Some(Err(error)) => return Ok(RawFrame::Closed(1006, error.to_string())),
                Some(Ok(Message::Text(text))) => return Ok(RawFrame::Json(serde_json::from_str(&text)?)),
                Some(Ok(Message::Close(frame))) => {
                    return Ok(match frame {
                        Some(frame) => RawFrame::Closed(u16::from(frame.code), frame.reason.to_string()),
                        None => RawFrame::Closed(1005, String::new()),
                    });
                }
                Some(Ok(_)) => {}
            }
        }
    }
}

#[derive(Debug)]
enum RawFrame {
    Json(Value),
    Closed(u16, String),
}
