//! What operators watch: `/metrics` counts open WebSockets and running subscriptions by kind while they live
//! and not after, shows the database pool and the outbox's lag (the age of the oldest unpublished event),
//! and every metric the Grafana dashboard (`docs/grafana/tgos-dashboard.json`) charts is one the server
//! exposes.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};
use tgos_domain::clock::SystemClock;
use tgos_domain::events::{self, EventDraft, InboxEvent, LocalEventBus, Outbox, OutboxRelay};
use tgos_domain::ids::{AccountId, DialogId, MessageId};
use tgos_domain::inbox::{DeliveryStatus, Direction, MessageRecord};
use tgos_tests::live::{Frame, INBOX_EVENTS, Subscriber};
use tgos_tests::{TestApp, TestOptions, backend_tests};

/// The subscription of automation events, with nothing selected but the type.
const AUTOMATION_EVENTS: &str = "subscription($w: ID!) { automationEvents(workspaceId: $w) { __typename } }";

async fn metrics(app: &TestApp) -> anyhow::Result<String> {
    Ok(app.http().get(app.url("/metrics")).send().await?.text().await?)
}

/// The value of the series `series` (name and labels as exposed), if it is there.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// Waits until `series` has `expected`, or fails with the metrics as they were.
async fn until_value(app: &TestApp, series: &str, expected: f64) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = metrics(app).await?;
        if value(&text, series) == Some(expected) {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "{series} never became {expected}: {:?}",
            value(&text, series)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

backend_tests!(websockets_and_subscriptions_are_counted_while_they_live, |app| {
    let owner = app.sign_up("watcher").await?;
    let workspace = app.create_workspace(&owner, "Watched").await?;
    until_value(&app, "tgos_websockets_open", 0.0).await?;
    until_value(&app, "tgos_subscriptions_active{kind=\"inboxEvents\"}", 0.0).await?;

    let mut inbox = Subscriber::start(app.addr, &owner, INBOX_EVENTS, json!({ "w": workspace }), None).await?;
    inbox.add("2", AUTOMATION_EVENTS, json!({ "w": workspace })).await?;
    let idle = Subscriber::connect(app.addr, &owner, None).await?;
    until_value(&app, "tgos_websockets_open", 2.0).await?;
    until_value(&app, "tgos_subscriptions_active{kind=\"inboxEvents\"}", 1.0).await?;
    until_value(&app, "tgos_subscriptions_active{kind=\"automationEvents\"}", 1.0).await?;

    // A subscription that is refused (not a member) is not counted.
    let stranger = app.sign_up("stranger").await?;
    let mut refused = Subscriber::start(app.addr, &stranger, INBOX_EVENTS, json!({ "w": workspace }), None).await?;
    match refused.frame(Duration::from_secs(5)).await? {
        Frame::Errors(errors) => assert!(!errors.is_empty()),
        other => anyhow::bail!("a stranger's subscription ran: {other:?}"),
    }
    until_value(&app, "tgos_websockets_open", 3.0).await?;
    until_value(&app, "tgos_subscriptions_active{kind=\"inboxEvents\"}", 1.0).await?;

    // Completed by the client: the automation subscription ends, the connection stays.
    inbox.complete("2").await?;
    until_value(&app, "tgos_subscriptions_active{kind=\"automationEvents\"}", 0.0).await?;
    until_value(&app, "tgos_websockets_open", 3.0).await?;

    for subscriber in [inbox, idle, refused] {
        subscriber.close().await?;
    }
    until_value(&app, "tgos_websockets_open", 0.0).await?;
    until_value(&app, "tgos_subscriptions_active{kind=\"inboxEvents\"}", 0.0).await?;
    Ok(())
});

/// The pool gauges: open, idle, in use, maximum.
async fn pool(app: &TestApp) -> anyhow::Result<(f64, f64, f64, f64)> {
    let text = metrics(app).await?;
    let read = |name: &str| value(&text, name).with_context(|| format!("no {name}"));
    Ok((
        read("tgos_db_pool_open_connections")?,
        read("tgos_db_pool_idle_connections")?,
        read("tgos_db_pool_in_use_connections")?,
        read("tgos_db_pool_max_connections")?,
    ))
}

backend_tests!(
    the_database_pool_is_shown_from_the_pool_itself,
    options = TestOptions {
        workers: false,
        ..TestOptions::default()
    },
    |app| {
        let (open, idle, in_use, max) = pool(&app).await?;
        assert_eq!(max, 8.0, "the harness's database.max_connections");
        assert!((1.0..=max).contains(&open), "{open} of {max}");
        assert_eq!(
            (in_use, open),
            (0.0, idle),
            "nothing runs: every open connection is idle"
        );

        // Two transactions held open hold two connections.
        let first = app.store.begin_read().await?;
        let second = app.store.begin_read().await?;
        let (open, idle, in_use, _) = pool(&app).await?;
        assert_eq!(in_use, 2.0, "open {open}, idle {idle}");
        assert_eq!(open, idle + in_use);
        first.commit().await?;
        second.commit().await?;
        // sqlx gives a connection back to the pool on a task of its own, a moment after the commit.
        until_value(&app, "tgos_db_pool_in_use_connections", 0.0).await?;
        Ok(())
    }
);

backend_tests!(
    the_outbox_lag_is_the_age_of_the_oldest_unpublished_event,
    options = TestOptions {
        workers: false,
        ..TestOptions::default()
    },
    |app| {
        let relay = OutboxRelay::new(
            app.store.clone(),
            Arc::new(LocalEventBus::new(8)),
            Arc::new(SystemClock),
            Outbox::new(),
        );
        assert_eq!(relay.lag().await?, Duration::ZERO, "nothing waits");
        let owner = app.sign_up("lagging").await?;
        let workspace = app.create_workspace(&owner, "Lagging").await?;
        let scope = app.scope_of(&owner, &workspace).await?;
        // Two events written 90 s and 30 s ago that no relay published.
        let tx = app.store.begin().await?;
        for age in [90, 30] {
            let at = chrono::Utc::now() - chrono::Duration::seconds(age);
            let message = MessageRecord {
                id: MessageId::generate(),
                workspace_id: scope.workspace_id(),
                account_id: AccountId::generate(),
                dialog_id: DialogId::generate(),
                peer: tgos_domain::accounts::gateway::PeerKey::user(42)?,
                telegram_id: Some(1),
                direction: Direction::Incoming,
                text: "late".into(),
                sent_at: at,
                edited_at: None,
                reply_to: None,
                status: DeliveryStatus::Sent,
                failure: None,
                deleted_at: None,
                edit_history: Vec::new(),
                media: None,
            };
            let draft = EventDraft::new(message.account_id, InboxEvent::MessageReceived { message });
            events::append(&*tx, &scope, draft, at).await?;
        }
        tx.commit().await?;
        let lag = relay.lag().await?;
        assert!(
            (Duration::from_secs(90)..Duration::from_secs(120)).contains(&lag),
            "the oldest waits 90 s: {lag:?}"
        );
        assert_eq!(relay.relay_once().await?, 2);
        assert_eq!(relay.lag().await?, Duration::ZERO, "published: nothing waits");
        Ok(())
    }
);

/// Every `tgos_…` name in the dashboard's queries.
fn dashboard_metrics(dashboard: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut stack = vec![dashboard];
    while let Some(node) = stack.pop() {
        match node {
            Value::Object(fields) => {
                if let Some(Value::String(expr)) = fields.get("expr") {
                    let mut rest = expr.as_str();
                    while let Some(start) = rest.find("tgos_") {
                        let tail = &rest[start..];
                        let end = tail
                            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .unwrap_or(tail.len());
                        names.insert(tail[..end].to_owned());
                        rest = &tail[end..];
                    }
                }
                stack.extend(fields.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    names
}

backend_tests!(every_metric_the_dashboard_charts_is_exposed, |app| {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/grafana/tgos-dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
        .with_context(|| format!("{} is not JSON", path.display()))?;
    assert!(dashboard["panels"].as_array().is_some_and(|panels| !panels.is_empty()));
    let charted = dashboard_metrics(&dashboard);
    for wanted in [
        "tgos_graphql_requests_total",
        "tgos_graphql_request_duration_seconds_bucket",
        "tgos_db_pool_in_use_connections",
        "tgos_websockets_open",
        "tgos_subscriptions_active",
        "tgos_outbox_oldest_unpublished_seconds",
        "tgos_jobs_due",
        "tgos_jobs_oldest_due_seconds",
        "tgos_telegram_connections",
        "tgos_events_bus_publish_failures_total",
        "tgos_events_bus_degraded",
    ] {
        assert!(charted.contains(wanted), "the dashboard does not chart {wanted}");
    }

    // A request and the background work's first gauge pass, so every series has been written once.
    let owner = app.sign_up("charted").await?;
    app.create_workspace(&owner, "Charted").await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = metrics(&app).await?;
        if text.contains("tgos_outbox_oldest_unpublished_seconds") || tokio::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let exposed: BTreeSet<&str> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split(['{', ' ']).next())
        .collect();
    for name in &charted {
        assert!(
            exposed.contains(name.as_str()),
            "the dashboard charts {name}, which /metrics does not expose"
        );
    }
    Ok(())
});
