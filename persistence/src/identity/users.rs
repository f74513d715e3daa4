//! Users, their second factor and backup codes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _,
};
use tgos_domain::identity::ports::{TotpSlot, UserRepository};
use tgos_domain::identity::records::UserRecord;
use tgos_domain::ids::UserId;
use tgos_domain::store::StoreResult;

use crate::entities::{backup_codes, sessions, users};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};

pub(crate) fn to_record(row: users::Model) -> UserRecord {
    UserRecord {
        id: UserId::from_uuid(row.id),
        email: row.email,
        email_key: row.email_key,
        full_name: row.full_name,
        username: row.username,
        username_key: row.username_key,
        password_hash: row.password_hash,
        is_staff: row.is_staff,
        totp_secret_sealed: row.totp_secret_sealed,
        totp_pending_sealed: row.totp_pending_sealed,
        totp_last_step: row.totp_last_step,
        created_at: row.created_at,
        email_verified_at: row.email_verified_at,
        pending_email: row.pending_email,
        age_confirmed_at: row.age_confirmed_at,
        policy_version: row.policy_version,
        notify_billing: row.notify_billing,
        notify_leases: row.notify_leases,
        closed_at: row.closed_at,
        erase_after: row.erase_after,
        restricted_at: row.restricted_at,
        suspended_at: row.suspended_at,
        suspension_reason: row.suspension_reason,
    }
}

async fn update_user<C: Conn>(conn: &C, id: UserId, row: users::ActiveModel) -> StoreResult<()> {
    users::Entity::update_many()
        .set(row)
        .filter(users::Column::Id.eq(id.as_uuid()))
        .exec(conn)
        .await
        .store()?;
    Ok(())
}

#[async_trait]
impl<C: Conn> UserRepository for Repo<C> {
    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()> {
        let row = users::ActiveModel {
            id: Set(user.id.as_uuid()),
            email: Set(user.email.clone()),
            email_key: Set(user.email_key.clone()),
            full_name: Set(user.full_name.clone()),
            username: Set(user.username.clone()),
            username_key: Set(user.username_key.clone()),
            password_hash: Set(user.password_hash.clone()),
            is_staff: Set(user.is_staff),
            totp_secret_sealed: Set(user.totp_secret_sealed.clone()),
            totp_pending_sealed: Set(user.totp_pending_sealed.clone()),
            totp_last_step: Set(user.totp_last_step),
            created_at: Set(user.created_at),
            email_verified_at: Set(user.email_verified_at),
            pending_email: Set(user.pending_email.clone()),
            age_confirmed_at: Set(user.age_confirmed_at),
            policy_version: Set(user.policy_version.clone()),
            notify_billing: Set(user.notify_billing),
            notify_leases: Set(user.notify_leases),
            closed_at: Set(user.closed_at),
            erase_after: Set(user.erase_after),
            restricted_at: Set(user.restricted_at),
            suspended_at: Set(user.suspended_at),
            suspension_reason: Set(user.suspension_reason.clone()),
        };
        users::Entity::insert(row)
            .exec_without_returning(&self.0)
            .await
            .store()?;
        Ok(())
    }

    async fn find_user(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        let row = users::Entity::find_by_id(id.as_uuid()).one(&self.0).await.store()?;
        Ok(row.map(to_record))
    }

    async fn find_user_by_login(&self, login_key: &str) -> StoreResult<Option<UserRecord>> {
        let row = users::Entity::find()
            .filter(
                Condition::any()
                    .add(users::Column::EmailKey.eq(login_key))
                    .add(users::Column::UsernameKey.eq(login_key)),
            )
            .one(&self.0)
            .await
            .store()?;
        Ok(row.map(to_record))
    }

    async fn count_staff(&self) -> StoreResult<u64> {
        users::Entity::find()
            .filter(users::Column::IsStaff.eq(true))
            .count(&self.0)
            .await
            .store()
    }

    async fn set_password_hash(&self, id: UserId, password_hash: &str) -> StoreResult<()> {
        let row = users::ActiveModel {
            password_hash: Set(password_hash.to_owned()),
            ..Default::default()
        };
        update_user(&self.0, id, row).await
    }

    async fn set_pending_totp(&self, id: UserId, sealed: Option<&[u8]>) -> StoreResult<()> {
        let row = users::ActiveModel {
            totp_pending_sealed: Set(sealed.map(<[u8]>::to_vec)),
            ..Default::default()
        };
        update_user(&self.0, id, row).await
    }

    async fn enable_totp(&self, id: UserId, sealed: &[u8], accepted_step: i64) -> StoreResult<()> {
        let row = users::ActiveModel {
            totp_secret_sealed: Set(Some(sealed.to_vec())),
            totp_pending_sealed: Set(None),
            totp_last_step: Set(Some(accepted_step)),
            ..Default::default()
        };
        update_user(&self.0, id, row).await
    }

    async fn disable_totp(&self, id: UserId) -> StoreResult<()> {
        let row = users::ActiveModel {
            totp_secret_sealed: Set(None),
            totp_pending_sealed: Set(None),
            ..Default::default()
        };
        update_user(&self.0, id, row).await?;
        backup_codes::Entity::delete_many()
            .filter(backup_codes::Column::UserId.eq(id.as_uuid()))
            .exec(&self.0)
            .await
            .store()?;
        Ok(())
    }

    async fn advance_totp_step(&self, id: UserId, step: i64) -> StoreResult<bool> {
        let result = users::Entity::update_many()
            .col_expr(users::Column::TotpLastStep, Expr::value(step))
            .filter(users::Column::Id.eq(id.as_uuid()))
            .filter(
                Condition::any()
                    .add(users::Column::TotpLastStep.is_null())
                    .add(users::Column::TotpLastStep.lt(step)),
            )
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn replace_backup_codes(&self, id: UserId, hashes: &[Vec<u8>], now: DateTime<Utc>) -> StoreResult<()> {
        backup_codes::Entity::delete_many()
            .filter(backup_codes::Column::UserId.eq(id.as_uuid()))
            .exec(&self.0)
            .await
            .store()?;
        let rows = hashes.iter().map(|hash| backup_codes::ActiveModel {
            user_id: Set(id.as_uuid()),
            code_hash: Set(hash.clone()),
            created_at: Set(now),
            used_at: Set(None),
            keyed: Set(true),
        });
        backup_codes::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([backup_codes::Column::UserId, backup_codes::Column::CodeHash])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.0)
            .await
            .store()?;
        Ok(())
    }

    async fn consume_backup_code(&self, id: UserId, hash: &[u8], now: DateTime<Utc>) -> StoreResult<bool> {
        let result = backup_codes::Entity::update_many()
            .col_expr(backup_codes::Column::UsedAt, Expr::value(now))
            .filter(backup_codes::Column::UserId.eq(id.as_uuid()))
            .filter(backup_codes::Column::CodeHash.eq(hash.to_vec()))
            .filter(backup_codes::Column::Keyed.eq(true))
            .filter(backup_codes::Column::UsedAt.is_null())
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn unkeyed_backup_codes(&self, limit: u64) -> StoreResult<Vec<(UserId, Vec<u8>)>> {
        let rows = backup_codes::Entity::find()
            .filter(backup_codes::Column::Keyed.eq(false))
            .order_by_asc(backup_codes::Column::UserId)
            .order_by_asc(backup_codes::Column::CodeHash)
            .limit(limit)
            .all(&self.0)
            .await
            .store()?;
        Ok(rows
            .into_iter()
            .map(|row| (UserId::from_uuid(row.user_id), row.code_hash))
            .collect())
    }

    async fn key_backup_code(&self, id: UserId, digest: &[u8], keyed_hash: &[u8]) -> StoreResult<bool> {
        let result = backup_codes::Entity::update_many()
            .col_expr(backup_codes::Column::CodeHash, Expr::value(keyed_hash.to_vec()))
            .col_expr(backup_codes::Column::Keyed, Expr::value(true))
            .filter(backup_codes::Column::UserId.eq(id.as_uuid()))
            .filter(backup_codes::Column::CodeHash.eq(digest.to_vec()))
            .filter(backup_codes::Column::Keyed.eq(false))
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn count_unused_backup_codes(&self, id: UserId) -> StoreResult<u64> {
        backup_codes::Entity::find()
            .filter(backup_codes::Column::UserId.eq(id.as_uuid()))
            .filter(backup_codes::Column::UsedAt.is_null())
            .count(&self.0)
            .await
            .store()
    }

    async fn users_with_sealed_totp(&self, after: Option<UserId>, limit: u64) -> StoreResult<Vec<UserRecord>> {
        let mut query = users::Entity::find().filter(
            Condition::any()
                .add(users::Column::TotpSecretSealed.is_not_null())
                .add(users::Column::TotpPendingSealed.is_not_null()),
        );
        if let Some(after) = after {
            query = query.filter(users::Column::Id.gt(after.as_uuid()));
        }
        let rows = query
            .order_by_asc(users::Column::Id)
            .limit(limit)
            .all(&self.0)
            .await
            .store()?;
        Ok(rows.into_iter().map(to_record).collect())
    }

    async fn replace_sealed_totp(
        &self,
        id: UserId,
        slot: TotpSlot,
        expected: &[u8],
        replacement: &[u8],
    ) -> StoreResult<bool> {
        let column = match slot {
            TotpSlot::Active => users::Column::TotpSecretSealed,
            TotpSlot::Pending => users::Column::TotpPendingSealed,
        };
        let result = users::Entity::update_many()
            .col_expr(column, Expr::value(replacement.to_vec()))
            .filter(users::Column::Id.eq(id.as_uuid()))
            .filter(column.eq(expected.to_vec()))
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn mark_email_verified(&self, id: UserId, email_key: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let result = users::Entity::update_many()
            .col_expr(users::Column::EmailVerifiedAt, Expr::value(at))
            .filter(users::Column::Id.eq(id.as_uuid()))
            .filter(users::Column::EmailKey.eq(email_key))
            .filter(users::Column::EmailVerifiedAt.is_null())
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn set_pending_email(&self, id: UserId, pending: Option<&str>) -> StoreResult<()> {
        let row = users::ActiveModel {
            pending_email: Set(pending.map(str::to_owned)),
            ..Default::default()
        };
        update_user(&self.0, id, row).await
    }

    async fn apply_pending_email(
        &self,
        id: UserId,
        email_key: &str,
        pending: &str,
        pending_key: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let result = users::Entity::update_many()
            .col_expr(users::Column::Email, Expr::value(pending))
            .col_expr(users::Column::EmailKey, Expr::value(pending_key))
            .col_expr(users::Column::EmailVerifiedAt, Expr::value(at))
            .col_expr(users::Column::PendingEmail, Expr::value(Option::<String>::None))
            .filter(users::Column::Id.eq(id.as_uuid()))
            .filter(users::Column::EmailKey.eq(email_key))
            .filter(users::Column::PendingEmail.eq(pending))
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn update_profile(&self, id: UserId, full_name: &str, username: &str, username_key: &str) -> StoreResult<()> {
        let row = users::ActiveModel {
            full_name: Set(full_name.to_owned()),
            username: Set(username.to_owned()),
            username_key: Set(username_key.to_owned()),
            ..Default::default()
        };
        update_user(&self.0, id, row).await
    }

    async fn set_notice_preferences(&self, id: UserId, billing: bool, leases: bool) -> StoreResult<()> {
        let row = users::ActiveModel {
            notify_billing: Set(billing),
            notify_leases: Set(leases),
            ..Default::default()
        };
        update_user(&self.0, id, row).await
    }

    async fn set_restricted(&self, id: UserId, at: Option<DateTime<Utc>>) -> StoreResult<()> {
        let row = users::ActiveModel {
            restricted_at: Set(at),
            ..Default::default()
        };
        update_user(&self.0, id, row).await
    }

    async fn set_suspended(&self, id: UserId, at: Option<DateTime<Utc>>, reason: Option<&str>) -> StoreResult<()> {
        let row = users::ActiveModel {
            suspended_at: Set(at),
            suspension_reason: Set(reason.map(str::to_owned)),
            ..Default::default()
        };
        update_user(&self.0, id, row).await
    }

    async fn seen_client(&self, id: UserId, ip_address: Option<&str>, user_agent: Option<&str>) -> StoreResult<bool> {
        let checks = [
            ip_address.map(|ip| sessions::Column::IpAddress.eq(ip)),
            user_agent.map(|agent| sessions::Column::UserAgent.eq(agent)),
        ];
        for check in checks.into_iter().flatten() {
            let found = sessions::Entity::find()
                .filter(sessions::Column::UserId.eq(id.as_uuid()))
                .filter(check)
                .limit(1)
                .count(&self.0)
                .await
                .store()?;
            if found == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
