//! `deleteWorkspace`: the owner alone, freshly re-authenticated; members, keys and leases lose the workspace
//! at once; 30 days later (an injected clock) the erasure job leaves no row of it in any tenant table, its
//! audit chain is gone while every other chain verifies, its data key is destroyed, and its billing stays.

use std::sync::Arc;

use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement, Value};
use serde_json::json;
use tgos_domain::audit::Actor;
use tgos_domain::audit::verify::verify_chains;
use tgos_domain::clock::Clock as _;
use tgos_domain::erasure::{WorkspaceErasureJob, close_workspace, reopen_workspace};
use tgos_domain::ids::WorkspaceId;
use tgos_domain::jobs::JobWorker;
use tgos_domain::request::ClientInfo;
use tgos_domain::vault::{KeyOwner, Purpose, SecretPayload, VaultError};
use tgos_tests::clock::ManualClock;
use tgos_tests::{TestApp, backend_tests};

const DELETE: &str = "mutation($w: ID!) { deleteWorkspace(workspaceId: $w) }";
const WORKSPACE: &str = "query($w: ID!) { workspace(id: $w) { id name } }";
const MINE: &str = "{ me { workspaces { id } } }";
const OFFERS: &str = "{ accountOffers(first: 50) { nodes { id } } }";
/// Tables that keep a workspace's rows after its erasure: billing, 7 years (they have no foreign key to it).
const BILLING: &[&str] = &[
    "wallet_balances",
    "ledger_transactions",
    "ledger_postings",
    "top_ups",
    "payment_references",
    "payment_discrepancies",
];

/// A job worker running the erasure on a clock the test moves, over the server's store and services.
fn erasure_on(app: &TestApp, clock: Arc<ManualClock>) -> (WorkspaceErasureJob, JobWorker) {
    let erasure = app.erasure_on(clock.clone());
    let job = WorkspaceErasureJob::new(erasure);
    let worker = JobWorker::new(Arc::clone(&app.store), clock, "erasure").with_handler(Arc::new(job.clone()));
    (job, worker)
}

/// Every (table, column) of the schema that names a workspace: `workspace_id` and the counters' `holder`.
async fn workspace_columns(app: &TestApp) -> anyhow::Result<Vec<(String, String)>> {
    let db = app.db().await?;
    let sql = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            "SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = \
             current_schema() AND column_name IN ('workspace_id', 'holder') AND data_type = 'uuid' ORDER BY 1"
        }
        _ => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE \
             m.type = 'table' AND p.name IN ('workspace_id', 'holder') ORDER BY 1"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get::<String>("", "t")?, row.try_get::<String>("", "c")?)))
        .collect()
}

async fn count(app: &TestApp, sql: &str, value: Value) -> anyhow::Result<i64> {
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => sql.replace('?', "$1"),
        _ => sql.to_owned(),
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [value]))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count"))?;
    Ok(row.try_get::<i64>("", "n")?)
}

/// Rows naming `workspace` per table, for every table that names one.
async fn rows_of(app: &TestApp, workspace: WorkspaceId) -> anyhow::Result<Vec<(String, i64)>> {
    let mut found = Vec::new();
    for (table, column) in workspace_columns(app).await? {
        let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} = ?");
        let n = count(app, &sql, workspace.as_uuid().into()).await?;
        if n > 0 {
            found.push((table, n));
        }
    }
    Ok(found)
}

backend_tests!(deleting_a_workspace_takes_its_owner_freshly_reauthenticated, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "Keep").await?;
    let (admin, _) = app.join(&owner, &workspace, "adam", "ADMIN").await?;

    let stale = app.gql(Some(&owner), DELETE, json!({ "w": workspace })).await?;
    assert_eq!(
        stale.code().as_deref(),
        Some("REAUTHENTICATION_REQUIRED"),
        "{}",
        stale.body
    );

    app.reauthenticate(&admin, None).await?;
    let by_admin = app.gql(Some(&admin), DELETE, json!({ "w": workspace })).await?;
    assert_eq!(by_admin.code().as_deref(), Some("FORBIDDEN"), "{}", by_admin.body);

    // Refused twice, nothing closed.
    let still = app.gql(Some(&admin), WORKSPACE, json!({ "w": workspace })).await?;
    assert_eq!(still.str_at("/data/workspace/id")?, workspace);
    Ok(())
});

backend_tests!(
    a_deleted_workspace_closes_at_once_and_is_erased_thirty_days_later,
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Doomed").await?;
        let other = app.create_workspace(&owner, "Stays").await?;
        let id = WorkspaceId::from_uuid(workspace.parse()?);
        let (member, _) = app.join(&owner, &workspace, "viv", "VIEWER").await?;
        let key = app.create_audit_key(&owner, &workspace).await?;
        assert!(app.gql(Some(&key), WORKSPACE, json!({ "w": workspace })).await?.is_ok());
        let account = app.stock_pool(1, 100).await?[0];
        app.credit_wallet(&owner, &workspace, 10_000).await?;
        let rented = app
            .gql(
                Some(&owner),
                "mutation($w: ID!, $o: ID!) { rentAccount(workspaceId: $w, offerId: $o, days: 3) { id } }",
                json!({ "w": workspace, "o": account.to_string() }),
            )
            .await?;
        assert!(rented.is_ok(), "{}", rented.body);
        let invited = app
            .gql(
                Some(&owner),
                "mutation($w: ID!) { inviteMember(workspaceId: $w, email: \"late@example.com\", role: VIEWER) { id } }",
                json!({ "w": workspace }),
            )
            .await?;
        assert!(invited.is_ok(), "{}", invited.body);
        let invitation = app.invitation_token_for("late@example.com")?;
        let sealed = app
            .vault
            .seal(
                KeyOwner::Workspace(id),
                account,
                Purpose::TelegramSession,
                &SecretPayload::new(vec![7; 32]),
            )
            .await?;

        app.reauthenticate(&owner, None).await?;
        let deleted = app.gql(Some(&owner), DELETE, json!({ "w": workspace })).await?;
        assert_eq!(deleted.at("/data/deleteWorkspace")?, &json!(true), "{}", deleted.body);

        // At once: refused to every member as to a non-member, listed nowhere, its key refused, its lease ended.
        for token in [&owner, &member] {
            let refused = app.gql(Some(token), WORKSPACE, json!({ "w": workspace })).await?;
            assert_eq!(refused.code().as_deref(), Some("FORBIDDEN"), "{}", refused.body);
        }
        let mine = app.gql(Some(&owner), MINE, json!({})).await?;
        assert_eq!(mine.at("/data/me/workspaces")?, &json!([{ "id": other }]));
        let by_key = app.gql(Some(&key), WORKSPACE, json!({ "w": workspace })).await?;
        assert_eq!(by_key.code().as_deref(), Some("UNAUTHENTICATED"), "{}", by_key.body);
        let offers = app.gql(Some(&owner), OFFERS, json!({})).await?;
        assert!(
            offers.body.to_string().contains(&account.to_string()),
            "the leased account is back on offer: {}",
            offers.body
        );
        let late = app.sign_up("late").await?;
        let accepted = app
            .gql(
                Some(&late),
                "mutation($t: String!) { acceptInvitation(token: $t) { id } }",
                json!({ "t": invitation }),
            )
            .await?;
        assert_eq!(accepted.code().as_deref(), Some("BAD_USER_INPUT"), "{}", accepted.body);
        let again = app.gql(Some(&owner), DELETE, json!({ "w": workspace })).await?;
        assert_eq!(again.code().as_deref(), Some("FORBIDDEN"));

        // Not yet due: a worker 29 days on leaves it alone.
        let clock = ManualClock::starting_now();
        let (job, worker) = erasure_on(&app, clock.clone());
        clock.advance(chrono::Duration::days(29));
        assert_eq!(worker.run_once().await?, 0);
        assert!(!rows_of(&app, id).await?.is_empty());

        clock.advance(chrono::Duration::days(2));
        assert_eq!(worker.run_once().await?, 1, "the erasure job ran");

        let left = rows_of(&app, id).await?;
        for (table, rows) in &left {
            assert!(
                BILLING.contains(&table.as_str()) || (table == "jobs" && *rows == 1),
                "{table} still holds {rows} rows of the erased workspace (left: {left:?})"
            );
        }
        assert!(
            left.iter().any(|(t, _)| t == "ledger_postings"),
            "billing kept: {left:?}"
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) AS n FROM jobs WHERE workspace_id = ? AND kind = 'erasure.workspace'",
                id.as_uuid().into()
            )
            .await?,
            1,
            "only the erasure job's own row names it, until finished jobs are pruned"
        );
        let chain = format!("workspace:{workspace}");
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) AS n FROM audit_chain_heads WHERE chain = ?",
                chain.clone().into()
            )
            .await?,
            0
        );
        let reports = verify_chains(&app.console_store().await?, None).await?;
        assert!(reports.iter().all(|r| r.chain != chain), "{reports:?}");
        assert!(reports.iter().all(|r| r.verdict.is_ok()), "{reports:?}");
        assert!(reports.iter().any(|r| r.chain == format!("workspace:{other}")));
        assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM audit_log WHERE chain = 'platform' AND action = 'workspace.erased' AND target_id = ?", workspace.clone().into()).await?,
        1
    );

        // Crypto-erasure: what was sealed for it never opens again.
        assert!(matches!(
            app.vault.open(&sealed, account, Purpose::TelegramSession).await,
            Err(VaultError::KeyDestroyed)
        ));

        // The billing rows balance still.
        let check = app.billing_check(id).await?;
        assert!(check.transactions >= 2, "{check:?}");
        assert_eq!(check.postings_sum, 0, "{check:?}");
        assert_eq!(check.wallet_postings_sum, check.wallet_balance, "{check:?}");

        // Idempotent: a repeated run finds it erased and audits nothing more.
        let closure = tgos_domain::erasure::Closure {
            workspace: id,
            closed_at: clock.now(),
            erase_after: clock.now(),
        };
        let _ = job.erase(closure, tgos_domain::ids::JobId::generate()).await?;
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'workspace.erased' AND target_id = ?",
                workspace.clone().into()
            )
            .await?,
            1
        );
        Ok(())
    }
);

backend_tests!(a_reopened_workspace_is_not_erased, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "Second thoughts").await?;
    let id = WorkspaceId::from_uuid(workspace.parse()?);
    let now = chrono::Utc::now();

    app.reauthenticate(&owner, None).await?;
    assert!(app.gql(Some(&owner), DELETE, json!({ "w": workspace })).await?.is_ok());
    let tx = app.store.begin().await?;
    let twice = close_workspace(&*tx, id, Actor::system(), &ClientInfo::default(), now).await;
    assert!(twice.is_err(), "a closed workspace does not close again");
    drop(tx);
    let closed = app.gql(Some(&owner), WORKSPACE, json!({ "w": workspace })).await?;
    assert_eq!(closed.code().as_deref(), Some("FORBIDDEN"));

    let tx = app.store.begin().await?;
    assert!(reopen_workspace(&*tx, id, Actor::system(), &ClientInfo::default(), now).await?);
    tx.commit().await?;

    let clock = ManualClock::starting_now();
    let (_, worker) = erasure_on(&app, clock.clone());
    clock.advance(chrono::Duration::days(31));
    assert_eq!(
        worker.run_once().await?,
        1,
        "the job ran, and found the workspace reopened"
    );
    let open = app.gql(Some(&owner), WORKSPACE, json!({ "w": workspace })).await?;
    assert_eq!(open.str_at("/data/workspace/name")?, "Second thoughts", "{}", open.body);
    let reports = verify_chains(&app.console_store().await?, None).await?;
    assert!(reports.iter().all(|r| r.verdict.is_ok()), "{reports:?}");
    Ok(())
});

backend_tests!(an_erasure_that_died_midway_is_finished_by_the_next_attempt, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "Interrupted").await?;
    let id = WorkspaceId::from_uuid(workspace.parse()?);
    app.join(&owner, &workspace, "viv", "VIEWER").await?;
    app.reauthenticate(&owner, None).await?;
    assert!(app.gql(Some(&owner), DELETE, json!({ "w": workspace })).await?.is_ok());

    // An attempt that started, deleted the members and destroyed the keys, then died.
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let placeholder = if backend == DatabaseBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    for sql in [
        format!("UPDATE workspaces SET erasing_at = erase_after WHERE id = {placeholder}"),
        format!("DELETE FROM memberships WHERE workspace_id = {placeholder}"),
    ] {
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [Value::from(id.as_uuid())],
        ))
        .await?;
    }
    app.vault.destroy(KeyOwner::Workspace(id)).await?;

    let clock = ManualClock::starting_now();
    let (_, worker) = erasure_on(&app, clock.clone());
    clock.advance(chrono::Duration::days(31));
    assert_eq!(worker.run_once().await?, 1);
    let left = rows_of(&app, id).await?;
    assert_eq!(left, vec![("jobs".to_owned(), 1)], "only the job's own row is left");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'workspace.erased' AND target_id = ?",
            workspace.clone().into()
        )
        .await?,
        1
    );
    let reports = verify_chains(&app.console_store().await?, None).await?;
    assert!(reports.iter().all(|r| r.verdict.is_ok()), "{reports:?}");
    Ok(())
});
