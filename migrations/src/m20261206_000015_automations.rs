//! Automations: definitions, their trigger index, executions, and the automated sends' idempotency keys.
//!
//! Rules:
//! - `automation_triggers` lists each enabled, undeleted automation under its trigger kind and each account it
//!   names (`*` for every account): the lookup for an incoming message reads only the automations that can
//!   concern its account.
//! - `(automation_id, trigger_key)` is unique in `automation_executions`: a trigger seen twice runs once.
//! - `(workspace_id, origin_key)` is unique in `automation_sends`: an automated send happens once per key.
//! - All four are tenant tables behind forced row-level security on PostgreSQL. The scheduler reads schedule
//!   automations across workspaces behind `tgos.sweep = 'automation_scheduler'`; the retention sweep deletes
//!   skipped executions behind `tgos.sweep = 'automation_retention'`. A member finds the workspace of an
//!   automation named by id through `tgos.user_id`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_AND_POSTGRES: &str = r#"
CREATE TABLE automations (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL,
    name text NOT NULL,
    enabled boolean NOT NULL,
    version integer NOT NULL,
    trigger_kind varchar(32) NOT NULL,
    definition text NOT NULL,
    sealed_secrets text NOT NULL,
    created_by uuid NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    deleted_at timestamp with time zone NULL
);
CREATE INDEX automations_workspace_idx ON automations (workspace_id, id);
CREATE INDEX automations_schedule_idx ON automations (trigger_kind, id) WHERE enabled AND deleted_at IS NULL;
CREATE TABLE automation_triggers (
    automation_id uuid NOT NULL,
    workspace_id uuid NOT NULL,
    trigger_kind varchar(32) NOT NULL,
    account_key varchar(36) NOT NULL,
    PRIMARY KEY (automation_id, account_key)
);
CREATE INDEX automation_triggers_lookup_idx ON automation_triggers (workspace_id, trigger_kind, account_key);
CREATE TABLE automation_executions (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL,
    automation_id uuid NOT NULL,
    automation_version integer NOT NULL,
    status varchar(16) NOT NULL,
    reason text NULL,
    trigger_key varchar(120) NOT NULL,
    account_id uuid NULL,
    dialog_id uuid NULL,
    message_id uuid NULL,
    context text NOT NULL,
    steps text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    started_at timestamp with time zone NULL,
    finished_at timestamp with time zone NULL
);
CREATE UNIQUE INDEX automation_executions_trigger_idx ON automation_executions (automation_id, trigger_key);
CREATE INDEX automation_executions_workspace_idx ON automation_executions (workspace_id, id);
CREATE INDEX automation_executions_automation_idx ON automation_executions (workspace_id, automation_id, id);
CREATE INDEX automation_executions_dialog_started_idx ON automation_executions (workspace_id, dialog_id, started_at);
CREATE INDEX automation_executions_started_idx ON automation_executions (workspace_id, started_at);
CREATE INDEX automation_executions_skipped_idx ON automation_executions (finished_at) WHERE status = 'SKIPPED';
CREATE TABLE automation_sends (
    workspace_id uuid NOT NULL,
    origin_key varchar(120) NOT NULL,
    message_id uuid NOT NULL,
    account_id uuid NOT NULL,
    sent_at timestamp with time zone NOT NULL,
    PRIMARY KEY (workspace_id, origin_key)
);
CREATE INDEX automation_sends_account_idx ON automation_sends (workspace_id, account_id, sent_at);
"#;

const POSTGRES_UP: &str = r#"
GRANT SELECT, INSERT, UPDATE ON automations TO tgos_app;
GRANT SELECT, INSERT, DELETE ON automation_triggers TO tgos_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON automation_executions TO tgos_app;
GRANT SELECT, INSERT ON automation_sends TO tgos_app;
ALTER TABLE automations ENABLE ROW LEVEL SECURITY;
ALTER TABLE automations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON automations USING (workspace_id = tgos_wall('workspace_id')::uuid);
CREATE POLICY scheduler_read ON automations FOR SELECT USING (tgos_wall('sweep') = 'automation_scheduler');
CREATE POLICY own_memberships ON automations FOR SELECT
    USING (workspace_id IN (SELECT workspace_id FROM memberships WHERE user_id = tgos_wall('user_id')::uuid));
ALTER TABLE automation_triggers ENABLE ROW LEVEL SECURITY;
ALTER TABLE automation_triggers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON automation_triggers USING (workspace_id = tgos_wall('workspace_id')::uuid);
ALTER TABLE automation_executions ENABLE ROW LEVEL SECURITY;
ALTER TABLE automation_executions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON automation_executions USING (workspace_id = tgos_wall('workspace_id')::uuid);
CREATE POLICY retention_read ON automation_executions FOR SELECT
    USING (tgos_wall('sweep') = 'automation_retention' AND status = 'SKIPPED');
CREATE POLICY retention_prune ON automation_executions FOR DELETE
    USING (tgos_wall('sweep') = 'automation_retention' AND status = 'SKIPPED');
ALTER TABLE automation_sends ENABLE ROW LEVEL SECURITY;
ALTER TABLE automation_sends FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON automation_sends USING (workspace_id = tgos_wall('workspace_id')::uuid);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = manager.get_database_backend();
        let schema = if backend == DatabaseBackend::Sqlite {
            // SQLite spells a boolean's truth in a partial index as 1.
            SQLITE_AND_POSTGRES.replace("WHERE enabled AND", "WHERE enabled = 1 AND")
        } else {
            SQLITE_AND_POSTGRES.to_owned()
        };
        for statement in schema.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            conn.execute_unprepared(statement).await?;
        }
        if backend == DatabaseBackend::Postgres {
            conn.execute_unprepared(POSTGRES_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "automation_sends",
            "automation_executions",
            "automation_triggers",
            "automations",
        ] {
            manager
                .get_connection()
                .execute_unprepared(&format!("DROP TABLE {table}"))
                .await?;
        }
        Ok(())
    }
}
