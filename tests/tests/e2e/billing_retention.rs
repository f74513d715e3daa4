//! Billing after seven years: the rows an erased workspace left (its ledger, top-ups, payment matching and
//! balance) are deleted by the retention sweep once they are older than `retention.billing_years`, whole
//! transactions at a time, while a living workspace's billing of the same age stays and balances; on
//! PostgreSQL the ledger's trigger refuses every other deletion.

use std::sync::Arc;

use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement, Value};
use serde_json::json;
use tgos_domain::ids::WorkspaceId;
use tgos_domain::jobs::JobWorker;
use tgos_domain::retention::{RetentionService, RetentionWindows};
use tgos_tests::clock::ManualClock;
use tgos_tests::{TestApp, backend_tests};

use super::stripe::{deliver, event, start_stripe_top_up};

const DELETE: &str = "mutation($w: ID!) { deleteWorkspace(workspaceId: $w) }";
/// Every billing table, and the column that names the workspace.
const BILLING: &[&str] = &[
    "wallet_balances",
    "ledger_transactions",
    "ledger_postings",
    "top_ups",
    "payment_references",
    "payment_discrepancies",
];

async fn billing_rows(app: &TestApp, workspace: WorkspaceId) -> anyhow::Result<Vec<(&'static str, i64)>> {
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let placeholder = if backend == DatabaseBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let mut rows = Vec::new();
    for table in BILLING {
        let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE workspace_id = {placeholder}");
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [Value::from(workspace.as_uuid())],
            ))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no count"))?;
        rows.push((*table, row.try_get::<i64>("", "n")?));
    }
    Ok(rows)
}

/// A paid Stripe top-up (a top-up and its ledger transaction) and a rental (a debit).
async fn bill(app: &TestApp, token: &str, workspace: &str, event_id: &str) -> anyhow::Result<()> {
    let (top_up, session) = start_stripe_top_up(app, token, workspace, 1250).await?;
    let paid = event(
        event_id,
        "checkout.session.completed",
        &session,
        &top_up,
        workspace,
        "paid",
    );
    assert_eq!(deliver(app, &paid).await?, 200);
    let offer = app.stock_pool(1, 100).await?[0];
    let rented = app
        .gql(
            Some(token),
            "mutation($w: ID!, $o: ID!) { rentAccount(workspaceId: $w, offerId: $o, days: 1) { id } }",
            json!({ "w": workspace, "o": offer.to_string() }),
        )
        .await?;
    assert!(rented.is_ok(), "{}", rented.body);
    Ok(())
}

/// A deletion of `workspace`'s postings outside the retention sweep, as the database owner.
async fn raw_delete_refused(app: &TestApp, workspace: WorkspaceId) -> anyhow::Result<bool> {
    let db = app.db().await?;
    let deleted = db
        .execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "DELETE FROM ledger_postings WHERE workspace_id = $1",
            [Value::from(workspace.as_uuid())],
        ))
        .await;
    Ok(deleted.is_err_and(|e| e.to_string().contains("ledger rows are immutable")))
}

backend_tests!(
    an_erased_workspaces_billing_goes_seven_years_on_and_nobody_elses,
    |app| {
        let owner = app.sign_up("olive").await?;
        let doomed = app.create_workspace(&owner, "Doomed").await?;
        let stays = app.create_workspace(&owner, "Stays").await?;
        let (doomed_id, stays_id) = (
            WorkspaceId::from_uuid(doomed.parse()?),
            WorkspaceId::from_uuid(stays.parse()?),
        );
        bill(&app, &owner, &doomed, "evt_doomed").await?;
        bill(&app, &owner, &stays, "evt_stays").await?;
        let stays_before = billing_rows(&app, stays_id).await?;
        let stays_check = app.billing_check(stays_id).await?;
        assert!(stays_check.transactions >= 2, "{stays_check:?}");

        app.reauthenticate(&owner, None).await?;
        let deleted = app.gql(Some(&owner), DELETE, json!({ "w": doomed })).await?;
        assert!(deleted.is_ok(), "{}", deleted.body);
        let clock = ManualClock::starting_now();
        let erasure = tgos_domain::erasure::WorkspaceErasureJob::new(app.erasure_on(clock.clone()));
        let worker = JobWorker::new(Arc::clone(&app.store), clock.clone(), "erasure").with_handler(Arc::new(erasure));
        clock.advance(chrono::Duration::days(31));
        assert_eq!(worker.run_once().await?, 1, "the workspace was erased");
        let kept = billing_rows(&app, doomed_id).await?;
        for table in ["wallet_balances", "ledger_transactions", "ledger_postings", "top_ups"] {
            assert!(
                kept.iter().any(|(t, n)| *t == table && *n > 0),
                "the erasure keeps {table}: {kept:?}"
            );
        }
        if app.database_url.is_some() {
            assert!(
                raw_delete_refused(&app, doomed_id).await?,
                "outside the sweep, even an erased workspace's ledger is immutable"
            );
        }

        // Six years on, nothing is due.
        let retention = |clock: &Arc<ManualClock>| {
            RetentionService::new(Arc::clone(&app.store), clock.clone(), RetentionWindows::default()).with_batch(1)
        };
        clock.advance(chrono::Duration::days(6 * 365));
        assert_eq!(retention(&clock).report().await?.rows_of("billing"), Some(0));
        assert_eq!(retention(&clock).sweep().await?.rows_of("billing"), Some(0));
        assert_eq!(billing_rows(&app, doomed_id).await?, kept);

        // Seven years after they were written, the erased workspace's billing goes, one transaction a batch.
        clock.advance(chrono::Duration::days(365));
        let report = retention(&clock).report().await?;
        assert_eq!(
            report.rows_of("billing"),
            Some(3),
            "the credit and the rental, and the top-up: {report:?}"
        );
        let swept = retention(&clock).sweep().await?;
        assert_eq!(
            swept.rows_of("billing"),
            report.rows_of("billing").map(|n| n + 1),
            "what was due, and the balance, due once its last transaction went"
        );
        let gone = billing_rows(&app, doomed_id).await?;
        assert!(gone.iter().all(|(_, n)| *n == 0), "{gone:?}");

        // The living workspace's rows are as old, and stay whole.
        assert_eq!(billing_rows(&app, stays_id).await?, stays_before);
        let check = app.billing_check(stays_id).await?;
        assert_eq!(check.transactions, stays_check.transactions);
        assert_eq!(check.postings_sum, 0, "{check:?}");
        assert_eq!(check.wallet_postings_sum, check.wallet_balance, "{check:?}");
        if app.database_url.is_some() {
            assert!(
                raw_delete_refused(&app, stays_id).await?,
                "a living workspace's ledger is immutable"
            );
        }
        let db = app.db().await?;
        let summary = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT metadata FROM audit_log WHERE chain = 'platform' AND action = 'retention.swept' ORDER BY \
                 sequence DESC LIMIT 1",
            ))
            .await?
            .ok_or_else(|| anyhow::anyhow!("the sweep audited nothing"))?;
        let metadata: serde_json::Value = serde_json::from_str(&summary.try_get::<String>("", "metadata")?)?;
        assert_eq!(
            metadata["rows"]["billing"],
            json!(swept.rows_of("billing")),
            "{metadata}"
        );
        Ok(())
    }
);
