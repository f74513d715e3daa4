//! Two-person approvals of staff actions (today: resetting a staff member's two-factor): one row per
//! proposal, approved at most once by a staff member other than the proposer. Working state only: the audit
//! log keeps who proposed and who approved; the retention sweep deletes proposals a week old.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StaffApprovals {
    Table,
    Id,
    Action,
    TargetUser,
    ProposedBy,
    ProposedAt,
    ApprovedBy,
    ApprovedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use StaffApprovals as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(ColumnDef::new(S::Id).uuid().not_null().primary_key())
                    .col(
                        ColumnDef::new(S::Action)
                            .string_len(32)
                            .not_null()
                            .check(Expr::col(S::Action).is_in(["TOTP_RESET"])),
                    )
                    .col(ColumnDef::new(S::TargetUser).uuid().not_null())
                    .col(ColumnDef::new(S::ProposedBy).uuid().not_null())
                    .col(ColumnDef::new(S::ProposedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(S::ApprovedBy).uuid().null())
                    .col(ColumnDef::new(S::ApprovedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("staff_approvals_target_idx")
                    .table(S::Table)
                    .col(S::TargetUser)
                    .col(S::Action)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            // A platform record: only transactions behind no tenant's wall (the console, the sweep) see it.
            manager
                .get_connection()
                .execute_unprepared(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON staff_approvals TO tgos_app;
                     ALTER TABLE staff_approvals ENABLE ROW LEVEL SECURITY;
                     ALTER TABLE staff_approvals FORCE ROW LEVEL SECURITY;
                     CREATE POLICY platform ON staff_approvals
                         USING (tgos_wall('workspace_id') IS NULL) WITH CHECK (tgos_wall('workspace_id') IS NULL);",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StaffApprovals::Table).to_owned())
            .await
    }
}
