use tgos_domain::accounts::gateway::{GatewayError, GatewayUpdate};
use tgos_telegram::sandbox::{CONTACT_ID_BASE, SandboxError};

use crate::support::*;

#[tokio::test]
async fn a_contact_send_creates_an_incoming_message_and_an_update() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let mut stream = alice.subscribe();

    let message = gateway
        .network()
        .contact_send(ALICE, "Dana", "is the flat still free?")
        .unwrap();
    assert!(!message.outgoing);
    assert!(message.peer.get() >= CONTACT_ID_BASE);

    let updates = drain(&mut stream);
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].update, GatewayUpdate::NewMessage(message.clone()));

    let dialogs = alice.dialogs(10).await.unwrap();
    assert_eq!(dialogs.len(), 1);
    assert_eq!(dialogs[0].peer.title(), "Dana");
    assert_eq!(dialogs[0].unread_count, 1);
    assert_eq!(alice.history(message.peer, 10, None).await.unwrap(), vec![message]);
}

#[tokio::test]
async fn a_contact_keeps_the_same_id_for_the_same_name() {
    let gateway = gateway();
    let first = gateway.network().contact_send(ALICE, "Dana", "one").unwrap();
    let second = gateway.network().contact_send(BOB, " Dana ", "two").unwrap();
    let other = gateway.network().contact_send(ALICE, "Eve", "three").unwrap();
    assert_eq!(first.peer, second.peer);
    assert_ne!(first.peer, other.peer);

    let elsewhere = tgos_telegram::sandbox::SandboxNetwork::new();
    elsewhere.register_account(ALICE, "Alice", None).unwrap();
    assert_eq!(elsewhere.contact_send(ALICE, "Dana", "again").unwrap().peer, first.peer);
}

#[tokio::test]
async fn contact_sends_are_refused_for_unknown_accounts_blank_names_and_bad_text() {
    let network = gateway().network().clone();
    assert_eq!(
        network.contact_send(999, "Dana", "hi"),
        Err(SandboxError::UnknownAccount(999))
    );
    assert_eq!(
        network.contact_send(ALICE, "  ", "hi"),
        Err(SandboxError::BlankContactName)
    );
    assert_eq!(
        network.contact_send(ALICE, "Dana", ""),
        Err(SandboxError::Refused(GatewayError::MessageEmpty))
    );
    assert_eq!(
        network.contact_send(ALICE, "Dana", &"y".repeat(5000)),
        Err(SandboxError::Refused(GatewayError::MessageTooLong))
    );
}

#[tokio::test]
async fn a_contact_edit_is_reported_as_an_edited_message() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let message = gateway.network().contact_send(ALICE, "Dana", "at 5").unwrap();
    let mut stream = alice.subscribe();

    let edited = gateway
        .network()
        .contact_edit(ALICE, "Dana", message.id, "at 6")
        .unwrap();
    assert_eq!(edited.id, message.id);
    assert_eq!(edited.text, "at 6");
    assert_eq!(edited.edited_at, Some(noon()));
    assert_eq!(
        drain(&mut stream)[0].update,
        GatewayUpdate::EditedMessage(edited.clone())
    );
    assert_eq!(alice.history(message.peer, 1, None).await.unwrap(), vec![edited]);

    assert_eq!(
        gateway.network().contact_edit(ALICE, "Dana", 99, "x"),
        Err(SandboxError::UnknownMessage(99))
    );
    assert_eq!(
        gateway.network().contact_edit(ALICE, "Nobody", message.id, "x"),
        Err(SandboxError::UnknownContact)
    );
}

#[tokio::test]
async fn deleted_messages_are_reported_without_a_peer() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let network = gateway.network();
    let first = network.contact_send(ALICE, "Dana", "one").unwrap();
    let second = network.contact_send(ALICE, "Dana", "two").unwrap();
    let kept = network.contact_send(ALICE, "Dana", "three").unwrap();
    let mut stream = alice.subscribe();

    let deleted = network
        .contact_delete(ALICE, "Dana", &[first.id, second.id, 404])
        .unwrap();
    assert_eq!(deleted, vec![first.id, second.id]);
    let updates = drain(&mut stream);
    assert_eq!(updates.len(), 1);
    assert_eq!(
        updates[0].update,
        GatewayUpdate::DeletedMessages {
            peer: None,
            ids: vec![first.id, second.id]
        }
    );
    assert_eq!(alice.history(first.peer, 10, None).await.unwrap(), vec![kept]);

    // Nothing left to delete: no update.
    assert_eq!(
        network.contact_delete(ALICE, "Dana", &[first.id]).unwrap(),
        Vec::<i32>::new()
    );
    assert!(drain(&mut stream).is_empty());
}
