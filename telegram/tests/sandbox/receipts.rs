use tgos_domain::accounts::gateway::GatewayUpdate;

use crate::support::*;

#[tokio::test]
async fn reading_a_message_sends_a_read_receipt_to_the_sender_in_its_own_ids() {
    let gateway = gateway();
    gateway
        .network()
        .contact_send(BOB, "Dana", "so Bob's ids differ from Alice's")
        .unwrap();
    let alice = connect(&gateway, ALICE).await;
    let bob = connect(&gateway, BOB).await;
    alice.send_message(user(BOB), "one", None, false).await.unwrap();
    let second = alice.send_message(user(BOB), "two", None, false).await.unwrap();
    let bob_top = bob.history(user(ALICE), 1, None).await.unwrap()[0].id;
    assert_ne!(bob_top, second.id);
    let mut alice_stream = alice.subscribe();
    let mut bob_stream = bob.subscribe();

    bob.mark_read(user(ALICE), bob_top).await.unwrap();

    let bob_updates: Vec<_> = drain(&mut bob_stream).into_iter().map(|u| u.update).collect();
    assert_eq!(
        bob_updates,
        vec![GatewayUpdate::ReadInbox {
            peer: user(ALICE),
            max_id: bob_top
        }]
    );
    let alice_updates: Vec<_> = drain(&mut alice_stream).into_iter().map(|u| u.update).collect();
    assert_eq!(
        alice_updates,
        vec![GatewayUpdate::ReadOutbox {
            peer: user(BOB),
            max_id: second.id
        }]
    );
    let bob_dialog = &bob.dialogs(10).await.unwrap()[0];
    assert_eq!(bob_dialog.peer.key(), user(ALICE));
    assert_eq!((bob_dialog.unread_count, bob_dialog.read_inbox_max_id), (0, bob_top));
}

#[tokio::test]
async fn reading_again_up_to_the_same_message_sends_nothing() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let bob = connect(&gateway, BOB).await;
    alice.send_message(user(BOB), "one", None, false).await.unwrap();
    bob.mark_read(user(ALICE), i32::MAX).await.unwrap();
    let mut alice_stream = alice.subscribe();
    let mut bob_stream = bob.subscribe();

    bob.mark_read(user(ALICE), i32::MAX).await.unwrap();
    bob.mark_read(user(ALICE), 0).await.unwrap();
    assert!(drain(&mut alice_stream).is_empty());
    assert!(drain(&mut bob_stream).is_empty());
}

#[tokio::test]
async fn reading_a_contacts_message_reports_read_inbox_and_no_receipt() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let dana = gateway.network().contact_send(ALICE, "Dana", "hi").unwrap();
    let mut stream = alice.subscribe();
    alice.mark_read(dana.peer, dana.id).await.unwrap();
    let updates: Vec<_> = drain(&mut stream).into_iter().map(|u| u.update).collect();
    assert_eq!(
        updates,
        vec![GatewayUpdate::ReadInbox {
            peer: dana.peer,
            max_id: dana.id
        }]
    );
}
