//! The staff console's search of the audit log: every chain, newest first, one keyset range at a time.
//!
//! Rule: each filter is one condition on an indexed column (`audit_log_at_idx`, `audit_log_workspace_at_idx`,
//! `audit_log_actor_at_idx`, `audit_log_action_at_idx`, migration `000025`; a chain by its unique
//! `(chain, sequence)` index), and the next page starts strictly before the cursor's `(at, id)`, written so
//! that both planners seek to it (`at <= cursor` as the index range; checked with `EXPLAIN` on both), so a
//! page is one range read however deep it is. It reads on the repository's own connection, behind no wall: only
//! the console's connection (the schema owner, which reads across tenants) sees every workspace's entries.

use sea_orm::{ColumnTrait as _, Condition, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _};
use tgos_domain::audit::AuditSearch;
use tgos_domain::store::StoreResult;

use crate::entities::audit_log;
use crate::errors::DbResultExt as _;

/// The rows `search` lists, newest first (time, then id), at most `limit`.
pub(super) async fn rows(
    conn: &impl sea_orm::ConnectionTrait,
    search: &AuditSearch,
    limit: u64,
) -> StoreResult<Vec<audit_log::Model>> {
    let mut query = audit_log::Entity::find();
    if let Some(workspace) = search.workspace {
        query = query.filter(audit_log::Column::WorkspaceId.eq(workspace.as_uuid()));
    }
    if let Some(chain) = &search.chain {
        query = query.filter(audit_log::Column::Chain.eq(chain.as_str()));
    }
    if let Some(actor) = &search.actor_id {
        query = query.filter(audit_log::Column::ActorId.eq(actor.as_str()));
    }
    if let Some(action) = &search.action {
        query = query.filter(audit_log::Column::Action.eq(action.as_str()));
    }
    if let Some(from) = search.from {
        query = query.filter(audit_log::Column::At.gte(from));
    }
    if let Some(to) = search.to {
        query = query.filter(audit_log::Column::At.lt(to));
    }
    if let Some(cursor) = search.before {
        // `at <= cursor` is the range the index seeks to; the `OR` (a filter, not a range, to both planners)
        // then only sorts out the entries of the cursor's own microsecond.
        query = query.filter(audit_log::Column::At.lte(cursor.at)).filter(
            Condition::any().add(audit_log::Column::At.lt(cursor.at)).add(
                Condition::all()
                    .add(audit_log::Column::At.eq(cursor.at))
                    .add(audit_log::Column::Id.lt(cursor.id.as_uuid())),
            ),
        );
    }
    query
        .order_by_desc(audit_log::Column::At)
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(conn)
        .await
        .store()
}
