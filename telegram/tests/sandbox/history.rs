use tgos_domain::accounts::gateway::MAX_PAGE;

use crate::support::*;

#[tokio::test]
async fn history_pages_backwards_by_before_id() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let mut peer = None;
    for n in 1..=7 {
        peer = Some(
            gateway
                .network()
                .contact_send(ALICE, "Dana", &format!("m{n}"))
                .unwrap()
                .peer,
        );
    }
    let peer = peer.unwrap();

    let page = |before| {
        let alice = alice.clone();
        async move {
            alice
                .history(peer, 3, before)
                .await
                .unwrap()
                .into_iter()
                .map(|m| (m.id, m.text))
                .collect::<Vec<_>>()
        }
    };
    let first = page(None).await;
    assert_eq!(first, vec![(7, "m7".into()), (6, "m6".into()), (5, "m5".into())]);
    let second = page(Some(5)).await;
    assert_eq!(second, vec![(4, "m4".into()), (3, "m3".into()), (2, "m2".into())]);
    let third = page(Some(2)).await;
    assert_eq!(third, vec![(1, "m1".into())]);
    assert!(page(Some(1)).await.is_empty());
}

#[tokio::test]
async fn a_page_is_never_longer_than_telegram_allows() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let mut peer = None;
    for _ in 0..MAX_PAGE + 5 {
        peer = Some(gateway.network().contact_send(ALICE, "Dana", "spam?").unwrap().peer);
    }
    let history = alice.history(peer.unwrap(), 1_000, None).await.unwrap();
    assert_eq!(history.len(), MAX_PAGE);
    // A known user with no dialog yet has an empty history.
    assert!(alice.history(user(BOB), 10, None).await.unwrap().is_empty());
}
