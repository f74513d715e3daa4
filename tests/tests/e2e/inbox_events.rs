//! `inboxEvents` over real WebSocket: each workspace sees exactly its own events, numbered and in order; a
//! reconnect with `afterSequence` gets the gap; revoked access closes the socket with 4403; a subscriber
//! briefly behind the live window catches up from the outbox, one that falls too far behind is disconnected
//! with a reason and resumes without loss; committed events reach subscribers even when nobody woke the
//! relay.

use std::time::Duration;

use serde_json::{Value, json};
use tgos_domain::events::{self, EventDraft, InboxEvent};
use tgos_domain::ids::{AccountId, DialogId, MessageId};
use tgos_domain::inbox::{DeliveryStatus, DialogQuery, Direction, MessageRecord};
use tgos_domain::tenancy::TenantScope;
use tgos_tests::live::{Frame, INBOX_EVENTS, Subscriber};
use tgos_tests::{TestApp, TestOptions, backend_tests};

use super::accounts::{CONTACT_SEND, INJECT, RENT, funded};

const SEND: &str = "mutation($a: ID!, $d: ID!, $t: String!) { sendMessage(accountId: $a, dialogId: $d, text: $t) { id status failure } }";
const MARK_READ: &str = "mutation($d: ID!) { markDialogRead(dialogId: $d) { unreadCount } }";
pub(crate) const WAIT: Duration = Duration::from_secs(10);

pub(crate) async fn subscribe(
    app: &TestApp,
    token: &str,
    workspace: &str,
    after: Option<i64>,
) -> anyhow::Result<Subscriber> {
    Subscriber::start(
        app.addr,
        token,
        INBOX_EVENTS,
        json!({ "w": workspace, "after": after }),
        None,
    )
    .await
}

/// The kind, sequence and the one detail each test looks at.
fn summary(event: &Value) -> (String, i64, String) {
    let kind = event["__typename"].as_str().unwrap_or_default().to_owned();
    let detail = match kind.as_str() {
        "MessageReceived" => event["message"]["text"].as_str().unwrap_or_default().to_owned(),
        "MessageSent" => format!(
            "{} {}",
            event["message"]["status"].as_str().unwrap_or_default(),
            event["message"]["text"].as_str().unwrap_or_default()
        ),
        "DialogRead" => format!("unread {}", event["dialog"]["unreadCount"]),
        "AccountHealthChanged" => format!(
            "{} -> {}",
            event["previousState"].as_str().unwrap_or_default(),
            event["state"].as_str().unwrap_or_default()
        ),
        _ => String::new(),
    };
    (kind, event["sequence"].as_i64().unwrap_or(-1), detail)
}

pub(crate) async fn events(subscriber: &mut Subscriber, count: usize) -> anyhow::Result<Vec<(String, i64, String)>> {
    let mut seen = Vec::with_capacity(count);
    for _ in 0..count {
        seen.push(summary(&subscriber.event(WAIT).await?));
    }
    Ok(seen)
}

/// Appends `count` received messages of `text_len` characters straight to the outbox, as a use case
/// would, without waking the relay.
pub(crate) async fn append_events(
    app: &TestApp,
    scope: &TenantScope,
    count: usize,
    text_len: usize,
) -> anyhow::Result<()> {
    let account = AccountId::generate();
    let dialog = DialogId::generate();
    let tx = app.store.begin().await?;
    for n in 0..count {
        let message = MessageRecord {
            id: MessageId::generate(),
            workspace_id: scope.workspace_id(),
            account_id: account,
            dialog_id: dialog,
            peer: tgos_domain::accounts::gateway::PeerKey::user(42)?,
            telegram_id: i32::try_from(n + 1).ok(),
            direction: Direction::Incoming,
            text: "x".repeat(text_len),
            sent_at: chrono::Utc::now(),
            edited_at: None,
            reply_to: None,
            status: DeliveryStatus::Sent,
            failure: None,
            deleted_at: None,
            edit_history: Vec::new(),
            media: None,
        };
        let draft = EventDraft::new(account, InboxEvent::MessageReceived { message });
        events::append(&*tx, scope, draft, chrono::Utc::now()).await?;
    }
    tx.commit().await?;
    Ok(())
}

backend_tests!(
    two_workspaces_exchange_messages_and_each_subscriber_sees_exactly_its_own_events_in_order,
    |app| {
        let stocked = app.stock_pool(2, 100).await?;
        let (olive, w1) = funded(&app, "olive", 10_000).await?;
        let (peter, w2) = funded(&app, "peter", 10_000).await?;
        let (quinn, w3) = funded(&app, "quinn", 0).await?;
        let (a, b) = (stocked[0].to_string(), stocked[1].to_string());
        for (token, workspace, account) in [(&olive, &w1, &a), (&peter, &w2, &b)] {
            let rented = app
                .gql(Some(token), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
                .await?;
            anyhow::ensure!(rented.is_ok(), "{:?}", rented.body);
        }
        // Both accounts are in one basic group (made before their first sync, which finds it), so they can
        // write to each other.
        let (s1, s2) = (app.scope_of(&olive, &w1).await?, app.scope_of(&peter, &w2).await?);
        let held_a = app.accounts.held(&s1, a.parse()?).await?;
        let held_b = app.accounts.held(&s2, b.parse()?).await?;
        let network = app.sandbox().ok_or_else(|| anyhow::anyhow!("no sandbox"))?;
        let users = [held_a.telegram_user_id, held_b.telegram_user_id].map(|id| id.unwrap_or_default());
        for (user, name) in users.iter().zip(["A", "B"]) {
            network.ensure_account(*user, name, None)?;
        }
        network.create_group("Partners", &users)?;
        app.inbox.sync_all().await?;
        let group_of = |scope: TenantScope| {
            let inbox = app.inbox.clone();
            async move {
                let dialogs = inbox.dialogs(&scope, DialogQuery::newest(10)).await?.items;
                anyhow::Ok(dialogs.first().map(|d| d.id.to_string()).unwrap_or_default())
            }
        };
        let (group_a, group_b) = (group_of(s1.clone()).await?, group_of(s2.clone()).await?);

        let mut first = subscribe(&app, &olive, &w1, Some(0)).await?;
        let mut second = subscribe(&app, &peter, &w2, Some(0)).await?;
        let mut third = subscribe(&app, &quinn, &w3, Some(0)).await?;

        let sent = app
            .gql(Some(&olive), SEND, json!({ "a": a, "d": group_a, "t": "hello from A" }))
            .await?;
        assert_eq!(sent.str_at("/data/sendMessage/status")?, "SENT", "{:?}", sent.body);
        app.inbox.sync_all().await?;
        let replied = app
            .gql(Some(&peter), SEND, json!({ "a": b, "d": group_b, "t": "hello from B" }))
            .await?;
        assert_eq!(
            replied.str_at("/data/sendMessage/status")?,
            "SENT",
            "{:?}",
            replied.body
        );
        app.inbox.sync_all().await?;
        let read = app.gql(Some(&olive), MARK_READ, json!({ "d": group_a })).await?;
        assert!(read.is_ok(), "{:?}", read.body);

        let expected_first = vec![
            ("MessageSent".to_owned(), 1, "PENDING hello from A".to_owned()),
            ("MessageSent".to_owned(), 2, "SENT hello from A".to_owned()),
            ("MessageReceived".to_owned(), 3, "hello from B".to_owned()),
            ("DialogRead".to_owned(), 4, "unread 0".to_owned()),
        ];
        assert_eq!(events(&mut first, 4).await?, expected_first);
        let expected_second = vec![
            ("MessageReceived".to_owned(), 1, "hello from A".to_owned()),
            ("MessageSent".to_owned(), 2, "PENDING hello from B".to_owned()),
            ("MessageSent".to_owned(), 3, "SENT hello from B".to_owned()),
        ];
        assert_eq!(events(&mut second, 3).await?, expected_second);
        // Nothing more for either (the sync saw each sent message again and stored nothing), and nothing at
        // all for the workspace that is not part of it.
        first.expect_nothing(Duration::from_millis(500)).await?;
        second.expect_nothing(Duration::from_millis(300)).await?;
        third.expect_nothing(Duration::from_millis(300)).await?;

        // Subscribing to another workspace is refused at subscribe time.
        let mut intruder = subscribe(&app, &quinn, &w1, None).await?;
        match intruder.frame(WAIT).await? {
            Frame::Errors(errors) => assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN"),
            other => anyhow::bail!("expected FORBIDDEN, got {other:?}"),
        }
        Ok(())
    }
);

backend_tests!(a_reconnect_with_after_sequence_gets_the_gap_then_live_events, |app| {
    let (owner, workspace) = funded(&app, "olive", 0).await?;
    let scope = app.scope_of(&owner, &workspace).await?;
    append_events(&app, &scope, 1, 5).await?;
    let mut subscriber = subscribe(&app, &owner, &workspace, Some(0)).await?;
    let first = subscriber.event(WAIT).await?;
    assert_eq!(first["sequence"], 1);
    subscriber.close().await?;

    // Missed while away.
    append_events(&app, &scope, 3, 5).await?;
    let mut again = subscribe(&app, &owner, &workspace, Some(1)).await?;
    let replayed: Vec<i64> = events(&mut again, 3).await?.into_iter().map(|e| e.1).collect();
    assert_eq!(replayed, vec![2, 3, 4]);
    // Then live, without a repeat.
    append_events(&app, &scope, 1, 5).await?;
    assert_eq!(again.event(WAIT).await?["sequence"], 5);
    again.expect_nothing(Duration::from_millis(300)).await?;

    // Without afterSequence: from now on only.
    let mut fresh = subscribe(&app, &owner, &workspace, None).await?;
    fresh.expect_nothing(Duration::from_millis(300)).await?;
    append_events(&app, &scope, 1, 5).await?;
    assert_eq!(fresh.event(WAIT).await?["sequence"], 6);

    // A number from the future is named as the bad field.
    let mut ahead = subscribe(&app, &owner, &workspace, Some(99)).await?;
    match ahead.frame(WAIT).await? {
        Frame::Errors(errors) => {
            assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT");
            assert_eq!(errors[0]["extensions"]["field"], "afterSequence");
        }
        other => anyhow::bail!("expected BAD_USER_INPUT, got {other:?}"),
    }
    Ok(())
});

backend_tests!(
    events_committed_without_waking_the_relay_still_arrive_and_are_marked_published,
    |app| {
        let (owner, workspace) = funded(&app, "olive", 0).await?;
        let scope = app.scope_of(&owner, &workspace).await?;
        let mut subscriber = subscribe(&app, &owner, &workspace, Some(0)).await?;
        // As if a process committed and stopped before publishing: only the relay's tick finds it.
        append_events(&app, &scope, 2, 5).await?;
        let seen: Vec<i64> = events(&mut subscriber, 2).await?.into_iter().map(|e| e.1).collect();
        assert_eq!(seen, vec![1, 2]);
        // Marked, so a restart does not publish them again.
        let mut unpublished = usize::MAX;
        for _ in 0..50 {
            unpublished = app.store.unpublished_events(100).await?.events.len();
            if unpublished == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(unpublished, 0);
        Ok(())
    }
);

/// A workspace with event 1, a subscriber with a 4 KiB socket buffer that has read it, then `burst` events of
/// 4 KB appended while the subscriber does not read for `pause`; the owner, the workspace and the subscriber.
async fn burst_while_not_reading(
    app: &TestApp,
    burst: i64,
    pause: Duration,
) -> anyhow::Result<(String, String, Subscriber)> {
    let (owner, workspace) = funded(app, "olive", 0).await?;
    let scope = app.scope_of(&owner, &workspace).await?;
    append_events(app, &scope, 1, 5).await?;
    let mut subscriber = Subscriber::start(
        app.addr,
        &owner,
        INBOX_EVENTS,
        json!({ "w": workspace, "after": 0 }),
        Some(4096),
    )
    .await?;
    assert_eq!(subscriber.event(WAIT).await?["sequence"], 1);
    append_events(app, &scope, usize::try_from(burst)?, 4000).await?;
    tokio::time::sleep(pause).await;
    Ok((owner, workspace, subscriber))
}

backend_tests!(
    a_subscriber_that_falls_behind_is_disconnected_with_a_reason_and_resumes_without_loss,
    options = TestOptions {
        subscriber_buffer: 8,
        ..TestOptions::default()
    },
    |app| {
        // Far more than the client's socket and the server's buffer hold, while the client does not read.
        const BURST: i64 = 400;
        let (owner, workspace, mut slow) = burst_while_not_reading(&app, BURST, Duration::from_secs(3)).await?;

        let mut last = 1;
        let reason = loop {
            match slow.frame(WAIT).await? {
                Frame::Next(event) => {
                    let sequence = event["sequence"].as_i64().unwrap_or(-1);
                    assert_eq!(sequence, last + 1, "no gap before the disconnect");
                    last = sequence;
                }
                Frame::Complete => {}
                Frame::Closed(code, reason) => {
                    assert_eq!(code, 1013, "{reason}");
                    break reason;
                }
                Frame::Errors(errors) => anyhow::bail!("unexpected errors {errors:?}"),
            }
        };
        assert!(reason.contains("afterSequence"), "{reason}");
        assert!(last < BURST + 1, "it was disconnected before the end ({last})");

        // Resuming from the last number it saw gets exactly the rest.
        let mut resumed = subscribe(&app, &owner, &workspace, Some(last)).await?;
        for expected in last + 1..=BURST + 1 {
            assert_eq!(resumed.event(WAIT).await?["sequence"], expected);
        }
        resumed.expect_nothing(Duration::from_millis(300)).await?;
        Ok(())
    }
);

backend_tests!(
    a_subscriber_briefly_behind_the_live_window_catches_up_from_the_outbox_without_a_disconnect,
    options = TestOptions {
        live_window: 4,
        ..TestOptions::default()
    },
    |app| {
        // Far more than the live window and the client's socket hold while it does not read, but fewer than
        // `events.subscriber_buffer` (1024): the server reads what the window lost from the outbox.
        const BURST: i64 = 300;
        let (owner, workspace, mut paused) = burst_while_not_reading(&app, BURST, Duration::from_secs(2)).await?;
        let scope = app.scope_of(&owner, &workspace).await?;
        for expected in 2..=BURST + 1 {
            match paused.frame(WAIT).await? {
                Frame::Next(event) => assert_eq!(event["sequence"], expected, "every number, in order"),
                other => anyhow::bail!("expected event {expected}, got {other:?}"),
            }
        }
        // Still live afterwards.
        append_events(&app, &scope, 1, 5).await?;
        assert_eq!(paused.event(WAIT).await?["sequence"], BURST + 2);
        paused.expect_nothing(Duration::from_millis(300)).await?;
        Ok(())
    }
);

backend_tests!(a_refused_send_is_announced_as_failed_with_the_health_change, |app| {
    let account = app.stock_pool(1, 100).await?[0].to_string();
    let (owner, workspace) = funded(&app, "olive", 10_000).await?;
    let rented = app
        .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
        .await?;
    anyhow::ensure!(rented.is_ok(), "{:?}", rented.body);
    app.gql(
        Some(&owner),
        CONTACT_SEND,
        json!({ "a": account, "c": "Ada", "t": "hello" }),
    )
    .await?;
    app.inbox.sync_all().await?;
    let dialog = app
        .gql(
            Some(&owner),
            "query($w: ID!) { workspace(id: $w) { dialogs { edges { node { id } } } } }",
            json!({ "w": workspace }),
        )
        .await?
        .str_at("/data/workspace/dialogs/edges/0/node/id")?;
    let mut subscriber = subscribe(&app, &owner, &workspace, Some(0)).await?;
    assert_eq!(
        summary(&subscriber.event(WAIT).await?),
        ("MessageReceived".to_owned(), 1, "hello".to_owned())
    );
    app.gql(
        Some(&owner),
        INJECT,
        json!({ "a": account, "f": "FLOOD_WAIT", "s": 120 }),
    )
    .await?;
    let sent = app
        .gql(
            Some(&owner),
            SEND,
            json!({ "a": account, "d": dialog, "t": "are you there?" }),
        )
        .await?;
    assert_eq!(sent.str_at("/data/sendMessage/status")?, "FAILED", "{:?}", sent.body);
    let seen = events(&mut subscriber, 3).await?;
    assert_eq!(
        seen[0],
        ("MessageSent".to_owned(), 2, "PENDING are you there?".to_owned())
    );
    assert_eq!(
        seen[1],
        ("MessageSent".to_owned(), 3, "FAILED are you there?".to_owned())
    );
    assert_eq!(
        seen[2],
        ("AccountHealthChanged".to_owned(), 4, "ACTIVE -> COOLDOWN".to_owned())
    );
    Ok(())
});

backend_tests!(
    concurrent_writers_in_one_workspace_get_numbers_without_holes_or_repeats,
    |app| {
        let (owner, workspace) = funded(&app, "olive", 0).await?;
        let scope = app.scope_of(&owner, &workspace).await?;
        let mut subscriber = subscribe(&app, &owner, &workspace, Some(0)).await?;
        let mut writers = Vec::new();
        for _ in 0..8 {
            let (app, scope) = (std::sync::Arc::clone(&app), scope.clone());
            writers.push(tokio::spawn(async move {
                for _ in 0..10 {
                    append_events(&app, &scope, 2, 5).await?;
                }
                anyhow::Ok(())
            }));
        }
        for writer in writers {
            writer.await??;
        }
        app.outbox.committed();
        let seen: Vec<i64> = events(&mut subscriber, 160).await?.into_iter().map(|e| e.1).collect();
        assert_eq!(seen, (1..=160).collect::<Vec<i64>>(), "every number once, in order");
        subscriber.expect_nothing(Duration::from_millis(300)).await?;
        let stored = app.store.events_after(&scope, 0, None, 1000).await?;
        let numbers: Vec<i64> = stored.iter().map(|e| e.sequence).collect();
        assert_eq!(numbers, (1..=160).collect::<Vec<i64>>());
        Ok(())
    }
);

backend_tests!(a_replay_from_before_the_replay_window_is_refused_by_name, |app| {
    let (owner, workspace) = funded(&app, "olive", 0).await?;
    let scope = app.scope_of(&owner, &workspace).await?;
    append_events(&app, &scope, 3, 5).await?;
    let mut subscriber = subscribe(&app, &owner, &workspace, Some(0)).await?;
    assert_eq!(events(&mut subscriber, 3).await?.len(), 3, "published");
    // The window closes on everything published so far.
    let relay = tgos_domain::events::OutboxRelay::new(
        std::sync::Arc::clone(&app.store),
        std::sync::Arc::new(tgos_domain::events::LocalEventBus::new(8)),
        std::sync::Arc::new(tgos_domain::clock::SystemClock),
        app.outbox.clone(),
    );
    let mut pruned = 0;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        pruned += relay.prune(Duration::ZERO).await?;
        if pruned == 3 {
            break;
        }
    }
    assert_eq!(pruned, 3);
    let mut late = subscribe(&app, &owner, &workspace, Some(1)).await?;
    match late.frame(WAIT).await? {
        Frame::Errors(errors) => {
            assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT");
            assert_eq!(errors[0]["extensions"]["field"], "afterSequence");
        }
        other => anyhow::bail!("expected BAD_USER_INPUT, got {other:?}"),
    }
    // Numbering goes on from where it was.
    append_events(&app, &scope, 1, 5).await?;
    assert_eq!(subscriber.event(WAIT).await?["sequence"], 4);
    Ok(())
});
