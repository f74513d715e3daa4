//! Erasure: redactable audit entries and workspaces that close, then are erased.
//!
//! Rules:
//! - `audit_log` gains `hash_version` (1 for every entry written before, 2 from now on), the entry's `salt` and
//!   `personal_digest` (version 2), and `redacted_at`. On PostgreSQL the append-only trigger now allows exactly
//!   two changes: redacting an entry (only its personal columns change, its salt goes and `redacted_at` is
//!   set; hash, previous hash, digest, sequence, action and time stay) and deleting the entries of a workspace
//!   that is being erased (`erasing_at` set) or no longer exists. Every other UPDATE or DELETE is refused.
//! - `workspaces` gains `closed_at` and `erase_after` (closure: listed nowhere, every operation refused) and
//!   `erasing_at` (the erasure started: it can no longer be reopened).
//! - On PostgreSQL the application role may now update and delete audit rows (the trigger decides), delete a
//!   workspace's rows in the tables erasure empties, read every audit entry behind the `audit_redaction` sweep
//!   (finding an erased person's entries on every chain), and find a workspace behind an API key's prefix
//!   or an invitation token's wall (a key or invitation of a closed workspace is refused); an erasure (`tgos.sweep = 'workspace_erasure'` with the
//!   workspace's wall) may delete the workspace's outbox events.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    HashVersion,
    Salt,
    PersonalDigest,
    RedactedAt,
}

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    ClosedAt,
    EraseAfter,
    ErasingAt,
}

const POSTGRES_UP: &str = r#"
GRANT UPDATE, DELETE ON audit_log TO tgos_app;
GRANT DELETE ON inbox_dialogs, inbox_messages, inbox_sync, event_sequences, automations, automation_sends,
    leases, account_counters, account_counter_peers TO tgos_app;

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.redacted_at IS NOT NULL AND NEW.salt IS NULL
           AND (OLD.redacted_at IS NULL OR NEW.redacted_at = OLD.redacted_at)
           AND (NEW.id, NEW.sequence, NEW.workspace_id, NEW.at, NEW.action, NEW.target_type, NEW.actor_kind,
                NEW.prev_hash, NEW.hash, NEW.hash_version, NEW.personal_digest)
               IS NOT DISTINCT FROM
               (OLD.id, OLD.sequence, OLD.workspace_id, OLD.at, OLD.action, OLD.target_type, OLD.actor_kind,
                OLD.prev_hash, OLD.hash, OLD.hash_version, OLD.personal_digest) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only: only the redaction of personal fields is allowed';
    END IF;
    IF OLD.workspace_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM workspaces WHERE id = OLD.workspace_id AND erasing_at IS NULL) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: only an erased workspace''s chain may be deleted';
END;
$$;

CREATE POLICY redaction_read ON audit_log FOR SELECT USING (tgos_wall('sweep') = 'audit_redaction');
CREATE POLICY by_api_key ON workspaces FOR SELECT
    USING (id IN (SELECT workspace_id FROM api_keys WHERE prefix = tgos_wall('api_key_prefix')));
CREATE POLICY by_invitation ON workspaces FOR SELECT
    USING (id IN (SELECT workspace_id FROM invitations WHERE encode(token_hash, 'hex') = tgos_wall('invitation_token')));
CREATE POLICY erasure ON outbox_events FOR DELETE
    USING (tgos_wall('sweep') = 'workspace_erasure' AND workspace_id = tgos_wall('workspace_id')::uuid);
"#;

const POSTGRES_DOWN: &str = r#"
DROP POLICY IF EXISTS erasure ON outbox_events;
DROP POLICY IF EXISTS by_api_key ON workspaces;
DROP POLICY IF EXISTS by_invitation ON workspaces;
DROP POLICY IF EXISTS redaction_read ON audit_log;
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
REVOKE UPDATE, DELETE ON audit_log FROM tgos_app;
"#;

fn optional_timestamp(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        let audit_columns = [
            ColumnDef::new(AuditLog::HashVersion)
                .small_integer()
                .not_null()
                .default(1)
                .to_owned(),
            ColumnDef::new(AuditLog::Salt).binary().null().to_owned(),
            ColumnDef::new(AuditLog::PersonalDigest).binary().null().to_owned(),
            optional_timestamp(AuditLog::RedactedAt),
        ];
        for column in audit_columns {
            manager
                .alter_table(Table::alter().table(AuditLog::Table).add_column(column).to_owned())
                .await?;
        }
        for column in [Workspaces::ClosedAt, Workspaces::EraseAfter, Workspaces::ErasingAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Workspaces::Table)
                        .add_column(optional_timestamp(column))
                        .to_owned(),
                )
                .await?;
        }
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(POSTGRES_DOWN).await?;
        }
        for column in [Workspaces::ClosedAt, Workspaces::EraseAfter, Workspaces::ErasingAt] {
            manager
                .alter_table(Table::alter().table(Workspaces::Table).drop_column(column).to_owned())
                .await?;
        }
        for column in [
            AuditLog::HashVersion,
            AuditLog::Salt,
            AuditLog::PersonalDigest,
            AuditLog::RedactedAt,
        ] {
            manager
                .alter_table(Table::alter().table(AuditLog::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
