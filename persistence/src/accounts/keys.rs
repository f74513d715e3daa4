//! The vault's data keys. They serve the whole server (the platform pool has no workspace), so they sit
//! outside the tenant walls; only the pool's connection reads and writes them, never a use case's
//! transaction (a key must exist before the transaction that seals with it, and SQLite has one writer).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::vault::{Inserted, KeyOwner, KeyRecord, KeyStore, KeyVersion, WrappedDataKey};

use crate::entities::data_keys::{self, Column};
use crate::errors::DbResultExt as _;
use crate::repo::SeaStore;

fn version(number: i32) -> StoreResult<KeyVersion> {
    u32::try_from(number)
        .ok()
        .and_then(KeyVersion::new)
        .ok_or_else(|| StoreError::backend("a data key version below 1"))
}

fn number(version: KeyVersion) -> StoreResult<i32> {
    i32::try_from(version.get()).map_err(|_| StoreError::backend("a data key version beyond i32"))
}

fn record(row: data_keys::Model) -> StoreResult<KeyRecord> {
    let owner: KeyOwner = row
        .owner
        .parse()
        .map_err(|_| StoreError::backend("a data key of an unknown owner"))?;
    let version = version(row.version)?;
    Ok(match (row.wrapped, row.destroyed_at) {
        (Some(wrapped), None) => KeyRecord::Live(WrappedDataKey {
            owner,
            version,
            wrapped,
            created_at: row.created_at,
        }),
        (_, Some(destroyed_at)) => KeyRecord::Destroyed {
            owner,
            version,
            created_at: row.created_at,
            destroyed_at,
        },
        (None, None) => return Err(StoreError::backend("a live data key without its bytes")),
    })
}

#[async_trait]
impl KeyStore for SeaStore {
    async fn latest(&self, owner: KeyOwner) -> StoreResult<Option<KeyRecord>> {
        let row = data_keys::Entity::find()
            .filter(Column::Owner.eq(owner.to_text()))
            .order_by_desc(Column::Version)
            .one(self.connection())
            .await
            .store()?;
        row.map(record).transpose()
    }

    async fn get(&self, owner: KeyOwner, version: KeyVersion) -> StoreResult<Option<KeyRecord>> {
        let row = data_keys::Entity::find_by_id((owner.to_text(), number(version)?))
            .one(self.connection())
            .await
            .store()?;
        row.map(record).transpose()
    }

    async fn insert(&self, key: &WrappedDataKey) -> StoreResult<Inserted> {
        let inserted = data_keys::Entity::insert(data_keys::ActiveModel {
            owner: Set(key.owner.to_text()),
            version: Set(number(key.version)?),
            wrapped: Set(Some(key.wrapped.clone())),
            created_at: Set(key.created_at),
            destroyed_at: Set(None),
        })
        .on_conflict(
            OnConflict::columns([Column::Owner, Column::Version])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(self.connection())
        .await
        .store()?;
        Ok(if inserted == 1 {
            Inserted::Inserted
        } else {
            Inserted::AlreadyExists
        })
    }

    async fn live_keys(&self) -> StoreResult<Vec<WrappedDataKey>> {
        let rows = data_keys::Entity::find()
            .filter(Column::DestroyedAt.is_null())
            .order_by_asc(Column::Owner)
            .order_by_asc(Column::Version)
            .all(self.connection())
            .await
            .store()?;
        rows.into_iter()
            .filter_map(|row| match record(row) {
                Ok(KeyRecord::Live(key)) => Some(Ok(key)),
                Ok(KeyRecord::Destroyed { .. }) => None,
                Err(error) => Some(Err(error)),
            })
            .collect()
    }

    async fn replace_wrapped(
        &self,
        owner: KeyOwner,
        version: KeyVersion,
        expected: &[u8],
        replacement: &[u8],
    ) -> StoreResult<bool> {
        let result = data_keys::Entity::update_many()
            .col_expr(Column::Wrapped, Expr::value(replacement.to_vec()))
            .filter(Column::Owner.eq(owner.to_text()))
            .filter(Column::Version.eq(number(version)?))
            .filter(Column::Wrapped.eq(expected.to_vec()))
            .filter(Column::DestroyedAt.is_null())
            .exec(self.connection())
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn destroy(&self, owner: KeyOwner, at: DateTime<Utc>) -> StoreResult<u64> {
        let result = data_keys::Entity::update_many()
            .col_expr(Column::Wrapped, Expr::value(Option::<Vec<u8>>::None))
            .col_expr(Column::DestroyedAt, Expr::value(at))
            .filter(Column::Owner.eq(owner.to_text()))
            .filter(Column::DestroyedAt.is_null())
            .exec(self.connection())
            .await
            .store()?;
        Ok(result.rows_affected)
    }
}
