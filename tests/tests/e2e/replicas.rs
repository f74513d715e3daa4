//! Two replicas on one database (`TestApp::spawn_replica`): live events travel between them over NATS, in
//! order and once each; an access change made on one closes the other's subscriptions at once; without a
//! reachable broker delivery degrades to reading the outbox and loses nothing. The tests that need NATS say
//! they were skipped when none answers (`TGOS_REQUIRE_NATS=1` makes that a failure).

use std::time::{Duration, Instant};

use serde_json::json;
use tgos_domain::inbox::DialogQuery;
use tgos_tests::live::{Frame, Subscriber};
use tgos_tests::nats::{nats_url, unique_prefix};
use tgos_tests::{TestApp, TestOptions, backend_tests};

use super::accounts::{RENT, funded};
use super::inbox_events::{WAIT, subscribe};

const SEND: &str =
    "mutation($a: ID!, $d: ID!, $t: String!) { sendMessage(accountId: $a, dialogId: $d, text: $t) { id status } }";
const SIGN_OUT: &str = "mutation { signOut }";

#[expect(clippy::disallowed_methods, reason = "the test reads where its NATS server is")]
fn machine_nats() -> String {
    std::env::var("TGOS_TEST_NATS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "nats://127.0.0.1:4222".to_owned())
}

/// A replica that serves without background work (its subscribers get only what the bus brings), on `nats`.
fn serving_only(nats: Option<(String, String)>) -> TestOptions {
    TestOptions {
        workers: false,
        nats,
        ..TestOptions::default()
    }
}

/// A replica with the background work (the relay among it) on the same bus as `first`.
async fn relaying_replica(first: &TestApp, nats: Option<(String, String)>) -> anyhow::Result<TestApp> {
    first
        .spawn_replica(TestOptions {
            workers: true,
            nats,
            ..TestOptions::default()
        })
        .await
}

/// The value of a gauge or counter on `/metrics`.
async fn metric(app: &TestApp, name: &str) -> anyhow::Result<f64> {
    let text = app.http().get(app.url("/metrics")).send().await?.text().await?;
    text.lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
        .ok_or_else(|| anyhow::anyhow!("{name} is not on /metrics"))
}

async fn until_metric(app: &TestApp, name: &str, value: f64) -> anyhow::Result<()> {
    let deadline = Instant::now() + WAIT;
    while metric(app, name).await? != value {
        anyhow::ensure!(Instant::now() < deadline, "{name} never became {value}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// A workspace on `first` renting one sandbox account that is in a group with another user in the sandbox of
/// `second`, synced through `second`: its owner's token, the workspace, the account and the group dialog.
async fn group_on(first: &TestApp, second: &TestApp) -> anyhow::Result<(String, String, String, String)> {
    let stocked = first.stock_pool(1, 100).await?;
    let (owner, workspace) = funded(first, "olive", 10_000).await?;
    let account = stocked[0].to_string();
    let rented = first
        .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
        .await?;
    anyhow::ensure!(rented.is_ok(), "{:?}", rented.body);
    let scope = first.scope_of(&owner, &workspace).await?;
    let held = first.accounts.held(&scope, account.parse()?).await?;
    let user = held.telegram_user_id.unwrap_or_default();
    let network = second.sandbox().ok_or_else(|| anyhow::anyhow!("no sandbox"))?;
    network.ensure_account(user, "Olive's account", None)?;
    network.ensure_account(user + 1, "Partner", None)?;
    network.create_group("Partners", &[user, user + 1])?;
    second.inbox.sync_all().await?;
    let dialogs = second.inbox.dialogs(&scope, DialogQuery::newest(10)).await?.items;
    let dialog = dialogs.first().map(|d| d.id.to_string()).unwrap_or_default();
    Ok((owner, workspace, account, dialog))
}

/// Reads events until the `SENT` of every text in `texts`, and checks they came in sequence order, once each:
/// a PENDING then a SENT per text, in the order sent.
async fn sent_in_order(subscriber: &mut Subscriber, texts: &[&str]) -> anyhow::Result<()> {
    let mut seen = Vec::new();
    let mut last_sequence = 0;
    while seen.len() < texts.len() * 2 {
        let event = subscriber.event(WAIT).await?;
        let sequence = event["sequence"].as_i64().unwrap_or(-1);
        assert!(
            sequence > last_sequence,
            "{sequence} after {last_sequence}: out of order or repeated"
        );
        last_sequence = sequence;
        if event["__typename"] == "MessageSent" {
            let status = event["message"]["status"].as_str().unwrap_or_default();
            let text = event["message"]["text"].as_str().unwrap_or_default();
            seen.push(format!("{status} {text}"));
        }
    }
    let expected: Vec<String> = texts
        .iter()
        .flat_map(|text| [format!("PENDING {text}"), format!("SENT {text}")])
        .collect();
    assert_eq!(seen, expected);
    subscriber.expect_nothing(Duration::from_millis(500)).await
}

backend_tests!(
    a_subscriber_on_one_replica_sees_what_another_sends_in_order_once,
    options = serving_only(Some((machine_nats(), unique_prefix()))),
    |app| {
        let Some(url) = nats_url("replicas::a_subscriber_on_one_replica_sees_what_another_sends").await? else {
            return Ok(());
        };
        let prefix = app.nats.clone().map(|(_, prefix)| prefix).unwrap_or_default();
        let relaying = relaying_replica(&app, Some((url, prefix))).await?;
        let (owner, workspace, account, dialog) = group_on(&app, &relaying).await?;
        until_metric(&app, "tgos_events_bus_degraded", 0.0).await?;
        let mut subscriber = subscribe(&app, &owner, &workspace, Some(0)).await?;
        let texts = ["one", "two", "three"];
        let started = Instant::now();
        for text in texts {
            let sent = relaying
                .gql(Some(&owner), SEND, json!({ "a": account, "d": dialog, "t": text }))
                .await?;
            assert_eq!(sent.str_at("/data/sendMessage/status")?, "SENT", "{:?}", sent.body);
        }
        sent_in_order(&mut subscriber, &texts).await?;
        // The serving replica runs no relay and was never degraded: the bus brought every event, well before
        // the outbox poller would have (it waits for events unpublished for 3 s).
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(metric(&app, "tgos_events_bus_degraded").await?, 0.0);
        assert_eq!(metric(&relaying, "tgos_events_bus_publish_failures_total").await?, 0.0);
        relaying.shutdown().await;
        Ok(())
    }
);

backend_tests!(
    a_sign_out_on_one_replica_closes_the_other_replicas_subscription_within_a_second,
    options = serving_only(Some((machine_nats(), unique_prefix()))),
    |app| {
        let Some(url) = nats_url("replicas::a_sign_out_on_one_replica_closes_the_other_replicas_subscription").await?
        else {
            return Ok(());
        };
        let prefix = app.nats.clone().map(|(_, prefix)| prefix).unwrap_or_default();
        let other = app
            .spawn_replica(TestOptions {
                // Long enough that only the signal can explain a prompt close.
                credential_cache_secs: 3_600,
                access_recheck_secs: 3_600,
                ..serving_only(Some((url, prefix)))
            })
            .await?;
        until_metric(&other, "tgos_events_bus_degraded", 0.0).await?;
        let (owner, workspace) = funded(&app, "olive", 0).await?;
        let mut subscriber = subscribe(&other, &owner, &workspace, Some(0)).await?;
        subscriber.expect_nothing(Duration::from_millis(300)).await?;
        let signed_out = app.gql(Some(&owner), SIGN_OUT, json!({})).await?;
        assert!(signed_out.is_ok(), "{:?}", signed_out.body);
        let started = Instant::now();
        match subscriber.frame(WAIT).await? {
            Frame::Closed(code, _) => assert_eq!(code, 4403),
            other => anyhow::bail!("expected the socket to close with 4403, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        // And the other replica's cached credential went with it.
        let refused = other
            .gql(Some(&owner), "{ me { user { username } } }", json!({}))
            .await?;
        assert_eq!(refused.code().as_deref(), Some("UNAUTHENTICATED"), "{:?}", refused.body);
        other.shutdown().await;
        Ok(())
    }
);

/// No broker answers at this address: both replicas start degraded and stay so.
const DEAD_NATS: &str = "nats://127.0.0.1:9";

backend_tests!(
    without_a_broker_delivery_degrades_to_the_outbox_and_loses_nothing,
    options = serving_only(Some((DEAD_NATS.to_owned(), unique_prefix()))),
    |app| {
        let relaying = relaying_replica(&app, app.nats.clone()).await?;
        let (owner, workspace, account, dialog) = group_on(&app, &relaying).await?;
        let mut subscriber = subscribe(&app, &owner, &workspace, Some(0)).await?;
        let texts = ["one", "two"];
        for text in texts {
            let sent = relaying
                .gql(Some(&owner), SEND, json!({ "a": account, "d": dialog, "t": text }))
                .await?;
            assert_eq!(sent.str_at("/data/sendMessage/status")?, "SENT", "{:?}", sent.body);
        }
        sent_in_order(&mut subscriber, &texts).await?;
        assert_eq!(metric(&app, "tgos_events_bus_degraded").await?, 1.0);
        assert!(metric(&relaying, "tgos_events_bus_publish_failures_total").await? >= 1.0);
        relaying.shutdown().await;
        Ok(())
    }
);
