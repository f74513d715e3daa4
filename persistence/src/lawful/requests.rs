//! [`LawfulRequestRepository`]: the register as two append-only tables, a registration row and one row per
//! later step, read back folded into one record.
//!
//! Rules: nothing here updates or deletes (the tables' triggers would refuse it on both databases); every
//! statement runs behind no wall ([`Wall::NoTenant`]), the only place PostgreSQL's policy shows the register;
//! a repeated reference or step comes back as the unique rule it breaks.

use async_trait::async_trait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use tgos_domain::compliance::lawful::ports::LawfulRequestRepository;
use tgos_domain::compliance::lawful::{Category, DisclosureScope, LawfulRequest, LawfulStep, PackageName, StepKind};
use tgos_domain::ids::{LawfulRequestId, LawfulStepId, UserId, WorkspaceId};
use tgos_domain::store::{StoreError, StoreResult};
use uuid::Uuid;

use crate::entities::{lawful_request_events as steps, lawful_requests as rows};
use crate::errors::DbResultExt as _;
use crate::repo::{Conn, Repo};
use crate::wall::Wall;

fn corrupt(what: &str) -> StoreError {
    StoreError::backend(format!("lawful_requests: unreadable {what}"))
}

fn ids<T: std::str::FromStr>(text: &str, what: &str) -> StoreResult<Vec<T>> {
    let texts: Vec<String> = serde_json::from_str(text).map_err(|_| corrupt(what))?;
    texts.iter().map(|t| t.parse().map_err(|_| corrupt(what))).collect()
}

fn to_record(row: rows::Model) -> StoreResult<LawfulRequest> {
    let categories = serde_json::from_str::<Vec<String>>(&row.scope_categories)
        .map_err(|_| corrupt("categories"))?
        .iter()
        .map(|name| Category::parse(name).ok_or_else(|| corrupt("categories")))
        .collect::<StoreResult<Vec<_>>>()?;
    let scope = DisclosureScope::new(
        ids::<UserId>(&row.scope_users, "users")?,
        ids::<WorkspaceId>(&row.scope_workspaces, "workspaces")?,
        categories,
        row.period_from,
        row.period_to,
    )
    .map_err(|_| corrupt("scope"))?;
    Ok(LawfulRequest {
        id: LawfulRequestId::from_uuid(row.id),
        authority: row.authority,
        reference: row.reference,
        legal_basis: row.legal_basis,
        received_on: row.received_on,
        due_on: row.due_on,
        scope,
        notes: row.notes,
        registered_by: UserId::from_uuid(row.registered_by),
        registered_at: row.registered_at,
        approval: None,
        package: None,
        delivery: None,
    })
}

fn to_step(row: steps::Model) -> StoreResult<LawfulStep> {
    let kind = match row.step.as_str() {
        "APPROVED" => StepKind::Approved,
        "PACKAGED" => StepKind::Packaged {
            file: row
                .package_file
                .as_deref()
                .and_then(PackageName::parse)
                .ok_or_else(|| corrupt("package file"))?,
            bytes: row
                .package_bytes
                .and_then(|bytes| u64::try_from(bytes).ok())
                .ok_or_else(|| corrupt("package size"))?,
            sha256: row.package_sha256.ok_or_else(|| corrupt("package digest"))?,
        },
        "DELIVERED" => StepKind::Delivered { note: row.note },
        _ => return Err(corrupt("step")),
    };
    Ok(LawfulStep {
        id: LawfulStepId::from_uuid(row.id),
        request: LawfulRequestId::from_uuid(row.request_id),
        staff: UserId::from_uuid(row.staff_id),
        at: row.at,
        kind,
    })
}

fn to_row(request: &LawfulRequest) -> StoreResult<rows::ActiveModel> {
    let scope = &request.scope;
    let json = |value: Vec<String>| serde_json::to_string(&value).map_err(StoreError::backend);
    Ok(rows::ActiveModel {
        id: Set(request.id.as_uuid()),
        authority: Set(request.authority.clone()),
        reference: Set(request.reference.clone()),
        legal_basis: Set(request.legal_basis.clone()),
        received_on: Set(request.received_on),
        due_on: Set(request.due_on),
        scope_users: Set(json(scope.users().iter().map(ToString::to_string).collect())?),
        scope_workspaces: Set(json(scope.workspaces().iter().map(ToString::to_string).collect())?),
        scope_categories: Set(json(
            scope.categories().iter().map(|c| c.as_str().to_owned()).collect(),
        )?),
        period_from: Set(scope.period().from()),
        period_to: Set(scope.period().to()),
        notes: Set(request.notes.clone()),
        registered_by: Set(request.registered_by.as_uuid()),
        registered_at: Set(request.registered_at),
    })
}

fn step_row(step: &LawfulStep) -> steps::ActiveModel {
    let (file, bytes, sha256, note) = match &step.kind {
        StepKind::Approved => (None, None, None, None),
        StepKind::Packaged { file, bytes, sha256 } => (
            Some(file.as_str().to_owned()),
            Some(i64::try_from(*bytes).unwrap_or(i64::MAX)),
            Some(sha256.clone()),
            None,
        ),
        StepKind::Delivered { note } => (None, None, None, note.clone()),
    };
    steps::ActiveModel {
        id: Set(step.id.as_uuid()),
        request_id: Set(step.request.as_uuid()),
        step: Set(step.kind.as_str().to_owned()),
        staff_id: Set(step.staff.as_uuid()),
        at: Set(step.at),
        package_file: Set(file),
        package_bytes: Set(bytes),
        package_sha256: Set(sha256),
        note: Set(note),
    }
}

/// `requests` with the steps stored for them folded in.
async fn with_steps(
    conn: &impl sea_orm::ConnectionTrait,
    requests: Vec<LawfulRequest>,
) -> StoreResult<Vec<LawfulRequest>> {
    if requests.is_empty() {
        return Ok(requests);
    }
    let ids: Vec<Uuid> = requests.iter().map(|r| r.id.as_uuid()).collect();
    let mut taken = steps::Entity::find()
        .filter(steps::Column::RequestId.is_in(ids))
        .order_by_asc(steps::Column::At)
        .order_by_asc(steps::Column::Id)
        .all(conn)
        .await
        .store()?
        .into_iter()
        .map(to_step)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(requests
        .into_iter()
        .map(|request| {
            let (mine, rest): (Vec<_>, Vec<_>) = taken.drain(..).partition(|s| s.request == request.id);
            taken = rest;
            mine.into_iter().fold(request, LawfulRequest::with_step)
        })
        .collect())
}

#[async_trait]
impl<C: Conn> LawfulRequestRepository for Repo<C> {
    async fn insert_lawful_request(&self, request: &LawfulRequest) -> StoreResult<()> {
        let row = to_row(request)?;
        self.behind(Wall::NoTenant, async |db| {
            rows::Entity::insert(row)
                .exec_without_returning(db.conn())
                .await
                .store()?;
            Ok(())
        })
        .await
    }

    async fn lawful_request(&self, id: LawfulRequestId) -> StoreResult<Option<LawfulRequest>> {
        self.behind(Wall::NoTenant, async |db| {
            let Some(row) = rows::Entity::find_by_id(id.as_uuid()).one(db.conn()).await.store()? else {
                return Ok(None);
            };
            Ok(with_steps(db.conn(), vec![to_record(row)?]).await?.pop())
        })
        .await
    }

    async fn lawful_requests(&self, after: Option<LawfulRequestId>, limit: u64) -> StoreResult<Vec<LawfulRequest>> {
        self.behind(Wall::NoTenant, async |db| {
            let mut select = rows::Entity::find().order_by_desc(rows::Column::Id).limit(limit);
            if let Some(after) = after {
                select = select.filter(rows::Column::Id.lt(after.as_uuid()));
            }
            let requests = select
                .all(db.conn())
                .await
                .store()?
                .into_iter()
                .map(to_record)
                .collect::<StoreResult<Vec<_>>>()?;
            with_steps(db.conn(), requests).await
        })
        .await
    }

    async fn append_lawful_step(&self, step: &LawfulStep) -> StoreResult<()> {
        let row = step_row(step);
        self.behind(Wall::NoTenant, async |db| {
            steps::Entity::insert(row)
                .exec_without_returning(db.conn())
                .await
                .store()?;
            Ok(())
        })
        .await
    }
}
