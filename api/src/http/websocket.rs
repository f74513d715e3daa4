//! `GET /graphql/ws`: GraphQL over WebSocket (graphql-transport-ws). The bearer token travels in the
//! `connection_init` payload as `{"authorization": "Bearer <token>"}`; an invalid token is refused at
//! init, before any operation runs. A missing token gives an anonymous connection.

use async_graphql::Data;
use async_graphql_poem::{GraphQLProtocol, GraphQLWebSocket};
use poem::web::websocket::WebSocket;
use poem::web::Data as PoemData;
use poem::{IntoResponse, Request, handler};
use tgos_domain::identity::IdentityService;

use crate::app::AppState;
use crate::graphql::context::{Caller, RequestId};

async fn on_init(identity: IdentityService, payload: serde_json::Value) -> async_graphql::Result<Data> {
    let mut data = Data::default();
    let token = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(|v| v.as_str())
        .map(|v| v.trim_start_matches("Bearer ").trim_start_matches("bearer ").trim().to_owned());
    let caller = match token {
        None => Caller(None),
        Some(token) => match identity.authenticate(&token).await {
            Ok(Some(authenticated)) => Caller(Some(authenticated)),
            Ok(None) => return Err("invalid or expired token".into()),
            Err(error) => {
                tracing::error!(%error, "authenticating a websocket connection failed");
                return Err("internal server error".into());
            }
        },
    };
    data.insert(caller);
    Ok(data)
}

#[handler]
pub async fn graphql_ws(req: &Request, ws: WebSocket, protocol: GraphQLProtocol, state: PoemData<&AppState>) -> impl IntoResponse {
    let schema = state.schema.clone();
    let identity = state.identity.clone();
    let client = super::client_info(req);
    let request_id = RequestId(super::request_id(req.headers()));
    ws.protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            let mut data = Data::default();
            data.insert(client);
            data.insert(request_id);
            GraphQLWebSocket::new(stream, schema, protocol)
                .with_data(data)
                .on_connection_init(move |payload| on_init(identity, payload))
                .serve()
        })
}
