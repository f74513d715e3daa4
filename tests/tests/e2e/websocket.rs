use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::json;
use tgos_tests::backend_tests;
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
