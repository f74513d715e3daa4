//! `GET /graphql/ws`: GraphQL over WebSocket (graphql-transport-ws).
//!
//! Rules:
//! - The bearer token travels in the `connection_init` payload as `{"authorization": "Bearer <token>"}`.
//!   The server reads that first message itself and resolves the caller once for the whole connection.
//! - An invalid, expired or revoked token closes the socket with 4403 (Forbidden) before any operation runs;
//!   a first message that is not `connection_init` closes it with 4400; no `connection_init` within
//!   [`INIT_TIMEOUT`] closes it with 4408. A missing token gives an anonymous connection.

use std::time::Duration;

use async_graphql::Data;
use async_graphql_poem::{GraphQLProtocol, GraphQLWebSocket};
use futures_util::{SinkExt as _, StreamExt as _, stream};
use poem::web::Data as PoemData;
use poem::web::websocket::{CloseCode, Message, WebSocket};
use poem::{IntoResponse, Request, handler};
use tgos_domain::identity::IdentityService;

use crate::app::AppState;
use crate::graphql::context::{Caller, RequestId};

pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a connection is refused, as a graphql-transport-ws close code and reason.
#[derive(Debug)]
struct Refusal(u16, &'static str);

async fn caller_of(identity: &IdentityService, payload: &serde_json::Value) -> Result<Caller, Refusal> {
    let token = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(serde_json::Value::as_str)
        .map(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .unwrap_or(value)
                .trim()
        });
    match token {
        None | Some("") => Ok(Caller(None)),
        Some(token) => match identity.authenticate(token).await {
            Ok(Some(authenticated)) => Ok(Caller(Some(authenticated))),
            Ok(None) => Err(Refusal(4403, "Forbidden: invalid or expired token")),
            Err(error) => {
                tracing::error!(%error, "authenticating a websocket connection failed");
                Err(Refusal(4500, "internal server error"))
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
        .map_err(|_| Refusal(4408, "Connection initialisation timeout"))?;
    let Some(Ok(Message::Text(text))) = first else {
        return Err(Refusal(4400, "expected connection_init"));
    };
    let parsed: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| Refusal(4400, "expected connection_init"))?;
    if parsed.get("type").and_then(serde_json::Value::as_str) != Some("connection_init") {
        return Err(Refusal(4400, "expected connection_init"));
    }
    let payload = parsed.get("payload").cloned().unwrap_or(serde_json::Value::Null);
    Ok((Message::Text(text), payload))
}

#[handler]
pub async fn graphql_ws(
    req: &Request,
    ws: WebSocket,
    protocol: GraphQLProtocol,
    state: PoemData<&AppState>,
) -> impl IntoResponse {
    let schema = state.schema.clone();
    let identity = state.identity.clone();
    let client = super::client_info(req);
    let request_id = RequestId(super::request_id(req.headers()));
    ws.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let (mut outgoing, mut incoming) = socket.split();
            let accepted = match read_init(&mut incoming).await {
                Ok((init, payload)) => caller_of(&identity, &payload).await.map(|caller| (init, caller)),
                Err(refusal) => Err(refusal),
            };
            let (init, caller) = match accepted {
                Ok(accepted) => accepted,
                Err(Refusal(code, reason)) => {
                    let _closed = outgoing
                        .send(Message::Close(Some((CloseCode::from(code), reason.to_owned()))))
                        .await;
                    return;
                }
            };
            let mut data = Data::default();
            data.insert(client);
            data.insert(request_id);
            data.insert(caller);
            // The init message goes on to the protocol handler, which acknowledges it.
            let replayed = stream::once(async move { Ok(init) }).chain(incoming);
            GraphQLWebSocket::new_with_pair(outgoing, replayed, schema, protocol)
                .with_data(data)
                .serve()
                .await;
        })
}
