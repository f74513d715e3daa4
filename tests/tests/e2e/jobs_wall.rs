//! Jobs behind the second wall (PostgreSQL): a workspace's wall sees and enqueues only its own workspace's
//! jobs, the workers' sweep wall sees them all, and no other wall sees any.

use chrono::{SubsecRound as _, Utc};
use serde_json::json;
use tgos_domain::ids::WorkspaceId;
use tgos_domain::jobs::NewJob;
use tgos_tests::postgres_tests;

use super::jobs::{KIND, enqueued};

postgres_tests!(a_workspace_wall_sees_and_enqueues_only_its_own_workspaces_jobs, |app| {
    use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement, TransactionTrait as _};

    let now = Utc::now().trunc_subsecs(6);
    let (alpha, beta) = (WorkspaceId::generate(), WorkspaceId::generate());
    enqueued(&app, NewJob::now(KIND, Some(alpha), json!({}), now), now).await?;
    enqueued(&app, NewJob::now(KIND, Some(beta), json!({}), now), now).await?;
    enqueued(&app, NewJob::now(KIND, None, json!({}), now), now).await?;

    let server = app.server_pool().await?;
    let count_behind = async |setting: &str, value: &str| -> anyhow::Result<i64> {
        let tx = server.begin().await?;
        tx.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT set_config($1, $2, true)",
            [setting.into(), value.into()],
        ))
        .await?;
        let row = tx
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT count(*) FROM jobs",
            ))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no count"))?;
        tx.commit().await?;
        Ok(row.try_get_by_index::<i64>(0)?)
    };
    assert_eq!(count_behind("tgos.workspace_id", "").await?, 0, "no wall sees jobs");
    assert_eq!(count_behind("tgos.workspace_id", &alpha.to_string()).await?, 1);
    assert_eq!(count_behind("tgos.sweep", "jobs").await?, 3);
    assert_eq!(count_behind("tgos.sweep", "outbox_relay").await?, 0);

    // Behind alpha's wall a job for beta cannot be written; one for no workspace can.
    let insert = |workspace: Option<WorkspaceId>| {
        Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "INSERT INTO jobs (id, kind, workspace_id, payload, status, run_at, attempts, max_attempts, \
             created_at, updated_at) VALUES ($1, 'x', $2, '{}', 'queued', now(), 0, 1, now(), now())",
            [uuid::Uuid::now_v7().into(), workspace.map(|w| w.as_uuid()).into()],
        )
    };
    let tx = server.begin().await?;
    tx.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT set_config('tgos.workspace_id', $1, true)",
        [alpha.to_string().into()],
    ))
    .await?;
    tx.execute_raw(insert(None)).await?;
    tx.execute_raw(insert(Some(alpha))).await?;
    let refused = tx.execute_raw(insert(Some(beta))).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("row-level security")),
        "{refused:?}"
    );
    Ok(())
});
