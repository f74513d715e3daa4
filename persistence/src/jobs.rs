//! Jobs on SeaORM. Every change is one conditional statement: a claim is an `UPDATE` of the rows a locking
//! subquery picked (PostgreSQL skips rows another claimer holds; SQLite runs one writer at a time), renewals
//! and finishes apply only while the caller is still the holder of a running job. The workers run behind the
//! `jobs` sweep wall; an enqueue runs behind its job's workspace wall (a job of no workspace, behind the
//! sweep's), so a use case's transaction enqueues only for its own workspace.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, Func, LockBehavior, LockType, OnConflict, Order, Query, SimpleExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait as _, EntityTrait as _, QueryFilter as _,
    QuerySelect as _,
};
use tgos_domain::ids::{JobId, WorkspaceId};
use tgos_domain::jobs::{ClaimedJob, JobFinish, JobQueueDepth, JobRecord, JobRepository, JobStatus, NewJob};
use tgos_domain::store::{StoreError, StoreResult};

use crate::entities::jobs::{self, Column};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

/// The workers' wall: every job.
const WORKERS: Wall<'static> = Wall::Sweep("jobs");

const QUEUED: &str = "queued";
const RUNNING: &str = "running";
const DONE: &str = "done";
const FAILED: &str = "failed";

/// What a lapsed lease with no attempt left is recorded as.
const LAPSED_ON_LAST_ATTEMPT: &str = "the lease lapsed on the last attempt (the worker stopped or hung)";

/// Due at `now`: queued and past its time, or running with a lapsed lease.
fn due(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(Column::Status.eq(QUEUED))
                .add(Column::RunAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(Column::Status.eq(RUNNING))
                .add(Column::LeaseUntil.lte(now)),
        )
}

fn attempts_left() -> SimpleExpr {
    Expr::col(Column::Attempts).lt(Expr::col(Column::MaxAttempts))
}

fn later(now: DateTime<Utc>, wait: std::time::Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(wait)
        .ok()
        .and_then(|wait| now.checked_add_signed(wait))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn count(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

fn payload(row: &jobs::Model) -> StoreResult<serde_json::Value> {
    serde_json::from_str(&row.payload).map_err(|_| StoreError::backend("a stored job's payload does not parse"))
}

fn claimed(row: jobs::Model) -> StoreResult<ClaimedJob> {
    Ok(ClaimedJob {
        id: JobId::from_uuid(row.id),
        payload: payload(&row)?,
        kind: row.kind,
        workspace_id: row.workspace_id.map(WorkspaceId::from_uuid),
        attempt: count(row.attempts),
        max_attempts: count(row.max_attempts),
        holder: row.holder.unwrap_or_default(),
        lease_until: row.lease_until.unwrap_or(row.updated_at),
        created_at: row.created_at,
    })
}

fn record(row: jobs::Model) -> StoreResult<JobRecord> {
    Ok(JobRecord {
        id: JobId::from_uuid(row.id),
        payload: payload(&row)?,
        status: JobStatus::parse(&row.status).ok_or_else(|| StoreError::backend("a stored job has no known status"))?,
        kind: row.kind,
        workspace_id: row.workspace_id.map(WorkspaceId::from_uuid),
        run_at: row.run_at,
        attempts: count(row.attempts),
        max_attempts: count(row.max_attempts),
        holder: row.holder,
        lease_until: row.lease_until,
        last_error: row.last_error,
        dedupe_key: row.dedupe_key,
        created_at: row.created_at,
        updated_at: row.updated_at,
        finished_at: row.finished_at,
    })
}

#[async_trait]
impl<C: Conn> JobRepository for Repo<C> {
    async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> StoreResult<bool> {
        let payload = serde_json::to_string(&job.payload)
            .map_err(|_| StoreError::backend("a job's payload does not serialize"))?;
        let row = jobs::ActiveModel {
            id: Set(job.id.as_uuid()),
            kind: Set(job.kind.clone()),
            workspace_id: Set(job.workspace_id.map(|id| id.as_uuid())),
            payload: Set(payload),
            status: Set(QUEUED.to_owned()),
            run_at: Set(job.run_at),
            attempts: Set(0),
            max_attempts: Set(i32::try_from(Ord::max(job.max_attempts, 1)).unwrap_or(i32::MAX)),
            holder: Set(None),
            lease_until: Set(None),
            last_error: Set(None),
            dedupe_key: Set(job.dedupe_key.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            finished_at: Set(None),
        };
        let wall = job.workspace_id.map_or(WORKERS, Wall::Workspace);
        self.behind(wall, async |db| {
            let stored = jobs::Entity::insert(row)
                .on_conflict(OnConflict::column(Column::DedupeKey).do_nothing().to_owned())
                .exec_without_returning(db.conn())
                .await
                .store()?;
            Ok(stored == 1)
        })
        .await
    }

    async fn claim_jobs(
        &self,
        kinds: &[&str],
        holder: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: u64,
    ) -> StoreResult<Vec<ClaimedJob>> {
        if kinds.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let kinds: Vec<String> = kinds.iter().map(|kind| (*kind).to_owned()).collect();
        let until = later(now, lease);
        let mut rows = self
            .behind(WORKERS, async |db| {
                // A lapsed claim with no attempt left ends here instead of being claimed again.
                jobs::Entity::update_many()
                    .col_expr(Column::Status, Expr::value(FAILED))
                    .col_expr(Column::LastError, Expr::value(LAPSED_ON_LAST_ATTEMPT))
                    .col_expr(Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
                    .col_expr(Column::FinishedAt, Expr::value(now))
                    .col_expr(Column::UpdatedAt, Expr::value(now))
                    .filter(Column::Kind.is_in(kinds.clone()))
                    .filter(Column::Status.eq(RUNNING))
                    .filter(Column::LeaseUntil.lte(now))
                    .filter(Expr::col(Column::Attempts).gte(Expr::col(Column::MaxAttempts)))
                    .exec(db.conn())
                    .await
                    .store()?;
                let pick = Query::select()
                    .column(Column::Id)
                    .from(jobs::Entity)
                    .and_where(Column::Kind.is_in(kinds.clone()))
                    .cond_where(due(now))
                    .and_where(attempts_left())
                    .order_by(Column::RunAt, Order::Asc)
                    .limit(limit)
                    // PostgreSQL: rows another claimer locked are skipped, not waited for. SQLite has no row
                    // locks (the clause is not written) and runs one writer at a time.
                    .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                    .to_owned();
                let claim = Query::update()
                    .table(jobs::Entity)
                    .value(Column::Status, RUNNING)
                    .value(Column::Holder, holder)
                    .value(Column::LeaseUntil, until)
                    .value(Column::UpdatedAt, now)
                    .value(Column::Attempts, Expr::col(Column::Attempts).add(1))
                    .and_where(Column::Id.in_subquery(pick))
                    .returning_all()
                    .to_owned();
                let statement = db.conn().get_database_backend().build(&claim);
                jobs::Entity::find()
                    .from_raw_sql(statement)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.sort_by_key(|row| (row.run_at, row.id));
        rows.into_iter().map(claimed).collect()
    }

    async fn renew_job_lease(&self, id: JobId, holder: &str, until: DateTime<Utc>) -> StoreResult<bool> {
        self.behind(WORKERS, async |db| {
            let renewed = jobs::Entity::update_many()
                .col_expr(Column::LeaseUntil, Expr::value(until))
                .filter(Column::Id.eq(id.as_uuid()))
                .filter(Column::Holder.eq(holder))
                .filter(Column::Status.eq(RUNNING))
                .exec(db.conn())
                .await
                .store()?;
            Ok(renewed.rows_affected == 1)
        })
        .await
    }

    async fn finish_job(&self, id: JobId, holder: &str, finish: &JobFinish, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut update = jobs::Entity::update_many()
            .col_expr(Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(Column::UpdatedAt, Expr::value(now));
        update = match finish {
            JobFinish::Done => update
                .col_expr(Column::Status, Expr::value(DONE))
                .col_expr(Column::FinishedAt, Expr::value(now)),
            JobFinish::Failed { error } => update
                .col_expr(Column::Status, Expr::value(FAILED))
                .col_expr(Column::LastError, Expr::value(error.as_str()))
                .col_expr(Column::FinishedAt, Expr::value(now)),
            // Queued again while attempts are left, else failed; decided by the row itself in the same statement.
            JobFinish::Retry { at, error } => update
                .col_expr(
                    Column::Status,
                    Expr::case(attempts_left(), Expr::value(QUEUED))
                        .finally(Expr::value(FAILED))
                        .into(),
                )
                .col_expr(
                    Column::RunAt,
                    Expr::case(attempts_left(), Expr::value(*at))
                        .finally(Expr::col(Column::RunAt))
                        .into(),
                )
                .col_expr(
                    Column::FinishedAt,
                    Expr::case(attempts_left(), Expr::col(Column::FinishedAt))
                        .finally(Expr::value(now))
                        .into(),
                )
                .col_expr(Column::LastError, Expr::value(error.as_str())),
        };
        self.behind(WORKERS, async |db| {
            let finished = update
                .filter(Column::Id.eq(id.as_uuid()))
                .filter(Column::Holder.eq(holder))
                .filter(Column::Status.eq(RUNNING))
                .exec(db.conn())
                .await
                .store()?;
            Ok(finished.rows_affected == 1)
        })
        .await
    }

    async fn prune_finished_jobs(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.behind(WORKERS, async |db| {
            let deleted = jobs::Entity::delete_many()
                .filter(Column::Status.is_in([DONE, FAILED]))
                .filter(Column::FinishedAt.lt(before))
                .exec(db.conn())
                .await
                .store()?;
            Ok(deleted.rows_affected)
        })
        .await
    }

    async fn job_queue(&self, now: DateTime<Utc>) -> StoreResult<Vec<JobQueueDepth>> {
        let rows: Vec<(String, i64, DateTime<Utc>)> = self
            .behind(WORKERS, async |db| {
                jobs::Entity::find()
                    .select_only()
                    .column(Column::Kind)
                    .column_as(Expr::from(Func::count(Expr::col(Column::Id))), "due")
                    .column_as(Expr::from(Func::min(Expr::col(Column::RunAt))), "oldest_due")
                    .filter(due(now))
                    .group_by(Column::Kind)
                    .into_tuple()
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|(kind, due, oldest_due)| JobQueueDepth {
                kind,
                due: u64::try_from(due).unwrap_or(0),
                oldest_due,
            })
            .collect())
    }

    async fn job(&self, id: JobId) -> StoreResult<Option<JobRecord>> {
        let row = self
            .behind(WORKERS, async |db| {
                jobs::Entity::find_by_id(id.as_uuid()).one(db.conn()).await.store()
            })
            .await?;
        row.map(record).transpose()
    }
}
