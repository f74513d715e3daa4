//! Automations end to end: an incoming sandbox message runs the matching automation once, an execution that
//! did not run says why, health decides before sending, webhooks are signed and retried, definitions are
//! validated field by field and versioned, and only those allowed may write them.

use std::time::Duration;

use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};
use tgos_domain::accounts::health::{HealthObservation, HealthSignal};
use tgos_domain::clock::{Clock as _, SystemClock};
use tgos_domain::events::announce;
use tgos_domain::ids::{AccountId, WorkspaceId};
use tgos_tests::fakes::FakeWebhookReceiver;
use tgos_tests::{TestApp, TestOptions, backend_tests};

use super::accounts::{CONTACT_SEND, RENT, funded};

pub(crate) const CREATE: &str = "mutation($w: ID!, $i: AutomationInput!) { createAutomation(workspaceId: $w, input: $i) { id name enabled version trigger { kind accountIds } conditions { field op value } conditionMode actions { kind text tag url } } }";
pub(crate) const UPDATE: &str = "mutation($id: ID!, $v: Int!, $i: AutomationInput!) { updateAutomation(id: $id, expectedVersion: $v, input: $i) { id version name } }";
const ENABLE: &str =
    "mutation($id: ID!, $e: Boolean!) { setAutomationEnabled(id: $id, enabled: $e) { id version enabled } }";
const DELETE: &str = "mutation($id: ID!) { deleteAutomation(id: $id) }";
const LIST: &str = "query($w: ID!) { workspace(id: $w) { automations(first: 50) { nodes { id name version enabled stats { runs succeeded failed skipped lastRunAt } } } } }";
pub(crate) const EXECUTIONS: &str = "query($w: ID!, $a: ID) { workspace(id: $w) { automationExecutions(automationId: $a, first: 100) { nodes { id status reason trigger automationVersion automation { id name } dialogId messageId steps { index action status attempts detail } } } } }";
const TEST: &str = "query($w: ID!, $i: AutomationInput!, $d: ID, $t: String) { testAutomation(workspaceId: $w, input: $i, dialogId: $d, text: $t) { wouldRun reason conditions { condition { field op value } matched actual } renderedActions } }";
const DIALOG_TAGS: &str = "query($w: ID!) { workspace(id: $w) { dialogs(first: 10) { nodes { id tags } } } }";

/// A workspace renting one sandbox account: the owner's token, the workspace, the account and its sandbox
/// user id.
pub(crate) async fn renting(app: &TestApp, owner_name: &str) -> anyhow::Result<(String, String, String, i64)> {
    let account = app.stock_pool(1, 500).await?[0].to_string();
    let (owner, workspace) = funded(app, owner_name, 10_000).await?;
    let rented = app
        .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
        .await?;
    anyhow::ensure!(rented.is_ok(), "{:?}", rented.body);
    let scope = app.scope_of(&owner, &workspace).await?;
    let user = app
        .accounts
        .held(&scope, account.parse()?)
        .await?
        .telegram_user_id
        .ok_or_else(|| anyhow::anyhow!("no sandbox user for the account"))?;
    Ok((owner, workspace, account, user))
}

/// A contact writes to the account and the inbox syncs it, as the background sync would.
pub(crate) async fn incoming(
    app: &TestApp,
    owner: &str,
    workspace: &str,
    account: &str,
    contact: &str,
    text: &str,
) -> anyhow::Result<()> {
    let sent = app
        .gql(
            Some(owner),
            CONTACT_SEND,
            json!({ "a": account, "c": contact, "t": text }),
        )
        .await?;
    anyhow::ensure!(sent.is_ok(), "{:?}", sent.body);
    sync(app, owner, workspace, account).await
}

pub(crate) async fn sync(app: &TestApp, owner: &str, workspace: &str, account: &str) -> anyhow::Result<()> {
    let scope = app.scope_of(owner, workspace).await?;
    let id: AccountId = account.parse()?;
    let record = app.accounts.held(&scope, id).await?;
    // The server's own sync loop runs once at start and may hold the account's connection for a moment.
    for _ in 0..50 {
        match app.inbox.sync_account(&scope, &record).await {
            Err(tgos_domain::DomainError::AccountUnavailable(_)) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => {
                other?;
                return Ok(());
            }
        }
    }
    anyhow::bail!("the account stayed connected elsewhere")
}

/// The workspace's executions (of one automation when given), newest first, once `count` of them are final.
pub(crate) async fn settled(
    app: &TestApp,
    token: &str,
    workspace: &str,
    automation: Option<&str>,
    count: usize,
    within: Duration,
) -> anyhow::Result<Vec<Value>> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let found = app
            .gql(Some(token), EXECUTIONS, json!({ "w": workspace, "a": automation }))
            .await?;
        anyhow::ensure!(found.is_ok(), "{:?}", found.body);
        let nodes = found
            .at("/data/workspace/automationExecutions/nodes")?
            .as_array()
            .cloned()
            .unwrap_or_default();
        let done = nodes
            .iter()
            .filter(|n| matches!(n["status"].as_str(), Some("SUCCEEDED" | "FAILED" | "SKIPPED")))
            .count();
        if done >= count {
            return Ok(nodes);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "only {done} of {count} executions finished: {nodes:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn greeting(condition: Value) -> Value {
    json!({
        "name": "Greet",
        "trigger": { "messageReceived": { "accountIds": [] } },
        "conditions": [condition],
        "actions": [
            { "sendMessage": { "text": "Hello {{peer.title}}, thanks for writing" } },
            { "tagDialog": { "tag": "Greeted" } }
        ]
    })
}

async fn create(app: &TestApp, token: &str, workspace: &str, input: Value) -> anyhow::Result<String> {
    let created = app
        .gql(Some(token), CREATE, json!({ "w": workspace, "i": input }))
        .await?;
    anyhow::ensure!(created.is_ok(), "{:?}", created.body);
    created.str_at("/data/createAutomation/id")
}

backend_tests!(
    a_matching_message_gets_exactly_one_reply_and_a_succeeded_execution_with_its_steps,
    |app| {
        let (owner, workspace, account, user) = renting(&app, "ada").await?;
        let automation = create(
            &app,
            &owner,
            &workspace,
            greeting(json!({ "field": "TEXT", "op": "CONTAINS", "value": "hello" })),
        )
        .await?;
        incoming(&app, &owner, &workspace, &account, "Grace", "Hello there!").await?;
        let executions = settled(&app, &owner, &workspace, Some(&automation), 1, Duration::from_secs(20)).await?;
        assert_eq!(executions.len(), 1, "{executions:?}");
        let execution = &executions[0];
        assert_eq!(execution["status"], "SUCCEEDED", "{execution:?}");
        assert_eq!(execution["automation"]["name"], "Greet");
        assert_eq!(execution["automationVersion"], 1);
        assert!(execution["trigger"].as_str().is_some_and(|t| t.starts_with("message:")));
        let steps = execution["steps"].as_array().cloned().unwrap_or_default();
        assert_eq!(steps.len(), 2);
        assert!(
            steps.iter().all(|s| s["status"] == "SUCCEEDED" && s["attempts"] == 1),
            "{steps:?}"
        );

        let network = app.sandbox().ok_or_else(|| anyhow::anyhow!("no sandbox"))?;
        let replies = network.sent_to_contact(user, "Grace")?;
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0].text, "Hello Grace, thanks for writing");
        let tags = app.gql(Some(&owner), DIALOG_TAGS, json!({ "w": workspace })).await?;
        assert_eq!(tags.at("/data/workspace/dialogs/nodes/0/tags")?, &json!(["greeted"]));

        // The reply comes back from Telegram on the next sync as the account's own message: stored once, and an
        // outgoing message triggers nothing.
        sync(&app, &owner, &workspace, &account).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let executions = settled(&app, &owner, &workspace, Some(&automation), 1, Duration::from_secs(5)).await?;
        assert_eq!(executions.len(), 1, "{executions:?}");
        assert_eq!(network.sent_to_contact(user, "Grace")?.len(), 1);

        let listed = app.gql(Some(&owner), LIST, json!({ "w": workspace })).await?;
        assert_eq!(
            listed.at("/data/workspace/automations/nodes/0/stats")?["succeeded"],
            1,
            "{:?}",
            listed.body
        );
        Ok(())
    }
);

backend_tests!(
    a_message_that_does_not_match_leaves_the_failed_condition_as_the_reason,
    |app| {
        let (owner, workspace, account, user) = renting(&app, "barbara").await?;
        let automation = create(
            &app,
            &owner,
            &workspace,
            greeting(json!({ "field": "TEXT", "op": "CONTAINS", "value": "price" })),
        )
        .await?;
        incoming(&app, &owner, &workspace, &account, "Grace", "good morning").await?;
        let executions = settled(&app, &owner, &workspace, Some(&automation), 1, Duration::from_secs(20)).await?;
        let execution = &executions[0];
        assert_eq!(execution["status"], "SKIPPED");
        let reason = execution["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("TEXT CONTAINS \"price\""), "{reason}");
        assert!(
            reason.contains("good morning"),
            "the reason shows what was seen: {reason}"
        );
        assert_eq!(execution["steps"], json!([]), "nothing ran");
        let network = app.sandbox().ok_or_else(|| anyhow::anyhow!("no sandbox"))?;
        assert!(network.sent_to_contact(user, "Grace")?.is_empty());
        Ok(())
    }
);

backend_tests!(
    a_limited_accounts_executions_are_skipped_with_the_reason_and_nothing_is_sent,
    |app| {
        let (owner, workspace, account, user) = renting(&app, "carla").await?;
        let automation = create(
            &app,
            &owner,
            &workspace,
            greeting(json!({ "field": "TEXT", "op": "CONTAINS", "value": "hello" })),
        )
        .await?;
        let now = SystemClock.now();
        let workspace_id: WorkspaceId = workspace.parse()?;
        announce::observe(
            &*app.store,
            &app.outbox,
            Some(workspace_id),
            account.parse()?,
            HealthObservation::new(HealthSignal::PeerFlood, now),
            now,
        )
        .await?;
        incoming(&app, &owner, &workspace, &account, "Grace", "hello?").await?;
        let executions = settled(&app, &owner, &workspace, Some(&automation), 1, Duration::from_secs(20)).await?;
        assert_eq!(executions[0]["status"], "SKIPPED");
        assert_eq!(executions[0]["reason"], "account LIMITED");
        let network = app.sandbox().ok_or_else(|| anyhow::anyhow!("no sandbox"))?;
        assert!(network.sent_to_contact(user, "Grace")?.is_empty());
        Ok(())
    }
);

backend_tests!(
    validation_names_every_bad_field_and_a_stale_update_is_a_conflict,
    |app| {
        let (owner, workspace, _account, _user) = renting(&app, "dora").await?;
        let mut actions: Vec<Value> = (0..11).map(|_| json!({ "markRead": true })).collect();
        actions[1] = json!({ "sendMessage": { "text": "Hi {{peer.nickname}}" } });
        let bad = json!({
            "name": "Broken",
            "trigger": { "schedule": { "cron": "61 * * * *", "timezone": "Mars/Olympus" } },
            "conditions": [{ "field": "TEXT", "op": "MATCHES", "value": "(" }],
            "actions": actions,
        });
        let refused = app
            .gql(Some(&owner), CREATE, json!({ "w": workspace, "i": bad }))
            .await?;
        let fields: Vec<String> = refused
            .errors()
            .iter()
            .filter(|e| e["extensions"]["code"] == "BAD_USER_INPUT")
            .filter_map(|e| e["extensions"]["field"].as_str().map(str::to_owned))
            .collect();
        for expected in [
            "input.trigger.schedule.cron",
            "input.trigger.schedule.timezone",
            "input.conditions[0].value",
            "input.actions",
            "input.actions[1].sendMessage.text",
        ] {
            assert!(
                fields.iter().any(|f| f == expected),
                "{expected} missing from {fields:?}"
            );
        }
        let listed = app.gql(Some(&owner), LIST, json!({ "w": workspace })).await?;
        assert_eq!(
            listed.at("/data/workspace/automations/nodes")?,
            &json!([]),
            "nothing stored"
        );

        let id = create(
            &app,
            &owner,
            &workspace,
            greeting(json!({ "field": "TEXT", "op": "CONTAINS", "value": "hello" })),
        )
        .await?;
        let mut renamed = greeting(json!({ "field": "TEXT", "op": "CONTAINS", "value": "hello" }));
        renamed["name"] = json!("Greet warmly");
        let updated = app
            .gql(Some(&owner), UPDATE, json!({ "id": id, "v": 1, "i": renamed }))
            .await?;
        assert!(updated.is_ok(), "{:?}", updated.body);
        assert_eq!(updated.at("/data/updateAutomation/version")?, 2);
        let stale = app
            .gql(Some(&owner), UPDATE, json!({ "id": id, "v": 1, "i": renamed }))
            .await?;
        assert_eq!(stale.code().as_deref(), Some("CONFLICT"), "{:?}", stale.body);
        let disabled = app.gql(Some(&owner), ENABLE, json!({ "id": id, "e": false })).await?;
        assert_eq!(disabled.at("/data/setAutomationEnabled/version")?, 3);
        assert_eq!(disabled.at("/data/setAutomationEnabled/enabled")?, false);
        let deleted = app.gql(Some(&owner), DELETE, json!({ "id": id })).await?;
        assert_eq!(deleted.at("/data/deleteAutomation")?, true);
        let gone = app.gql(Some(&owner), DELETE, json!({ "id": id })).await?;
        assert_eq!(gone.code().as_deref(), Some("NOT_FOUND"));
        let audit = app
            .gql(
                Some(&owner),
                "query($w: ID!) { workspace(id: $w) { auditLog(first: 30) { edges { node { action targetId } } } } }",
                json!({ "w": workspace }),
            )
            .await?;
        let actions: Vec<&str> = audit
            .at("/data/workspace/auditLog/edges")?
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e.pointer("/node/targetId").and_then(Value::as_str) == Some(id.as_str()))
            .filter_map(|e| e.pointer("/node/action").and_then(Value::as_str))
            .collect();
        assert_eq!(
            actions,
            [
                "automation.deleted",
                "automation.disabled",
                "automation.updated",
                "automation.created"
            ],
            "every change audited once, newest first: {:?}",
            audit.body
        );
        Ok(())
    }
);

backend_tests!(viewers_and_keys_without_the_scope_cannot_write_automations, |app| {
    let (owner, workspace, _account, _user) = renting(&app, "edith").await?;
    let (viewer, _) = app.join(&owner, &workspace, "felix", "VIEWER").await?;
    let input = greeting(json!({ "field": "TEXT", "op": "CONTAINS", "value": "hello" }));
    let refused = app
        .gql(Some(&viewer), CREATE, json!({ "w": workspace, "i": input }))
        .await?;
    assert_eq!(refused.code().as_deref(), Some("FORBIDDEN"), "{:?}", refused.body);
    let readable = app.gql(Some(&viewer), LIST, json!({ "w": workspace })).await?;
    assert!(readable.is_ok(), "a viewer reads: {:?}", readable.body);

    let key = |scopes: Value| {
        let app = &app;
        let owner = owner.clone();
        let workspace = workspace.clone();
        async move {
            let created = app
                .gql(
                    Some(&owner),
                    "mutation($w: ID!, $s: [Scope!]!) { createApiKey(workspaceId: $w, name: \"k\", scopes: $s) { secret } }",
                    json!({ "w": workspace, "s": scopes }),
                )
                .await?;
            created.str_at("/data/createApiKey/secret")
        }
    };
    let inbox_key = key(json!(["INBOX_READ", "INBOX_WRITE"])).await?;
    let refused = app
        .gql(Some(&inbox_key), CREATE, json!({ "w": workspace, "i": input }))
        .await?;
    assert_eq!(refused.code().as_deref(), Some("FORBIDDEN"), "{:?}", refused.body);
    let unreadable = app.gql(Some(&inbox_key), LIST, json!({ "w": workspace })).await?;
    assert_eq!(unreadable.code().as_deref(), Some("FORBIDDEN"));
    let automation_key = key(json!(["AUTOMATIONS_WRITE", "AUTOMATIONS_READ"])).await?;
    let created = app
        .gql(Some(&automation_key), CREATE, json!({ "w": workspace, "i": input }))
        .await?;
    assert!(created.is_ok(), "{:?}", created.body);
    Ok(())
});

backend_tests!(
    a_dry_run_explains_which_conditions_matched_and_renders_the_actions_without_effects,
    |app| {
        let (owner, workspace, _account, _user) = renting(&app, "gina").await?;
        let mut input = greeting(json!({ "field": "TEXT", "op": "CONTAINS", "value": "price" }));
        input["conditions"]
            .as_array_mut()
            .ok_or_else(|| anyhow::anyhow!("no conditions"))?
            .push(json!({ "field": "RISK_SCORE", "op": "LESS_THAN", "value": "50" }));
        let tested = app
            .gql(
                Some(&owner),
                TEST,
                json!({ "w": workspace, "i": input, "t": "what is the price?" }),
            )
            .await?;
        assert!(tested.is_ok(), "{:?}", tested.body);
        let result = tested.at("/data/testAutomation")?;
        assert_eq!(result["wouldRun"], false, "no account, no risk score: {result:?}");
        assert_eq!(result["conditions"][0]["matched"], true);
        assert_eq!(result["conditions"][1]["matched"], false);
        assert!(
            result["reason"].as_str().is_some_and(|r| r.contains("RISK_SCORE")),
            "{result:?}"
        );
        assert_eq!(
            result["renderedActions"][0],
            "sendMessage: \"Hello , thanks for writing\""
        );
        let listed = app
            .gql(Some(&owner), EXECUTIONS, json!({ "w": workspace, "a": null }))
            .await?;
        assert_eq!(listed.at("/data/workspace/automationExecutions/nodes")?, &json!([]));
        Ok(())
    }
);

backend_tests!(
    a_webhook_receiver_gets_each_delivery_once_signed_after_two_failures,
    options = TestOptions {
        allow_private_webhooks: true,
        ..TestOptions::default()
    },
    |app| {
        let (owner, workspace, account, _user) = renting(&app, "hanna").await?;
        let receiver = FakeWebhookReceiver::start(2).await?;
        let secret = "a-webhook-secret-of-some-length";
        let automation = create(
            &app,
            &owner,
            &workspace,
            json!({
                "name": "Forward",
                "trigger": { "messageReceived": {} },
                "actions": [{ "webhook": { "url": receiver.url, "secret": secret } }]
            }),
        )
        .await?;
        incoming(&app, &owner, &workspace, &account, "Grace", "ping").await?;
        let executions = settled(&app, &owner, &workspace, Some(&automation), 1, Duration::from_secs(40)).await?;
        let execution = &executions[0];
        assert_eq!(execution["status"], "SUCCEEDED", "{execution:?}");
        assert_eq!(execution["steps"][0]["attempts"], 3);
        let received = receiver.received();
        assert_eq!(received.len(), 3, "two failures, then the delivery");
        assert_eq!(
            received.iter().map(|r| r.status).collect::<Vec<_>>(),
            vec![500, 500, 200]
        );
        assert!(
            received.iter().all(|r| r.delivery == received[0].delivery),
            "one delivery id across retries"
        );
        let delivered = &received[2];
        assert_eq!(delivered.event, "automation.execution");
        let now = SystemClock.now().timestamp();
        assert!(tgos_domain::webhooks::verify_signature(
            &delivered.signature,
            secret.as_bytes(),
            &delivered.body,
            now,
            300
        ));
        let body: Value = serde_json::from_slice(&delivered.body)?;
        assert_eq!(body["message"]["text"], "ping");
        assert_eq!(body["automation"]["id"], automation.as_str());
        assert!(!String::from_utf8_lossy(&delivered.body).contains(secret));
        Ok(())
    }
);

backend_tests!(a_webhook_to_a_private_address_is_refused_unless_configured, |app| {
    let (owner, workspace, _account, _user) = renting(&app, "irene").await?;
    let refused = app
        .gql(
            Some(&owner),
            CREATE,
            json!({ "w": workspace, "i": {
                "name": "Leak",
                "trigger": { "messageReceived": {} },
                "actions": [{ "webhook": { "url": "https://127.0.0.1/hook", "secret": "a-webhook-secret-of-some-length" } }]
            } }),
        )
        .await?;
    assert_eq!(refused.code().as_deref(), Some("BAD_USER_INPUT"), "{:?}", refused.body);
    assert_eq!(
        refused.errors()[0]["extensions"]["field"],
        "input.actions[0].webhook.url"
    );
    Ok(())
});

backend_tests!(
    a_schedule_queues_its_next_fire_once_and_the_upkeep_keeps_exactly_one,
    options = TestOptions {
        allow_private_webhooks: true,
        ..TestOptions::default()
    },
    |app| {
        let (owner, workspace, _account, _user) = renting(&app, "julia").await?;
        let receiver = FakeWebhookReceiver::start(0).await?;
        create(
            &app,
            &owner,
            &workspace,
            json!({
                "name": "Nightly report",
                "trigger": { "schedule": { "cron": "0 3 * * *", "timezone": "Europe/Berlin" } },
                "actions": [{ "webhook": { "url": receiver.url, "secret": "a-webhook-secret-of-some-length" } }]
            }),
        )
        .await?;
        let scheduled = || async {
            let db = app.db().await?;
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    "SELECT count(*), min(run_at) FROM jobs WHERE kind = 'automation.schedule' AND status = 'queued'",
                ))
                .await?
                .ok_or_else(|| anyhow::anyhow!("no count"))?;
            let count = row.try_get_by_index::<i64>(0)?;
            anyhow::Ok(count)
        };
        assert_eq!(scheduled().await?, 1, "creating it queued its next fire");
        // The upkeep (run at start and hourly) finds every enabled schedule across workspaces and queues
        // nothing twice; it prunes nothing that is not an old skipped execution.
        assert_eq!(app.automations.maintain().await?, 0);
        app.automations.maintain().await?;
        assert_eq!(scheduled().await?, 1);
        Ok(())
    }
);

const STATS_PAGE: &str = "query($w: ID!) { workspace(id: $w) { automations(first: 50) { nodes { id stats { runs succeeded skipped lastRunAt } } } automationExecutions(first: 50) { nodes { id automation { id name } } } } }";

/// The statements one read of the automations page with stats and executions with their automation's name
/// costs (a warm-up first, so cached credentials are the same for both counts), and its automations.
async fn statements_of_stats_page(app: &TestApp, owner: &str, workspace: &str) -> anyhow::Result<(u64, usize)> {
    app.gql(Some(owner), STATS_PAGE, json!({ "w": workspace })).await?;
    let before = app.sql_statements().await?;
    let page = app.gql(Some(owner), STATS_PAGE, json!({ "w": workspace })).await?;
    let statements = app.sql_statements().await? - before;
    anyhow::ensure!(page.is_ok(), "{:?}", page.body);
    let nodes = page
        .at("/data/workspace/automations/nodes")?
        .as_array()
        .map_or(0, Vec::len);
    Ok((statements, nodes))
}

backend_tests!(
    a_page_of_automations_with_stats_costs_the_same_statements_for_one_or_twenty,
    options = TestOptions::counting_statements(),
    |app| {
        let (owner, workspace, _account, _user) = renting(&app, "kira").await?;
        let manual = |name: String| {
            json!({
                "name": name,
                "trigger": { "manual": true },
                "actions": [{ "tagDialog": { "tag": "x" } }]
            })
        };
        create(&app, &owner, &workspace, manual("first".to_owned())).await?;
        let (one, nodes) = statements_of_stats_page(&app, &owner, &workspace).await?;
        assert_eq!(nodes, 1);
        for n in 0..19 {
            create(&app, &owner, &workspace, manual(format!("more {n}"))).await?;
        }
        let (twenty, nodes) = statements_of_stats_page(&app, &owner, &workspace).await?;
        assert_eq!(nodes, 20);
        assert_eq!(one, twenty, "stats are read in one batch, not once per automation");
        Ok(())
    }
);
