//! Sessions and sign-in challenges.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _};
use tgos_domain::identity::ports::SessionRepository;
use tgos_domain::identity::records::{ChallengeRecord, SessionRecord, UserRecord};
use tgos_domain::ids::{SessionId, UserId};
use tgos_domain::store::StoreResult;

use crate::entities::{sessions, sign_in_challenges, users};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};

fn to_record(row: sessions::Model) -> SessionRecord {
    SessionRecord {
        id: SessionId::from_uuid(row.id),
        user_id: UserId::from_uuid(row.user_id),
        token_hash: row.token_hash,
        created_at: row.created_at,
        last_seen_at: row.last_seen_at,
        expires_at: row.expires_at,
        ip_address: row.ip_address,
        user_agent: row.user_agent,
        revoked_at: row.revoked_at,
        reauthenticated_at: row.reauthenticated_at,
    }
}

#[async_trait]
impl<C: Conn> SessionRepository for Repo<C> {
    async fn insert_session(&self, session: &SessionRecord) -> StoreResult<()> {
        let row = sessions::ActiveModel {
            id: Set(session.id.as_uuid()),
            user_id: Set(session.user_id.as_uuid()),
            token_hash: Set(session.token_hash.clone()),
            created_at: Set(session.created_at),
            last_seen_at: Set(session.last_seen_at),
            expires_at: Set(session.expires_at),
            ip_address: Set(session.ip_address.clone()),
            user_agent: Set(session.user_agent.clone()),
            revoked_at: Set(session.revoked_at),
            reauthenticated_at: Set(session.reauthenticated_at),
        };
        sessions::Entity::insert(row)
            .exec_without_returning(&self.0)
            .await
            .store()?;
        Ok(())
    }

    async fn find_session_with_user(&self, token_hash: &[u8]) -> StoreResult<Option<(SessionRecord, UserRecord)>> {
        let row = sessions::Entity::find()
            .find_also_related(users::Entity)
            .filter(sessions::Column::TokenHash.eq(token_hash.to_vec()))
            .one(&self.0)
            .await
            .store()?;
        Ok(row.and_then(|(session, user)| Some((to_record(session), super::users::to_record(user?)))))
    }

    async fn find_session(&self, session: SessionId) -> StoreResult<Option<SessionRecord>> {
        let row = sessions::Entity::find_by_id(session.as_uuid())
            .one(&self.0)
            .await
            .store()?;
        Ok(row.map(to_record))
    }

    async fn list_live_sessions(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        seen_since: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionRecord>> {
        let rows = sessions::Entity::find()
            .filter(sessions::Column::UserId.eq(user.as_uuid()))
            .filter(sessions::Column::RevokedAt.is_null())
            .filter(sessions::Column::ExpiresAt.gt(now))
            .filter(sessions::Column::LastSeenAt.gt(seen_since))
            .order_by_desc(sessions::Column::CreatedAt)
            .all(&self.0)
            .await
            .store()?;
        Ok(rows.into_iter().map(to_record).collect())
    }

    async fn revoke_session(&self, user: UserId, session: SessionId, now: DateTime<Utc>) -> StoreResult<bool> {
        let result = sessions::Entity::update_many()
            .col_expr(sessions::Column::RevokedAt, Expr::value(now))
            .filter(sessions::Column::Id.eq(session.as_uuid()))
            .filter(sessions::Column::UserId.eq(user.as_uuid()))
            .filter(sessions::Column::RevokedAt.is_null())
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn revoke_other_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut update = sessions::Entity::update_many()
            .col_expr(sessions::Column::RevokedAt, Expr::value(now))
            .filter(sessions::Column::UserId.eq(user.as_uuid()))
            .filter(sessions::Column::RevokedAt.is_null());
        if let Some(keep) = keep {
            update = update.filter(sessions::Column::Id.ne(keep.as_uuid()));
        }
        Ok(update.exec(&self.0).await.store()?.rows_affected)
    }

    async fn mark_reauthenticated(&self, user: UserId, session: SessionId, now: DateTime<Utc>) -> StoreResult<bool> {
        let result = sessions::Entity::update_many()
            .col_expr(sessions::Column::ReauthenticatedAt, Expr::value(now))
            .filter(sessions::Column::Id.eq(session.as_uuid()))
            .filter(sessions::Column::UserId.eq(user.as_uuid()))
            .filter(sessions::Column::RevokedAt.is_null())
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn touch_session(&self, session: SessionId, now: DateTime<Utc>) -> StoreResult<()> {
        sessions::Entity::update_many()
            .col_expr(sessions::Column::LastSeenAt, Expr::value(now))
            .filter(sessions::Column::Id.eq(session.as_uuid()))
            .exec(&self.0)
            .await
            .store()?;
        Ok(())
    }

    async fn insert_challenge(&self, challenge: &ChallengeRecord) -> StoreResult<()> {
        let row = sign_in_challenges::ActiveModel {
            token_hash: Set(challenge.token_hash.clone()),
            user_id: Set(challenge.user_id.as_uuid()),
            created_at: Set(challenge.created_at),
            expires_at: Set(challenge.expires_at),
            consumed_at: Set(challenge.consumed_at),
        };
        sign_in_challenges::Entity::insert(row)
            .exec_without_returning(&self.0)
            .await
            .store()?;
        Ok(())
    }

    async fn find_challenge(&self, token_hash: &[u8]) -> StoreResult<Option<ChallengeRecord>> {
        let row = sign_in_challenges::Entity::find_by_id(token_hash.to_vec())
            .one(&self.0)
            .await
            .store()?;
        Ok(row.map(|row| ChallengeRecord {
            token_hash: row.token_hash,
            user_id: UserId::from_uuid(row.user_id),
            created_at: row.created_at,
            expires_at: row.expires_at,
            consumed_at: row.consumed_at,
        }))
    }

    async fn consume_challenge(&self, token_hash: &[u8], now: DateTime<Utc>) -> StoreResult<bool> {
        let result = sign_in_challenges::Entity::update_many()
            .col_expr(sign_in_challenges::Column::ConsumedAt, Expr::value(now))
            .filter(sign_in_challenges::Column::TokenHash.eq(token_hash.to_vec()))
            .filter(sign_in_challenges::Column::ConsumedAt.is_null())
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }
}
