//! The inbox kept in step with a rented account: backfill, then updates applied once however often they
//! arrive, edits with history, deletions without a peer, read watermarks, and a restart that continues.

use serde_json::json;
use tgos_domain::ids::AccountId;
use tgos_domain::inbox::Direction;
use tgos_tests::{TestApp, backend_tests};

use super::accounts::{CONTACT_SEND, RENT, funded};

/// A workspace renting one sandbox account; the owner's token, the workspace and the account.
async fn renting(app: &TestApp) -> anyhow::Result<(String, String, String)> {
    let account = app.stock_pool(1, 500).await?[0].to_string();
    let (owner, workspace) = funded(app, "olive", 10_000).await?;
    let rented = app
        .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
        .await?;
    anyhow::ensure!(rented.is_ok(), "{:?}", rented.body);
    Ok((owner, workspace, account))
}

backend_tests!(a_rented_accounts_messages_reach_the_inbox_once_and_in_step, |app| {
    let (owner, workspace, account) = renting(&app).await?;
    let network = app
        .sandbox()
        .ok_or_else(|| anyhow::anyhow!("the sandbox gateway is off"))?;
    for text in ["hello", "are you there?"] {
        let sent = app
            .gql(
                Some(&owner),
                CONTACT_SEND,
                json!({ "a": account, "c": "Ada", "t": text }),
            )
            .await?;
        assert!(sent.is_ok(), "{:?}", sent.body);
    }
    let scope = app.scope_of(&owner, &workspace).await?;
    let id: AccountId = account.parse()?;
    let record = app.accounts.held(&scope, id).await?;

    // The first sync reads the dialogs and their history.
    let first = app.inbox.sync_account(&scope, &record).await?;
    assert!(first.backfilled);
    assert_eq!(first.stored, 2);
    let dialogs = app.inbox.dialogs(&scope, Some(id), false, None, 10).await?;
    assert_eq!(dialogs.len(), 1);
    assert_eq!(dialogs[0].title, "Ada");
    assert_eq!(dialogs[0].unread_count, 2);
    let messages = app.inbox.messages(&scope, dialogs[0].id, None, 10).await?;
    let texts: Vec<_> = messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, vec!["are you there?", "hello"], "newest first");
    assert!(messages.iter().all(|m| m.direction == Direction::Incoming));

    // Later updates apply once, even when Telegram delivers one twice.
    let user = record
        .telegram_user_id
        .ok_or_else(|| anyhow::anyhow!("no sandbox user"))?;
    network.duplicate_next_update(user)?;
    let third = network.contact_send(user, "Ada", "third")?;
    network.contact_edit(user, "Ada", third.id, "third, edited")?;
    let second = app.inbox.sync_account(&scope, &record).await?;
    assert!(!second.backfilled);
    assert_eq!(second.stored, 1, "the repeated update stored nothing: {second:?}");
    assert!(second.updates >= 3, "{second:?}");
    let messages = app.inbox.messages(&scope, dialogs[0].id, None, 10).await?;
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0].text, "third, edited");
    assert_eq!(messages[0].edit_history, vec!["third".to_owned()]);

    // A deletion names no peer (one id sequence per account) and still finds its message.
    network.contact_delete(user, "Ada", &[third.id])?;
    app.inbox.sync_account(&scope, &record).await?;
    let messages = app.inbox.messages(&scope, dialogs[0].id, None, 10).await?;
    assert!(messages[0].deleted_at.is_some(), "soft-deleted");
    let dialogs = app.inbox.dialogs(&scope, Some(id), true, None, 10).await?;
    assert_eq!(dialogs[0].unread_count, 2, "a deleted message is not unread");

    // Nothing new: a sync changes nothing; the state it stored is where the next one starts.
    let idle = app.inbox.sync_account(&scope, &record).await?;
    assert_eq!((idle.stored, idle.updates), (0, 0));

    // Another workspace sees none of it.
    let (other, elsewhere) = funded(&app, "peter", 0).await?;
    let their_scope = app.scope_of(&other, &elsewhere).await?;
    assert!(app.inbox.dialogs(&their_scope, None, false, None, 10).await?.is_empty());
    Ok(())
});

backend_tests!(the_background_sync_finds_every_rented_account, |app| {
    let (owner, workspace, account) = renting(&app).await?;
    app.gql(
        Some(&owner),
        CONTACT_SEND,
        json!({ "a": account, "c": "Ada", "t": "ping" }),
    )
    .await?;
    assert_eq!(app.inbox.sync_all().await?, 1);
    assert_eq!(app.inbox.sync_all().await?, 0, "nothing twice");
    let scope = app.scope_of(&owner, &workspace).await?;
    let dialogs = app.inbox.dialogs(&scope, None, false, None, 10).await?;
    assert_eq!(dialogs.len(), 1);
    Ok(())
});

const DIALOGS: &str = "query($w: ID!, $a: ID, $u: Boolean, $after: String) { workspace(id: $w) { dialogs(accountId: $a, unreadOnly: $u, first: 1, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id unreadCount peer { id kind title } account { id } lastMessage { text direction status } messages(first: 10) { edges { node { text direction status editHistory dialog { id } } } } } } } } }";

backend_tests!(
    the_inbox_reads_over_graphql_page_by_page_and_only_for_its_workspace,
    |app| {
        let (owner, workspace, account) = renting(&app).await?;
        for contact in ["Ada", "Grace"] {
            app.gql(
                Some(&owner),
                CONTACT_SEND,
                json!({ "a": account, "c": contact, "t": format!("hi from {contact}") }),
            )
            .await?;
        }
        assert_eq!(app.inbox.sync_all().await?, 2);
        let first = app
            .gql(Some(&owner), DIALOGS, json!({ "w": workspace, "a": account }))
            .await?;
        assert!(first.is_ok(), "{:?}", first.body);
        assert_eq!(first.str_at("/data/workspace/dialogs/edges/0/node/peer/kind")?, "USER");
        assert_eq!(
            first.str_at("/data/workspace/dialogs/edges/0/node/account/id")?,
            account
        );
        assert_eq!(
            first.str_at("/data/workspace/dialogs/edges/0/node/lastMessage/direction")?,
            "INCOMING"
        );
        assert_eq!(first.at("/data/workspace/dialogs/pageInfo/hasNextPage")?, &json!(true));
        let cursor = first.str_at("/data/workspace/dialogs/pageInfo/endCursor")?;
        let second = app
            .gql(Some(&owner), DIALOGS, json!({ "w": workspace, "after": cursor }))
            .await?;
        assert_eq!(
            second.at("/data/workspace/dialogs/pageInfo/hasNextPage")?,
            &json!(false)
        );
        let titles: Vec<String> = [&first, &second]
            .iter()
            .map(|r| r.str_at("/data/workspace/dialogs/edges/0/node/peer/title"))
            .collect::<anyhow::Result<_>>()?;
        assert_eq!(titles.len(), 2);
        assert_ne!(titles[0], titles[1], "each dialog once across the pages");
        let unread = app
            .gql(Some(&owner), DIALOGS, json!({ "w": workspace, "u": true }))
            .await?;
        assert_eq!(
            unread.at("/data/workspace/dialogs/edges/0/node/unreadCount")?,
            &json!(1)
        );

        let bad = app
            .gql(
                Some(&owner),
                DIALOGS,
                json!({ "w": workspace, "after": uuid::Uuid::now_v7().to_string() }),
            )
            .await?;
        assert_eq!(bad.str_at("/errors/0/extensions/field")?, "after");
        let (other, elsewhere) = funded(&app, "peter", 0).await?;
        let theirs = app.gql(Some(&other), DIALOGS, json!({ "w": elsewhere })).await?;
        assert_eq!(theirs.at("/data/workspace/dialogs/edges")?, &json!([]));
        let forbidden = app.gql(Some(&other), DIALOGS, json!({ "w": workspace })).await?;
        assert_eq!(forbidden.code().as_deref(), Some("FORBIDDEN"));
        Ok(())
    }
);
