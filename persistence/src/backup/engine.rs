//! Copying a database out and back in: SQLite with `VACUUM INTO`, PostgreSQL with `pg_dump`/`pg_restore`.
//!
//! Rule: the copy never holds a wrapped data key (see `keys`), and a restore goes only into an empty
//! database: it never merges into, or overwrites, data that is there.

use std::path::{Path, PathBuf};
use std::process::Command;

use sea_orm::{ConnectionTrait as _, Database, DatabaseBackend, DatabaseConnection, EntityTrait as _, Statement};

use super::BackupError;
use crate::entities::data_keys;

pub(super) const SQLITE_FILE: &str = "database.sqlite";
pub(super) const POSTGRES_FILE: &str = "database.pgdump";

/// The file a `sqlite://` URL names.
pub(super) fn sqlite_path(url: &str) -> Result<PathBuf, BackupError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| BackupError::Usage("not a sqlite:// or postgres:// URL".to_owned()))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return Err(BackupError::Usage("the SQLite URL names no file".to_owned()));
    }
    Ok(PathBuf::from(path))
}

fn quoted(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "''"))
}

/// Copies the live SQLite database into `target`, then removes every wrapped key from the copy for good.
pub(super) async fn sqlite_copy(db: &DatabaseConnection, target: &Path) -> Result<(), BackupError> {
    db.execute_unprepared(&format!("VACUUM INTO {}", quoted(target)))
        .await
        .map_err(BackupError::db)?;
    let copy = Database::connect(format!("sqlite://{}?mode=rw", target.display()))
        .await
        .map_err(BackupError::db)?;
    for statement in [
        "PRAGMA journal_mode = DELETE",
        "PRAGMA secure_delete = ON",
        "UPDATE data_keys SET wrapped = NULL",
        "VACUUM",
    ] {
        copy.execute_unprepared(statement).await.map_err(BackupError::db)?;
    }
    copy.close().await.map_err(BackupError::db)?;
    Ok(())
}

/// Dumps the live PostgreSQL database into `target` (custom format), leaving the data keys' rows out.
pub(super) async fn pg_dump(url: &str, target: &Path) -> Result<(), BackupError> {
    let url = url.to_owned();
    let target = target.to_owned();
    run_tool(move || {
        Command::new("pg_dump")
            .arg("--format=custom")
            .arg("--exclude-table-data=data_keys")
            .arg(format!("--file={}", target.display()))
            .arg(format!("--dbname={url}"))
            .output()
    })
    .await
}

/// Restores a PostgreSQL dump into the (empty) database of `url`, in one transaction.
pub(super) async fn pg_restore(url: &str, source: &Path) -> Result<(), BackupError> {
    let url = url.to_owned();
    let source = source.to_owned();
    run_tool(move || {
        Command::new("pg_restore")
            .arg("--exit-on-error")
            .arg("--single-transaction")
            .arg("--no-owner")
            .arg(format!("--dbname={url}"))
            .arg(&source)
            .output()
    })
    .await
}

async fn run_tool(
    command: impl FnOnce() -> std::io::Result<std::process::Output> + Send + 'static,
) -> Result<(), BackupError> {
    let output = tokio::task::spawn_blocking(command)
        .await
        .map_err(|e| BackupError::Tool(e.to_string()))?
        .map_err(|e| BackupError::Tool(format!("cannot run the PostgreSQL tools: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        // The tool's own message names what failed (never a password: URLs are passed as arguments only).
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        Err(BackupError::Tool(first.to_owned()))
    }
}

/// Whether the database of `url` holds any table (SQLite: a file that exists and is not empty).
pub(super) async fn is_empty(url: &str) -> Result<bool, BackupError> {
    if url.starts_with("postgres") {
        let db = Database::connect(url).await.map_err(BackupError::db)?;
        let row = db
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', \
                 'information_schema')",
            ))
            .await
            .map_err(BackupError::db)?;
        let tables: i64 = row.map_or(Ok(0), |r| r.try_get_by_index(0)).map_err(BackupError::db)?;
        db.close().await.map_err(BackupError::db)?;
        Ok(tables == 0)
    } else {
        let path = sqlite_path(url)?;
        Ok(std::fs::metadata(&path).map_or(true, |m| m.len() == 0))
    }
}

/// Puts the backup's data keys back into the restored database.
pub(super) async fn put_keys(url: &str, keys: Vec<data_keys::Model>) -> Result<(), BackupError> {
    let connect_url = if url.starts_with("postgres") {
        url.to_owned()
    } else {
        format!("sqlite://{}?mode=rw", sqlite_path(url)?.display())
    };
    let db = Database::connect(connect_url).await.map_err(BackupError::db)?;
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        // The copy kept the rows with their wrapped keys nulled.
        data_keys::Entity::delete_many()
            .exec(&db)
            .await
            .map_err(BackupError::db)?;
    }
    if !keys.is_empty() {
        let rows = keys.into_iter().map(sea_orm::IntoActiveModel::into_active_model);
        data_keys::Entity::insert_many(rows)
            .exec_without_returning(&db)
            .await
            .map_err(BackupError::db)?;
    }
    db.close().await.map_err(BackupError::db)?;
    Ok(())
}
