//! The outbox on SeaORM. The next sequence number comes from an upsert on the workspace's `event_sequences`
//! row, whose lock the transaction holds until it ends: numbers have no holes and commit in order. Tenant
//! reads and appends run inside [`Repo::in_workspace`], behind the workspace's wall and filtered by it; the
//! relay's reads, marks and prunes behind the `outbox_relay` sweep wall.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait as _, DatabaseBackend, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, Statement,
};
use tgos_domain::events::{EventDraft, InboxEvent, OutboxRepository, StoredEvent, Unpublished};
use tgos_domain::ids::{AccountId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::TenantScope;

use crate::entities::outbox_events;
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

const RELAY: Wall<'static> = Wall::Sweep("outbox_relay");

fn event(row: outbox_events::Model) -> StoreResult<StoredEvent> {
    let event: InboxEvent =
        serde_json::from_str(&row.payload).map_err(|_| StoreError::backend("a stored event does not parse"))?;
    Ok(StoredEvent {
        workspace_id: WorkspaceId::from_uuid(row.workspace_id),
        sequence: row.sequence,
        account_id: Some(row.account_id).filter(|id| !id.is_nil()).map(AccountId::from_uuid),
        occurred_at: row.occurred_at,
        event,
    })
}

#[async_trait]
impl<C: Conn> OutboxRepository for Repo<C> {
    async fn append_event(
        &self,
        scope: &TenantScope,
        draft: &EventDraft,
        now: DateTime<Utc>,
    ) -> StoreResult<StoredEvent> {
        let payload =
            serde_json::to_string(&draft.event).map_err(|_| StoreError::backend("an event does not serialize"))?;
        let sequence = self
            .in_workspace(scope, async |db| {
                let backend = db.conn().get_database_backend();
                let sql = match backend {
                    DatabaseBackend::Postgres => {
                        "INSERT INTO event_sequences (workspace_id, last_sequence) VALUES ($1, 1) ON CONFLICT \
                         (workspace_id) DO UPDATE SET last_sequence = event_sequences.last_sequence + 1 RETURNING \
                         last_sequence"
                    }
                    _ => {
                        "INSERT INTO event_sequences (workspace_id, last_sequence) VALUES (?, 1) ON CONFLICT \
                         (workspace_id) DO UPDATE SET last_sequence = event_sequences.last_sequence + 1 RETURNING \
                         last_sequence"
                    }
                };
                let row = db
                    .conn()
                    .query_one_raw(Statement::from_sql_and_values(backend, sql, [db.id().into()]))
                    .await
                    .store()?
                    .ok_or_else(|| StoreError::backend("the sequence upsert returned nothing"))?;
                let sequence: i64 = row.try_get("", "last_sequence").store()?;
                outbox_events::Entity::insert(outbox_events::ActiveModel {
                    workspace_id: Set(db.id()),
                    sequence: Set(sequence),
                    // The column predates events without an account: the nil id stands for none.
                    account_id: Set(draft.account_id.map_or(uuid::Uuid::nil(), |id| id.as_uuid())),
                    kind: Set(draft.event.name().to_owned()),
                    payload: Set(payload),
                    occurred_at: Set(now),
                    published_at: Set(None),
                })
                .exec_without_returning(db.conn())
                .await
                .store()?;
                Ok(sequence)
            })
            .await?;
        Ok(StoredEvent {
            workspace_id: scope.workspace_id(),
            sequence,
            account_id: draft.account_id,
            occurred_at: now,
            event: draft.event.clone(),
        })
    }

    async fn events_after(
        &self,
        scope: &TenantScope,
        after: i64,
        up_to: Option<i64>,
        limit: u64,
    ) -> StoreResult<Vec<StoredEvent>> {
        let rows = self
            .in_workspace(scope, async |db| {
                let mut query = db
                    .find::<outbox_events::Entity>()
                    .filter(outbox_events::Column::Sequence.gt(after));
                if let Some(up_to) = up_to {
                    query = query.filter(outbox_events::Column::Sequence.lte(up_to));
                }
                query
                    .order_by_asc(outbox_events::Column::Sequence)
                    .limit(limit)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let key = (row.workspace_id, row.sequence);
                event(row)
                    .map_err(|_| tracing::warn!(workspace = %key.0, sequence = key.1, "an outbox event does not read"))
                    .ok()
            })
            .collect())
    }

    async fn latest_sequence(&self, scope: &TenantScope) -> StoreResult<i64> {
        let row = self
            .in_workspace(scope, async |db| {
                let backend = db.conn().get_database_backend();
                let sql = match backend {
                    DatabaseBackend::Postgres => "SELECT last_sequence FROM event_sequences WHERE workspace_id = $1",
                    _ => "SELECT last_sequence FROM event_sequences WHERE workspace_id = ?",
                };
                db.conn()
                    .query_one_raw(Statement::from_sql_and_values(backend, sql, [db.id().into()]))
                    .await
                    .store()
            })
            .await?;
        match row {
            Some(row) => row.try_get("", "last_sequence").store(),
            None => Ok(0),
        }
    }

    async fn unpublished_events(&self, limit: u64) -> StoreResult<Unpublished> {
        let rows = self
            .behind(RELAY, async |db| {
                outbox_events::Entity::find()
                    .filter(outbox_events::Column::PublishedAt.is_null())
                    .order_by_asc(outbox_events::Column::WorkspaceId)
                    .order_by_asc(outbox_events::Column::Sequence)
                    .limit(limit)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        let mut unpublished = Unpublished::default();
        for row in rows {
            let key = (WorkspaceId::from_uuid(row.workspace_id), row.sequence);
            match event(row) {
                Ok(event) => unpublished.events.push(event),
                Err(_) => unpublished.unreadable.push(key),
            }
        }
        Ok(unpublished)
    }

    async fn events_since(&self, after: &[(WorkspaceId, i64)], limit_each: u64) -> StoreResult<Vec<StoredEvent>> {
        if after.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .behind(RELAY, async |db| {
                let mut rows = Vec::new();
                // One indexed range read per workspace (the primary key), in one transaction.
                for (workspace, sequence) in after {
                    rows.extend(
                        outbox_events::Entity::find()
                            .filter(outbox_events::Column::WorkspaceId.eq(workspace.as_uuid()))
                            .filter(outbox_events::Column::Sequence.gt(*sequence))
                            .order_by_asc(outbox_events::Column::Sequence)
                            .limit(limit_each)
                            .all(db.conn())
                            .await
                            .store()?,
                    );
                }
                Ok(rows)
            })
            .await?;
        Ok(rows.into_iter().filter_map(|row| event(row).ok()).collect())
    }

    async fn mark_published(&self, events: &[(WorkspaceId, i64)], at: DateTime<Utc>) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        // Per workspace the batch is a run of sequence numbers, and anything committed since comes after it.
        let mut ranges: std::collections::BTreeMap<WorkspaceId, (i64, i64)> = std::collections::BTreeMap::new();
        for (workspace, sequence) in events {
            let range = ranges.entry(*workspace).or_insert((*sequence, *sequence));
            range.0 = range.0.min(*sequence);
            range.1 = range.1.max(*sequence);
        }
        let mut matching = Condition::any();
        for (workspace, (first, last)) in ranges {
            matching = matching.add(
                Condition::all()
                    .add(outbox_events::Column::WorkspaceId.eq(workspace.as_uuid()))
                    .add(outbox_events::Column::Sequence.between(first, last)),
            );
        }
        self.behind(RELAY, async |db| {
            if db.owns_transaction() {
                // A mark is a hint: lost in a crash, its events are published again, which subscribers drop by
                // number. So its commit does not wait for the WAL flush, and a slow flush never holds up the
                // relay's next read (the events behind it).
                db.conn()
                    .execute_unprepared("SET LOCAL synchronous_commit TO OFF")
                    .await
                    .store()?;
            }
            outbox_events::Entity::update_many()
                .col_expr(outbox_events::Column::PublishedAt, Expr::value(at))
                .filter(outbox_events::Column::PublishedAt.is_null())
                .filter(matching)
                .exec(db.conn())
                .await
                .store()?;
            Ok(())
        })
        .await
    }

    async fn prune_published(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.behind(RELAY, async |db| {
            let deleted = outbox_events::Entity::delete_many()
                .filter(outbox_events::Column::PublishedAt.is_not_null())
                .filter(outbox_events::Column::OccurredAt.lt(before))
                .exec(db.conn())
                .await
                .store()?;
            Ok(deleted.rows_affected)
        })
        .await
    }

    async fn oldest_unpublished(&self) -> StoreResult<Option<DateTime<Utc>>> {
        // The partial index of unpublished rows finds them; only that (normally short) list is ordered.
        self.behind(RELAY, async |db| {
            outbox_events::Entity::find()
                .select_only()
                .column(outbox_events::Column::OccurredAt)
                .filter(outbox_events::Column::PublishedAt.is_null())
                .order_by_asc(outbox_events::Column::OccurredAt)
                .limit(1)
                .into_tuple::<DateTime<Utc>>()
                .one(db.conn())
                .await
                .store()
        })
        .await
    }
}
