//! Billing retention: after 7 years the billing rows of a workspace that no longer exists may be deleted.
//!
//! - On PostgreSQL the ledger's immutability trigger now allows exactly one deletion: a row of a workspace
//!   that no longer exists, deleted behind the retention sweep's wall. Every update and every other deletion
//!   is still refused. The sweep chooses the rows (older than the configured window, whole transactions with
//!   their postings); the trigger makes sure nothing else can delete a ledger row.
//! - The application role may delete billing rows, and the retention wall sees and deletes them.
//! - SQLite has no trigger on the ledger; the application is its only writer there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &str = r#"
GRANT DELETE ON ledger_transactions, ledger_postings, top_ups, wallet_balances, payment_references,
    payment_discrepancies TO tgos_app;

CREATE OR REPLACE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND tgos_wall('sweep') = 'retention'
       AND NOT EXISTS (SELECT 1 FROM workspaces WHERE id = OLD.workspace_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'ledger rows are immutable; post a reversing transaction';
END;
$$;

CREATE POLICY retention_prune ON ledger_transactions FOR DELETE USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_read ON ledger_postings FOR SELECT USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_prune ON ledger_postings FOR DELETE USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_read ON top_ups FOR SELECT USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_prune ON top_ups FOR DELETE USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_read ON wallet_balances FOR SELECT USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_prune ON wallet_balances FOR DELETE USING (tgos_wall('sweep') = 'retention');
"#;

const POSTGRES_DOWN: &str = r#"
DROP POLICY IF EXISTS retention_prune ON wallet_balances;
DROP POLICY IF EXISTS retention_read ON wallet_balances;
DROP POLICY IF EXISTS retention_prune ON top_ups;
DROP POLICY IF EXISTS retention_read ON top_ups;
DROP POLICY IF EXISTS retention_prune ON ledger_postings;
DROP POLICY IF EXISTS retention_read ON ledger_postings;
DROP POLICY IF EXISTS retention_prune ON ledger_transactions;
CREATE OR REPLACE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are immutable; post a reversing transaction';
END;
$$;
REVOKE DELETE ON ledger_transactions, ledger_postings, top_ups, wallet_balances, payment_references,
    payment_discrepancies FROM tgos_app;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_DOWN).await?;
        }
        Ok(())
    }
}
