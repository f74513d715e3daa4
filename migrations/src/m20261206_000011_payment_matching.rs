//! Payment matching, reversals and recorded debt.
//!
//! Rules:
//! - `payment_discrepancies`: a provider's signed notification that does not match its top-up (another
//!   checkout, amount or currency) credits nothing and is kept here for staff, once per provider event
//!   (`(provider, event_id)` is unique). Platform data, not a tenant's: on PostgreSQL forced row-level
//!   security shows it only to a transaction behind no tenant's wall; the application role may only SELECT
//!   and INSERT.
//! - `payment_references`: the provider's id of a completed payment (a Stripe PaymentIntent) and the top-up
//!   it paid, recorded when the payment is credited. A later refund or dispute names only the payment, so
//!   this is how it finds its top-up; `(provider, payment_ref)` is unique. Platform data like the above.
//! - `top_ups.refunded_minor`: how much of a top-up the provider has refunded so far; a refund notification
//!   carries the running total, and only the difference is reversed.
//! - `wallet_balances.balance_minor` loses its `>= 0` CHECK: a refund or dispute after the money was spent
//!   takes the wallet below zero, a debt. Every other posting still refuses to go below zero in its
//!   conditional update (`persistence/src/billing/ledger.rs`). SQLite cannot drop a CHECK, so there the
//!   table is rebuilt with its rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PaymentDiscrepancies {
    Table,
    Id,
    Provider,
    EventId,
    TopUpId,
    WorkspaceId,
    Reason,
    Details,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PaymentReferences {
    Table,
    Provider,
    PaymentRef,
    TopUpId,
    WorkspaceId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TopUps {
    Table,
    RefundedMinor,
}

/// The wallet table without its CHECK, built beside the old one on SQLite (the types sea-query gives them).
const SQLITE_REBUILD_WALLETS: &str = r#"
CREATE TABLE wallet_balances_next (
    workspace_id uuid_text NOT NULL,
    currency varchar(3) NOT NULL,
    balance_minor bigint NOT NULL,
    PRIMARY KEY (workspace_id, currency)
);
INSERT INTO wallet_balances_next (workspace_id, currency, balance_minor)
    SELECT workspace_id, currency, balance_minor FROM wallet_balances;
DROP TABLE wallet_balances;
ALTER TABLE wallet_balances_next RENAME TO wallet_balances;
"#;

const POSTGRES_UP: &str = r#"
GRANT SELECT, INSERT ON payment_discrepancies, payment_references TO tgos_app;

-- Platform records that name a workspace: forced row-level security lets only a transaction behind no
-- tenant's wall (a provider notification, the staff console) see or write them, never a tenant's request.
ALTER TABLE payment_discrepancies ENABLE ROW LEVEL SECURITY;
ALTER TABLE payment_discrepancies FORCE ROW LEVEL SECURITY;
CREATE POLICY platform ON payment_discrepancies
    USING (tgos_wall('workspace_id') IS NULL) WITH CHECK (tgos_wall('workspace_id') IS NULL);
ALTER TABLE payment_references ENABLE ROW LEVEL SECURITY;
ALTER TABLE payment_references FORCE ROW LEVEL SECURITY;
CREATE POLICY platform ON payment_references
    USING (tgos_wall('workspace_id') IS NULL) WITH CHECK (tgos_wall('workspace_id') IS NULL);
ALTER TABLE wallet_balances DROP CONSTRAINT IF EXISTS wallet_balances_balance_minor_check;
"#;

const POSTGRES_DOWN: &str = r#"
ALTER TABLE wallet_balances ADD CONSTRAINT wallet_balances_balance_minor_check CHECK (balance_minor >= 0);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PaymentDiscrepancies::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(PaymentDiscrepancies::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(PaymentDiscrepancies::Provider).string_len(16).not_null())
                    .col(ColumnDef::new(PaymentDiscrepancies::EventId).string_len(255).not_null())
                    .col(ColumnDef::new(PaymentDiscrepancies::TopUpId).uuid().null())
                    .col(ColumnDef::new(PaymentDiscrepancies::WorkspaceId).uuid().null())
                    .col(ColumnDef::new(PaymentDiscrepancies::Reason).string_len(32).not_null())
                    .col(ColumnDef::new(PaymentDiscrepancies::Details).text().not_null())
                    .col(
                        ColumnDef::new(PaymentDiscrepancies::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("payment_discrepancies_event_unique")
                    .table(PaymentDiscrepancies::Table)
                    .col(PaymentDiscrepancies::Provider)
                    .col(PaymentDiscrepancies::EventId)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaymentReferences::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(PaymentReferences::Provider).string_len(16).not_null())
                    .col(ColumnDef::new(PaymentReferences::PaymentRef).string_len(255).not_null())
                    .col(ColumnDef::new(PaymentReferences::TopUpId).uuid().not_null())
                    .col(ColumnDef::new(PaymentReferences::WorkspaceId).uuid().not_null())
                    .col(
                        ColumnDef::new(PaymentReferences::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(PaymentReferences::Provider)
                            .col(PaymentReferences::PaymentRef),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(TopUps::Table)
                    .add_column(
                        ColumnDef::new(TopUps::RefundedMinor)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;

        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_UP).await?;
            return Ok(());
        }
        // SQLite: rebuild the wallet table without the CHECK, keeping its rows (one batch on one connection).
        manager
            .get_connection()
            .execute_unprepared(SQLITE_REBUILD_WALLETS)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_DOWN).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(TopUps::Table)
                    .drop_column(TopUps::RefundedMinor)
                    .to_owned(),
            )
            .await?;
        for table in [
            PaymentReferences::Table.into_iden(),
            PaymentDiscrepancies::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
