//! The lawful requests register end to end, on both databases: a disclosure package holds exactly its scope
//! (the named user and workspace, the named categories, the rows of the period, nothing of a second user or
//! workspace), a registrar cannot approve their own registration, nothing is packaged before its approval or
//! delivered before its package, every step is audited on the platform chain, and the register's rows cannot
//! be changed or deleted, even by hand (`register_rows`).

mod register_rows;

use std::collections::BTreeSet;
use std::io::Read as _;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement, Value};
use sha2::{Digest as _, Sha256};
use tgos_domain::DomainError;
use tgos_domain::audit::ActorKind;
use tgos_domain::audit::ports::AuditRepository as _;
use tgos_domain::audit::verify::verify_chains;
use tgos_domain::clock::SystemClock;
use tgos_domain::compliance::lawful::{Category, LawfulRequests, NewLawfulRequest, Stage};
use tgos_domain::identity::Principal;
use tgos_domain::ids::{SessionId, UserId, WorkspaceId};
use tgos_domain::paging::PageRequest;
use tgos_domain::request::ClientInfo;
use tgos_persistence::ZipPackages;
use tgos_tests::{TestApp, backend_tests};

fn staff(name: &str) -> Principal {
    Principal::User {
        user_id: UserId::generate(),
        session_id: SessionId::generate(),
        acts_as_staff: true,
        display_name: name.to_owned(),
    }
}

fn console(agent: &str) -> ClientInfo {
    ClientInfo::new("192.0.2.7".parse().ok(), Some(agent))
}

fn register(app: &TestApp) -> anyhow::Result<LawfulRequests> {
    let files = ZipPackages::under(&app.data_dir.path().join("exports"))?;
    Ok(LawfulRequests::new(
        Arc::clone(&app.store),
        Arc::new(SystemClock),
        Arc::new(files),
    ))
}

async fn principal(app: &TestApp, token: &str) -> anyhow::Result<Principal> {
    Ok(app
        .identity
        .authenticate(token)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the session does not authenticate"))?
        .principal)
}

async fn user_id(app: &TestApp, token: &str) -> anyhow::Result<UserId> {
    principal(app, token)
        .await?
        .user_id()
        .ok_or_else(|| anyhow::anyhow!("not a person"))
}

/// Runs `sql` (placeholders `$1`, `$2`, …) on the test's database, behind the server's back.
async fn execute(app: &TestApp, sql: &str, values: Vec<Value>) -> anyhow::Result<()> {
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let sql = if backend == DatabaseBackend::Postgres {
        sql.to_owned()
    } else {
        sql.replace('$', "?")
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// A dialog of `workspace` with one message saying `text`, sent at `at`.
async fn seed_message(app: &TestApp, workspace: WorkspaceId, text: &str, at: DateTime<Utc>) -> anyhow::Result<()> {
    let (dialog, account) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    execute(
        app,
        "INSERT INTO inbox_dialogs (id, workspace_id, account_id, peer_key, title, unread_count, read_inbox_max_id, \
         top_message_id, updated_at) VALUES ($1, $2, $3, 42, $4, 0, 0, 0, $5)",
        vec![
            dialog.into(),
            workspace.as_uuid().into(),
            account.into(),
            format!("{text} dialog").into(),
            at.into(),
        ],
    )
    .await?;
    execute(
        app,
        "INSERT INTO inbox_messages (id, workspace_id, account_id, dialog_id, peer_key, sequence_key, telegram_id, \
         direction, text, sent_at, status, edit_history) VALUES ($1, $2, $3, $4, 42, 1, 1, 'in', $5, $6, 'received', \
         '[]')",
        vec![
            uuid::Uuid::now_v7().into(),
            workspace.as_uuid().into(),
            account.into(),
            dialog.into(),
            text.to_owned().into(),
            at.into(),
        ],
    )
    .await
}

/// A session of `user` signed in at `at` from `agent`.
async fn seed_session(app: &TestApp, user: UserId, agent: &str, at: DateTime<Utc>) -> anyhow::Result<()> {
    execute(
        app,
        "INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at, ip_address, user_agent) \
         VALUES ($1, $2, $3, $4, $4, $5, '198.51.100.9', $6)",
        vec![
            uuid::Uuid::now_v7().into(),
            user.as_uuid().into(),
            uuid::Uuid::now_v7().as_bytes().to_vec().into(),
            at.into(),
            (at + Duration::days(30)).into(),
            agent.to_owned().into(),
        ],
    )
    .await
}

fn registration(users: Vec<UserId>, workspaces: Vec<WorkspaceId>, categories: Vec<Category>) -> NewLawfulRequest {
    let now = Utc::now();
    NewLawfulRequest {
        authority: "Regional Court".to_owned(),
        reference: format!("RC-{}", uuid::Uuid::now_v7()),
        legal_basis: "Production order under §100 of the code of criminal procedure".to_owned(),
        received_on: now.date_naive(),
        due_on: now.date_naive() + Duration::days(14),
        users,
        workspaces,
        categories,
        period_from: now - Duration::hours(1),
        period_to: now + Duration::hours(1),
        notes: None,
    }
}

/// Every entry of the package, by name, as text.
fn entries(path: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path)?)?;
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index)?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        entries.push((file.name()?.to_string(), text));
    }
    Ok(entries)
}

fn conflict<T: std::fmt::Debug>(outcome: &Result<T, DomainError>) -> bool {
    matches!(outcome, Err(DomainError::Conflict { .. }))
}

backend_tests!(a_package_holds_exactly_its_scope_and_every_step_is_audited, |app| {
    let lawful = register(&app)?;
    let (registrar, approver) = (staff("registrar"), staff("approver"));
    let ada_token = app.sign_up("ada").await?;
    let bob_token = app.sign_up("bob").await?;
    let (ada, bob) = (user_id(&app, &ada_token).await?, user_id(&app, &bob_token).await?);
    let scoped = app.create_workspace(&ada_token, "Scoped").await?;
    let other = app.create_workspace(&bob_token, "Bystander").await?;
    app.credit_wallet(&ada_token, &scoped, 1_000).await?;
    app.credit_wallet(&bob_token, &other, 2_000).await?;
    let scoped = WorkspaceId::from_uuid(scoped.parse()?);
    let other = WorkspaceId::from_uuid(other.parse()?);
    let now = Utc::now();
    seed_message(&app, scoped, "in-period scoped message", now).await?;
    seed_message(&app, scoped, "long-ago scoped message", now - Duration::days(30)).await?;
    seed_message(&app, other, "bystander message", now).await?;
    seed_session(&app, ada, "long-ago-agent", now - Duration::days(30)).await?;
    seed_session(&app, bob, "bystander-agent", now).await?;

    let categories = vec![
        Category::Profile,
        Category::Sessions,
        Category::Audit,
        Category::Billing,
        Category::Messages,
    ];
    let request = registration(vec![ada], vec![scoped], categories);
    let refused = lawful
        .register(&principal(&app, &ada_token).await?, &console("ada"), request.clone())
        .await;
    assert!(matches!(refused, Err(DomainError::Forbidden(_))), "{refused:?}");
    let registered = lawful.register(&registrar, &console("desk/1"), request).await?;
    assert_eq!(registered.stage(), Stage::Registered);

    let own = lawful.approve(&registrar, &console("desk/1"), registered.id).await;
    assert!(matches!(own, Err(DomainError::Forbidden(_))), "{own:?}");
    assert!(conflict(
        &lawful
            .build_package(&registrar, &console("desk/1"), registered.id)
            .await
    ));
    assert!(conflict(
        &lawful
            .mark_delivered(&registrar, &console("desk/1"), registered.id, None)
            .await
    ));
    let approved = lawful.approve(&approver, &console("desk/2"), registered.id).await?;
    assert_eq!(approved.stage(), Stage::Approved);

    let packaged = lawful
        .build_package(&registrar, &console("desk/1"), registered.id)
        .await?;
    let package = packaged.package.clone().ok_or_else(|| anyhow::anyhow!("no package"))?;
    let path = lawful
        .package_path(&packaged)
        .ok_or_else(|| anyhow::anyhow!("no path"))?;
    let bytes = std::fs::read(&path)?;
    assert_eq!(package.bytes, bytes.len() as u64);
    assert_eq!(package.sha256, hex::encode(Sha256::digest(&bytes)));
    assert!(
        path.starts_with(app.data_dir.path().join("exports").join("lawful")),
        "{path:?}"
    );

    let files = entries(&path)?;
    let names: BTreeSet<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    let mut expected: BTreeSet<String> = ["profile.json", "sessions.json", "audit.json"]
        .iter()
        .map(|f| format!("users/{ada}/{f}"))
        .collect();
    expected.extend(
        [
            "workspace.json",
            "audit.json",
            "ledger_transactions.json",
            "ledger_postings.json",
            "top_ups.json",
            "dialogs.json",
            "messages.json",
        ]
        .iter()
        .map(|f| format!("workspaces/{scoped}/{f}")),
    );
    expected.insert("manifest.json".to_owned());
    assert_eq!(
        names,
        expected.iter().map(String::as_str).collect(),
        "only the named categories' files"
    );

    let everything: String = files.iter().map(|(_, text)| text.as_str()).collect();
    for absent in [
        bob.to_string(),
        "bob@example.com".to_owned(),
        other.to_string(),
        "Bystander".to_owned(),
        "bystander message".to_owned(),
        "bystander-agent".to_owned(),
        "long-ago scoped message".to_owned(),
        "long-ago-agent".to_owned(),
        "password".to_owned(),
    ] {
        assert!(!everything.contains(&absent), "the package holds {absent:?}");
    }
    for present in [
        "ada@example.com",
        "Scoped",
        "in-period scoped message",
        "workspace.created",
    ] {
        assert!(everything.contains(present), "the package lacks {present:?}");
    }
    let text_of = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    let messages: serde_json::Value = serde_json::from_str(&text_of(&format!("workspaces/{scoped}/messages.json")))?;
    assert_eq!(messages.as_array().map(Vec::len), Some(1), "{messages}");
    let ledger: serde_json::Value =
        serde_json::from_str(&text_of(&format!("workspaces/{scoped}/ledger_transactions.json")))?;
    assert_eq!(ledger.as_array().map(Vec::len), Some(1), "{ledger}");

    let manifest: serde_json::Value = serde_json::from_str(&text_of("manifest.json"))?;
    assert_eq!(manifest["request"]["reference"], registered.reference.as_str());
    assert_eq!(manifest["scope"]["users"], serde_json::json!([ada]));
    assert_eq!(manifest["scope"]["workspaces"], serde_json::json!([scoped]));
    let listed = manifest["files"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), files.len() - 1, "every file but the manifest is listed");
    for file in listed {
        let name = file["name"].as_str().unwrap_or_default();
        assert_eq!(
            file["sha256"].as_str(),
            Some(hex::encode(Sha256::digest(text_of(name).as_bytes())).as_str()),
            "{name}"
        );
    }

    assert!(conflict(
        &lawful.build_package(&approver, &console("desk/2"), registered.id).await
    ));
    let delivered = lawful
        .mark_delivered(&approver, &console("desk/2"), registered.id, Some("registered post"))
        .await?;
    assert_eq!(delivered.stage(), Stage::Delivered);
    assert!(conflict(
        &lawful
            .mark_delivered(&approver, &console("desk/2"), registered.id, None)
            .await
    ));
    assert_eq!(lawful.get(&approver, registered.id).await?, delivered);
    let listed = lawful.list(&registrar, PageRequest::first(10)).await?;
    assert_eq!(listed.items, vec![delivered.clone()]);

    let store = app.console_store().await?;
    let (entries, _) = store.chain_entries("platform").await?;
    let steps: Vec<_> = entries.iter().filter(|e| e.action.starts_with("lawful.")).collect();
    let actions: Vec<_> = steps.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "lawful.registered",
            "lawful.approved",
            "lawful.packaged",
            "lawful.delivered"
        ],
        "each step once, refusals none"
    );
    let actors = [&registrar, &approver, &registrar, &approver];
    for (entry, actor) in steps.iter().zip(actors) {
        assert_eq!(entry.actor.kind, ActorKind::Staff);
        assert_eq!(entry.actor.id, actor.user_id().map(|id| id.to_string()));
        assert_eq!(entry.target_id.as_deref(), Some(registered.id.to_string().as_str()));
        assert_eq!(entry.ip_address.as_deref(), Some("192.0.2.7"));
        assert!(entry.user_agent.as_deref().is_some_and(|ua| ua.starts_with("desk/")));
    }
    assert!(steps[2].metadata.contains(&package.sha256), "{}", steps[2].metadata);
    let reports = verify_chains(&store, None).await?;
    assert!(reports.iter().all(|r| r.verdict.is_ok()), "{reports:?}");
    Ok(())
});
