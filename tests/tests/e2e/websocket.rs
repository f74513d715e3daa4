use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::json;
use std::time::Duration;

use tgos_tests::{TestOptions, backend_tests};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

async fn connect(
    app: &tgos_tests::TestApp,
) -> anyhow::Result<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>> {
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (socket, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(socket)
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A connection acknowledged for `token`.
async fn connected(app: &tgos_tests::TestApp, token: &str) -> anyhow::Result<Socket> {
    let mut socket = connect(app).await?;
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket.send(Message::Text(init.to_string().into())).await?;
    let ack: serde_json::Value = serde_json::from_str(next_message(&mut socket).await?.to_text()?)?;
    anyhow::ensure!(ack["type"] == "connection_ack", "{ack}");
    Ok(socket)
}

/// Sends `{ __typename }` as operation `id`.
async fn ask_typename(socket: &mut Socket, id: &str) -> anyhow::Result<()> {
    start_typename(socket, id, "subscribe").await
}

/// Sends `{ __typename }` as operation `id` in a message of type `kind` (`subscribe`, or the older `start`
/// the server also accepts).
async fn start_typename(socket: &mut Socket, id: &str, kind: &str) -> anyhow::Result<()> {
    let subscribe = json!({ "id": id, "type": kind, "payload": { "query": "{ __typename }" } });
    socket.send(Message::Text(subscribe.to_string().into())).await?;
    Ok(())
}

/// The next graphql-transport-ws message, past pings; a close as `Err` naming its code and reason.
async fn next_protocol_message(socket: &mut Socket) -> anyhow::Result<serde_json::Value> {
    loop {
        match next_message(socket).await? {
            Message::Text(text) => return Ok(serde_json::from_str(&text)?),
            Message::Ping(_) | Message::Pong(_) => {}
            Message::Close(frame) => anyhow::bail!("closed: {frame:?}"),
            other => anyhow::bail!("unexpected {other:?}"),
        }
    }
}

async fn next_message(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> anyhow::Result<Message> {
    let message = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next()).await?;
    Ok(message.ok_or_else(|| anyhow::anyhow!("socket ended"))??)
}

backend_tests!(websocket_accepts_a_valid_token_in_connection_init, |app| {
    let token = app.sign_up("socket").await?;
    let mut socket = connect(&app).await?;
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket.send(Message::Text(init.to_string().into())).await?;
    let ack = next_message(&mut socket).await?;
    let ack: serde_json::Value = serde_json::from_str(ack.to_text()?)?;
    assert_eq!(ack["type"], "connection_ack");
    Ok(())
});

backend_tests!(websocket_refuses_an_invalid_token_with_4403, |app| {
    let mut socket = connect(&app).await?;
    let init = json!({ "type": "connection_init", "payload": { "authorization": "Bearer tgs_forged" } });
    socket.send(Message::Text(init.to_string().into())).await?;
    match next_message(&mut socket).await? {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 4403),
        other => anyhow::bail!("expected close 4403, got {other:?}"),
    }
    Ok(())
});

backend_tests!(
    an_idle_connection_is_pinged_and_stays_open_while_the_client_answers,
    options = TestOptions {
        keepalive_secs: 1,
        ..TestOptions::default()
    },
    |app| {
        let token = app.sign_up("socket").await?;
        let mut socket = connected(&app, &token).await?;
        let mut pings = 0;
        let until = tokio::time::Instant::now() + Duration::from_millis(3500);
        while let Ok(message) = tokio::time::timeout_at(until, socket.next()).await {
            match message.ok_or_else(|| anyhow::anyhow!("socket ended"))?? {
                Message::Ping(_) => pings += 1,
                other => anyhow::bail!("only pings while idle, got {other:?}"),
            }
        }
        assert!(pings >= 2, "{pings} pings in 3.5 s at one a second");
        // Reading answered them (the client library sends the pongs), so the connection still works.
        ask_typename(&mut socket, "1").await?;
        let answer = next_protocol_message(&mut socket).await?;
        assert_eq!(answer["type"], "next", "{answer}");
        assert_eq!(answer["payload"]["data"]["__typename"], "Query", "{answer}");
        Ok(())
    }
);

backend_tests!(
    a_client_that_answers_nothing_is_disconnected_after_two_keepalive_periods,
    options = TestOptions {
        keepalive_secs: 1,
        ..TestOptions::default()
    },
    |app| {
        let token = app.sign_up("socket").await?;
        let mut socket = connected(&app, &token).await?;
        // Not reading means not answering pings.
        tokio::time::sleep(Duration::from_millis(3500)).await;
        let close = loop {
            match next_message(&mut socket).await? {
                Message::Ping(_) => {}
                Message::Close(frame) => break frame,
                other => anyhow::bail!("expected pings and a close, got {other:?}"),
            }
        };
        let frame = close.ok_or_else(|| anyhow::anyhow!("a close without a code"))?;
        assert_eq!(u16::from(frame.code), 1001, "{frame:?}");
        assert!(frame.reason.contains("ping"), "{frame:?}");
        Ok(())
    }
);

backend_tests!(
    an_api_keys_connections_and_operations_count_against_its_request_limit,
    options = TestOptions {
        api_key_requests_per_minute: 3,
        ..TestOptions::default()
    },
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Team").await?;
        let created = app
            .gql(
                Some(&owner),
                "mutation($w: ID!) { createApiKey(workspaceId: $w, name: \"live\", scopes: [INBOX_READ]) { secret } }",
                json!({ "w": workspace }),
            )
            .await?;
        let key = created.str_at("/data/createApiKey/secret")?;
        // The connection is the first of three, each operation one more, whichever name starts it.
        let mut socket = connected(&app, &key).await?;
        for (id, kind) in [("1", "subscribe"), ("2", "start")] {
            start_typename(&mut socket, id, kind).await?;
            let answer = next_protocol_message(&mut socket).await?;
            assert_eq!(answer["type"], "next", "{answer}");
            assert_eq!(next_protocol_message(&mut socket).await?["type"], "complete");
        }
        start_typename(&mut socket, "3", "start").await?;
        let refused = next_protocol_message(&mut socket)
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(refused.contains("4429"), "{refused}");
        assert!(refused.contains("retry in"), "{refused}");

        // A new connection of the same key is refused at once.
        let mut again = connect(&app).await?;
        let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {key}") } });
        again.send(Message::Text(init.to_string().into())).await?;
        match next_message(&mut again).await? {
            Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 4429, "{frame:?}"),
            other => anyhow::bail!("expected close 4429, got {other:?}"),
        }
        // The owner's session spends its own budget (per user), not the key's.
        let mut owner_socket = connected(&app, &owner).await?;
        ask_typename(&mut owner_socket, "1").await?;
        assert_eq!(next_protocol_message(&mut owner_socket).await?["type"], "next");
        Ok(())
    }
);

backend_tests!(
    a_users_connections_and_operations_spend_the_users_request_budget,
    options = TestOptions {
        user_requests_per_minute: 3,
        ..TestOptions::default()
    },
    |app| {
        let token = app.sign_up("talker").await?;
        // One HTTP request, the connection and one operation make three.
        assert!(
            app.gql(Some(&token), "{ me { user { id } } }", json!({}))
                .await?
                .is_ok()
        );
        let mut socket = connected(&app, &token).await?;
        ask_typename(&mut socket, "1").await?;
        assert_eq!(next_protocol_message(&mut socket).await?["type"], "next");
        assert_eq!(next_protocol_message(&mut socket).await?["type"], "complete");
        ask_typename(&mut socket, "2").await?;
        let refused = next_protocol_message(&mut socket)
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(refused.contains("4429"), "{refused}");
        Ok(())
    }
);
