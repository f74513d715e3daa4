//! The inbox kept in step with a rented account: backfill, then updates applied once however often they
//! arrive, edits with history, deletions without a peer, read watermarks, and a restart that continues.

use serde_json::json;
use tgos_domain::ids::AccountId;
use tgos_domain::inbox::{DialogQuery, Direction};
use tgos_domain::paging::PageRequest;
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
    let dialogs = app
        .inbox
        .dialogs(&scope, DialogQuery::newest(10).of_account(id))
        .await?
        .items;
    assert_eq!(dialogs.len(), 1);
    assert_eq!(dialogs[0].title, "Ada");
    assert_eq!(dialogs[0].unread_count, 2);
    let messages = app
        .inbox
        .messages(&scope, dialogs[0].id, PageRequest::first(10))
        .await?
        .items;
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
    let messages = app
        .inbox
        .messages(&scope, dialogs[0].id, PageRequest::first(10))
        .await?
        .items;
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0].text, "third, edited");
    assert_eq!(messages[0].edit_history, vec!["third".to_owned()]);

    // A deletion names no peer (one id sequence per account) and still finds its message.
    network.contact_delete(user, "Ada", &[third.id])?;
    app.inbox.sync_account(&scope, &record).await?;
    let messages = app
        .inbox
        .messages(&scope, dialogs[0].id, PageRequest::first(10))
        .await?
        .items;
    assert!(messages[0].deleted_at.is_some(), "soft-deleted");
    let dialogs = app
        .inbox
        .dialogs(&scope, DialogQuery::newest(10).of_account(id).unread())
        .await?
        .items;
    assert_eq!(dialogs[0].unread_count, 2, "a deleted message is not unread");

    // Nothing new: a sync changes nothing; the state it stored is where the next one starts.
    let idle = app.inbox.sync_account(&scope, &record).await?;
    assert_eq!((idle.stored, idle.updates), (0, 0));

    // Another workspace sees none of it.
    let (other, elsewhere) = funded(&app, "peter", 0).await?;
    let their_scope = app.scope_of(&other, &elsewhere).await?;
    assert!(
        app.inbox
            .dialogs(&their_scope, DialogQuery::newest(10))
            .await?
            .items
            .is_empty()
    );
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
    let dialogs = app.inbox.dialogs(&scope, DialogQuery::newest(10)).await?.items;
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

const SEND: &str = "mutation($a: ID!, $d: ID!, $t: String!, $r: ID) { sendMessage(accountId: $a, dialogId: $d, text: $t, replyToId: $r) { id status failure telegramId direction text } }";
const MARK_READ: &str = "mutation($d: ID!) { markDialogRead(dialogId: $d) { unreadCount readInboxMaxId } }";

/// A rented account with one dialog (a contact wrote to it), synced: the owner, workspace, account, dialog.
pub(crate) async fn conversation(app: &TestApp) -> anyhow::Result<(String, String, String, String)> {
    let (owner, workspace, account) = renting(app).await?;
    app.gql(
        Some(&owner),
        CONTACT_SEND,
        json!({ "a": account, "c": "Ada", "t": "hello" }),
    )
    .await?;
    app.inbox.sync_all().await?;
    let dialogs = app
        .gql(
            Some(&owner),
            "query($w: ID!) { workspace(id: $w) { dialogs { edges { node { id } } } } }",
            json!({ "w": workspace }),
        )
        .await?;
    let dialog = dialogs.str_at("/data/workspace/dialogs/edges/0/node/id")?;
    Ok((owner, workspace, account, dialog))
}

backend_tests!(a_reply_is_sent_once_and_read_marks_move_the_watermark, |app| {
    let (owner, workspace, account, dialog) = conversation(&app).await?;
    let incoming = app
        .gql(
            Some(&owner),
            "query($w: ID!) { workspace(id: $w) { dialogs { edges { node { messages { edges { node { id } } } } } } } }",
            json!({ "w": workspace }),
        )
        .await?
        .str_at("/data/workspace/dialogs/edges/0/node/messages/edges/0/node/id")?;
    let sent = app
        .gql(
            Some(&owner),
            SEND,
            json!({ "a": account, "d": dialog, "t": "hi Ada!", "r": incoming }),
        )
        .await?;
    assert!(sent.is_ok(), "{:?}", sent.body);
    assert_eq!(sent.str_at("/data/sendMessage/status")?, "SENT");
    assert_eq!(sent.str_at("/data/sendMessage/direction")?, "OUTGOING");
    assert!(sent.at("/data/sendMessage/telegramId")?.is_i64());

    // Telegram reports the sent message back; the sync finds it stored.
    assert_eq!(app.inbox.sync_all().await?, 0);
    let history = app
        .gql(
            Some(&owner),
            "query($w: ID!) { workspace(id: $w) { dialogs { edges { node { unreadCount messages { edges { node { text direction } } } } } } accounts { edges { node { counters { messagesSent replies } } } } } }",
            json!({ "w": workspace }),
        )
        .await?;
    let messages = history.at("/data/workspace/dialogs/edges/0/node/messages/edges")?;
    assert_eq!(messages.as_array().map(Vec::len), Some(2), "{messages}");
    assert_eq!(
        history.at("/data/workspace/dialogs/edges/0/node/unreadCount")?,
        &json!(1)
    );
    assert_eq!(
        history.at("/data/workspace/accounts/edges/0/node/counters/0/messagesSent")?,
        &json!(1)
    );
    assert_eq!(
        history.at("/data/workspace/accounts/edges/0/node/counters/0/replies")?,
        &json!(1)
    );

    let read = app.gql(Some(&owner), MARK_READ, json!({ "d": dialog })).await?;
    assert!(read.is_ok(), "{:?}", read.body);
    assert_eq!(read.at("/data/markDialogRead/unreadCount")?, &json!(0));

    // Bad input is named, and changes nothing.
    for (text, field) in [("   ", "text"), (&"x".repeat(4097)[..], "text")] {
        let bad = app
            .gql(Some(&owner), SEND, json!({ "a": account, "d": dialog, "t": text }))
            .await?;
        assert_eq!(bad.str_at("/errors/0/extensions/field")?, field);
    }
    let (viewer, _) = app.join(&owner, &workspace, "victor", "VIEWER").await?;
    let as_viewer = app
        .gql(Some(&viewer), SEND, json!({ "a": account, "d": dialog, "t": "hi" }))
        .await?;
    assert_eq!(as_viewer.code().as_deref(), Some("FORBIDDEN"));
    Ok(())
});

backend_tests!(
    a_refused_send_is_kept_as_failed_and_health_then_holds_sending_back,
    |app| {
        let (owner, workspace, account, dialog) = conversation(&app).await?;
        let inject = "mutation($a: ID!, $f: SandboxFault!, $s: Int) { sandboxInjectFault(accountId: $a, fault: $f, seconds: $s) }";
        app.gql(
            Some(&owner),
            inject,
            json!({ "a": account, "f": "FLOOD_WAIT", "s": 300 }),
        )
        .await?;
        let failed = app
            .gql(
                Some(&owner),
                SEND,
                json!({ "a": account, "d": dialog, "t": "too soon" }),
            )
            .await?;
        assert!(
            failed.is_ok(),
            "a refusal by Telegram is an outcome, not an error: {:?}",
            failed.body
        );
        assert_eq!(failed.str_at("/data/sendMessage/status")?, "FAILED");
        assert!(
            failed
                .str_at("/data/sendMessage/failure")?
                .to_lowercase()
                .contains("wait")
        );

        // The flood wait is now the account's health: the next send is held back before it is stored.
        let held = app
            .gql(Some(&owner), SEND, json!({ "a": account, "d": dialog, "t": "again" }))
            .await?;
        assert_eq!(held.code().as_deref(), Some("RATE_LIMITED"));
        let wait = held
            .body
            .pointer("/errors/0/extensions/retryAfter")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        assert!((1..=300).contains(&wait), "{wait}");
        let messages = app
        .gql(
            Some(&owner),
            "query($w: ID!) { workspace(id: $w) { dialogs { edges { node { messages { edges { node { text status } } } } } } } }",
            json!({ "w": workspace }),
        )
        .await?;
        let texts: Vec<String> = messages
            .at("/data/workspace/dialogs/edges/0/node/messages/edges")?
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                e.pointer("/node/text")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(
            texts,
            vec!["too soon".to_owned(), "hello".to_owned()],
            "the held-back send stored nothing"
        );

        // A peer flood limits the account: sending is refused until an operator resumes it.
        let resumed_account = account.clone();
        app.gql(
            Some(&owner),
            "mutation($a: ID!) { pauseAccount(accountId: $a) { state } }",
            json!({ "a": resumed_account }),
        )
        .await?;
        let paused = app
            .gql(Some(&owner), SEND, json!({ "a": account, "d": dialog, "t": "paused" }))
            .await?;
        assert_eq!(paused.code().as_deref(), Some("ACCOUNT_UNAVAILABLE"));
        Ok(())
    }
);

/// A workspace renting one sandbox account with two dialogs, synced: Ada's, whose message says `ada_says`, and
/// Grace's, whose only message was deleted before the sync (a dialog without a message). The owner's token,
/// the workspace and the account.
pub(crate) async fn ada_and_an_empty_dialog(app: &TestApp, ada_says: &str) -> anyhow::Result<(String, String, String)> {
    let (owner, workspace, account) = renting(app).await?;
    let network = app
        .sandbox()
        .ok_or_else(|| anyhow::anyhow!("the sandbox gateway is off"))?;
    let scope = app.scope_of(&owner, &workspace).await?;
    let record = app.accounts.held(&scope, account.parse()?).await?;
    let user = record
        .telegram_user_id
        .ok_or_else(|| anyhow::anyhow!("no sandbox user"))?;
    network.ensure_account(user, "Sandbox", None)?;
    network.contact_send(user, "Ada", ada_says)?;
    let gone = network.contact_send(user, "Grace", "soon gone")?;
    network.contact_delete(user, "Grace", &[gone.id])?;
    app.inbox.sync_account(&scope, &record).await?;
    Ok((owner, workspace, account))
}

backend_tests!(dialogs_without_messages_come_last_and_every_dialog_comes_once, |app| {
    let (owner, workspace, _account) = ada_and_an_empty_dialog(&app, "still here").await?;
    let scope = app.scope_of(&owner, &workspace).await?;
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = app
            .inbox
            .dialogs(&scope, DialogQuery::newest(1).after_dialog(after))
            .await?
            .items;
        let Some(dialog) = page.first() else { break };
        seen.push((dialog.title.clone(), dialog.last_message_at.is_some()));
        after = Some(dialog.id);
        anyhow::ensure!(seen.len() <= 2, "a dialog came twice: {seen:?}");
    }
    assert_eq!(
        seen,
        vec![("Ada".to_owned(), true), ("Grace".to_owned(), false)],
        "newest first, the empty dialog last"
    );
    Ok(())
});

/// A page of dialogs with every nested field a client of the inbox shows.
const PAGE: &str = "query($w: ID!) { workspace(id: $w) { dialogs(first: 100) { edges { node { id unreadCount \
    peer { id kind title username } \
    account { id displayName phoneMasked health { state riskScore restrictions signals { at points } } \
      counters(days: 2) { day messagesSent messagesReceived distinctPeers } } \
    lastMessage { id text direction status sentAt dialog { id } } } } } } }";

/// What one request for [`PAGE`] costs in SQL statements, after a warm-up request (the first request of a
/// session may touch its last-seen time); the page's edges.
async fn cost_of_page(app: &TestApp, owner: &str, workspace: &str) -> anyhow::Result<(u64, Vec<serde_json::Value>)> {
    app.gql(Some(owner), PAGE, json!({ "w": workspace })).await?;
    let before = app.sql_statements().await?;
    let page = app.gql(Some(owner), PAGE, json!({ "w": workspace })).await?;
    let cost = app.sql_statements().await? - before;
    anyhow::ensure!(page.is_ok(), "{:?}", page.body);
    let edges = page
        .at("/data/workspace/dialogs/edges")?
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok((cost, edges))
}

backend_tests!(
    a_page_of_dialogs_costs_the_same_statements_however_many_it_holds,
    options = tgos_tests::TestOptions::counting_statements(),
    |app| {
        use tgos_domain::accounts::gateway::PeerKey;
        use tgos_domain::accounts::health::{CounterHolder, DailyCounters, HealthObservation, HealthSignal};
        use tgos_domain::ids::WorkspaceId;

        // Four rented accounts, each with health and counters of its own.
        let accounts = app.stock_pool(4, 500).await?;
        let (owner, workspace) = funded(&app, "olive", 10_000).await?;
        let scope = app.scope_of(&owner, &workspace).await?;
        let holder = CounterHolder::Workspace(WorkspaceId::from_uuid(workspace.parse()?));
        let now = chrono::Utc::now();
        let mut users = Vec::new();
        for (i, account) in accounts.iter().enumerate() {
            let rented = app
                .gql(
                    Some(&owner),
                    RENT,
                    json!({ "w": workspace, "o": account.to_string(), "d": 1 }),
                )
                .await?;
            anyhow::ensure!(rented.is_ok(), "{:?}", rented.body);
            let seconds = 3_600 + 60 * u32::try_from(i)?;
            app.accounts
                .record_health(
                    Some(WorkspaceId::from_uuid(workspace.parse()?)),
                    *account,
                    HealthObservation::new(HealthSignal::FloodWait { seconds }, now),
                )
                .await?;
            let mut day = DailyCounters::new(now.date_naive());
            day.record_received(PeerKey::user(42)?);
            app.store.bump_counters(*account, holder, &day).await?;
            let record = app.accounts.held(&scope, *account).await?;
            users.push(
                record
                    .telegram_user_id
                    .ok_or_else(|| anyhow::anyhow!("no sandbox user"))?,
            );
        }
        let network = app
            .sandbox()
            .ok_or_else(|| anyhow::anyhow!("the sandbox gateway is off"))?;

        // The first contact of each account goes through the API, which puts the account on the network.
        let contact =
            |i: usize| json!({ "a": accounts[i % accounts.len()].to_string(), "c": format!("Contact {i}"), "t": "hi" });
        app.gql(Some(&owner), CONTACT_SEND, contact(0)).await?;
        app.inbox.sync_all().await?;
        let (cost_of_one, edges) = cost_of_page(&app, &owner, &workspace).await?;
        assert_eq!(edges.len(), 1);

        // 99 more dialogs, spread over the four accounts.
        for i in 1..accounts.len() {
            let sent = app.gql(Some(&owner), CONTACT_SEND, contact(i)).await?;
            anyhow::ensure!(sent.is_ok(), "{:?}", sent.body);
        }
        for i in accounts.len()..100 {
            network.contact_send(users[i % users.len()], &format!("Contact {i}"), "hi")?;
        }
        app.inbox.sync_all().await?;
        let (cost_of_hundred, edges) = cost_of_page(&app, &owner, &workspace).await?;
        assert_eq!(edges.len(), 100);
        for edge in &edges {
            let node = &edge["node"];
            assert_eq!(node["lastMessage"]["text"], json!("hi"));
            assert_eq!(
                node["lastMessage"]["dialog"]["id"], node["id"],
                "a message's dialog is its own"
            );
            assert_eq!(node["account"]["health"]["state"], json!("COOLDOWN"));
            assert_eq!(node["account"]["counters"][0]["distinctPeers"], json!(1));
        }
        let seen: std::collections::HashSet<_> = edges
            .iter()
            .filter_map(|e| e.pointer("/node/account/id").and_then(|id| id.as_str()))
            .collect();
        assert_eq!(seen.len(), 4, "the page names all four accounts");

        eprintln!("statements for a page of dialogs: 1 dialog {cost_of_one}, 100 dialogs {cost_of_hundred}");
        assert_eq!(
            cost_of_hundred, cost_of_one,
            "a page of 100 dialogs cost {cost_of_hundred} statements, a page of 1 cost {cost_of_one}"
        );
        Ok(())
    }
);

backend_tests!(sends_and_read_marks_are_bounded_per_minute, |app| {
    let (owner, _workspace, account, dialog) = conversation(&app).await?;
    for i in 0..60 {
        let sent = app
            .gql(
                Some(&owner),
                SEND,
                json!({ "a": account, "d": dialog, "t": format!("message {i}") }),
            )
            .await?;
        assert_eq!(sent.str_at("/data/sendMessage/status")?, "SENT", "message {i}");
    }
    let over = app
        .gql(
            Some(&owner),
            SEND,
            json!({ "a": account, "d": dialog, "t": "one too many" }),
        )
        .await?;
    assert_eq!(over.code().as_deref(), Some("RATE_LIMITED"));
    for i in 0..30 {
        let read = app.gql(Some(&owner), MARK_READ, json!({ "d": dialog })).await?;
        assert!(read.is_ok(), "mark {i}: {:?}", read.body);
    }
    let over = app.gql(Some(&owner), MARK_READ, json!({ "d": dialog })).await?;
    assert_eq!(over.code().as_deref(), Some("RATE_LIMITED"));
    Ok(())
});
