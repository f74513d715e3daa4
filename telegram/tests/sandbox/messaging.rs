use tgos_domain::accounts::DcId;
use tgos_domain::accounts::TelegramSession;
use tgos_domain::accounts::gateway::{GatewayError, PeerKey, PeerKind, TelegramGateway};
use tgos_domain::ids::AccountId;
use tgos_telegram::sandbox::{CONTACT_ID_BASE, sandbox_user_id};

use crate::support::*;

#[tokio::test]
async fn a_message_between_two_sandbox_accounts_reaches_the_other_side_once() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let bob = connect(&gateway, BOB).await;
    let mut alice_stream = alice.subscribe();
    let mut bob_stream = bob.subscribe();

    let sent = alice.send_message(user(BOB), "hello Bob", None, false).await.unwrap();
    assert!(sent.outgoing);
    assert_eq!(sent.peer, user(BOB));
    assert_eq!(sent.text, "hello Bob");
    assert_eq!(sent.sent_at, noon());

    let bob_updates = drain(&mut bob_stream);
    let received = new_messages(&bob_updates);
    assert_eq!(received.len(), 1, "{bob_updates:?}");
    assert!(!received[0].outgoing);
    assert_eq!(received[0].peer, user(ALICE));
    assert_eq!(received[0].text, "hello Bob");

    // The sender's own stream reports the outgoing copy, as Telegram does for the account's sessions.
    let alice_updates = drain(&mut alice_stream);
    assert_eq!(new_messages(&alice_updates), vec![&sent]);

    let alice_history = alice.history(user(BOB), 10, None).await.unwrap();
    assert_eq!(alice_history, vec![sent]);
    let bob_history = bob.history(user(ALICE), 10, None).await.unwrap();
    assert_eq!(bob_history.len(), 1);
    assert!(!bob_history[0].outgoing);
}

#[tokio::test]
async fn each_account_numbers_a_message_in_its_own_sequence() {
    let gateway = gateway();
    gateway.network().contact_send(BOB, "Dana", "first").unwrap();
    gateway.network().contact_send(BOB, "Dana", "second").unwrap();
    let alice = connect(&gateway, ALICE).await;
    let bob = connect(&gateway, BOB).await;

    let sent = alice.send_message(user(BOB), "hi", None, false).await.unwrap();
    let received = bob.history(user(ALICE), 1, None).await.unwrap();
    assert_eq!(sent.id, 1);
    assert_eq!(received[0].id, 3);
}

#[tokio::test]
async fn a_reply_points_at_the_recipients_own_copy_of_the_message() {
    let gateway = gateway();
    gateway.network().contact_send(BOB, "Dana", "shifts Bob's ids").unwrap();
    let alice = connect(&gateway, ALICE).await;
    let bob = connect(&gateway, BOB).await;

    let question = alice.send_message(user(BOB), "lunch?", None, false).await.unwrap();
    let bob_copy = bob.history(user(ALICE), 1, None).await.unwrap().remove(0);
    let answer = bob
        .send_message(user(ALICE), "yes", Some(bob_copy.id), true)
        .await
        .unwrap();
    assert_eq!(answer.reply_to, Some(bob_copy.id));

    let alice_copy = alice.history(user(BOB), 1, None).await.unwrap().remove(0);
    assert_eq!(alice_copy.text, "yes");
    assert_eq!(alice_copy.reply_to, Some(question.id));

    assert!(matches!(
        alice.send_message(user(BOB), "re", Some(999), false).await,
        Err(GatewayError::Other(_))
    ));
}

#[tokio::test]
async fn a_message_to_an_unknown_user_or_a_channel_is_peer_invalid() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    assert_eq!(
        alice.send_message(user(424_242), "hi", None, false).await,
        Err(GatewayError::PeerInvalid)
    );
    assert_eq!(
        alice
            .send_message(PeerKey::channel(5).unwrap(), "hi", None, false)
            .await,
        Err(GatewayError::PeerInvalid)
    );
    assert_eq!(
        alice.send_message(PeerKey::group(77).unwrap(), "hi", None, false).await,
        Err(GatewayError::PeerInvalid)
    );
    assert_eq!(alice.mark_read(user(BOB), 1).await, Err(GatewayError::PeerInvalid));
}

#[tokio::test]
async fn a_message_over_4096_characters_is_too_long_and_a_blank_one_is_empty() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    assert_eq!(
        alice.send_message(user(BOB), &"x".repeat(4097), None, false).await,
        Err(GatewayError::MessageTooLong)
    );
    assert_eq!(
        alice.send_message(user(BOB), "  ", None, false).await,
        Err(GatewayError::MessageEmpty)
    );
    assert!(
        alice
            .send_message(user(BOB), &"x".repeat(4096), None, false)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn dialogs_list_the_newest_first_with_their_unread_counts() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let bob = connect(&gateway, BOB).await;
    let carol = connect(&gateway, CAROL).await;
    bob.send_message(user(ALICE), "one", None, false).await.unwrap();
    bob.send_message(user(ALICE), "two", None, false).await.unwrap();
    carol.send_message(user(ALICE), "three", None, false).await.unwrap();

    let dialogs = alice.dialogs(10).await.unwrap();
    assert_eq!(dialogs.len(), 2);
    assert_eq!(dialogs[0].peer.key(), user(CAROL));
    assert_eq!(dialogs[0].peer.title(), "Carol");
    assert_eq!(dialogs[0].unread_count, 1);
    assert_eq!(dialogs[1].peer.key(), user(BOB));
    assert_eq!(dialogs[1].peer.kind(), PeerKind::User);
    assert_eq!(dialogs[1].peer.username(), Some("bob"));
    assert_eq!(dialogs[1].unread_count, 2);
    assert_eq!(dialogs[1].top_message_id, 2);
    assert_eq!(dialogs[1].last_message.as_ref().map(|m| m.text.as_str()), Some("two"));
    assert_eq!(alice.dialogs(1).await.unwrap().len(), 1);

    let me = alice.me().await.unwrap();
    assert_eq!(
        (me.key(), me.title(), me.username()),
        (user(ALICE), "Alice", Some("alice"))
    );
}

#[tokio::test]
async fn the_sandbox_gateway_says_it_is_a_sandbox() {
    assert!(gateway().is_sandbox());
}

#[tokio::test]
async fn a_session_without_a_user_id_signs_in_as_the_user_derived_from_its_key() {
    let gateway = gateway();
    let session = TelegramSession::new(DcId::new(4).unwrap(), key(9));
    let derived = sandbox_user_id(&session);
    assert_eq!(
        derived,
        sandbox_user_id(&TelegramSession::new(DcId::new(1).unwrap(), key(9)))
    );
    assert!((1..CONTACT_ID_BASE).contains(&derived));

    let account = AccountId::generate();
    let connection = gateway.connect(account, &session).await.unwrap();
    assert_eq!(connection.account(), account);
    assert_eq!(connection.me().await.unwrap().key(), user(derived));
    assert_eq!(gateway.network().user_id_of(account), Some(derived));
}

#[tokio::test]
async fn a_send_repeated_with_its_random_id_answers_the_first_message_and_delivers_nothing_again() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let bob = connect(&gateway, BOB).await;
    let mut bob_stream = bob.subscribe();

    let first = alice.send_message_once(user(BOB), "once", None, 42).await.unwrap();
    let again = alice.send_message_once(user(BOB), "once", None, 42).await.unwrap();
    assert_eq!(again, first, "the repeat answers the first message");
    let other = alice.send_message_once(user(BOB), "once", None, 43).await.unwrap();
    assert_ne!(other.id, first.id, "another random id is another message");

    let received = drain(&mut bob_stream);
    assert_eq!(new_messages(&received).len(), 2, "{received:?}");
    assert_eq!(bob.history(user(ALICE), 10, None).await.unwrap().len(), 2);
}
