//! [`DataSubjectRequestRepository`]: a person's own rows (no tenant wall; every query names the subject or
//! the request). A second export in progress breaks the one-export index and comes back as
//! `UniqueViolation(ONE_EXPORT_AT_A_TIME)`.

use async_trait::async_trait;
use sea_orm::{ActiveValue::Set, ColumnTrait as _, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _, SqlErr};
use tgos_domain::ids::{DataSubjectRequestId, UserId};
use tgos_domain::privacy::ports::{DataSubjectRequestRepository, ONE_EXPORT_AT_A_TIME};
use tgos_domain::privacy::records::{DataSubjectRequest, ExportArchive, RequestChannel, RequestKind, RequestStatus};
use tgos_domain::store::{StoreError, StoreResult};

use crate::entities::data_subject_requests as rows;
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};

fn to_record(row: rows::Model) -> StoreResult<DataSubjectRequest> {
    let bad = |what: &str| StoreError::backend(format!("data_subject_requests: unknown {what}"));
    let archive = match (row.export_token_hash, row.export_ready_at, row.export_expires_at) {
        (Some(token_hash), Some(ready_at), Some(expires_at)) => Some(ExportArchive {
            token_hash,
            ready_at,
            expires_at,
            expired_at: row.export_expired_at,
            bytes: u64::try_from(row.export_bytes.unwrap_or(0)).unwrap_or(0),
        }),
        _ => None,
    };
    Ok(DataSubjectRequest {
        id: DataSubjectRequestId::from_uuid(row.id),
        user_id: UserId::from_uuid(row.user_id),
        kind: RequestKind::parse(&row.kind).ok_or_else(|| bad("kind"))?,
        status: RequestStatus::parse(&row.status).ok_or_else(|| bad("status"))?,
        channel: RequestChannel::parse(&row.channel).ok_or_else(|| bad("channel"))?,
        details: row.details,
        received_at: row.received_at,
        due_at: row.due_at,
        extended_until: row.extended_until,
        extension_reason: row.extension_reason,
        completed_at: row.completed_at,
        resolution: row.resolution,
        archive,
        updated_at: row.updated_at,
    })
}

fn to_row(request: &DataSubjectRequest) -> rows::ActiveModel {
    let archive = request.archive.as_ref();
    rows::ActiveModel {
        id: Set(request.id.as_uuid()),
        user_id: Set(request.user_id.as_uuid()),
        kind: Set(request.kind.as_str().to_owned()),
        status: Set(request.status.as_str().to_owned()),
        channel: Set(request.channel.as_str().to_owned()),
        details: Set(request.details.clone()),
        received_at: Set(request.received_at),
        due_at: Set(request.due_at),
        extended_until: Set(request.extended_until),
        extension_reason: Set(request.extension_reason.clone()),
        completed_at: Set(request.completed_at),
        resolution: Set(request.resolution.clone()),
        export_token_hash: Set(archive.map(|a| a.token_hash.clone())),
        export_ready_at: Set(archive.map(|a| a.ready_at)),
        export_expires_at: Set(archive.map(|a| a.expires_at)),
        export_expired_at: Set(archive.and_then(|a| a.expired_at)),
        export_bytes: Set(archive.map(|a| i64::try_from(a.bytes).unwrap_or(i64::MAX))),
        updated_at: Set(request.updated_at),
    }
}

#[async_trait]
impl<C: Conn> DataSubjectRequestRepository for Repo<C> {
    async fn insert_request(&self, request: &DataSubjectRequest) -> StoreResult<()> {
        match rows::Entity::insert(to_row(request))
            .exec_without_returning(&self.0)
            .await
        {
            Err(error @ DbErr::Exec(_) | error @ DbErr::Query(_))
                if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
            {
                // The id is fresh and no token is set yet: only the one-export index can be broken.
                Err(StoreError::UniqueViolation(ONE_EXPORT_AT_A_TIME))
            }
            other => other.map(|_| ()).store(),
        }
    }

    async fn request_by_id(&self, id: DataSubjectRequestId) -> StoreResult<Option<DataSubjectRequest>> {
        let row = rows::Entity::find_by_id(id.as_uuid()).one(&self.0).await.store()?;
        row.map(to_record).transpose()
    }

    async fn list_requests(&self, user: UserId) -> StoreResult<Vec<DataSubjectRequest>> {
        rows::Entity::find()
            .filter(rows::Column::UserId.eq(user.as_uuid()))
            .order_by_desc(rows::Column::ReceivedAt)
            .order_by_desc(rows::Column::Id)
            .all(&self.0)
            .await
            .store()?
            .into_iter()
            .map(to_record)
            .collect()
    }

    async fn update_request(&self, request: &DataSubjectRequest, expected: RequestStatus) -> StoreResult<bool> {
        let mut row = to_row(request);
        row.id = sea_orm::ActiveValue::NotSet;
        row.user_id = sea_orm::ActiveValue::NotSet;
        row.kind = sea_orm::ActiveValue::NotSet;
        row.received_at = sea_orm::ActiveValue::NotSet;
        let result = rows::Entity::update_many()
            .set(row)
            .filter(rows::Column::Id.eq(request.id.as_uuid()))
            .filter(rows::Column::Status.eq(expected.as_str()))
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }

    async fn request_by_token(&self, token_hash: &[u8]) -> StoreResult<Option<DataSubjectRequest>> {
        let row = rows::Entity::find()
            .filter(rows::Column::ExportTokenHash.eq(token_hash.to_vec()))
            .one(&self.0)
            .await
            .store()?;
        row.map(to_record).transpose()
    }
}
