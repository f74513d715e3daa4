//! The retention sweep's wall and indexes.
//!
//! Rules:
//! - On PostgreSQL the sweep reads and deletes across workspaces behind `tgos.sweep = 'retention'`, and each
//!   policy shows it only the rows a purge may touch: ended invitations, inbox rows (which of them have an
//!   ended lease is decided by the statement, reading leases through their own `retention` read policy),
//!   finished executions and automated sends' keys. Workspaces and ledger transactions are readable (not
//!   writable) behind it, for the billing report of workspaces that no longer exist.
//! - The application role gains DELETE only on the inbox tables and automated sends, which nothing deleted
//!   before; the ledger stays immutable (its trigger is unchanged: billing is report-only, see
//!   docs/ARCHITECTURE.md "Retention").
//! - Indexes let a batch find expired sessions and idle throttles without reading the whole table.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BOTH: &str = r#"
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX auth_throttles_updated_idx ON auth_throttles (updated_at);
CREATE INDEX automation_executions_finished_idx ON automation_executions (finished_at)
"#;

const POSTGRES_UP: &str = r#"
GRANT DELETE ON inbox_dialogs, inbox_messages, inbox_sync, automation_sends TO tgos_app;
CREATE POLICY retention_read ON workspaces FOR SELECT USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_read ON leases FOR SELECT USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_read ON ledger_transactions FOR SELECT USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_read ON invitations FOR SELECT USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_prune ON invitations FOR DELETE USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_read ON inbox_dialogs FOR SELECT USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_prune ON inbox_dialogs FOR DELETE USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_read ON inbox_messages FOR SELECT USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_prune ON inbox_messages FOR DELETE USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_read ON inbox_dialog_tags FOR SELECT USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_prune ON inbox_dialog_tags FOR DELETE USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_read ON inbox_sync FOR SELECT USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_prune ON inbox_sync FOR DELETE USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_finished_read ON automation_executions FOR SELECT
    USING (tgos_wall('sweep') = 'retention' AND status IN ('SUCCEEDED', 'FAILED'));
CREATE POLICY retention_finished_prune ON automation_executions FOR DELETE
    USING (tgos_wall('sweep') = 'retention' AND status IN ('SUCCEEDED', 'FAILED'));
CREATE POLICY retention_read ON automation_sends FOR SELECT USING (tgos_wall('sweep') = 'retention');
CREATE POLICY retention_prune ON automation_sends FOR DELETE USING (tgos_wall('sweep') = 'retention');
"#;

const POSTGRES_DOWN: &str = r#"
DROP POLICY IF EXISTS retention_read ON workspaces;
DROP POLICY IF EXISTS retention_read ON leases;
DROP POLICY IF EXISTS retention_read ON ledger_transactions;
DROP POLICY IF EXISTS retention_read ON invitations;
DROP POLICY IF EXISTS retention_prune ON invitations;
DROP POLICY IF EXISTS retention_read ON inbox_dialogs;
DROP POLICY IF EXISTS retention_prune ON inbox_dialogs;
DROP POLICY IF EXISTS retention_read ON inbox_messages;
DROP POLICY IF EXISTS retention_prune ON inbox_messages;
DROP POLICY IF EXISTS retention_read ON inbox_dialog_tags;
DROP POLICY IF EXISTS retention_prune ON inbox_dialog_tags;
DROP POLICY IF EXISTS retention_read ON inbox_sync;
DROP POLICY IF EXISTS retention_prune ON inbox_sync;
DROP POLICY IF EXISTS retention_finished_read ON automation_executions;
DROP POLICY IF EXISTS retention_finished_prune ON automation_executions;
DROP POLICY IF EXISTS retention_read ON automation_sends;
DROP POLICY IF EXISTS retention_prune ON automation_sends;
REVOKE DELETE ON inbox_dialogs, inbox_messages, inbox_sync, automation_sends FROM tgos_app;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in BOTH.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            conn.execute_unprepared(statement).await?;
        }
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            conn.execute_unprepared(POSTGRES_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            conn.execute_unprepared(POSTGRES_DOWN).await?;
        }
        for index in [
            "sessions_expires_idx",
            "auth_throttles_updated_idx",
            "automation_executions_finished_idx",
        ] {
            conn.execute_unprepared(&format!("DROP INDEX {index}")).await?;
        }
        Ok(())
    }
}
