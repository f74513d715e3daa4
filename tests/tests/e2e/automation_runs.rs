//! Automations under load and live: two job workers on one database run 500 triggered executions and send
//! exactly 500 replies even when one worker dies mid-run (its leases lapse and the other resumes at the first
//! unfinished step, sending nothing twice), and `automationEvents` streams what happens with replay.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait as _, Statement};
use serde_json::json;
use tgos_domain::automation::records::{ExecutionFilter, ExecutionStatus};
use tgos_domain::automation::{
    Action, AutomationDefinition, AutomationJobs, AutomationService, AutomationSettings, ConditionMode, Trigger,
};
use tgos_domain::clock::SystemClock;
use tgos_domain::jobs::{JobHandler, JobSignal, JobWorker};
use tgos_domain::paging::PageRequest;
use tgos_domain::request::ClientInfo;
use tgos_domain::webhooks::DestinationPolicy;
use tgos_persistence::webhooks::HttpWebhookSender;
use tgos_tests::clock::ManualClock;
use tgos_tests::fakes::FakeWebhookReceiver;
use tgos_tests::live::Subscriber;
use tgos_tests::{TestApp, TestOptions, backend_tests};

use super::accounts::{RENT, funded};
use super::automations::{CREATE, incoming, renting, settled};

/// How many accounts share the 500 messages: each stays within its hourly automated budget (30 at low risk).
const ACCOUNTS: usize = 20;
const CONTACTS_PER_ACCOUNT: usize = 5;
const MESSAGES_PER_CONTACT: usize = 5;

/// A worker of its own (another process, as far as the database can tell) running until its task is aborted.
fn spawn_worker(app: &TestApp, holder: &str) -> tokio::task::JoinHandle<()> {
    let handler: Arc<dyn JobHandler> = Arc::new(AutomationJobs::new(app.automations.clone()));
    let worker = JobWorker::new(Arc::clone(&app.store), Arc::new(SystemClock), holder)
        .with_handler(handler)
        .with_lease(Duration::from_secs(2))
        .with_batch(8);
    tokio::spawn(async move {
        loop {
            match worker.run_once().await {
                Ok(0) | Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                Ok(_) => {}
            }
        }
    })
}

backend_tests!(
    two_workers_send_exactly_one_reply_per_message_even_when_one_dies_mid_run,
    options = TestOptions {
        workers: false,
        ..TestOptions::default()
    },
    |app| {
        let network = app.sandbox().ok_or_else(|| anyhow::anyhow!("no sandbox"))?.clone();
        let offers = app.stock_pool(ACCOUNTS, 100).await?;
        let (owner, workspace) = funded(&app, "olga", 1_000_000).await?;
        let scope = app.scope_of(&owner, &workspace).await?;
        let mut held = Vec::new();
        for offer in &offers {
            let rented = app
                .gql(
                    Some(&owner),
                    RENT,
                    json!({ "w": workspace, "o": offer.to_string(), "d": 1 }),
                )
                .await?;
            anyhow::ensure!(rented.is_ok(), "{:?}", rented.body);
            let record = app.accounts.held(&scope, *offer).await?;
            let user = record
                .telegram_user_id
                .ok_or_else(|| anyhow::anyhow!("no sandbox user"))?;
            held.push((record, user));
        }
        let created = app
            .gql(
                Some(&owner),
                CREATE,
                json!({ "w": workspace, "i": {
                    "name": "Thank",
                    "trigger": { "messageReceived": {} },
                    "actions": [{ "sendMessage": { "text": "Thanks, {{peer.title}}: {{message.text}}" } }]
                } }),
            )
            .await?;
        anyhow::ensure!(created.is_ok(), "{:?}", created.body);

        // 500 incoming messages, stored (and their executions queued) by the inbox sync.
        for (record, user) in &held {
            // The first connection puts the account on the simulated network.
            app.inbox.sync_account(&scope, record).await?;
            for contact in 0..CONTACTS_PER_ACCOUNT {
                for message in 0..MESSAGES_PER_CONTACT {
                    network.contact_send(*user, &format!("C{contact}"), &format!("m{message}"))?;
                }
            }
            app.inbox.sync_account(&scope, record).await?;
        }
        let total = ACCOUNTS * CONTACTS_PER_ACCOUNT * MESSAGES_PER_CONTACT;
        let replies = || -> anyhow::Result<usize> {
            let mut count = 0;
            for (_, user) in &held {
                for contact in 0..CONTACTS_PER_ACCOUNT {
                    count += network.sent_to_contact(*user, &format!("C{contact}"))?.len();
                }
            }
            Ok(count)
        };

        let doomed = spawn_worker(&app, "worker-a");
        let survivor = spawn_worker(&app, "worker-b");
        // Let both work, then kill one in the middle of whatever it holds.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while replies()? < total / 5 {
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "no progress: {} replies",
                replies()?
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        doomed.abort();
        let _ = doomed.await;

        let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
        loop {
            let finished = app
                .automations
                .executions(
                    &scope,
                    ExecutionFilter {
                        status: Some(ExecutionStatus::Succeeded),
                        ..ExecutionFilter::default()
                    },
                    PageRequest::first(100),
                )
                .await?;
            let mut succeeded = finished.items.len();
            let mut after = finished.items.last().map(|e| e.id);
            let mut more = finished.has_next;
            while more {
                let page = app
                    .automations
                    .executions(
                        &scope,
                        ExecutionFilter {
                            status: Some(ExecutionStatus::Succeeded),
                            ..ExecutionFilter::default()
                        },
                        PageRequest::new(after, 100),
                    )
                    .await?;
                succeeded += page.items.len();
                after = page.items.last().map(|e| e.id);
                more = page.has_next;
            }
            if succeeded == total {
                break;
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "{succeeded} of {total} executions succeeded, {} replies",
                replies()?
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        survivor.abort();
        assert_eq!(
            replies()?,
            total,
            "exactly one reply per message, none lost, none twice"
        );
        // The dead worker held claims when it died: the survivor took them over once their leases lapsed.
        let db = app.db().await?;
        let taken_over = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) FROM jobs WHERE kind = 'automation.execute' AND attempts >= 2",
            ))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no count"))?
            .try_get_by_index::<i64>(0)?;
        assert!(taken_over >= 1, "no execution was taken over from the dead worker");
        for (_, user) in &held {
            for contact in 0..CONTACTS_PER_ACCOUNT {
                let sent = network.sent_to_contact(*user, &format!("C{contact}"))?;
                let mut texts: Vec<_> = sent.iter().map(|m| m.text.clone()).collect();
                texts.sort();
                let expected: Vec<_> = (0..MESSAGES_PER_CONTACT)
                    .map(|m| format!("Thanks, C{contact}: m{m}"))
                    .collect();
                assert_eq!(texts, expected);
            }
        }
        Ok(())
    }
);

const EVENTS: &str = "subscription($w: ID!, $a: ID, $after: Int) { automationEvents(workspaceId: $w, automationId: $a, afterSequence: $after) { __typename ... on ExecutionQueued { sequence execution { id status } } ... on ExecutionFinished { sequence status reason execution { id steps { action status } } } ... on AutomationChanged { sequence change automation { id name version } } } }";

backend_tests!(
    automation_events_stream_changes_and_executions_in_order_and_replay,
    |app| {
        let (owner, workspace, account, _user) = renting(&app, "paula").await?;
        let mut subscriber = Subscriber::start(app.addr, &owner, EVENTS, json!({ "w": workspace }), None).await?;
        let created = app
            .gql(
                Some(&owner),
                CREATE,
                json!({ "w": workspace, "i": {
                "name": "Tag it",
                "trigger": { "messageReceived": {} },
                "actions": [{ "tagDialog": { "tag": "seen" } }]
            } }),
            )
            .await?;
        anyhow::ensure!(created.is_ok(), "{:?}", created.body);
        let automation = created.str_at("/data/createAutomation/id")?;
        let changed = subscriber.event(Duration::from_secs(5)).await?;
        assert_eq!(changed["__typename"], "AutomationChanged");
        assert_eq!(changed["change"], "CREATED");
        assert_eq!(changed["automation"]["id"], automation.as_str());

        incoming(&app, &owner, &workspace, &account, "Grace", "hello").await?;
        let queued = subscriber.event(Duration::from_secs(5)).await?;
        assert_eq!(queued["__typename"], "ExecutionQueued");
        let finished = subscriber.event(Duration::from_secs(10)).await?;
        assert_eq!(finished["__typename"], "ExecutionFinished");
        assert_eq!(finished["status"], "SUCCEEDED");
        assert_eq!(finished["execution"]["id"], queued["execution"]["id"]);
        let first = changed["sequence"].as_i64().unwrap_or_default();
        let second = queued["sequence"].as_i64().unwrap_or_default();
        let third = finished["sequence"].as_i64().unwrap_or_default();
        assert!(first < second && second < third, "{first} {second} {third}");
        // The inbox's own events (the message, the tag) share the numbering but are not shown here.
        subscriber.expect_nothing(Duration::from_millis(300)).await?;
        subscriber.close().await?;

        // A reconnect with afterSequence replays what came after it, automation events only.
        let mut replay = Subscriber::start(
            app.addr,
            &owner,
            EVENTS,
            json!({ "w": workspace, "after": first }),
            None,
        )
        .await?;
        assert_eq!(replay.event(Duration::from_secs(5)).await?["sequence"], second);
        assert_eq!(replay.event(Duration::from_secs(5)).await?["sequence"], third);
        replay.close().await?;

        // Without AUTOMATIONS_READ a key may not follow them.
        let key = app
            .gql(
                Some(&owner),
                "mutation($w: ID!) { createApiKey(workspaceId: $w, name: \"inbox\", scopes: [INBOX_READ]) { secret } }",
                json!({ "w": workspace }),
            )
            .await?
            .str_at("/data/createApiKey/secret")?;
        let mut refused = Subscriber::start(app.addr, &key, EVENTS, json!({ "w": workspace }), None).await?;
        match refused.frame(Duration::from_secs(5)).await? {
            tgos_tests::live::Frame::Errors(errors) => {
                assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN", "{errors:?}");
            }
            other => anyhow::bail!("expected a refusal, got {other:?}"),
        }
        let _ = settled(&app, &owner, &workspace, Some(&automation), 1, Duration::from_secs(1)).await?;
        Ok(())
    }
);

/// The automations' use cases and a job worker on `clock`, over the test server's store.
fn on_clock(app: &TestApp, clock: Arc<ManualClock>) -> (AutomationService, JobWorker) {
    let service = AutomationService::new(
        Arc::clone(&app.store),
        clock.clone(),
        app.vault.clone(),
        app.inbox.clone(),
        Arc::new(HttpWebhookSender::new(
            DestinationPolicy { allow_private: true },
            Duration::from_secs(5),
        )),
        JobSignal::default(),
        app.outbox.clone(),
        AutomationSettings {
            allow_private_webhooks: true,
            ..AutomationSettings::default()
        },
    );
    let handler: Arc<dyn JobHandler> = Arc::new(AutomationJobs::new(service.clone()));
    let worker = JobWorker::new(Arc::clone(&app.store), clock, "scheduler").with_handler(handler);
    (service, worker)
}

/// When the automation's queued schedule jobs are due, in order.
async fn queued_fires(app: &TestApp) -> anyhow::Result<Vec<DateTime<Utc>>> {
    let db = app.db().await?;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT run_at FROM jobs WHERE kind = 'automation.schedule' AND status = 'queued' ORDER BY run_at",
        ))
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get_by_index::<DateTime<Utc>>(0)?))
        .collect()
}

backend_tests!(
    a_schedule_fires_at_its_local_time_across_the_spring_and_autumn_clock_changes,
    options = TestOptions {
        workers: false,
        allow_private_webhooks: true,
        ..TestOptions::default()
    },
    |app| {
        let (owner, workspace, _account, _user) = renting(&app, "quinn").await?;
        let receiver = FakeWebhookReceiver::start(0).await?;
        let at = |text: &str| -> anyhow::Result<DateTime<Utc>> { Ok(text.parse::<DateTime<Utc>>()?) };
        // Before Berlin's spring change (2026-03-29, 02:00 CET becomes 03:00 CEST).
        let clock = ManualClock::starting_at(at("2026-03-28T12:00:00Z")?);
        let (service, worker) = on_clock(&app, clock.clone());
        let scope = app.scope_of(&owner, &workspace).await?;
        let principal = app
            .identity
            .authenticate(&owner)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no session"))?
            .principal;
        let definition = AutomationDefinition {
            name: "Half past two".to_owned(),
            enabled: true,
            trigger: Trigger::Schedule {
                cron: "30 2 * * *".to_owned(),
                timezone: "Europe/Berlin".to_owned(),
            },
            conditions: Vec::new(),
            mode: ConditionMode::All,
            actions: vec![Action::Webhook {
                url: receiver.url.clone(),
                secret: "a-webhook-secret-of-some-length".to_owned(),
            }],
        };
        service
            .create_automation(&scope, &principal, &ClientInfo::default(), definition)
            .await?;
        // 02:30 does not exist on the 29th: it fires once, when the gap ends (03:00 CEST = 01:00 UTC).
        assert_eq!(queued_fires(&app).await?, vec![at("2026-03-29T01:00:00Z")?]);
        clock.set(at("2026-03-29T01:00:00Z")?);
        while worker.run_once().await? > 0 {}
        // The fire queued its execution (run by the same worker) and the next fire, 02:30 CEST = 00:30 UTC.
        assert_eq!(queued_fires(&app).await?, vec![at("2026-03-30T00:30:00Z")?]);
        let received = receiver.received();
        assert_eq!(received.len(), 1, "the fire ran its webhook once");
        let body: serde_json::Value = serde_json::from_slice(&received[0].body)?;
        assert_eq!(body["execution"]["context"]["fire_time"], "2026-03-29T01:00:00Z");

        // Autumn (2026-10-25, 03:00 CEST becomes 02:00 CET): 02:30 happens twice and fires once, the first time.
        clock.set(at("2026-10-24T12:00:00Z")?);
        service.maintain().await?;
        let fires = queued_fires(&app).await?;
        assert!(fires.contains(&at("2026-10-25T00:30:00Z")?), "{fires:?}");
        clock.set(at("2026-10-25T00:30:00Z")?);
        while worker.run_once().await? > 0 {}
        let fires = queued_fires(&app).await?;
        assert!(
            fires.contains(&at("2026-10-26T01:30:00Z")?) && !fires.contains(&at("2026-10-25T01:30:00Z")?),
            "the repeated 02:30 (01:30 UTC) does not fire again; the next is the 26th's, 02:30 CET: {fires:?}"
        );
        Ok(())
    }
);
