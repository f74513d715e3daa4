//! The audit log on SeaORM: entries are only ever inserted; chain heads serialize appends per chain. A
//! workspace chain is written behind its workspace's [`Wall`] and listed inside [`Repo::in_workspace`]; the
//! account and platform chains belong to no tenant. Listing every chain is for the staff console, which
//! connects as the schema owner; so is searching every chain ([`search`]).

mod search;

use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait as _, Func, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _,
};
use tgos_domain::audit::entry::GENESIS;
use tgos_domain::audit::ports::{AuditRepository, ChainHead};
use tgos_domain::audit::{Actor, ActorKind, AuditRecord, AuditSearch, ChainId, ErasureSubject, PersonalSeal};
use tgos_domain::ids::{AuditEntryId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::TenantScope;

use crate::entities::{audit_chain_heads, audit_log};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

/// The sweep wall that shows every audit entry (finding an erased person's entries on every chain).
const REDACTION_SWEEP: &str = "audit_redaction";

fn seal_of(row: &audit_log::Model) -> StoreResult<PersonalSeal> {
    match (row.hash_version, &row.personal_digest) {
        (1, _) => Ok(PersonalSeal::V1 {
            redacted_at: row.redacted_at,
        }),
        (2, Some(digest)) => Ok(PersonalSeal::V2 {
            salt: row.salt.clone(),
            digest: digest.clone(),
            redacted_at: row.redacted_at,
        }),
        (version, _) => Err(StoreError::backend(format!(
            "audit entry of hash version {version} without what it needs"
        ))),
    }
}

fn record(row: audit_log::Model) -> StoreResult<AuditRecord> {
    let kind = ActorKind::parse(&row.actor_kind)
        .ok_or_else(|| StoreError::backend(format!("unknown actor kind {:?}", row.actor_kind)))?;
    let seal = seal_of(&row)?;
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
        seal,
    })
}

fn salt_of(seal: &PersonalSeal) -> Option<Vec<u8>> {
    match seal {
        PersonalSeal::V2 { salt, .. } => salt.clone(),
        PersonalSeal::V1 { .. } => None,
    }
}

fn digest_of(seal: &PersonalSeal) -> Option<Vec<u8>> {
    match seal {
        PersonalSeal::V2 { digest, .. } => Some(digest.clone()),
        PersonalSeal::V1 { .. } => None,
    }
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
                hash_version: Set(entry.seal.version()),
                salt: Set(salt_of(&entry.seal)),
                personal_digest: Set(digest_of(&entry.seal)),
                redacted_at: Set(entry.seal.redacted_at()),
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

    async fn search_audit(&self, search: &AuditSearch, limit: u64) -> StoreResult<Vec<AuditRecord>> {
        search::rows(&self.0, search, limit)
            .await?
            .into_iter()
            .map(record)
            .collect()
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

    async fn audit_entries_mentioning(&self, subject: &ErasureSubject) -> StoreResult<Vec<AuditRecord>> {
        let id = subject.user_id.to_string();
        let own_chain = ChainId::User(subject.user_id).key();
        let rows = self
            .behind(Wall::Sweep(REDACTION_SWEEP), async |db| {
                let mut mentions = Condition::any()
                    .add(audit_log::Column::ActorId.eq(id.as_str()))
                    .add(audit_log::Column::TargetId.eq(id.as_str()))
                    .add(audit_log::Column::Chain.eq(own_chain.as_str()));
                for needle in subject.needles() {
                    let pattern = format!("%{}%", needle.to_lowercase());
                    mentions = mentions
                        .add(Expr::expr(Func::lower(Expr::col(audit_log::Column::Metadata))).like(pattern.clone()))
                        .add(Expr::expr(Func::lower(Expr::col(audit_log::Column::ActorName))).like(pattern.clone()))
                        .add(Expr::expr(Func::lower(Expr::col(audit_log::Column::TargetId))).like(pattern));
                }
                audit_log::Entity::find()
                    .filter(mentions)
                    .order_by_asc(audit_log::Column::Chain)
                    .order_by_asc(audit_log::Column::Sequence)
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter().map(record).collect()
    }

    async fn redact_audit_entry(&self, entry: &AuditRecord) -> StoreResult<()> {
        self.behind(wall_of(entry.workspace_id), async |db| {
            audit_log::Entity::update_many()
                .col_expr(audit_log::Column::Chain, Expr::value(entry.chain.clone()))
                .col_expr(audit_log::Column::ActorId, Expr::value(entry.actor.id.clone()))
                .col_expr(
                    audit_log::Column::ActorName,
                    Expr::value(entry.actor.display_name.clone()),
                )
                .col_expr(audit_log::Column::TargetId, Expr::value(entry.target_id.clone()))
                .col_expr(audit_log::Column::IpAddress, Expr::value(entry.ip_address.clone()))
                .col_expr(audit_log::Column::UserAgent, Expr::value(entry.user_agent.clone()))
                .col_expr(audit_log::Column::Metadata, Expr::value(entry.metadata.clone()))
                .col_expr(audit_log::Column::Salt, Expr::value(salt_of(&entry.seal)))
                .col_expr(audit_log::Column::RedactedAt, Expr::value(entry.seal.redacted_at()))
                .filter(audit_log::Column::Id.eq(entry.id.as_uuid()))
                .exec(db.conn())
                .await
                .store()?;
            Ok(())
        })
        .await
    }

    async fn rename_audit_chain(&self, from: &str, to: &str) -> StoreResult<()> {
        self.behind(Wall::NoTenant, async |db| {
            audit_log::Entity::update_many()
                .col_expr(audit_log::Column::Chain, Expr::value(to))
                .filter(audit_log::Column::Chain.eq(from))
                .exec(db.conn())
                .await
                .store()?;
            audit_chain_heads::Entity::update_many()
                .col_expr(audit_chain_heads::Column::Chain, Expr::value(to))
                .filter(audit_chain_heads::Column::Chain.eq(from))
                .exec(db.conn())
                .await
                .store()?;
            Ok(())
        })
        .await
    }
}
