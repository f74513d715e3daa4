//! Accounts of the pool. Reads of accounts on offer need no tenant (`Wall::NoTenant` on PostgreSQL: the
//! `on_offer` policy shows them); everything about a leased account runs behind its workspace's wall, and each
//! change of hands is one conditional update on the state the use case read. Key rotation (the console) reads
//! and re-seals payloads behind their owner's wall, each one a compare-and-swap on the exact payload read.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _,
};
use tgos_domain::accounts::CountryCode;
use tgos_domain::accounts::pool::{AccountProfile, AccountRecord, AccountRepository, AccountStatus};
use tgos_domain::billing::{Currency, Money};
use tgos_domain::ids::{AccountId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};
use tgos_domain::tenancy::TenantScope;
use tgos_domain::vault::{KeyOwner, KeyVersion, SealedPayload};
use uuid::Uuid;

use crate::entities::telegram_accounts::{self, Column};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

/// A mapper of any error to an opaque backend failure saying `what` was wrong with a stored row.
fn bad<E>(what: &'static str) -> impl FnOnce(E) -> StoreError {
    move |_| StoreError::backend(what)
}

pub(super) fn record(row: telegram_accounts::Model) -> StoreResult<AccountRecord> {
    let currency = Currency::parse(&row.currency).ok_or_else(|| StoreError::backend("unknown account currency"))?;
    Ok(AccountRecord {
        id: AccountId::from_uuid(row.id),
        status: AccountStatus::parse(&row.status).ok_or_else(|| StoreError::backend("unknown account status"))?,
        sandbox: row.sandbox,
        profile: AccountProfile {
            display_name: row.display_name,
            username: row.username,
            phone_masked: row.phone_masked,
            country: row
                .country
                .map(|c| CountryCode::parse("country", &c))
                .transpose()
                .map_err(bad("a stored country code is invalid"))?,
            premium: row.premium,
            account_created: row.account_created,
        },
        dc_id: u8::try_from(row.dc_id).map_err(bad("a stored data centre is out of range"))?,
        telegram_user_id: row.telegram_user_id,
        key_fingerprint: <[u8; 32]>::try_from(row.key_fingerprint.as_slice())
            .map_err(bad("a stored key fingerprint is not 32 bytes"))?,
        sealed: SealedPayload {
            owner: row.key_owner.parse::<KeyOwner>().map_err(bad("an unknown key owner"))?,
            key_version: u32::try_from(row.key_version)
                .ok()
                .and_then(KeyVersion::new)
                .ok_or_else(|| StoreError::backend("a key version below 1"))?,
            ciphertext: row.sealed_session,
        },
        price_per_day: Money::new(row.price_per_day_minor, currency),
        leased_to: row.leased_to.map(WorkspaceId::from_uuid),
        leased_since: row.leased_since,
        leased_until: row.leased_until,
        retiring_since: row.retiring_since,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn version_number(sealed: &SealedPayload) -> StoreResult<i32> {
    i32::try_from(sealed.key_version.get()).map_err(|_| StoreError::backend("a key version beyond i32"))
}

/// Rows whose sealed payload is exactly `sealed` (owner, version and bytes).
fn sealed_as(sealed: &SealedPayload) -> StoreResult<Condition> {
    Ok(Condition::all()
        .add(Column::KeyOwner.eq(sealed.owner.to_text()))
        .add(Column::KeyVersion.eq(version_number(sealed)?))
        .add(Column::SealedSession.eq(sealed.ciphertext.clone())))
}

/// Statements setting the payload to `sealed`.
fn seal_columns(
    update: sea_orm::UpdateMany<telegram_accounts::Entity>,
    sealed: &SealedPayload,
) -> StoreResult<sea_orm::UpdateMany<telegram_accounts::Entity>> {
    Ok(update
        .col_expr(Column::KeyOwner, Expr::value(sealed.owner.to_text()))
        .col_expr(Column::KeyVersion, Expr::value(version_number(sealed)?))
        .col_expr(Column::SealedSession, Expr::value(sealed.ciphertext.clone())))
}

/// The account `id` if it is on offer or, given a `holder` workspace, leased to it.
async fn visible_account(
    conn: &impl sea_orm::ConnectionTrait,
    id: AccountId,
    holder: Option<Uuid>,
) -> StoreResult<Option<telegram_accounts::Model>> {
    let mut visible = Condition::any().add(Column::Status.eq(AccountStatus::Available.as_str()));
    if let Some(holder) = holder {
        visible = visible.add(Column::LeasedTo.eq(holder));
    }
    telegram_accounts::Entity::find_by_id(id.as_uuid())
        .filter(visible)
        .one(conn)
        .await
        .store()
}

#[async_trait]
impl<C: Conn> AccountRepository for Repo<C> {
    async fn insert_account(&self, account: &AccountRecord) -> StoreResult<()> {
        self.behind(Wall::NoTenant, async |db| {
            telegram_accounts::Entity::insert(telegram_accounts::ActiveModel {
                id: Set(account.id.as_uuid()),
                status: Set(account.status.as_str().to_owned()),
                sandbox: Set(account.sandbox),
                display_name: Set(account.profile.display_name.clone()),
                username: Set(account.profile.username.clone()),
                phone_masked: Set(account.profile.phone_masked.clone()),
                country: Set(account.profile.country.as_ref().map(|c| c.as_str().to_owned())),
                premium: Set(account.profile.premium),
                account_created: Set(account.profile.account_created),
                dc_id: Set(i16::from(account.dc_id)),
                telegram_user_id: Set(account.telegram_user_id),
                key_fingerprint: Set(account.key_fingerprint.to_vec()),
                key_owner: Set(account.sealed.owner.to_text()),
                key_version: Set(version_number(&account.sealed)?),
                sealed_session: Set(account.sealed.ciphertext.clone()),
                price_per_day_minor: Set(account.price_per_day.minor()),
                currency: Set(account.price_per_day.currency().code().to_owned()),
                leased_to: Set(account.leased_to.map(|w| w.as_uuid())),
                leased_since: Set(account.leased_since),
                leased_until: Set(account.leased_until),
                retiring_since: Set(account.retiring_since),
                created_at: Set(account.created_at),
                updated_at: Set(account.updated_at),
            })
            .exec_without_returning(db.conn())
            .await
            .store()?;
            Ok(())
        })
        .await
    }

    async fn find_account(&self, scope: Option<&TenantScope>, id: AccountId) -> StoreResult<Option<AccountRecord>> {
        let row = match scope {
            Some(scope) => {
                self.in_workspace(scope, async |db| visible_account(db.conn(), id, Some(db.id())).await)
                    .await?
            }
            None => {
                self.behind(Wall::NoTenant, async |db| visible_account(db.conn(), id, None).await)
                    .await?
            }
        };
        row.map(record).transpose()
    }

    async fn offered_accounts(
        &self,
        country: Option<&CountryCode>,
        after: Option<AccountId>,
        limit: u64,
    ) -> StoreResult<Vec<AccountRecord>> {
        let rows = self
            .behind(Wall::NoTenant, async |db| {
                let mut query = telegram_accounts::Entity::find()
                    .filter(Column::Status.eq(AccountStatus::Available.as_str()))
                    .order_by_asc(Column::Id)
                    .limit(limit);
                if let Some(country) = country {
                    query = query.filter(Column::Country.eq(country.as_str()));
                }
                if let Some(after) = after {
                    query = query.filter(Column::Id.gt(after.as_uuid()));
                }
                query.all(db.conn()).await.store()
            })
            .await?;
        rows.into_iter().map(record).collect()
    }

    async fn lease_account(
        &self,
        scope: &TenantScope,
        id: AccountId,
        expected: &SealedPayload,
        sealed: &SealedPayload,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let update = seal_columns(telegram_accounts::Entity::update_many(), sealed)?
                .col_expr(Column::Status, Expr::value(AccountStatus::Leased.as_str()))
                .col_expr(Column::LeasedTo, Expr::value(db.id()))
                .col_expr(Column::LeasedSince, Expr::value(now))
                .col_expr(Column::LeasedUntil, Expr::value(until))
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(Column::Id.eq(id.as_uuid()))
                .filter(Column::Status.eq(AccountStatus::Available.as_str()))
                .filter(Column::LeasedTo.is_null())
                .filter(sealed_as(expected)?);
            let result = update.exec(db.conn()).await.store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn extend_account_lease(
        &self,
        scope: &TenantScope,
        id: AccountId,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.in_workspace(scope, async |db| {
            let result = telegram_accounts::Entity::update_many()
                .col_expr(Column::LeasedUntil, Expr::value(until))
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(Column::Id.eq(id.as_uuid()))
                .filter(Column::Status.eq(AccountStatus::Leased.as_str()))
                .filter(Column::LeasedTo.eq(db.id()))
                .filter(Column::RetiringSince.is_null())
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn return_account(
        &self,
        scope: &TenantScope,
        id: AccountId,
        expected: &SealedPayload,
        sealed: &SealedPayload,
        to: AccountStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        if to == AccountStatus::Leased {
            return Err(StoreError::backend(
                "an account is returned to the pool or retired, not leased",
            ));
        }
        self.in_workspace(scope, async |db| {
            let mut update = seal_columns(telegram_accounts::Entity::update_many(), sealed)?
                .col_expr(Column::Status, Expr::value(to.as_str()))
                .col_expr(Column::LeasedTo, Expr::value(Option::<Uuid>::None))
                .col_expr(Column::LeasedSince, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(Column::LeasedUntil, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(Column::Id.eq(id.as_uuid()))
                .filter(Column::Status.eq(AccountStatus::Leased.as_str()))
                .filter(Column::LeasedTo.eq(db.id()))
                .filter(sealed_as(expected)?);
            if to == AccountStatus::Available {
                // Staff retiring it meanwhile: it is never offered again (the caller reads the mark and retries).
                update = update.filter(Column::RetiringSince.is_null());
            }
            let result = update.exec(db.conn()).await.store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    async fn held_accounts(&self, scope: &TenantScope, ids: &[AccountId]) -> StoreResult<Vec<AccountRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .in_workspace(scope, async |db| {
                telegram_accounts::Entity::find()
                    .filter(Column::LeasedTo.eq(db.id()))
                    .filter(Column::Status.eq(AccountStatus::Leased.as_str()))
                    .filter(Column::Id.is_in(ids.iter().map(|id| id.as_uuid())))
                    .all(db.conn())
                    .await
                    .store()
            })
            .await?;
        rows.into_iter().map(record).collect()
    }

    async fn leased_accounts(
        &self,
        scope: &TenantScope,
        after: Option<AccountId>,
        limit: u64,
    ) -> StoreResult<Vec<AccountRecord>> {
        let rows = self
            .in_workspace(scope, async |db| {
                let mut query = telegram_accounts::Entity::find()
                    .filter(Column::LeasedTo.eq(db.id()))
                    .filter(Column::Status.eq(AccountStatus::Leased.as_str()))
                    .order_by_asc(Column::Id)
                    .limit(limit);
                if let Some(after) = after {
                    query = query.filter(Column::Id.gt(after.as_uuid()));
                }
                query.all(db.conn()).await.store()
            })
            .await?;
        rows.into_iter().map(record).collect()
    }

    async fn accounts_sealed_before(
        &self,
        owner: KeyOwner,
        below: KeyVersion,
        after: Option<AccountId>,
        limit: u64,
    ) -> StoreResult<Vec<AccountRecord>> {
        let below = i32::try_from(below.get()).map_err(|_| StoreError::backend("a key version beyond i32"))?;
        let rows = self
            .behind(owner_wall(owner), async |db| {
                let mut query = telegram_accounts::Entity::find()
                    .filter(Column::KeyOwner.eq(owner.to_text()))
                    .filter(Column::KeyVersion.lt(below))
                    .order_by_asc(Column::Id)
                    .limit(limit);
                if let Some(after) = after {
                    query = query.filter(Column::Id.gt(after.as_uuid()));
                }
                query.all(db.conn()).await.store()
            })
            .await?;
        rows.into_iter().map(record).collect()
    }

    async fn replace_sealed_payload(
        &self,
        id: AccountId,
        expected: &SealedPayload,
        sealed: &SealedPayload,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        if sealed.owner != expected.owner {
            return Err(StoreError::backend("a re-sealed payload must keep its owner"));
        }
        self.behind(owner_wall(expected.owner), async |db| {
            let result = seal_columns(telegram_accounts::Entity::update_many(), sealed)?
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(Column::Id.eq(id.as_uuid()))
                .filter(sealed_as(expected)?)
                .exec(db.conn())
                .await
                .store()?;
            Ok(result.rows_affected == 1)
        })
        .await
    }
}

/// The wall a payload's owner stands behind: its workspace's, or none for the platform's pool.
fn owner_wall(owner: KeyOwner) -> Wall<'static> {
    match owner {
        KeyOwner::Workspace(workspace) => Wall::Workspace(workspace),
        KeyOwner::Platform | KeyOwner::BackupCodes => Wall::NoTenant,
    }
}
