//! Account closure: `users.closed_at` (the account closed by `requestAccountDeletion`: it signs in only to see
//! and cancel the deletion) and `users.erase_after` (closed_at + 30 days, when its personal data is erased).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    ClosedAt,
    EraseAfter,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [Users::ClosedAt, Users::EraseAfter] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(ColumnDef::new(column).timestamp_with_time_zone().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Users::EraseAfter, Users::ClosedAt] {
            manager
                .alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
