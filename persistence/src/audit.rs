//! The audit log on SeaORM: entries are only ever inserted; chain heads serialize appends per chain. A
//! workspace chain is written behind its workspace's [`Wall`] and listed inside [`Repo::in_workspace`]; the
//! account and platform chains belong to no tenant. Listing every chain is for the staff console, which
//! connects as the schema owner.

use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use tgos_domain::audit::entry::GENESIS;
use tgos_domain::audit::ports::{AuditRepository, ChainHead};
use tgos_domain::audit::{Actor, ActorKind, AuditRecord, ChainId};
use tgos_domain::ids::{AuditEntryId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::TenantScope;

use crate::entities::{audit_chain_heads, audit_log};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

fn record(row: audit_log::Model) -> StoreResult<AuditRecord> {
    let kind = ActorKind::parse(&row.actor_kind)
        .ok_or_else(|| StoreError::backend(format!("unknown actor kind {:?}", row.actor_kind)))?;
    Ok(AuditRecord {
        id: AuditEntryId::from_uuid(row.id),
        chain: row.chain,
        sequence: row.sequence,
        workspace_id: row.workspace_id.map(WorkspaceId::from_uuid),
        at: row.at,
        actor: Actor {
            kind,
            id: row.actor_id,
            display_name: row.actor_name,
        },
        action: row.action,
        target_type: row.target_type,
        target_id: row.target_id,
        ip_address: row.ip_address,
        user_agent: row.user_agent,
        metadata: row.metadata,
        prev_hash: row.prev_hash,
        hash: row.hash,
    })
}

fn wall_of(workspace: Option<WorkspaceId>) -> Wall<'static> {
    workspace.map_or(Wall::NoTenant, Wall::Workspace)
}

#[async_trait]
impl<C: Conn> AuditRepository for Repo<C> {
    async fn advance_chain(&self, chain: &ChainId) -> StoreResult<ChainHead> {
        let head = self
            .behind(wall_of(chain.workspace()), async |db| {
                let chain = chain.key();
                audit_chain_heads::Entity::insert(audit_chain_heads::ActiveModel {
                    chain: Set(chain.clone()),
                    sequence: Set(0),
                    hash: Set(GENESIS.to_vec()),
                })
                .on_conflict(
                    OnConflict::column(audit_chain_heads::Column::Chain)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(db.conn())
                .await
                .store()?;
                // The increment takes the row lock (PostgreSQL) that keeps concurrent appends to this chain in line.
                audit_chain_heads::Entity::update_many()
                    .col_expr(
                        audit_chain_heads::Column::Sequence,
                        Expr::col(audit_chain_heads::Column::Sequence).add(1),
                    )
                    .filter(audit_chain_heads::Column::Chain.eq(chain.as_str()))
                    .exec(db.conn())
                    .await
                    .store()?;
                audit_chain_heads::Entity::find_by_id(chain)
                    .one(db.conn())
                    .await
                    .store()?
                    .ok_or_else(|| StoreError::backend("audit chain head missing"))
            })
            .await?;
        Ok(ChainHead {
            sequence: head.sequence - 1,
            hash: head.hash,
        })
    }

    async fn insert_audit(&self, entry: &AuditRecord) -> StoreResult<()> {
        self.behind(wall_of(entry.workspace_id), async |db| {
            audit_log::Entity::insert(audit_log::ActiveModel {
                id: Set(entry.id.as_uuid()),
                chain: Set(entry.chain.clone()),
                sequence: Set(entry.sequence),
                workspace_id: Set(entry.workspace_id.map(|id| id.as_uuid())),
                at: Set(entry.at),
                actor_kind: Set(entry.actor.kind.as_str().to_owned()),
                actor_id: Set(entry.actor.id.clone()),
                actor_name: Set(entry.actor.display_name.clone()),
                action: Set(entry.action.clone()),
                target_type: Set(entry.target_type.clone()),
                target_id: Set(entry.target_id.clone()),
                ip_address: Set(entry.ip_address.clone()),
                user_agent: Set(entry.user_agent.clone()),
                metadata: Set(entry.metadata.clone()),
                prev_hash: Set(entry.prev_hash.clone()),
                hash: Set(entry.hash.clone()),
            })
            .exec_without_returning(db.conn())
            .await
            .store()?;
            audit_chain_heads::Entity::update_many()
                .col_expr(audit_chain_heads::Column::Hash, Expr::value(entry.hash.clone()))
                .filter(audit_chain_heads::Column::Chain.eq(entry.chain.as_str()))
                .filter(audit_chain_heads::Column::Sequence.eq(entry.sequence))
                .exec(db.conn())
                .await
                .store()?;
            Ok(())
        })
        .await
    }

    async fn list_audit(
        &self,
        scope: &TenantScope,
        before: Option<i64>,
        limit: u64,
        action: Option<&str>,
    ) -> StoreResult<Vec<AuditRecord>> {
        let rows = self
            .in_workspace(scope, async |db| {
                let mut query = db.find::<audit_log::Entity>();
                if let Some(before) = before {
                    query = query.filter(audit_log::Column::Sequence.lt(before));
                }
                if let Some(action) = action {
                    query = query.filter(audit_log::Column::Action.eq(action));
                }
                query
                    .order_by_desc(audit_log::Column::Sequence)
                    .limit(limit)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter().map(record).collect()
    }

    async fn audit_chains(&self) -> StoreResult<Vec<String>> {
        let rows = audit_chain_heads::Entity::find()
            .order_by_asc(audit_chain_heads::Column::Chain)
            .all(&self.0)
            .await
            .store()?;
        Ok(rows.into_iter().map(|row| row.chain).collect())
    }

    async fn chain_entries(&self, chain: &str) -> StoreResult<(Vec<AuditRecord>, Option<ChainHead>)> {
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::Chain.eq(chain))
            .order_by_asc(audit_log::Column::Sequence)
            .all(&self.0)
            .await
            .store()?;
        let head = audit_chain_heads::Entity::find_by_id(chain.to_owned())
            .one(&self.0)
            .await
            .store()?
            .map(|row| ChainHead {
                sequence: row.sequence,
                hash: row.hash,
            });
        Ok((rows.into_iter().map(record).collect::<StoreResult<_>>()?, head))
    }
}
