//! Live connections over the sandbox, with the periodic sync effectively off (it runs once a day in tests):
//! a contact's message streams into the inbox and the subscription at once; the connection lease is held and
//! renewed while connected and released when the server stops; an outage drops the connection and what arrived
//! meanwhile comes in once after the reconnect; a revoked session is recorded and not retried in a loop; an
//! account held by another process is left alone until its lease is free. `/metrics` counts live and parked
//! connections.

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tgos_domain::accounts::pool::connections::{ConnectionHolder, ConnectionLease};
use tgos_domain::ids::AccountId;
use tgos_telegram::sandbox::SandboxNetwork;
use tgos_tests::live::Subscriber;
use tgos_tests::{TestApp, TestOptions, backend_tests};

use super::accounts::{CONTACT_SEND, HEALTH, INJECT, RENT, funded};
use super::inbox_events::subscribe;

const SEND: &str =
    "mutation($a: ID!, $d: ID!, $t: String!) { sendMessage(accountId: $a, dialogId: $d, text: $t) { status failure } }";
const FIRST_DIALOG: &str = "query($w: ID!) { workspace(id: $w) { dialogs(first: 1) { edges { node { id } } } } }";
const MESSAGES: &str = "query($w: ID!) { workspace(id: $w) { dialogs(first: 10) { edges { node { messages(first: 50) { edges { node { text direction } } } } } } } }";

fn live() -> TestOptions {
    TestOptions {
        live_connections: true,
        ..TestOptions::default()
    }
}

/// A workspace renting one sandbox account, and who drives it.
struct Rented {
    owner: String,
    workspace: String,
    account: String,
    id: AccountId,
    user_id: i64,
}

/// Stocks and rents one account; with `held_by`, that holder takes its connection lease first (for a minute).
async fn rent_one(app: &TestApp, username: &str, held_by: Option<&ConnectionHolder>) -> anyhow::Result<Rented> {
    let account = app.stock_pool(1, 500).await?[0].to_string();
    if let Some(holder) = held_by {
        let now = chrono::Utc::now();
        let until = now + chrono::Duration::seconds(60);
        anyhow::ensure!(
            app.store
                .acquire_connection(account.parse()?, holder, until, now)
                .await?
        );
    }
    let (owner, workspace) = funded(app, username, 10_000).await?;
    let rented = app
        .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
        .await?;
    anyhow::ensure!(rented.is_ok(), "rent failed: {}", rented.body);
    let scope = app.scope_of(&owner, &workspace).await?;
    let id: AccountId = account.parse()?;
    let identity = app.accounts.sandbox_identity(&scope, id).await?;
    network(app)?.ensure_account(identity.user_id, &identity.name, None)?;
    Ok(Rented {
        owner,
        workspace,
        account,
        id,
        user_id: identity.user_id,
    })
}

fn network(app: &TestApp) -> anyhow::Result<&SandboxNetwork> {
    app.sandbox()
        .ok_or_else(|| anyhow::anyhow!("the test server runs the sandbox"))
}

async fn lease(app: &TestApp, id: AccountId) -> anyhow::Result<Option<ConnectionLease>> {
    Ok(app.store.connection_lease(id).await?)
}

/// Polls `check` every 50 ms until it holds, failing with `what` after `within`.
async fn until<F, Fut>(within: Duration, what: &str, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let deadline = Instant::now() + within;
    while !check().await? {
        anyhow::ensure!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn contact_send(app: &TestApp, rented: &Rented, text: &str) -> anyhow::Result<()> {
    let sent = app
        .gql(
            Some(&rented.owner),
            CONTACT_SEND,
            json!({ "a": rented.account, "c": "Ada", "t": text }),
        )
        .await?;
    anyhow::ensure!(sent.is_ok(), "contact send failed: {}", sent.body);
    Ok(())
}

/// The next `MessageReceived` text on the subscription, and how long it took.
async fn received(subscriber: &mut Subscriber, within: Duration) -> anyhow::Result<(String, Duration)> {
    let started = Instant::now();
    let event = subscriber.event(within).await?;
    anyhow::ensure!(event["__typename"] == "MessageReceived", "unexpected event {event}");
    Ok((
        event["message"]["text"].as_str().unwrap_or_default().to_owned(),
        started.elapsed(),
    ))
}

/// Every message text in the workspace's inbox.
async fn inbox_texts(app: &TestApp, rented: &Rented) -> anyhow::Result<Vec<String>> {
    let page = app
        .gql(Some(&rented.owner), MESSAGES, json!({ "w": rented.workspace }))
        .await?;
    let mut texts: Vec<String> = page
        .at("/data/workspace/dialogs/edges")?
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|dialog| {
            dialog
                .pointer("/node/messages/edges")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|m| m.pointer("/node/text").and_then(Value::as_str).map(str::to_owned))
        .collect();
    texts.sort();
    Ok(texts)
}

/// A first message seen live proves the connection streams (connected, subscribed, caught up).
/// The `tgos_telegram_connections` gauge of `state` on `/metrics` (0 while the series does not exist yet).
async fn connections_gauge(app: &TestApp, state: &str) -> anyhow::Result<i64> {
    let text = app.http().get(app.url("/metrics")).send().await?.text().await?;
    let series = format!("tgos_telegram_connections{{state=\"{state}\"}} ");
    Ok(text
        .lines()
        .find_map(|line| line.strip_prefix(series.as_str()))
        .map(str::parse)
        .transpose()?
        .unwrap_or(0))
}

async fn streaming(app: &TestApp, rented: &Rented) -> anyhow::Result<Subscriber> {
    until(Duration::from_secs(10), "the account's lease is taken", || async {
        Ok(lease(app, rented.id).await?.is_some())
    })
    .await?;
    // The subscription replays the workspace's events from the start: a subscribe frame is not acknowledged,
    // so a live-only feed could start after the warm-up was published. What came before the warm-up is skipped.
    let mut subscriber = subscribe(app, &rented.owner, &rented.workspace, Some(0)).await?;
    contact_send(app, rented, "warm-up").await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = subscriber.event(left).await?;
        if event["__typename"] == "MessageReceived" && event["message"]["text"] == "warm-up" {
            return Ok(subscriber);
        }
    }
}

backend_tests!(
    a_contacts_message_streams_in_within_a_second_over_a_renewed_lease_released_when_the_server_stops,
    options = live(),
    |app| {
        let rented = rent_one(&app, "lena", None).await?;
        let mut subscriber = streaming(&app, &rented).await?;

        let started = Instant::now();
        contact_send(&app, &rented, "are you there?").await?;
        let (text, _) = received(&mut subscriber, Duration::from_secs(5)).await?;
        let latency = started.elapsed();
        eprintln!("live message latency: {latency:?}");
        assert_eq!(text, "are you there?");
        assert!(latency <= Duration::from_secs(1), "took {latency:?}");
        assert_eq!(inbox_texts(&app, &rented).await?, ["are you there?", "warm-up"]);

        // A send goes out on the live connection (no wait for a lease the live task never gives back).
        let dialog = app
            .gql(Some(&rented.owner), FIRST_DIALOG, json!({ "w": rented.workspace }))
            .await?
            .str_at("/data/workspace/dialogs/edges/0/node/id")?;
        let started = Instant::now();
        let sent = app
            .gql(
                Some(&rented.owner),
                SEND,
                json!({ "a": rented.account, "d": dialog, "t": "yes, live" }),
            )
            .await?;
        assert_eq!(sent.at("/data/sendMessage/status")?, &json!("SENT"), "{}", sent.body);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "took {:?}",
            started.elapsed()
        );
        let delivered = network(&app)?.sent_to_contact(rented.user_id, "Ada")?;
        assert_eq!(delivered.len(), 1);
        assert_eq!(delivered[0].text, "yes, live");

        // The periodic sync leaves the account to its live connection: no connection of its own.
        let (attempts, open) = network(&app)?.connection_counts(rented.user_id)?;
        assert_eq!(open, 1);
        app.inbox.sync_all().await?;
        assert_eq!(network(&app)?.connection_counts(rented.user_id)?, (attempts, 1));

        // The lease stays with one connection and its expiry moves forward with each renewal (every 2 s here).
        let first = lease(&app, rented.id).await?.expect("held");
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        let second = lease(&app, rented.id).await?.expect("held");
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        let third = lease(&app, rented.id).await?.expect("held");
        assert_eq!(first.holder, second.holder);
        assert_eq!(second.holder, third.holder);
        assert!(first.expires_at < second.expires_at, "{first:?} {second:?}");
        assert!(second.expires_at < third.expires_at, "{second:?} {third:?}");
        assert!(third.expires_at > chrono::Utc::now() + chrono::Duration::seconds(50));
        assert_eq!(network(&app)?.connection_counts(rented.user_id)?, (attempts, 1));

        // Stopping the server closes the connection and releases the lease.
        app.shutdown().await;
        assert_eq!(lease(&app, rented.id).await?, None);
        assert_eq!(network(&app)?.connection_counts(rented.user_id)?.1, 0);
        Ok(())
    }
);

backend_tests!(
    an_outage_drops_the_live_connection_and_what_arrived_meanwhile_comes_in_once_after_the_reconnect,
    options = live(),
    |app| {
        let rented = rent_one(&app, "otto", None).await?;
        let mut subscriber = streaming(&app, &rented).await?;
        let sandbox = network(&app)?;
        let (attempts_before, _) = sandbox.connection_counts(rented.user_id)?;

        sandbox.set_offline(rented.user_id, true)?;
        for n in 1..=3 {
            sandbox.contact_send(rented.user_id, "Ada", &format!("during the outage {n}"))?;
        }
        subscriber.expect_nothing(Duration::from_millis(1_500)).await?;
        assert_eq!(inbox_texts(&app, &rented).await?, ["warm-up"]);
        assert_eq!(sandbox.connection_counts(rented.user_id)?.1, 0, "the outage dropped it");

        sandbox.set_offline(rented.user_id, false)?;
        let mut texts = Vec::new();
        for _ in 0..3 {
            texts.push(received(&mut subscriber, Duration::from_secs(20)).await?.0);
        }
        assert_eq!(
            texts,
            ["during the outage 1", "during the outage 2", "during the outage 3"]
        );
        subscriber.expect_nothing(Duration::from_millis(1_500)).await?;
        assert_eq!(
            inbox_texts(&app, &rented).await?,
            [
                "during the outage 1",
                "during the outage 2",
                "during the outage 3",
                "warm-up"
            ]
        );
        let (attempts, open) = sandbox.connection_counts(rented.user_id)?;
        assert!(
            attempts >= attempts_before + 2,
            "a refused attempt, then the reconnect: {attempts}"
        );
        assert_eq!(open, 1);

        // A network failure says nothing about the account.
        let health = app
            .gql(Some(&rented.owner), HEALTH, json!({ "w": rented.workspace }))
            .await?;
        assert_eq!(
            health.at("/data/workspace/accounts/edges/0/node/health/state")?,
            &json!("ACTIVE")
        );

        // Still live: the next message streams in.
        contact_send(&app, &rented, "after").await?;
        assert_eq!(received(&mut subscriber, Duration::from_secs(5)).await?.0, "after");
        Ok(())
    }
);

backend_tests!(
    a_revoked_session_is_recorded_and_its_live_connection_stops_without_retrying,
    options = live(),
    |app| {
        let rented = rent_one(&app, "rita", None).await?;
        let _subscriber = streaming(&app, &rented).await?;
        until(
            Duration::from_secs(5),
            "the metrics count the live connection",
            || async { Ok(connections_gauge(&app, "live").await? == 1) },
        )
        .await?;
        assert_eq!(connections_gauge(&app, "parked").await?, 0);
        let injected = app
            .gql(
                Some(&rented.owner),
                INJECT,
                json!({ "a": rented.account, "f": "SESSION_INVALID" }),
            )
            .await?;
        assert!(injected.is_ok(), "{}", injected.body);

        until(
            Duration::from_secs(10),
            "the health records the revoked session",
            || async {
                let health = app
                    .gql(Some(&rented.owner), HEALTH, json!({ "w": rented.workspace }))
                    .await?;
                Ok(health.at("/data/workspace/accounts/edges/0/node/health/state")? == &json!("SESSION_INVALID"))
            },
        )
        .await?;
        until(Duration::from_secs(5), "the lease is released", || async {
            Ok(lease(&app, rented.id).await?.is_none())
        })
        .await?;

        // Four scans later: no new attempt to connect, nothing open, no lease.
        let (attempts, _) = network(&app)?.connection_counts(rented.user_id)?;
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_eq!(network(&app)?.connection_counts(rented.user_id)?, (attempts, 0));
        assert_eq!(lease(&app, rented.id).await?, None);
        // The metrics say so too: nothing live, the account parked.
        assert_eq!(connections_gauge(&app, "live").await?, 0);
        assert_eq!(connections_gauge(&app, "parked").await?, 1);
        Ok(())
    }
);

backend_tests!(
    an_account_held_by_another_process_is_left_alone_until_its_lease_is_free,
    options = live(),
    |app| {
        // Another process holds the account's connection lease before it is rented here.
        let elsewhere = ConnectionHolder::generate();
        let rented = rent_one(&app, "ingo", Some(&elsewhere)).await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            network(&app)?.user_id_of(rented.id),
            None,
            "never connected through this server"
        );
        let held = lease(&app, rented.id).await?.expect("held elsewhere");
        assert_eq!(held.holder, elsewhere.as_str());
        // The periodic sync of this server is refused quietly too (one account, nothing stored).
        assert_eq!(app.inbox.sync_all().await?, 0);
        assert_eq!(network(&app)?.user_id_of(rented.id), None);

        // Once the other process lets go, this one takes the account live.
        app.store.release_connection(rented.id, &elsewhere).await?;
        let _subscriber = streaming(&app, &rented).await?;
        let held = lease(&app, rented.id).await?.expect("held here");
        assert_ne!(held.holder, elsewhere.as_str());
        Ok(())
    }
);
