use tgos_telegram::sandbox::SandboxError;

use crate::support::*;

#[tokio::test]
async fn contact_names_are_one_short_line() {
    let gateway = gateway();
    let _alice = connect(&gateway, ALICE).await;
    let network = gateway.network();
    assert!(network.contact_send(ALICE, &"d".repeat(64), "hi").is_ok());
    assert!(matches!(
        network.contact_send(ALICE, &"d".repeat(65), "hi"),
        Err(SandboxError::ContactNameTooLong)
    ));
    assert!(matches!(
        network.contact_send(ALICE, "Dana\nDrop", "hi"),
        Err(SandboxError::ContactNameTooLong)
    ));
}

#[tokio::test]
async fn a_dialog_keeps_its_newest_thousand_messages() {
    let gateway = gateway_with_journal(10);
    let alice = connect(&gateway, ALICE).await;
    let network = gateway.network();
    let mut last = None;
    for i in 0..1_005 {
        last = Some(network.contact_send(ALICE, "Dana", &format!("message {i}")).unwrap());
    }
    let last = last.unwrap();
    let mut kept = 0;
    let mut before = None;
    loop {
        let page = alice.history(last.peer, 100, before).await.unwrap();
        if page.is_empty() {
            break;
        }
        kept += page.len();
        before = page.last().map(|m| m.id);
    }
    assert_eq!(kept, 1_000);
    let newest = alice.history(last.peer, 1, None).await.unwrap();
    assert_eq!(newest[0].text, "message 1004");
}
