//! An account's health and counters as its workspace sees them, and operators' pauses and resumes.

use std::sync::Arc;

use serde_json::json;
use tgos_domain::ids::{AccountId, WorkspaceId};
use tgos_tests::backend_tests;

use super::*;

backend_tests!(
    a_held_account_shows_its_health_and_counters_and_no_report_is_lost,
    |app| {
        use tgos_domain::accounts::gateway::PeerKey;
        use tgos_domain::accounts::health::{CounterHolder, DailyCounters, HealthObservation, HealthSignal};

        let account = app.stock_pool(1, 500).await?[0].to_string();
        let (owner, workspace) = funded(&app, "olive", 10_000).await?;
        let rented = app
            .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
            .await?;
        assert!(rented.is_ok(), "{:?}", rented.body);
        let health = app.gql(Some(&owner), HEALTH, json!({ "w": workspace })).await?;
        let node = health.at("/data/workspace/accounts/edges/0/node")?;
        assert_eq!(node["health"]["state"], json!("ACTIVE"));
        assert_eq!(node["health"]["riskScore"], json!(0));
        assert_eq!(node["counters"], json!([]));

        // Eight workers report flood waits on the account at once: none of the reports is lost.
        let id: AccountId = account.parse()?;
        let holder: Option<WorkspaceId> = Some(workspace.parse()?);
        let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6);
        let mut reports = Vec::new();
        for minutes in 1..=8_u32 {
            let app = Arc::clone(&app);
            reports.push(tokio::spawn(async move {
                let signal = HealthSignal::FloodWait { seconds: minutes * 60 };
                app.accounts
                    .record_health(holder, id, HealthObservation::new(signal, now))
                    .await
            }));
        }
        for report in reports {
            report.await??;
        }
        let health = app.gql(Some(&owner), HEALTH, json!({ "w": workspace })).await?;
        let node = health.at("/data/workspace/accounts/edges/0/node/health")?;
        assert_eq!(node["state"], json!("COOLDOWN"));
        let until = chrono::DateTime::parse_from_rfc3339(node["cooldownUntil"].as_str().unwrap_or_default())?;
        assert_eq!(
            until.with_timezone(&chrono::Utc) - now,
            chrono::Duration::minutes(8),
            "the longest wait wins"
        );
        // Points 5 + minutes each, all eight of them, fading only slightly within the same quarter hour.
        let total: i64 = (1..=8).map(|m| 5 + m).sum();
        let risk = node["riskScore"].as_i64().unwrap_or_default();
        assert!(risk > 0 && risk <= total, "risk {risk} of at most {total}");
        let points: i64 = node["signals"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["points"].as_i64())
            .sum();
        assert_eq!(points, total, "every report reached the ledger");

        // A peer flood limits it; a success observed before the flood cannot clear it.
        app.accounts
            .record_health(holder, id, HealthObservation::new(HealthSignal::PeerFlood, now))
            .await?;
        app.accounts
            .record_health(
                holder,
                id,
                HealthObservation::new(HealthSignal::SendSucceeded, now - chrono::Duration::minutes(1)),
            )
            .await?;
        let health = app.gql(Some(&owner), HEALTH, json!({ "w": workspace })).await?;
        let node = health.at("/data/workspace/accounts/edges/0/node/health")?;
        assert_eq!(node["state"], json!("LIMITED"));
        assert_eq!(node["restrictions"], json!(["LIMITED", "COOLDOWN"]));

        // Counters add up across reports, with each peer counted once a day.
        let mut delta = DailyCounters::new(now.date_naive());
        delta.record_received(PeerKey::user(42)?);
        delta.record_sent(PeerKey::user(42)?, true);
        let holder = CounterHolder::Workspace(WorkspaceId::from_uuid(workspace.parse()?));
        app.store.bump_counters(id, holder, &delta).await?;
        app.store.bump_counters(id, holder, &delta).await?;
        // Activity while someone else held the account is theirs, not this workspace's.
        app.store
            .bump_counters(id, CounterHolder::Workspace(WorkspaceId::generate()), &delta)
            .await?;
        app.store.bump_counters(id, CounterHolder::Pool, &delta).await?;
        let health = app.gql(Some(&owner), HEALTH, json!({ "w": workspace })).await?;
        let counters = health.at("/data/workspace/accounts/edges/0/node/counters/0")?;
        assert_eq!(counters["messagesSent"], json!(2));
        assert_eq!(counters["messagesReceived"], json!(2));
        assert_eq!(counters["replies"], json!(2));
        assert_eq!(counters["distinctPeers"], json!(1));
        Ok(())
    }
);

const TWO_WORKSPACES: &str = "query($a: ID!, $b: ID!) { \
    alpha: workspace(id: $a) { accounts { edges { node { id health { riskScore signals { at points } } counters(days: 1) { messagesReceived } } } } } \
    beta: workspace(id: $b) { accounts { edges { node { id health { riskScore signals { at points } } counters(days: 1) { messagesReceived } } } } } }";

backend_tests!(
    health_read_for_many_accounts_at_once_keeps_each_workspace_to_its_own,
    |app| {
        use tgos_domain::accounts::gateway::PeerKey;
        use tgos_domain::accounts::health::{CounterHolder, DailyCounters, HealthObservation, HealthSignal};

        let pool = app.stock_pool(2, 500).await?;
        let (first, second) = (pool[0], pool[1]);
        let (owner, alpha) = funded(&app, "olive", 10_000).await?;
        let beta = app.create_workspace(&owner, "Second agency").await?;
        app.credit_wallet(&owner, &beta, 10_000).await?;
        let now = chrono::Utc::now();
        // Telegram made the first account wait an hour ago, before beta rented it.
        app.accounts
            .record_health(
                None,
                first,
                HealthObservation::new(
                    HealthSignal::FloodWait { seconds: 60 },
                    now - chrono::Duration::hours(1),
                ),
            )
            .await?;
        for (workspace, account) in [(&beta, first), (&alpha, second)] {
            let rented = app
                .gql(
                    Some(&owner),
                    RENT,
                    json!({ "w": workspace, "o": account.to_string(), "d": 1 }),
                )
                .await?;
            assert!(rented.is_ok(), "{:?}", rented.body);
        }
        app.accounts
            .record_health(
                Some(WorkspaceId::from_uuid(beta.parse()?)),
                first,
                HealthObservation::new(HealthSignal::FloodWait { seconds: 60 }, chrono::Utc::now()),
            )
            .await?;
        let mut day = DailyCounters::new(now.date_naive());
        day.record_received(PeerKey::user(42)?);
        for workspace in [&alpha, &beta] {
            let holder = CounterHolder::Workspace(WorkspaceId::from_uuid(workspace.parse()?));
            app.store.bump_counters(first, holder, &day).await?;
        }

        // One request reads both workspaces: each part of the batch is read under its own scope.
        let both = app
            .gql(Some(&owner), TWO_WORKSPACES, json!({ "a": alpha, "b": beta }))
            .await?;
        assert!(both.is_ok(), "{:?}", both.body);
        let alpha_accounts = both
            .at("/data/alpha/accounts/edges")?
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(alpha_accounts.len(), 1);
        let held_by_alpha = &alpha_accounts[0]["node"];
        assert_eq!(held_by_alpha["id"], json!(second.to_string()));
        assert_eq!(held_by_alpha["health"]["riskScore"], json!(0));
        assert_eq!(held_by_alpha["health"]["signals"], json!([]));
        assert_eq!(
            held_by_alpha["counters"],
            json!([]),
            "alpha's counts of an account it never held stay unseen"
        );

        let beta_accounts = both
            .at("/data/beta/accounts/edges")?
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(beta_accounts.len(), 1);
        let held_by_beta = &beta_accounts[0]["node"];
        assert_eq!(held_by_beta["id"], json!(first.to_string()));
        assert_eq!(
            held_by_beta["health"]["signals"].as_array().map(Vec::len),
            Some(1),
            "only what was observed since beta's lease began: {held_by_beta}"
        );
        let since_lease = held_by_beta["health"]["signals"][0]["points"]
            .as_i64()
            .unwrap_or_default();
        let risk = held_by_beta["health"]["riskScore"].as_i64().unwrap_or_default();
        assert!(
            risk > since_lease,
            "the risk still counts the earlier wait: {held_by_beta}"
        );
        assert_eq!(
            held_by_beta["counters"],
            json!([{ "messagesReceived": 1 }]),
            "beta's own counts only"
        );
        Ok(())
    }
);

backend_tests!(
    an_operator_pauses_and_resumes_an_account_but_no_resume_lifts_an_invalid_session,
    |app| {
        let account = app.stock_pool(1, 500).await?[0].to_string();
        let (owner, workspace) = funded(&app, "olive", 10_000).await?;
        app.gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
            .await?;
        let paused = app.gql(Some(&owner), PAUSE, json!({ "a": account })).await?;
        assert_eq!(
            paused.str_at("/data/pauseAccount/state")?,
            "PAUSED",
            "{:?}",
            paused.body
        );
        let resumed = app.gql(Some(&owner), RESUME, json!({ "a": account })).await?;
        assert_eq!(resumed.str_at("/data/resumeAccount/state")?, "ACTIVE");

        let (viewer, _) = app.join(&owner, &workspace, "victor", "VIEWER").await?;
        let as_viewer = app.gql(Some(&viewer), PAUSE, json!({ "a": account })).await?;
        assert_eq!(as_viewer.code().as_deref(), Some("FORBIDDEN"));
        let key = app
        .gql(
            Some(&owner),
            "mutation($w: ID!) { createApiKey(workspaceId: $w, name: \"bot\", scopes: [ACCOUNTS_WRITE]) { secret } }",
            json!({ "w": workspace }),
        )
        .await?
        .str_at("/data/createApiKey/secret")?;
        let as_key = app.gql(Some(&key), PAUSE, json!({ "a": account })).await?;
        assert_eq!(as_key.code().as_deref(), Some("FORBIDDEN"), "a pause names a person");

        // Telegram revoked the session: a resume cannot bring it back.
        app.gql(Some(&owner), INJECT, json!({ "a": account, "f": "SESSION_INVALID" }))
            .await?;
        let scope = app.scope_of(&owner, &workspace).await?;
        let record = app.accounts.held(&scope, account.parse()?).await?;
        assert!(app.connections.connect(&record).await.is_err());
        let after = app.gql(Some(&owner), RESUME, json!({ "a": account })).await?;
        assert_eq!(after.str_at("/data/resumeAccount/state")?, "SESSION_INVALID");

        let log = app
        .gql(
            Some(&owner),
            "query($w: ID!) { workspace(id: $w) { auditLog(first: 20, action: \"account.paused\") { edges { node { action targetId } } } } }",
            json!({ "w": workspace }),
        )
        .await?;
        assert_eq!(log.str_at("/data/workspace/auditLog/edges/0/node/targetId")?, account);
        Ok(())
    }
);

backend_tests!(pauses_and_resumes_of_one_account_are_bounded_per_minute, |app| {
    let account = app.stock_pool(1, 500).await?[0].to_string();
    let (owner, workspace) = funded(&app, "olive", 10_000).await?;
    app.gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
        .await?;
    for i in 0..30 {
        let action = if i % 2 == 0 { PAUSE } else { RESUME };
        let done = app.gql(Some(&owner), action, json!({ "a": account })).await?;
        assert!(done.is_ok(), "action {i}: {:?}", done.body);
    }
    let over = app.gql(Some(&owner), PAUSE, json!({ "a": account })).await?;
    assert_eq!(over.code().as_deref(), Some("RATE_LIMITED"));
    Ok(())
});
