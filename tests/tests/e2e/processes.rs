//! Many replicas as they are deployed: two `tgos serve --workers=false` processes and one `tgos worker` on one
//! database and the machine's NATS (`tgos-under-test`). A subscriber on one serving process sees what is
//! done through the other (dialog changes: each process has a simulated Telegram network of its own, so messages
//! sent through another replica are tested in process, `replicas.rs`), in order; the other is killed in the middle of a run of sends and a resubscribe
//! with `afterSequence` finds every committed event once; a sign-out through one closes a subscription on
//! another within a second; an API key's budget holds across both. Skipped without NATS (see
//! `tgos_tests::nats`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tgos_domain::inbox::DialogQuery;
use tgos_tests::gql::GqlResponse;
use tgos_tests::live::{Frame, Subscriber};
use tgos_tests::nats::{nats_url, unique_prefix};
use tgos_tests::replicas::TgosProcess;
use tgos_tests::{TestApp, TestOptions, backend_tests};

use super::accounts::{RENT, funded};
use super::inbox_events::WAIT;

const TGOS: &str = env!("CARGO_BIN_EXE_tgos-under-test");
const TAG: &str = "mutation($d: ID!, $t: String!) { tagDialog(dialogId: $d, tag: $t) { id tags } }";
/// Every inbox event's sequence, and a dialog change's tags.
const INBOX_EVENTS: &str = "subscription($w: ID!, $after: Int) { inboxEvents(workspaceId: $w, afterSequence: $after) { __typename ... on MessageReceived { sequence } ... on MessageSent { sequence } ... on MessageEdited { sequence } ... on MessageDeleted { sequence } ... on DialogRead { sequence } ... on AccountHealthChanged { sequence } ... on DialogChanged { sequence dialog { id tags } } } }";
/// Requests a key may make per minute on every process of this test.
const KEY_BUDGET: u32 = 4;

/// The test's own server serves only (it relays nothing), on the NATS the processes use.
fn options() -> TestOptions {
    #[expect(clippy::disallowed_methods, reason = "the test reads where its NATS server is")]
    let url = std::env::var("TGOS_TEST_NATS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "nats://127.0.0.1:4222".to_owned());
    TestOptions {
        workers: false,
        nats: Some((url, unique_prefix())),
        ..TestOptions::default()
    }
}

/// The environment of this test's processes: its database, NATS and prefix, limits counted in the database.
fn environment(app: &TestApp) -> Vec<(String, String)> {
    let mut env = app.process_env();
    if let Some((url, prefix)) = &app.nats {
        env.push(("TGOS_EVENTS__BUS".into(), "nats".into()));
        env.push(("TGOS_EVENTS__NATS_URL".into(), url.clone()));
        env.push(("TGOS_EVENTS__NATS_PREFIX".into(), prefix.clone()));
    }
    env.push(("TGOS_LIMITS__STORE".into(), "database".into()));
    env.push(("TGOS_AUTH__API_KEY_REQUESTS_PER_MINUTE".into(), KEY_BUDGET.to_string()));
    env
}

async fn gql_at(addr: std::net::SocketAddr, token: &str, query: &str, variables: Value) -> anyhow::Result<GqlResponse> {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await?;
    GqlResponse::read(response).await
}

/// Reads events until `until` (a sequence number), checking they come one number after another, once each;
/// the tags of each `DialogChanged` seen, joined.
async fn consecutive_until(subscriber: &mut Subscriber, from: i64, until: i64) -> anyhow::Result<Vec<String>> {
    let mut expected = from + 1;
    let mut sent = Vec::new();
    while expected <= until {
        let event = subscriber.event(WAIT).await?;
        let sequence = event["sequence"].as_i64().unwrap_or(-1);
        assert_eq!(sequence, expected, "event {sequence} where {expected} was due: {event}");
        if event["__typename"] == "DialogChanged" {
            let mut tags: Vec<&str> = event["dialog"]["tags"]
                .as_array()
                .map(|tags| tags.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            tags.sort_unstable();
            sent.push(tags.join(" "));
        }
        expected += 1;
    }
    Ok(sent)
}

backend_tests!(
    two_serving_processes_and_a_worker_share_events_access_and_limits,
    options = options(),
    |app| {
        if nats_url("processes::two_serving_processes_and_a_worker_share_events_access_and_limits")
            .await?
            .is_none()
        {
            return Ok(());
        }
        // A rented account with a dialog, written by this test's own server.
        let stocked = app.stock_pool(1, 100).await?;
        let (owner, workspace) = funded(&app, "olive", 10_000).await?;
        let account = stocked[0].to_string();
        let rented = app
            .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
            .await?;
        anyhow::ensure!(rented.is_ok(), "{:?}", rented.body);
        let scope = app.scope_of(&owner, &workspace).await?;
        let held = app.accounts.held(&scope, account.parse()?).await?;
        let network = app.sandbox().ok_or_else(|| anyhow::anyhow!("no sandbox"))?;
        let user = held.telegram_user_id.unwrap_or_default();
        network.ensure_account(user, "Olive's account", None)?;
        network.contact_send(user, "alice", "hello")?;
        app.inbox.sync_all().await?;
        let dialog = app.inbox.dialogs(&scope, DialogQuery::newest(5)).await?.items[0]
            .id
            .to_string();

        let env = environment(&app);
        let _worker = TgosProcess::start(TGOS, &["worker"], &env)?;
        let serving_a = TgosProcess::start(TGOS, &["serve", "--workers=false"], &env)?;
        let serving_b = TgosProcess::start(TGOS, &["serve", "--workers=false"], &env)?;

        // A subscriber on A sees what is sent through B, in order.
        let mut on_a = Subscriber::start(
            serving_a.addr,
            &owner,
            INBOX_EVENTS,
            json!({ "w": workspace, "after": 0 }),
            None,
        )
        .await?;
        for text in ["one", "two", "three"] {
            let sent = gql_at(serving_b.addr, &owner, TAG, json!({ "d": dialog, "t": text })).await?;
            anyhow::ensure!(sent.is_ok(), "{:?}", sent.body);
        }
        let latest = app.store.latest_sequence(&scope).await?;
        let tagged = consecutive_until(&mut on_a, 0, latest).await?;
        assert_eq!(tagged, ["one", "one two", "one three two"]);

        // B is killed in the middle of a run of sends: whatever committed reaches A's subscriber once, in order,
        // after a resubscribe from where it was.
        let before_kill = latest;
        let sender = {
            let (owner, dialog, addr) = (owner.clone(), dialog.clone(), serving_b.addr);
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                for n in 0..200 {
                    let sent = client
                        .post(format!("http://{addr}/graphql"))
                        .bearer_auth(&owner)
                        .json(&json!({ "query": TAG, "variables": { "d": dialog, "t": format!("run{n}") } }))
                        .send()
                        .await;
                    if sent.is_err() {
                        return n;
                    }
                }
                200
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        serving_b.kill()?;
        let attempted = sender.await?;
        assert!(attempted < 200, "B was killed before the run ended");
        on_a.close().await?;
        let mut again = Subscriber::start(
            serving_a.addr,
            &owner,
            INBOX_EVENTS,
            json!({ "w": workspace, "after": before_kill }),
            None,
        )
        .await?;
        let latest = app.store.latest_sequence(&scope).await?;
        assert!(latest > before_kill, "some sends committed before the kill");
        consecutive_until(&mut again, before_kill, latest).await?;
        again.expect_nothing(Duration::from_millis(500)).await?;

        // A sign-out through A closes a subscription on another serving process within a second.
        let serving_c = TgosProcess::start(TGOS, &["serve", "--workers=false"], &env)?;
        let mut on_c = Subscriber::start(serving_c.addr, &owner, INBOX_EVENTS, json!({ "w": workspace }), None).await?;
        on_c.expect_nothing(Duration::from_millis(300)).await?;

        // An API key's budget holds across both serving processes.
        let key = app.create_audit_key(&owner, &workspace).await?;
        let audit = "query($w: ID!) { workspace(id: $w) { id } }";
        let mut answered = Vec::new();
        for n in 0..=KEY_BUDGET {
            let at = if n % 2 == 0 { serving_a.addr } else { serving_c.addr };
            answered.push(gql_at(at, &key, audit, json!({ "w": workspace })).await?.status);
        }
        assert_eq!(
            answered[..KEY_BUDGET as usize],
            [200; KEY_BUDGET as usize],
            "{answered:?}"
        );
        assert_eq!(answered[KEY_BUDGET as usize], 429, "{answered:?}");

        let signed_out = gql_at(serving_a.addr, &owner, "mutation { signOut }", json!({})).await?;
        assert!(signed_out.is_ok(), "{:?}", signed_out.body);
        let started = Instant::now();
        match on_c.frame(WAIT).await? {
            Frame::Closed(code, _) => assert_eq!(code, 4403),
            other => anyhow::bail!("expected the socket to close with 4403, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        Ok(())
    }
);
