//! [`StaffRepository`]: the staff flag and two-person approvals (platform records: no tenant wall; on
//! PostgreSQL `staff_approvals` is visible only behind no workspace's wall). Approving is one conditional
//! UPDATE, so two approvals at once leave one.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _};
use tgos_domain::compliance::{ApprovalAction, ApprovalRecord, StaffRepository};
use tgos_domain::identity::records::UserRecord;
use tgos_domain::ids::{StaffApprovalId, UserId};
use tgos_domain::store::StoreResult;

use crate::entities::{staff_approvals, users};
use crate::errors::DbResultExt as _;
use crate::identity::user_record;
use crate::repo::{Conn, Repo};

fn to_approval(row: staff_approvals::Model) -> ApprovalRecord {
    ApprovalRecord {
        id: StaffApprovalId::from_uuid(row.id),
        action: ApprovalAction::TotpReset,
        target: UserId::from_uuid(row.target_user),
        proposed_by: UserId::from_uuid(row.proposed_by),
        proposed_at: row.proposed_at,
        approved: row.approved_by.map(UserId::from_uuid).zip(row.approved_at),
    }
}

#[async_trait]
impl<C: Conn> StaffRepository for Repo<C> {
    async fn list_staff(&self) -> StoreResult<Vec<UserRecord>> {
        Ok(users::Entity::find()
            .filter(users::Column::IsStaff.eq(true))
            .order_by_asc(users::Column::UsernameKey)
            .all(&self.0)
            .await
            .store()?
            .into_iter()
            .map(user_record)
            .collect())
    }

    async fn set_staff(&self, id: UserId, staff: bool) -> StoreResult<()> {
        users::Entity::update_many()
            .col_expr(users::Column::IsStaff, Expr::value(staff))
            .filter(users::Column::Id.eq(id.as_uuid()))
            .exec(&self.0)
            .await
            .store()?;
        Ok(())
    }

    async fn insert_approval(&self, approval: &ApprovalRecord) -> StoreResult<()> {
        staff_approvals::Entity::insert(staff_approvals::ActiveModel {
            id: Set(approval.id.as_uuid()),
            action: Set(approval.action.as_str().to_owned()),
            target_user: Set(approval.target.as_uuid()),
            proposed_by: Set(approval.proposed_by.as_uuid()),
            proposed_at: Set(approval.proposed_at),
            approved_by: Set(approval.approved.map(|(by, _)| by.as_uuid())),
            approved_at: Set(approval.approved.map(|(_, at)| at)),
        })
        .exec_without_returning(&self.0)
        .await
        .store()?;
        Ok(())
    }

    async fn open_approval(
        &self,
        target: UserId,
        action: ApprovalAction,
        since: DateTime<Utc>,
    ) -> StoreResult<Option<ApprovalRecord>> {
        let row = staff_approvals::Entity::find()
            .filter(staff_approvals::Column::TargetUser.eq(target.as_uuid()))
            .filter(staff_approvals::Column::Action.eq(action.as_str()))
            .filter(staff_approvals::Column::ApprovedBy.is_null())
            .filter(staff_approvals::Column::ProposedAt.gte(since))
            .order_by_desc(staff_approvals::Column::ProposedAt)
            .one(&self.0)
            .await
            .store()?;
        Ok(row.map(to_approval))
    }

    async fn approve(&self, id: StaffApprovalId, by: UserId, at: DateTime<Utc>) -> StoreResult<bool> {
        let result = staff_approvals::Entity::update_many()
            .col_expr(staff_approvals::Column::ApprovedBy, Expr::value(by.as_uuid()))
            .col_expr(staff_approvals::Column::ApprovedAt, Expr::value(at))
            .filter(staff_approvals::Column::Id.eq(id.as_uuid()))
            .filter(staff_approvals::Column::ApprovedBy.is_null())
            .exec(&self.0)
            .await
            .store()?;
        Ok(result.rows_affected == 1)
    }
}
