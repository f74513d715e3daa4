use tgos_domain::accounts::gateway::{GatewayError, GatewayUpdate, PeerKind};

use crate::support::*;

#[tokio::test]
async fn a_private_chat_and_a_basic_group_draw_message_ids_from_one_sequence() {
    let gateway = gateway();
    let group = gateway.network().create_group("Flatmates", &[ALICE, BOB]).unwrap();
    assert_eq!(group.kind(), PeerKind::Group);
    let alice = connect(&gateway, ALICE).await;

    let private = alice.send_message(user(BOB), "hi", None, false).await.unwrap();
    let in_group = alice.send_message(group, "hi all", None, false).await.unwrap();
    let private_again = alice.send_message(user(BOB), "again", None, false).await.unwrap();
    assert_eq!((private.id, in_group.id, private_again.id), (1, 2, 3));
}

#[tokio::test]
async fn a_group_message_reaches_every_other_member_once_and_reads_come_back() {
    let gateway = gateway();
    let group = gateway
        .network()
        .create_group("Flatmates", &[ALICE, BOB, CAROL])
        .unwrap();
    let alice = connect(&gateway, ALICE).await;
    let bob = connect(&gateway, BOB).await;
    let carol = connect(&gateway, CAROL).await;
    let mut alice_stream = alice.subscribe();
    let mut bob_stream = bob.subscribe();
    let mut carol_stream = carol.subscribe();

    let sent = alice.send_message(group, "rent is due", None, false).await.unwrap();
    for stream in [&mut bob_stream, &mut carol_stream] {
        let updates = drain(stream);
        let received = new_messages(&updates);
        assert_eq!(received.len(), 1);
        assert_eq!((received[0].peer, received[0].outgoing), (group, false));
    }
    drain(&mut alice_stream);

    let dialogs = carol.dialogs(10).await.unwrap();
    assert_eq!(dialogs[0].peer.title(), "Flatmates");
    carol.mark_read(group, dialogs[0].top_message_id).await.unwrap();
    let alice_updates: Vec<_> = drain(&mut alice_stream).into_iter().map(|u| u.update).collect();
    assert_eq!(
        alice_updates,
        vec![GatewayUpdate::ReadOutbox {
            peer: group,
            max_id: sent.id
        }]
    );
}

#[tokio::test]
async fn only_members_see_a_group() {
    let gateway = gateway();
    let group = gateway.network().create_group("Pair", &[ALICE, BOB]).unwrap();
    let carol = connect(&gateway, CAROL).await;
    assert_eq!(
        carol.send_message(group, "let me in", None, false).await,
        Err(GatewayError::PeerInvalid)
    );
    assert_eq!(carol.history(group, 10, None).await, Err(GatewayError::PeerInvalid));
}
