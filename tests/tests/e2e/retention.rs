//! Retention as code on the real store: every table and column of a freshly migrated database is in exactly
//! one class; the sweep deletes expired sessions, challenges, idle throttles and ended invitations, nulls old
//! telemetry, deletes the inbox of a lease ended 30 days ago and keeps everything still live, in bounded
//! batches; it audits one summary on the platform chain (and nothing when nothing went) and the chains still
//! verify; the report changes nothing; the hourly job is enqueued once per hour and runs the sweep.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait as _, DatabaseBackend, DatabaseConnection, Statement, Value};
use serde_json::json;
use tgos_domain::audit::verify::verify_chains;
use tgos_domain::ids::AccountId;
use tgos_domain::jobs::JobWorker;
use tgos_domain::retention::{
    CLASSES, Purge, RetentionJobs, RetentionService, RetentionWindows, coverage, enqueue_hourly,
};
use tgos_tests::clock::ManualClock;
use tgos_tests::{TestApp, TestOptions, backend_tests};

use super::accounts::{CONTACT_SEND, RELEASE, RENT, funded};

fn quiet() -> TestOptions {
    // No background sweep racing the test's own (the server's job loop would run the hourly one).
    TestOptions {
        workers: false,
        ..TestOptions::default()
    }
}

/// `$n` placeholders as the backend spells them.
fn stmt(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = if backend == DatabaseBackend::Postgres {
        sql.to_owned()
    } else {
        sql.replace('$', "?")
    };
    Statement::from_sql_and_values(backend, sql, values)
}

async fn exec(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> anyhow::Result<u64> {
    Ok(db.execute_raw(stmt(db, sql, values)).await?.rows_affected())
}

async fn count(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(stmt(db, sql, values))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row"))?;
    Ok(row.try_get_by_index(0)?)
}

/// The live schema: table → columns (sea-orm's own bookkeeping table left out).
async fn live_schema(db: &DatabaseConnection) -> anyhow::Result<BTreeMap<String, BTreeSet<String>>> {
    let mut schema: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if db.get_database_backend() == DatabaseBackend::Postgres {
        let rows = db
            .query_all_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = \
                 'public' AND table_name <> 'seaql_migrations'",
            ))
            .await?;
        for row in rows {
            let table: String = row.try_get_by_index(0)?;
            let column: String = row.try_get_by_index(1)?;
            schema.entry(table).or_default().insert(column);
        }
    } else {
        let tables = db
            .query_all_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> \
                 'seaql_migrations'",
            ))
            .await?;
        for table in tables {
            let table: String = table.try_get_by_index(0)?;
            let columns = db
                .query_all_raw(Statement::from_string(
                    DatabaseBackend::Sqlite,
                    format!("SELECT name FROM pragma_table_info('{table}')"),
                ))
                .await?;
            let entry = schema.entry(table).or_default();
            for column in columns {
                entry.insert(column.try_get_by_index(0)?);
            }
        }
    }
    Ok(schema)
}

backend_tests!(
    every_table_and_column_is_in_exactly_one_retention_class,
    options = quiet(),
    |app| {
        let db = app.db().await?;
        let schema = live_schema(&db).await?;
        assert!(
            schema.contains_key("sessions") && schema.contains_key("inbox_messages"),
            "{schema:?}"
        );
        let problems = coverage::problems(CLASSES, &schema);
        assert!(
            problems.is_empty(),
            "the retention table and the schema disagree:\n{}",
            problems.join("\n")
        );
        Ok(())
    }
);

fn service(app: &TestApp, clock: Arc<ManualClock>) -> RetentionService {
    RetentionService::new(Arc::clone(&app.store), clock, RetentionWindows::default())
}

async fn audit_entries(db: &DatabaseConnection, action: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT metadata, chain, actor_kind FROM audit_log WHERE action = $1 ORDER BY sequence",
            vec![action.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let metadata: String = row.try_get_by_index(0)?;
            let chain: String = row.try_get_by_index(1)?;
            let actor: String = row.try_get_by_index(2)?;
            Ok(json!({ "metadata": serde_json::from_str::<serde_json::Value>(&metadata)?, "chain": chain, "actor": actor }))
        })
        .collect()
}

async fn chains_verify(app: &TestApp) -> anyhow::Result<()> {
    let console = app.console_store().await?;
    let reports = verify_chains(&console, None).await?;
    for report in &reports {
        assert!(report.verdict.is_ok(), "{}: {:?}", report.chain, report.verdict);
    }
    Ok(())
}

const ME: &str = "query { me { user { username } } }";

async fn set_session(db: &DatabaseConnection, username: &str, column: &str, at: DateTime<Utc>) -> anyhow::Result<()> {
    let changed = exec(
        db,
        &format!("UPDATE sessions SET {column} = $1 WHERE user_id = (SELECT id FROM users WHERE username = $2)"),
        vec![at.into(), username.into()],
    )
    .await?;
    anyhow::ensure!(changed == 1, "{username} has {changed} sessions");
    Ok(())
}

backend_tests!(
    the_sweep_deletes_what_expired_nulls_old_telemetry_keeps_the_live_and_audits_one_summary,
    options = quiet(),
    |app| {
        let db = app.db().await?;
        let now = Utc::now();
        let clock = ManualClock::starting_at(now);
        let old = now - Duration::days(8);

        // Sessions: three expired a week and a day ago (one revoked instead), one last seen 100 days ago but
        // live, one fresh.
        let fresh = app.sign_up("fresh").await?;
        app.sign_up("longtime").await?;
        for name in ["gone1", "gone2", "gone3"] {
            app.sign_up(name).await?;
        }
        set_session(&db, "gone1", "expires_at", old).await?;
        set_session(&db, "gone2", "expires_at", old).await?;
        set_session(&db, "gone3", "revoked_at", old).await?;
        set_session(&db, "longtime", "created_at", now - Duration::days(100)).await?;
        set_session(&db, "longtime", "last_seen_at", now - Duration::days(100)).await?;
        exec(
            &db,
            "UPDATE sessions SET ip_address = '203.0.113.7', user_agent = 'Old Browser' WHERE ip_address IS NULL \
             OR user_agent IS NULL",
            vec![],
        )
        .await?;

        // A challenge expired a week and a day ago, one still valid.
        for (hash, expires) in [(vec![1_u8; 32], old), (vec![2_u8; 32], now + Duration::minutes(5))] {
            exec(
                &db,
                "INSERT INTO sign_in_challenges (token_hash, user_id, created_at, expires_at) SELECT $1, id, $2, $3 \
                 FROM users WHERE username = 'fresh'",
                vec![hash.into(), (expires - Duration::minutes(5)).into(), expires.into()],
            )
            .await?;
        }

        // Throttles: a failed sign-in aged past the window, then another that is fresh.
        let _refused = app.sign_in("nobody-old", "wrong password 1").await?;
        exec(&db, "UPDATE auth_throttles SET updated_at = $1", vec![old.into()]).await?;
        let _refused = app.sign_in("nobody-new", "wrong password 2").await?;
        let fresh_throttles = count(
            &db,
            "SELECT COUNT(*) FROM auth_throttles WHERE updated_at > $1",
            vec![old.into()],
        )
        .await?;
        assert!(fresh_throttles >= 1);

        // Invitations: one expired a week and a day ago, one pending.
        let workspace = app.create_workspace(&fresh, "Kept").await?;
        let invite = "mutation($w: ID!, $e: String!) { inviteMember(workspaceId: $w, email: $e, role: VIEWER) { id } }";
        for email in ["late@example.com", "soon@example.com"] {
            let invited = app
                .gql(Some(&fresh), invite, json!({ "w": workspace, "e": email }))
                .await?;
            assert!(invited.is_ok(), "{:?}", invited.body);
        }
        exec(
            &db,
            "UPDATE invitations SET expires_at = $1 WHERE email = 'late@example.com'",
            vec![old.into()],
        )
        .await?;

        // The report says what would go and changes nothing.
        let retention = service(&app, clock.clone());
        let sessions_before = count(&db, "SELECT COUNT(*) FROM sessions", vec![]).await?;
        let report = retention.report().await?;
        assert_eq!(report.rows_of("expired_sessions"), Some(3));
        assert_eq!(
            report.rows_of("session_telemetry"),
            Some(1),
            "only the session last seen 100 days ago"
        );
        assert_eq!(report.rows_of("expired_challenges"), Some(1));
        assert_eq!(report.rows_of("ended_invitations"), Some(1));
        assert!(report.rows_of("stale_throttles").is_some_and(|n| n >= 1));
        assert_eq!(report.rows_of("billing"), Some(0));
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM sessions", vec![]).await?,
            sessions_before
        );
        assert!(
            audit_entries(&db, "retention.swept").await?.is_empty(),
            "a report audits nothing"
        );

        // One batch changes at most its limit.
        let cutoff = retention
            .windows()
            .cutoff(tgos_domain::retention::Window::ExpiredCredentials, now);
        assert_eq!(app.store.purge_batch(Purge::ExpiredSessions, cutoff, now, 2).await?, 2);

        let swept = service(&app, clock.clone()).with_batch(1).sweep().await?;
        assert_eq!(
            swept.rows_of("expired_sessions"),
            Some(1),
            "the one the batch above left"
        );
        assert_eq!(swept.rows_of("session_telemetry"), Some(1));
        assert_eq!(swept.rows_of("expired_challenges"), Some(1));
        assert_eq!(swept.rows_of("ended_invitations"), Some(1));
        assert!(
            swept.batches > swept.acted_rows(),
            "with a batch of 1, each row is a statement of its own plus one empty batch per class: {swept:?}"
        );

        // What expired is gone; what lives stays.
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username LIKE 'gone%'",
                vec![]
            )
            .await?,
            0
        );
        let me = app.gql(Some(&fresh), ME, json!({})).await?;
        assert!(me.is_ok(), "a live session still signs in: {:?}", me.body);
        // The session idle for 100 days no longer signs in (the idle timeout), but the sweep only nulled its
        // telemetry: its row goes when it expires.
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'longtime' AND s.ip_address IS NULL AND s.user_agent IS NULL", vec![]).await?,
            1,
            "old telemetry is nulled"
        );
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'fresh' AND s.ip_address IS NOT NULL", vec![]).await?,
            1,
            "recent telemetry stays"
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM sign_in_challenges", vec![]).await?, 1);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM auth_throttles WHERE updated_at <= $1",
                vec![old.into()]
            )
            .await?,
            0
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM auth_throttles WHERE updated_at > $1",
                vec![old.into()]
            )
            .await?,
            fresh_throttles
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM invitations WHERE email = 'soon@example.com'",
                vec![]
            )
            .await?,
            1
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM invitations", vec![]).await?, 1);

        // One summary on the platform chain, as the system; a sweep with nothing to do audits nothing.
        let entries = audit_entries(&db, "retention.swept").await?;
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0]["chain"], "platform");
        assert_eq!(entries[0]["actor"], "SYSTEM");
        assert_eq!(entries[0]["metadata"]["rows"]["expired_sessions"], 1);
        assert_eq!(entries[0]["metadata"]["rows"]["session_telemetry"], 1);
        assert_eq!(entries[0]["metadata"]["total"], swept.acted_rows());
        let again = service(&app, clock).sweep().await?;
        assert_eq!(again.acted_rows(), 0);
        assert_eq!(audit_entries(&db, "retention.swept").await?.len(), 1);
        chains_verify(&app).await?;
        Ok(())
    }
);

backend_tests!(
    inbox_data_goes_30_days_after_its_lease_ended_and_an_active_leases_stays,
    options = quiet(),
    |app| {
        let db = app.db().await?;
        let accounts = app.stock_pool(2, 500).await?;
        let (owner, workspace) = funded(&app, "olive", 10_000).await?;
        let scope = app.scope_of(&owner, &workspace).await?;
        let mut leases = Vec::new();
        for account in &accounts {
            let rented = app
                .gql(
                    Some(&owner),
                    RENT,
                    json!({ "w": workspace, "o": account.to_string(), "d": 1 }),
                )
                .await?;
            assert!(rented.is_ok(), "{:?}", rented.body);
            leases.push(rented.str_at("/data/rentAccount/id")?);
            let sent = app
                .gql(
                    Some(&owner),
                    CONTACT_SEND,
                    json!({ "a": account.to_string(), "c": "Ada", "t": "hello" }),
                )
                .await?;
            assert!(sent.is_ok(), "{:?}", sent.body);
            let record = app.accounts.held(&scope, *account).await?;
            app.inbox.sync_account(&scope, &record).await?;
        }
        let messages_of = async |account: AccountId| {
            count(
                &db,
                "SELECT COUNT(*) FROM inbox_messages WHERE account_id = $1",
                vec![account.as_uuid().into()],
            )
            .await
        };
        assert_eq!(messages_of(accounts[0]).await?, 1);
        assert_eq!(messages_of(accounts[1]).await?, 1);
        let released = app.gql(Some(&owner), RELEASE, json!({ "l": leases[0] })).await?;
        assert!(released.is_ok(), "{:?}", released.body);

        // Ten days after the release the data stays.
        let clock = ManualClock::starting_at(Utc::now() + Duration::days(10));
        let early = service(&app, clock.clone()).sweep().await?;
        assert_eq!(early.rows_of("inbox_of_ended_leases"), Some(0));
        assert_eq!(messages_of(accounts[0]).await?, 1);

        // Thirty-one days after, the ended lease's dialogs, messages and sync state go; the active lease's stay.
        clock.set(Utc::now() + Duration::days(31));
        let late = service(&app, clock).sweep().await?;
        assert_eq!(
            late.rows_of("inbox_of_ended_leases"),
            Some(3),
            "one message, one dialog and one sync state: {late:?}"
        );
        assert_eq!(messages_of(accounts[0]).await?, 0);
        for table in ["inbox_dialogs", "inbox_sync"] {
            assert_eq!(
                count(
                    &db,
                    &format!("SELECT COUNT(*) FROM {table} WHERE account_id = $1"),
                    vec![accounts[0].as_uuid().into()]
                )
                .await?,
                0,
                "{table}"
            );
            assert_eq!(
                count(
                    &db,
                    &format!("SELECT COUNT(*) FROM {table} WHERE account_id = $1"),
                    vec![accounts[1].as_uuid().into()]
                )
                .await?,
                1,
                "{table} of the active lease"
            );
        }
        assert_eq!(messages_of(accounts[1]).await?, 1);
        chains_verify(&app).await?;
        Ok(())
    }
);

backend_tests!(
    the_hourly_sweep_is_one_job_per_hour_and_runs_the_sweep,
    options = quiet(),
    |app| {
        let db = app.db().await?;
        let now = Utc::now();
        app.sign_up("expiring").await?;
        set_session(&db, "expiring", "expires_at", now - Duration::days(8)).await?;
        assert!(
            enqueue_hourly(&*app.store, now).await?,
            "the first server enqueues the hour's sweep"
        );
        assert!(
            !enqueue_hourly(&*app.store, now).await?,
            "a second server finds it enqueued"
        );
        let clock = ManualClock::starting_at(now + Duration::minutes(1));
        let worker = JobWorker::new(Arc::clone(&app.store), clock.clone(), "retention-test")
            .with_handler(Arc::new(RetentionJobs::new(service(&app, clock))));
        assert_eq!(worker.run_once().await?, 1);
        assert_eq!(worker.run_once().await?, 0, "one sweep per hour");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM sessions", vec![]).await?, 0);
        assert_eq!(audit_entries(&db, "retention.swept").await?.len(), 1);
        Ok(())
    }
);

backend_tests!(
    finished_executions_go_after_their_window_and_queued_or_skipped_ones_are_left_to_their_owners,
    options = quiet(),
    |app| {
        let db = app.db().await?;
        let owner = app.sign_up("auto").await?;
        let workspace: uuid::Uuid = app.create_workspace(&owner, "Auto").await?.parse()?;
        let now = Utc::now();
        let old = now - Duration::days(91);
        let recent = now - Duration::days(10);
        for (status, finished) in [
            ("SUCCEEDED", Some(old)),
            ("FAILED", Some(old)),
            ("SUCCEEDED", Some(recent)),
            ("SKIPPED", Some(old)),
            ("QUEUED", None),
        ] {
            exec(
                &db,
                "INSERT INTO automation_executions (id, workspace_id, automation_id, automation_version, status, \
                 trigger_key, context, steps, created_at, finished_at) VALUES ($1, $2, $3, 1, $4, $5, '{}', '[]', $6, $7)",
                vec![
                    uuid::Uuid::now_v7().into(),
                    workspace.into(),
                    uuid::Uuid::now_v7().into(),
                    status.into(),
                    format!("manual:{}", uuid::Uuid::now_v7()).into(),
                    old.into(),
                    finished.into(),
                ],
            )
            .await?;
        }
        for (key, at) in [("old", old), ("recent", recent)] {
            exec(
                &db,
                "INSERT INTO automation_sends (workspace_id, origin_key, message_id, account_id, sent_at) VALUES \
                 ($1, $2, $3, $4, $5)",
                vec![
                    workspace.into(),
                    key.into(),
                    uuid::Uuid::now_v7().into(),
                    uuid::Uuid::now_v7().into(),
                    at.into(),
                ],
            )
            .await?;
        }
        let swept = service(&app, ManualClock::starting_at(now)).sweep().await?;
        assert_eq!(
            swept.rows_of("automation_executions"),
            Some(3),
            "two finished executions and one send key past 90 days: {swept:?}"
        );
        let left = db
            .query_all_raw(stmt(
                &db,
                "SELECT status FROM automation_executions ORDER BY status",
                vec![],
            ))
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<String>(0))
            .collect::<Result<Vec<_>, _>>()?;
        assert_eq!(
            left,
            vec!["QUEUED", "SKIPPED", "SUCCEEDED"],
            "the recent, the queued and the skipped stay"
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM automation_sends WHERE origin_key = 'recent'",
                vec![]
            )
            .await?,
            1
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM automation_sends", vec![]).await?, 1);
        Ok(())
    }
);
