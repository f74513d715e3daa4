//! The lawful requests register (policy §6): registrations and the steps appended to them.
//!
//! Rules:
//! - Append-only, on both databases: a trigger refuses every UPDATE and DELETE of `lawful_requests` and
//!   `lawful_request_events` (and, on PostgreSQL, TRUNCATE). A registration is one row; its approval, package
//!   and delivery are each one appended row of `lawful_request_events`, at most one of each per request
//!   (`lawful_request_events_step_idx`).
//! - The order and the two people, in the database too: an approval by the request's registrar, a package
//!   without an approval and a delivery without a package are refused on insert by a trigger.
//! - One registration per authority and reference (`lawful_requests_reference_idx`).
//! - Scope ids are kept as JSON arrays of ids, without foreign keys: the register outlives the accounts and
//!   workspaces it names, and names the staff members who acted by id alike.
//! - On PostgreSQL the register is platform data: forced row-level security shows and accepts its rows only
//!   behind no wall at all (no workspace, user, token, top-up or sweep set), and the application role may only
//!   SELECT and INSERT.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: &str = r#"
CREATE TABLE lawful_requests (
    id uuid NOT NULL PRIMARY KEY,
    authority varchar(200) NOT NULL,
    reference varchar(200) NOT NULL,
    legal_basis text NOT NULL,
    received_on date NOT NULL,
    due_on date NOT NULL,
    scope_users text NOT NULL,
    scope_workspaces text NOT NULL,
    scope_categories text NOT NULL,
    period_from timestamp with time zone NOT NULL,
    period_to timestamp with time zone NOT NULL,
    notes text NULL,
    registered_by uuid NOT NULL,
    registered_at timestamp with time zone NOT NULL,
    CHECK (period_from < period_to),
    CHECK (received_on <= due_on)
);
CREATE UNIQUE INDEX lawful_requests_reference_idx ON lawful_requests (authority, reference);
CREATE TABLE lawful_request_events (
    id uuid NOT NULL PRIMARY KEY,
    request_id uuid NOT NULL REFERENCES lawful_requests (id),
    step varchar(16) NOT NULL CHECK (step IN ('APPROVED', 'PACKAGED', 'DELIVERED')),
    staff_id uuid NOT NULL,
    at timestamp with time zone NOT NULL,
    package_file varchar(120) NULL,
    package_bytes bigint NULL,
    package_sha256 varchar(64) NULL,
    note text NULL,
    CHECK ((step = 'PACKAGED') = (package_file IS NOT NULL AND package_bytes IS NOT NULL
        AND package_sha256 IS NOT NULL))
);
CREATE UNIQUE INDEX lawful_request_events_step_idx ON lawful_request_events (request_id, step)
"#;

/// SQLite: one statement each (trigger bodies hold semicolons).
const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER lawful_requests_no_update BEFORE UPDATE ON lawful_requests
     BEGIN SELECT RAISE(ABORT, 'the lawful requests register is append-only'); END",
    "CREATE TRIGGER lawful_requests_no_delete BEFORE DELETE ON lawful_requests
     BEGIN SELECT RAISE(ABORT, 'the lawful requests register is append-only'); END",
    "CREATE TRIGGER lawful_request_events_no_update BEFORE UPDATE ON lawful_request_events
     BEGIN SELECT RAISE(ABORT, 'the lawful requests register is append-only'); END",
    "CREATE TRIGGER lawful_request_events_no_delete BEFORE DELETE ON lawful_request_events
     BEGIN SELECT RAISE(ABORT, 'the lawful requests register is append-only'); END",
    "CREATE TRIGGER lawful_request_events_order BEFORE INSERT ON lawful_request_events
     BEGIN
        SELECT RAISE(ABORT, 'a lawful request is approved by a second staff member, never its registrar')
        WHERE NEW.step = 'APPROVED'
          AND NEW.staff_id = (SELECT registered_by FROM lawful_requests WHERE id = NEW.request_id);
        SELECT RAISE(ABORT, 'a lawful request is packaged only after its approval')
        WHERE NEW.step = 'PACKAGED' AND NOT EXISTS
            (SELECT 1 FROM lawful_request_events WHERE request_id = NEW.request_id AND step = 'APPROVED');
        SELECT RAISE(ABORT, 'a lawful request is delivered only after its package')
        WHERE NEW.step = 'DELIVERED' AND NOT EXISTS
            (SELECT 1 FROM lawful_request_events WHERE request_id = NEW.request_id AND step = 'PACKAGED');
     END",
];

const POSTGRES_UP: &str = r#"
GRANT SELECT, INSERT ON lawful_requests, lawful_request_events TO tgos_app;

CREATE FUNCTION lawful_register_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the lawful requests register is append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER lawful_requests_append_only BEFORE UPDATE OR DELETE ON lawful_requests
    FOR EACH ROW EXECUTE FUNCTION lawful_register_append_only();
CREATE TRIGGER lawful_requests_no_truncate BEFORE TRUNCATE ON lawful_requests
    FOR EACH STATEMENT EXECUTE FUNCTION lawful_register_append_only();
CREATE TRIGGER lawful_request_events_append_only BEFORE UPDATE OR DELETE ON lawful_request_events
    FOR EACH ROW EXECUTE FUNCTION lawful_register_append_only();
CREATE TRIGGER lawful_request_events_no_truncate BEFORE TRUNCATE ON lawful_request_events
    FOR EACH STATEMENT EXECUTE FUNCTION lawful_register_append_only();

CREATE FUNCTION lawful_request_step_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.step = 'APPROVED'
       AND NEW.staff_id = (SELECT registered_by FROM lawful_requests WHERE id = NEW.request_id) THEN
        RAISE EXCEPTION 'a lawful request is approved by a second staff member, never its registrar';
    END IF;
    IF NEW.step = 'PACKAGED' AND NOT EXISTS
       (SELECT 1 FROM lawful_request_events WHERE request_id = NEW.request_id AND step = 'APPROVED') THEN
        RAISE EXCEPTION 'a lawful request is packaged only after its approval';
    END IF;
    IF NEW.step = 'DELIVERED' AND NOT EXISTS
       (SELECT 1 FROM lawful_request_events WHERE request_id = NEW.request_id AND step = 'PACKAGED') THEN
        RAISE EXCEPTION 'a lawful request is delivered only after its package';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER lawful_request_events_order BEFORE INSERT ON lawful_request_events
    FOR EACH ROW EXECUTE FUNCTION lawful_request_step_order();

-- Platform records: only a transaction behind no wall at all sees or writes them.
CREATE FUNCTION tgos_behind_no_wall() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT tgos_wall('workspace_id') IS NULL AND tgos_wall('user_id') IS NULL
       AND tgos_wall('api_key_prefix') IS NULL AND tgos_wall('invitation_token') IS NULL
       AND tgos_wall('top_up_id') IS NULL AND tgos_wall('sweep') IS NULL
$$;
ALTER TABLE lawful_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE lawful_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY platform ON lawful_requests USING (tgos_behind_no_wall()) WITH CHECK (tgos_behind_no_wall());
ALTER TABLE lawful_request_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE lawful_request_events FORCE ROW LEVEL SECURITY;
CREATE POLICY platform ON lawful_request_events
    USING (tgos_behind_no_wall()) WITH CHECK (tgos_behind_no_wall());
"#;

const POSTGRES_DOWN: &str = r#"
DROP TABLE lawful_request_events;
DROP TABLE lawful_requests;
DROP FUNCTION IF EXISTS tgos_behind_no_wall();
DROP FUNCTION IF EXISTS lawful_request_step_order();
DROP FUNCTION IF EXISTS lawful_register_append_only();
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in TABLES.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            conn.execute_unprepared(statement).await?;
        }
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                conn.execute_unprepared(POSTGRES_UP).await?;
            }
            _ => {
                for trigger in SQLITE_TRIGGERS {
                    conn.execute_unprepared(trigger).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            conn.execute_unprepared(POSTGRES_DOWN).await?;
        } else {
            conn.execute_unprepared("DROP TABLE lawful_request_events").await?;
            conn.execute_unprepared("DROP TABLE lawful_requests").await?;
        }
        Ok(())
    }
}
