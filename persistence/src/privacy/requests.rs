//! [`DataSubjectRequestRepository`]: a person's own rows (no tenant wall; every query names the subject or
//! the request). A second export in progress breaks the one-export index and comes back as
//! `UniqueViolation(ONE_EXPORT_AT_A_TIME)`. A use case that counts a person's requests first takes the
//! person's lock ([`DataSubjectRequestRepository::lock_requests_of`]: their account row, `FOR NO KEY UPDATE`).

use async_trait::async_trait;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, LockType, Order};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    SqlErr,
};
use tgos_domain::ids::{DataSubjectRequestId, UserId};
use tgos_domain::privacy::ports::{DataSubjectRequestRepository, ONE_EXPORT_AT_A_TIME, QueueFilter, QueuedRequest};
use tgos_domain::privacy::records::{
    DataSubjectRequest, ExportArchive, ObjectionDecision, RequestChannel, RequestKind, RequestStatus, StaffHandling,
};
use tgos_domain::store::{StoreError, StoreResult};

use crate::entities::{data_subject_requests as rows, users};
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
        handling: StaffHandling {
            verification_method: row.verification_method,
            verified_at: row.verified_at,
            verified_by: row.verified_by.map(UserId::from_uuid),
            erasure_proposed: row
                .erasure_proposed_by
                .map(UserId::from_uuid)
                .zip(row.erasure_proposed_at),
            erasure_approved: row
                .erasure_approved_by
                .map(UserId::from_uuid)
                .zip(row.erasure_approved_at),
            decision: match row.decision.as_deref() {
                Some(text) => Some(ObjectionDecision::parse(text).ok_or_else(|| bad("decision"))?),
                None => None,
            },
        },
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
        verification_method: Set(request.handling.verification_method.clone()),
        verified_at: Set(request.handling.verified_at),
        verified_by: Set(request.handling.verified_by.map(|id| id.as_uuid())),
        erasure_proposed_by: Set(request.handling.erasure_proposed.map(|(id, _)| id.as_uuid())),
        erasure_proposed_at: Set(request.handling.erasure_proposed.map(|(_, at)| at)),
        erasure_approved_by: Set(request.handling.erasure_approved.map(|(id, _)| id.as_uuid())),
        erasure_approved_at: Set(request.handling.erasure_approved.map(|(_, at)| at)),
        decision: Set(request.handling.decision.map(|d| d.as_str().to_owned())),
    }
}

#[async_trait]
impl<C: Conn> DataSubjectRequestRepository for Repo<C> {
    async fn lock_requests_of(&self, user: UserId) -> StoreResult<()> {
        // `users` has no tenant wall: the account row is the person's own.
        users::Entity::find_by_id(user.as_uuid())
            .select_only()
            .column(users::Column::Id)
            .lock(LockType::NoKeyUpdate)
            .into_tuple::<uuid::Uuid>()
            .one(&self.0)
            .await
            .store()?
            .map(|_| ())
            .ok_or_else(|| StoreError::backend("the person's account vanished"))
    }

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

    async fn queue_requests(&self, filter: &QueueFilter, limit: u64) -> StoreResult<Vec<QueuedRequest>> {
        let mut query = rows::Entity::find();
        if let Some(kind) = filter.kind {
            query = query.filter(rows::Column::Kind.eq(kind.as_str()));
        }
        if let Some(status) = filter.status {
            query = query.filter(rows::Column::Status.eq(status.as_str()));
        }
        if filter.open_only {
            query = query.filter(rows::Column::Status.is_not_in(["COMPLETED", "REJECTED"]));
        }
        if let Some(user) = filter.user {
            query = query.filter(rows::Column::UserId.eq(user.as_uuid()));
        }
        let found = query
            .order_by(
                Expr::cust("COALESCE(data_subject_requests.extended_until, data_subject_requests.due_at)"),
                Order::Asc,
            )
            .order_by_asc(rows::Column::Id)
            .limit(limit)
            .all(&self.0)
            .await
            .store()?;
        let ids: Vec<_> = found.iter().map(|row| row.user_id).collect();
        let people: HashMap<_, _> = users::Entity::find()
            .filter(users::Column::Id.is_in(ids))
            .all(&self.0)
            .await
            .store()?
            .into_iter()
            .map(|user| (user.id, user))
            .collect();
        found
            .into_iter()
            .map(|row| {
                let person = people.get(&row.user_id);
                Ok(QueuedRequest {
                    email: person.map(|p| p.email.clone()).unwrap_or_default(),
                    username: person.map(|p| p.username.clone()).unwrap_or_default(),
                    full_name: person.map(|p| p.full_name.clone()).unwrap_or_default(),
                    request: to_record(row)?,
                })
            })
            .collect()
    }

    async fn update_request_unchanged(
        &self,
        request: &DataSubjectRequest,
        read_at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut row = to_row(request);
        row.id = sea_orm::ActiveValue::NotSet;
        row.user_id = sea_orm::ActiveValue::NotSet;
        row.kind = sea_orm::ActiveValue::NotSet;
        row.received_at = sea_orm::ActiveValue::NotSet;
        let result = rows::Entity::update_many()
            .set(row)
            .filter(rows::Column::Id.eq(request.id.as_uuid()))
            .filter(rows::Column::UpdatedAt.eq(read_at))
            .exec(&self.0)
            .await;
        match result {
            Err(error @ DbErr::Exec(_) | error @ DbErr::Query(_))
                if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
            {
                // Only an export moving to IN_PROGRESS beside another can break an index here.
                Err(StoreError::UniqueViolation(ONE_EXPORT_AT_A_TIME))
            }
            other => Ok(other.store()?.rows_affected == 1),
        }
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
