//! `GET /graphql/ws`: GraphQL over WebSocket (graphql-transport-ws).
//!
//! Rules:
//! - The bearer token travels in the `connection_init` payload as `{"authorization": "Bearer <token>"}`.
//!   The server reads that first message itself and resolves the caller for the connection.
//! - An expired token closes the socket with 4401 (Unauthorized), an invalid or revoked one with 4403
//!   (Forbidden), before any operation runs; a first message that is not `connection_init` closes it with
//!   4400; no `connection_init` within [`INIT_TIMEOUT`] closes it with 4408. A missing token gives an
//!   anonymous connection.
//! - The caller is checked again before every operation the client starts, whenever a revocation or member
//!   change may concern it, and on a slow timer, idle or not (`super::recheck`): a session or key that
//!   expired closes the socket with 4401, one revoked (or a member removed from a workspace a subscription
//!   follows) with 4403, and the operation that found it does not run.
//! - A client that does not read is disconnected (1013 with a reason) when one send waits longer than
//!   `events.send_timeout_secs` or its subscription falls further behind than `events.subscriber_buffer`;
//!   buffers are small and bounded, so an idle connection costs a few kilobytes.
//! - Every `events.keepalive_secs` the server sends a WebSocket ping (answered by every client library and
//!   browser on its own), so proxies do not drop an idle subscription; a client from which nothing at all
//!   (not even a pong) arrives for two of those periods is gone, and the connection is closed with 1001.
//! - An API key's connections and the operations it starts over them count against its request limit, as
//!   HTTP requests do: over it, `connection_init` or the `subscribe` is answered by closing with 4429.
//! - When the process stops gracefully, every connection closes with 1012 (service restart) and a reason
//!   asking the client to reconnect with `afterSequence` (`crate::shutdown`), during `connection_init` too.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tracing::Instrument as _;

use async_graphql::Data;
use async_graphql::http::WsMessage;
use async_graphql_poem::GraphQLProtocol;
use futures_util::{SinkExt as _, StreamExt as _, stream};
use poem::web::Data as PoemData;
use poem::web::websocket::{CloseCode, Message, WebSocket, WebSocketConfig};
use poem::{IntoResponse, Request, handler};
use tgos_domain::events::AccessChange;
use tgos_domain::identity::use_cases::sessions::Standing;
use tgos_domain::identity::{IdentityService, Principal};
use tgos_domain::request::ClientInfo;

use crate::app::AppState;
use crate::graphql::context::{Caller, ConnectionControl, RequestId};
use crate::graphql::loaders::Batched;
use crate::http::recheck::{EXPIRED, Recheck};
use crate::http::request_budget::{Budgeted, RequestBudget};
use crate::shutdown::RESTARTING;

pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The close of a connection whose client stopped reading.
const NOT_READING: (u16, &str) = (
    1013,
    "slow consumer: the client stopped reading; reconnect with afterSequence",
);

/// The close of a connection from which nothing arrived for two keepalive periods.
const SILENT: (u16, &str) = (1001, "going away: the client answered no ping");

/// Why a connection is refused, as a graphql-transport-ws close code and reason.
#[derive(Debug)]
struct Refusal(u16, String);

impl Refusal {
    fn new(code: u16, reason: &str) -> Self {
        Self(code, reason.to_owned())
    }

    /// A caller (key, user or anonymous network) over its request budget (graphql-transport-ws's "too many
    /// requests").
    fn over_limit(retry_after: u64) -> Self {
        Self(
            4429,
            format!("Too many requests: over the request budget; retry in {retry_after} s"),
        )
    }
}

/// The bearer token of a `connection_init` payload.
fn token_of(payload: &serde_json::Value) -> Option<String> {
    payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(serde_json::Value::as_str)
        .map(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .unwrap_or(value)
                .trim()
                .to_owned()
        })
}

async fn caller_of(identity: &IdentityService, payload: &serde_json::Value) -> Result<Caller, Refusal> {
    let token = token_of(payload);
    match token.as_deref() {
        None | Some("") => Ok(Caller(None)),
        Some(token) => match identity.standing(token).await {
            Ok(Standing::Valid(authenticated)) => Ok(Caller(Some(*authenticated))),
            Ok(Standing::Expired) => Err(Refusal::new(EXPIRED.0, EXPIRED.1)),
            Ok(Standing::Revoked) => Err(Refusal::new(4403, "Forbidden: invalid or revoked token")),
            Err(error) => {
                tracing::error!(%error, "authenticating a websocket connection failed");
                Err(Refusal::new(4500, "internal server error"))
            }
        },
    }
}

/// Reads the first message; it must be `connection_init`.
async fn read_init(
    incoming: &mut (impl futures_util::Stream<Item = Result<Message, std::io::Error>> + Unpin),
) -> Result<(Message, serde_json::Value), Refusal> {
    let first = tokio::time::timeout(INIT_TIMEOUT, incoming.next())
        .await
        .map_err(|_| Refusal::new(4408, "Connection initialisation timeout"))?;
    let Some(Ok(Message::Text(text))) = first else {
        return Err(Refusal::new(4400, "expected connection_init"));
    };
    let parsed: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| Refusal::new(4400, "expected connection_init"))?;
    if parsed.get("type").and_then(serde_json::Value::as_str) != Some("connection_init") {
        return Err(Refusal::new(4400, "expected connection_init"));
    }
    let payload = parsed.get("payload").cloned().unwrap_or(serde_json::Value::Null);
    Ok((Message::Text(text), payload))
}

/// Whether an access change may concern this connection.
fn concerns(change: AccessChange, caller: &Caller, control: &ConnectionControl) -> bool {
    let Some(authenticated) = caller.0.as_ref() else {
        return false;
    };
    match (change, &authenticated.principal) {
        (AccessChange::User(user), Principal::User { user_id, .. }) => user == *user_id,
        (AccessChange::ApiKey(key), Principal::ApiKey { key_id, .. }) => key == *key_id,
        (AccessChange::Workspace(workspace), _) => control.watched().contains(&workspace),
        _ => false,
    }
}

/// The request budget a connection's caller counts against (`http::request_budget`).
fn key_of(caller: &Caller, client: &ClientInfo) -> Option<Budgeted> {
    Budgeted::of(caller, client)
}

/// Whether a client message may go on: an operation an API key's connection starts counts against the key's
/// request limit, and over it the connection is asked to close (4429) and the operation is dropped. Both
/// names of the message that starts one count (`subscribe`; `start`, which async-graphql also accepts).
async fn within_limit(counted: Option<&(Budgeted, Arc<RequestBudget>, ConnectionControl)>, message: &[u8]) -> bool {
    let Some((key, limiter, control)) = counted else {
        return true;
    };
    if !starts_an_operation(message) {
        return true;
    }
    match limiter.check(*key).await {
        Ok(()) => true,
        Err(retry_after) => {
            let Refusal(code, reason) = Refusal::over_limit(retry_after);
            control.close(code, reason);
            false
        }
    }
}

/// Whether a client message starts an operation: `subscribe`, or `start`, which async-graphql also accepts.
fn starts_an_operation(message: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(message)
        .ok()
        .is_some_and(|parsed| {
            matches!(
                parsed.get("type").and_then(serde_json::Value::as_str),
                Some("subscribe" | "start")
            )
        })
}

/// When the client was last heard from (any frame, pongs included), for the keepalive.
#[derive(Debug, Clone)]
struct Heard {
    since: std::time::Instant,
    /// Milliseconds from `since` to the last frame.
    last: Arc<AtomicU64>,
}

impl Heard {
    fn new() -> Self {
        Self {
            since: std::time::Instant::now(),
            last: Arc::default(),
        }
    }

    fn now(&self) {
        let elapsed = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(elapsed, Ordering::Relaxed);
    }

    fn silent_for(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.since.elapsed().saturating_sub(last)
    }
}

/// Buffers kept small: an idle connection should cost a few kilobytes, and one client message (a
/// subscription document) is never large.
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}

#[handler]
pub async fn graphql_ws(
    req: &Request,
    ws: WebSocket,
    protocol: GraphQLProtocol,
    state: PoemData<&AppState>,
) -> impl IntoResponse {
    let state = state.0.clone();
    let client = super::client_info(req);
    let request_id = RequestId(super::request_id(req.headers()));
    // One span for the connection's life: its log lines, and those of every operation over it, name it.
    let span = tracing::info_span!("websocket", request_id = %request_id.0);
    ws.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .config(socket_config())
        .on_upgrade(move |socket| {
            async move {
                // Counted open from the upgrade until this task ends, however it ends.
                let _open = state.metrics.live.websocket();
                // Held for the connection's whole life: the stop waits until every one has closed.
                let mut stopping = state.shutdown.watch();
                let (mut outgoing, mut incoming) = socket.split();
                let accepted = tokio::select! {
                    accepted = async {
                        match read_init(&mut incoming).await {
                            Ok((init, payload)) => caller_of(&state.identity, &payload)
                                .await
                                .map(|caller| (init, caller, token_of(&payload))),
                            Err(refusal) => Err(refusal),
                        }
                    } => accepted,
                    () = stopping.stopping() => Err(Refusal::new(RESTARTING.0, RESTARTING.1)),
                };
                let accepted = match accepted {
                    Ok((init, caller, token)) => match key_of(&caller, &client) {
                        Some(key) => state
                            .request_budget
                            .check(key)
                            .await
                            .map(|()| (init, caller, token))
                            .map_err(Refusal::over_limit),
                        None => Ok((init, caller, token)),
                    },
                    Err(refusal) => Err(refusal),
                };
                let (init, caller, token) = match accepted {
                    Ok(accepted) => accepted,
                    Err(Refusal(code, reason)) => {
                        let _closed = outgoing
                            .send(Message::Close(Some((CloseCode::from(code), reason))))
                            .await;
                        return;
                    }
                };
                let (control, mut close_requests) = ConnectionControl::new();
                let mut data = Data::default();
                data.insert(client.clone());
                data.insert(request_id);
                data.insert(caller.clone());
                data.insert(control.clone());
                data.insert(state.metrics.live.clone());
                let heard = Heard::new();
                let counted = key_of(&caller, &client).map(|key| (key, state.request_budget.clone(), control.clone()));
                let recheck = Recheck::new(
                    state.identity.clone(),
                    state.tenancy.clone(),
                    token,
                    caller.0.clone(),
                    control.clone(),
                );
                // The init message goes on to the protocol handler, which acknowledges it.
                let messages = stream::once(async move { Ok(init) })
                    .chain(incoming)
                    .take_while(|message| std::future::ready(message.is_ok()))
                    .filter_map({
                        let heard = heard.clone();
                        move |message| {
                            heard.now();
                            let counted = counted.clone();
                            async move {
                                match message {
                                    Ok(message) if message.is_text() || message.is_binary() => {
                                        let bytes = message.into_bytes();
                                        within_limit(counted.as_ref(), &bytes).await.then_some(bytes)
                                    }
                                    _ => None,
                                }
                            }
                        }
                    })
                    // An operation runs only while the caller still holds its access.
                    .filter_map({
                        let recheck = recheck.clone();
                        move |bytes| {
                            let recheck = recheck.clone();
                            async move {
                                if starts_an_operation(&bytes) && !recheck.holds().await {
                                    return None;
                                }
                                Some(bytes)
                            }
                        }
                    });
                let executor = Batched::new(
                    state.schema.clone(),
                    state.accounts.clone(),
                    state.inbox.clone(),
                    state.automations.clone(),
                );
                let mut protocol_stream =
                    Box::pin(async_graphql::http::WebSocket::new(executor, messages, protocol.0).connection_data(data));
                let settings = &state.settings.events;
                let send_timeout = Duration::from_secs(settings.send_timeout_secs.max(1));
                let recheck_every = Duration::from_secs(settings.access_recheck_secs.max(1));
                // Connections re-check at spread-out moments rather than all at once.
                let first_recheck = recheck_every.mul_f64(rand::random::<f64>().max(0.05));
                let mut recheck_timer =
                    tokio::time::interval_at(tokio::time::Instant::now() + first_recheck, recheck_every);
                recheck_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut access = state.access.listen();
                let keepalive = Duration::from_secs(settings.keepalive_secs);
                let mut pings = tokio::time::interval_at(
                    tokio::time::Instant::now() + keepalive.max(Duration::from_secs(1)),
                    keepalive.max(Duration::from_secs(1)),
                );
                pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let close: Option<(u16, String)> = loop {
                    tokio::select! {
                        message = protocol_stream.next() => match message {
                            Some(WsMessage::Text(text)) => {
                                match tokio::time::timeout(send_timeout, outgoing.send(Message::Text(text))).await {
                                    Ok(Ok(())) => {}
                                    Ok(Err(_)) => break None,
                                    Err(_) => break Some((NOT_READING.0, NOT_READING.1.to_owned())),
                                }
                            }
                            Some(WsMessage::Close(code, reason)) => break Some((code, reason)),
                            None => break None,
                        },
                        Some((code, reason)) = close_requests.recv() => break Some((code, reason)),
                        () = stopping.stopping() => break Some((RESTARTING.0, RESTARTING.1.to_owned())),
                        change = access.recv() => {
                            let check = match change {
                                Ok(change) => concerns(change, &caller, &control),
                                // Missed some signals: check anyway.
                                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => true,
                                Err(tokio::sync::broadcast::error::RecvError::Closed) => false,
                            };
                            if check && let Some(close) = recheck.close().await {
                                break Some(close);
                            }
                        }
                        _ = pings.tick(), if !keepalive.is_zero() => {
                            if heard.silent_for() > keepalive * 2 {
                                break Some((SILENT.0, SILENT.1.to_owned()));
                            }
                            match tokio::time::timeout(send_timeout, outgoing.send(Message::Ping(Vec::new()))).await {
                                Ok(Ok(())) => {}
                                Ok(Err(_)) => break None,
                                Err(_) => break Some((NOT_READING.0, NOT_READING.1.to_owned())),
                            }
                        }
                        _ = recheck_timer.tick() => {
                            if let Some(close) = recheck.close().await {
                                break Some(close);
                            }
                        }
                    }
                };
                if let Some((code, reason)) = close {
                    let _closed = tokio::time::timeout(
                        send_timeout,
                        outgoing.send(Message::Close(Some((CloseCode::from(code), reason)))),
                    )
                    .await;
                }
            }
            .instrument(span)
        })
}
