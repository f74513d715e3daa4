use tgos_domain::accounts::gateway::{GatewayUpdate, UpdateDifference, UpdateState};

use crate::support::*;

fn updates_of(difference: UpdateDifference) -> (Vec<tgos_domain::accounts::gateway::StampedUpdate>, UpdateState) {
    match difference {
        UpdateDifference::Updates { updates, state } => (updates, state),
        UpdateDifference::TooLong { state } => panic!("unexpected TooLong at {state:?}"),
    }
}

#[tokio::test]
async fn updates_since_resumes_after_a_state() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    assert_eq!(alice.update_state().await.unwrap(), UpdateState::START);
    let network = gateway.network();
    network.contact_send(ALICE, "Dana", "one").unwrap();
    network.contact_send(ALICE, "Dana", "two").unwrap();

    let (all, state) = updates_of(alice.updates_since(UpdateState::START).await.unwrap());
    assert_eq!(all.len(), 2);
    assert!(all[0].state < all[1].state);
    assert_eq!(state, all[1].state);
    assert_eq!(alice.update_state().await.unwrap(), state);

    // A worker persisted the first state, went away while more arrived, and resumes.
    let persisted = all[0].state;
    alice.disconnect().await;
    network.contact_send(ALICE, "Dana", "three").unwrap();
    let resumed = connect(&gateway, ALICE).await;
    let (missed, _) = updates_of(resumed.updates_since(persisted).await.unwrap());
    let texts: Vec<_> = new_messages(&missed).iter().map(|m| m.text.clone()).collect();
    assert_eq!(texts, vec!["two", "three"]);

    let (nothing, latest) = updates_of(resumed.updates_since(missed[1].state).await.unwrap());
    assert!(nothing.is_empty());
    assert_eq!(latest, missed[1].state);
}

#[tokio::test]
async fn a_duplicate_update_is_delivered_twice_live_and_on_resume() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let mut stream = alice.subscribe();
    let network = gateway.network();
    network.duplicate_next_update(ALICE).unwrap();
    network.contact_send(ALICE, "Dana", "once, really").unwrap();
    network.contact_send(ALICE, "Dana", "not duplicated").unwrap();

    let live = drain(&mut stream);
    assert_eq!(live.len(), 3);
    assert_eq!(live[0], live[1]);
    assert_ne!(live[1].state, live[2].state);

    let (journal, _) = updates_of(alice.updates_since(UpdateState::START).await.unwrap());
    assert_eq!(journal, live);
}

#[tokio::test]
async fn a_resume_from_before_the_journal_or_from_the_future_is_too_long() {
    let gateway = gateway_with_journal(2);
    let alice = connect(&gateway, ALICE).await;
    for text in ["one", "two", "three"] {
        gateway.network().contact_send(ALICE, "Dana", text).unwrap();
    }
    let current = alice.update_state().await.unwrap();
    assert_eq!(
        alice.updates_since(UpdateState::START).await.unwrap(),
        UpdateDifference::TooLong { state: current }
    );
    let (kept, _) = updates_of(alice.updates_since(UpdateState::new(1)).await.unwrap());
    assert_eq!(kept.len(), 2);
    assert_eq!(
        alice.updates_since(current.next()).await.unwrap(),
        UpdateDifference::TooLong { state: current }
    );
}

#[tokio::test]
async fn every_connection_of_an_account_receives_its_updates() {
    let gateway = gateway();
    let first = connect(&gateway, ALICE).await;
    let second = connect(&gateway, ALICE).await;
    let mut first_stream = first.subscribe();
    let mut second_stream = second.subscribe();
    gateway.network().contact_send(ALICE, "Dana", "hi").unwrap();

    let a = drain(&mut first_stream);
    let b = drain(&mut second_stream);
    assert_eq!(a.len(), 1);
    assert_eq!(a, b);
    assert!(matches!(a[0].update, GatewayUpdate::NewMessage(_)));
}
