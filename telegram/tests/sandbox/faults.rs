use tgos_domain::accounts::gateway::{GatewayError, TelegramGateway};
use tgos_domain::ids::AccountId;
use tgos_telegram::sandbox::{SandboxError, SandboxFault};

use crate::support::*;

#[tokio::test]
async fn a_flood_wait_fails_the_next_send_only() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    gateway
        .network()
        .inject_fault(ALICE, SandboxFault::FloodWait { seconds: 30 })
        .unwrap();

    // Reading is not what Telegram limited.
    assert!(alice.dialogs(10).await.is_ok());
    let error = alice.send_message(user(BOB), "hi", None, false).await.unwrap_err();
    assert_eq!(error, GatewayError::FloodWait { seconds: 30 });
    assert!(error.is_transient());
    assert!(alice.send_message(user(BOB), "hi", None, false).await.is_ok());
}

#[tokio::test]
async fn peer_flood_fails_the_next_send_and_nothing_is_delivered() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let bob = connect(&gateway, BOB).await;
    let mut bob_stream = bob.subscribe();
    gateway.network().inject_fault(ALICE, SandboxFault::PeerFlood).unwrap();

    let error = alice.send_message(user(BOB), "hi", None, false).await.unwrap_err();
    assert_eq!(error, GatewayError::PeerFlood);
    assert!(error.concerns_account());
    assert!(drain(&mut bob_stream).is_empty());
    assert!(bob.history(user(ALICE), 10, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn faults_fail_sends_in_the_order_they_were_injected() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let network = gateway.network();
    network.inject_fault(ALICE, SandboxFault::PeerFlood).unwrap();
    network
        .inject_fault(ALICE, SandboxFault::FloodWait { seconds: 5 })
        .unwrap();

    let send = || alice.send_message(user(BOB), "hi", None, false);
    assert_eq!(send().await, Err(GatewayError::PeerFlood));
    assert_eq!(send().await, Err(GatewayError::FloodWait { seconds: 5 }));
    assert!(send().await.is_ok());
    assert_eq!(
        network.inject_fault(4242, SandboxFault::PeerFlood),
        Err(SandboxError::UnknownAccount(4242))
    );
}

#[tokio::test]
async fn session_invalid_kills_open_connections_and_refuses_connect_until_registered_again() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let mut stream = alice.subscribe();
    gateway
        .network()
        .inject_fault(ALICE, SandboxFault::SessionInvalid)
        .unwrap();

    assert_eq!(alice.dialogs(10).await, Err(GatewayError::SessionInvalid));
    assert_eq!(
        alice.send_message(user(BOB), "hi", None, false).await,
        Err(GatewayError::SessionInvalid)
    );
    assert!(matches!(
        stream.try_next(),
        Some(tgos_domain::accounts::gateway::Next::Closed)
    ));
    let refused = gateway.connect(AccountId::generate(), &session(ALICE)).await;
    assert_eq!(refused.err(), Some(GatewayError::SessionInvalid));
    // Messages still reach the account on Telegram's side while it is signed out.
    assert!(gateway.network().contact_send(ALICE, "Dana", "are you there?").is_ok());

    gateway
        .network()
        .register_account(ALICE, "Alice", Some("alice"))
        .unwrap();
    let again = connect(&gateway, ALICE).await;
    assert!(again.send_message(user(BOB), "back", None, false).await.is_ok());
    // The connection from before the invalidation stays dead.
    assert_eq!(alice.dialogs(10).await, Err(GatewayError::SessionInvalid));
}

#[tokio::test]
async fn a_disconnected_connection_fails_with_a_network_error_and_its_stream_closes() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let mut stream = alice.subscribe();
    alice.disconnect().await;
    alice.disconnect().await;

    let error = alice.dialogs(10).await.unwrap_err();
    assert!(matches!(error, GatewayError::Network(_)));
    assert!(error.is_transient());
    assert!(matches!(
        stream.try_next(),
        Some(tgos_domain::accounts::gateway::Next::Closed)
    ));
    assert!(matches!(
        alice.subscribe().try_next(),
        Some(tgos_domain::accounts::gateway::Next::Closed)
    ));
}
