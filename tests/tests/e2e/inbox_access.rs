//! Who may follow a workspace's events and for how long: revoked sessions, keys and removed members are
//! closed with 4403; a subscriber sees only the account it asked for, and keys see health only with
//! `ACCOUNTS_READ`; one connection holds at most sixteen subscriptions.

use std::time::Duration;

use serde_json::{Value, json};
use tgos_domain::events::{self, EventDraft, InboxEvent};
use tgos_domain::ids::{AccountId, DialogId, MessageId};
use tgos_domain::tenancy::TenantScope;
use tgos_tests::live::{Frame, INBOX_EVENTS, Subscriber};
use tgos_tests::{TestApp, backend_tests};

use super::accounts::funded;
use super::inbox_events::{WAIT, append_events, events, subscribe};

const REMOVE: &str = "mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }";
const CREATE_KEY: &str = "mutation($w: ID!, $s: [Scope!]!) { createApiKey(workspaceId: $w, name: \"feed\", scopes: $s) { secret apiKey { id } } }";

/// Subscribes and waits for the one event already there, so the subscription is surely open.
async fn open_feed(app: &TestApp, token: &str, workspace: &str) -> anyhow::Result<Subscriber> {
    let mut subscriber = subscribe(app, token, workspace, Some(0)).await?;
    assert_eq!(subscriber.event(WAIT).await?["sequence"], 1);
    Ok(subscriber)
}

async fn expect_forbidden_close(subscriber: &mut Subscriber) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    loop {
        match subscriber.frame(Duration::from_secs(5)).await? {
            Frame::Closed(code, _) => {
                assert_eq!(code, 4403);
                assert!(started.elapsed() < Duration::from_secs(5));
                return Ok(());
            }
            Frame::Complete | Frame::Next(_) => {}
            other => anyhow::bail!("expected the socket to close with 4403, got {other:?}"),
        }
    }
}

backend_tests!(revoked_access_closes_open_subscriptions_with_4403, |app| {
    let (owner, workspace) = funded(&app, "olive", 0).await?;
    let scope = app.scope_of(&owner, &workspace).await?;
    append_events(&app, &scope, 1, 5).await?;

    // The owner's subscription, open through all of it, is untouched (checked at the end).
    let mut owners = open_feed(&app, &owner, &workspace).await?;

    // A removed member.
    let (viewer, viewer_id) = app.join(&owner, &workspace, "vera", "VIEWER").await?;
    let mut feed = open_feed(&app, &viewer, &workspace).await?;
    let removed = app
        .gql(Some(&owner), REMOVE, json!({ "w": workspace, "u": viewer_id }))
        .await?;
    assert!(removed.is_ok(), "{:?}", removed.body);
    expect_forbidden_close(&mut feed).await?;

    // A session signed out elsewhere (the same token, over HTTP).
    let (operator, _) = app.join(&owner, &workspace, "otto", "OPERATOR").await?;
    let mut feed = open_feed(&app, &operator, &workspace).await?;
    let out = app.gql(Some(&operator), "mutation { signOut }", json!({})).await?;
    assert!(out.is_ok(), "{:?}", out.body);
    expect_forbidden_close(&mut feed).await?;

    // A revoked API key.
    let created = app
        .gql(Some(&owner), CREATE_KEY, json!({ "w": workspace, "s": ["INBOX_READ"] }))
        .await?;
    let secret = created.str_at("/data/createApiKey/secret")?;
    let key_id = created.str_at("/data/createApiKey/apiKey/id")?;
    let mut feed = open_feed(&app, &secret, &workspace).await?;
    let revoked = app
        .gql(
            Some(&owner),
            "mutation($k: ID!) { revokeApiKey(id: $k) }",
            json!({ "k": key_id }),
        )
        .await?;
    assert!(revoked.is_ok(), "{:?}", revoked.body);
    expect_forbidden_close(&mut feed).await?;

    // The owner's subscription is still open and live.
    append_events(&app, &scope, 1, 5).await?;
    assert_eq!(owners.event(WAIT).await?["sequence"], 2);

    // A key without INBOX_READ may not subscribe at all.
    let created = app
        .gql(
            Some(&owner),
            CREATE_KEY,
            json!({ "w": workspace, "s": ["BILLING_READ"] }),
        )
        .await?;
    let billing_only = created.str_at("/data/createApiKey/secret")?;
    let mut refused = subscribe(&app, &billing_only, &workspace, None).await?;
    match refused.frame(WAIT).await? {
        Frame::Errors(errors) => assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN"),
        other => anyhow::bail!("expected FORBIDDEN, got {other:?}"),
    }
    Ok(())
});

async fn append_one(app: &TestApp, scope: &TenantScope, account: AccountId, event: InboxEvent) -> anyhow::Result<()> {
    let tx = app.store.begin().await?;
    events::append(&*tx, scope, EventDraft::new(account, event), chrono::Utc::now()).await?;
    tx.commit().await?;
    app.outbox.committed();
    Ok(())
}

backend_tests!(
    subscribers_see_only_the_account_they_asked_for_and_keys_see_health_only_with_accounts_read,
    |app| {
        use tgos_domain::accounts::health::HealthStateKind;
        let (owner, workspace) = funded(&app, "olive", 0).await?;
        let scope = app.scope_of(&owner, &workspace).await?;
        let (x, y) = (AccountId::generate(), AccountId::generate());
        let deleted = || InboxEvent::MessageDeleted {
            message_id: MessageId::generate(),
            dialog_id: DialogId::generate(),
        };
        append_one(&app, &scope, x, deleted()).await?;
        append_one(
            &app,
            &scope,
            x,
            InboxEvent::AccountHealthChanged {
                state: HealthStateKind::Cooldown,
                risk_score: 20,
                previous_state: HealthStateKind::Active,
                previous_risk_score: 0,
            },
        )
        .await?;
        append_one(&app, &scope, y, deleted()).await?;

        let key = |scopes: Value| {
            let app = &app;
            let owner = &owner;
            let workspace = &workspace;
            async move {
                let created = app
                    .gql(Some(owner), CREATE_KEY, json!({ "w": workspace, "s": scopes }))
                    .await?;
                created.str_at("/data/createApiKey/secret")
            }
        };
        let inbox_only = key(json!(["INBOX_READ"])).await?;
        let with_accounts = key(json!(["INBOX_READ", "ACCOUNTS_READ"])).await?;

        let mut of_x = Subscriber::start(
            app.addr,
            &owner,
            INBOX_EVENTS,
            json!({ "w": workspace, "a": x.to_string(), "after": 0 }),
            None,
        )
        .await?;
        let seen: Vec<(String, i64)> = events(&mut of_x, 2).await?.into_iter().map(|e| (e.0, e.1)).collect();
        assert_eq!(
            seen,
            vec![("MessageDeleted".to_owned(), 1), ("AccountHealthChanged".to_owned(), 2)]
        );
        of_x.expect_nothing(Duration::from_millis(300)).await?;

        let mut keyed = subscribe(&app, &inbox_only, &workspace, Some(0)).await?;
        let seen: Vec<i64> = events(&mut keyed, 2).await?.into_iter().map(|e| e.1).collect();
        assert_eq!(seen, vec![1, 3], "health needs ACCOUNTS_READ");
        keyed.expect_nothing(Duration::from_millis(300)).await?;

        let mut both = subscribe(&app, &with_accounts, &workspace, Some(0)).await?;
        let seen: Vec<i64> = events(&mut both, 3).await?.into_iter().map(|e| e.1).collect();
        assert_eq!(seen, vec![1, 2, 3]);

        // A malformed account id is named.
        let mut bad = Subscriber::start(
            app.addr,
            &owner,
            INBOX_EVENTS,
            json!({ "w": workspace, "a": "nope" }),
            None,
        )
        .await?;
        match bad.frame(WAIT).await? {
            Frame::Errors(errors) => assert_eq!(errors[0]["extensions"]["field"], "accountId"),
            other => anyhow::bail!("expected BAD_USER_INPUT, got {other:?}"),
        }
        Ok(())
    }
);

backend_tests!(one_connection_holds_at_most_sixteen_subscriptions, |app| {
    let (owner, workspace) = funded(&app, "olive", 0).await?;
    let mut connection = subscribe(&app, &owner, &workspace, None).await?;
    for id in 2..=17 {
        connection
            .add(&id.to_string(), INBOX_EVENTS, json!({ "w": workspace }))
            .await?;
    }
    match connection.frame(WAIT).await? {
        Frame::Errors(errors) => {
            assert_eq!(errors[0]["extensions"]["code"], "CONFLICT");
            assert!(errors[0]["message"].as_str().unwrap_or_default().contains("16"));
        }
        other => anyhow::bail!("expected CONFLICT for one of the 17, got {other:?}"),
    }
    // That one completes; the sixteen others stay open.
    assert_eq!(connection.frame(WAIT).await?, Frame::Complete);
    connection.expect_nothing(Duration::from_millis(300)).await?;
    Ok(())
});
