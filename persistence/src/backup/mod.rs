//! Backups: a copy of the database without its data keys, the keys in a file of their own, a manifest with
//! checksums; listing, pruning past the rolling window, restoring into an empty database only.
//!
//! Rules:
//! - **Checksummed.** Every file of a backup is in its manifest with its size and SHA-256; a restore checks
//!   all of them before touching the target, and refuses a backup that does not match.
//! - **Empty targets only.** A restore never writes into a database holding any table.
//! - **Crypto-erasure reaches backups.** Wrapped data keys exist only in a backup's keys file (see [`keys`]),
//!   and [`Backups::remove_destroyed_keys`] (run by `backup prune` and by the retention sweep) removes each
//!   key destroyed in the live database from every backup; a workspace erased today cannot be read from any
//!   backup once the next sweep ran, and its backups themselves are gone after `backup.keep_days`.
//! - Files are written mode 0600 in a directory of mode 0700.

mod engine;
mod keys;
mod manifest;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait as _, DatabaseBackend, DatabaseConnection, Statement};
use tgos_domain::error::InternalError;
use tgos_domain::retention::BackupKeys;

pub use manifest::{BackupFile, Manifest};

/// Why a backup command failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Usage(String),
    #[error("no backup named {0}")]
    NotFound(String),
    #[error("the target database is not empty; a backup is restored only into an empty database")]
    NotEmpty,
    #[error("the backup's {0} does not match its checksum; it was changed or damaged, and is not restored")]
    Checksum(String),
    #[error("the backup is damaged: {0}")]
    Damaged(String),
    #[error("{0}")]
    Tool(String),
    #[error("cannot reach the database: {0}")]
    Database(String),
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
}

impl BackupError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |error| Self::Io {
            path: path.display().to_string(),
            error,
        }
    }

    fn db(error: sea_orm::DbErr) -> Self {
        Self::Database(error.to_string())
    }

    /// Whether the failure is reaching the data (exit 3 in the console) rather than a refusal (exit 1).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Database(_))
    }
}

/// Writes `contents` to `path` through a temporary file and a rename (mode 0600).
fn replace_file(path: &Path, contents: &[u8]) -> Result<(), BackupError> {
    let temporary = path.with_extension("tmp");
    let _absent = std::fs::remove_file(&temporary);
    crate::private_fs::write_private_file(&temporary, contents).map_err(BackupError::io(&temporary))?;
    std::fs::rename(&temporary, path).map_err(BackupError::io(path))
}

/// The backups under `root`, oldest first (their names sort by time).
fn backup_dirs(root: &Path) -> Result<Vec<PathBuf>, BackupError> {
    if !root.exists() {
        return Ok(Vec::new());
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(BackupError::io(root))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join(manifest::MANIFEST).is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// The backups in one directory.
#[derive(Debug, Clone)]
pub struct Backups {
    root: PathBuf,
}

impl Backups {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Backs up the database `db` is connected to (`url` is its URL, for `pg_dump`).
    pub async fn create(
        &self,
        db: &DatabaseConnection,
        url: &str,
        now: DateTime<Utc>,
    ) -> Result<Manifest, BackupError> {
        crate::private_fs::create_private_dir(&self.root).map_err(BackupError::io(&self.root))?;
        let name = format!("tgos-{}", now.format("%Y%m%dT%H%M%S%.3fZ"));
        let dir = self.root.join(&name);
        crate::private_fs::create_private_dir(&dir).map_err(BackupError::io(&dir))?;
        let latest_migration = latest_migration(db).await?;
        let backend = db.get_database_backend();
        let (backend_name, file) = if backend == DatabaseBackend::Postgres {
            let file = dir.join(engine::POSTGRES_FILE);
            engine::pg_dump(url, &file).await?;
            ("postgres", file)
        } else {
            let file = dir.join(engine::SQLITE_FILE);
            engine::sqlite_copy(db, &file).await?;
            ("sqlite", file)
        };
        restrict(&file)?;
        keys::write_file(&dir, &keys::read_live(db).await?)?;
        let manifest = Manifest {
            name,
            created_at: now,
            backend: backend_name.to_owned(),
            latest_migration,
            files: vec![manifest::describe(&file)?, manifest::describe(&dir.join(keys::KEYS))?],
        };
        manifest.write(&dir)?;
        Ok(manifest)
    }

    /// Every backup, oldest first.
    pub fn list(&self) -> Result<Vec<Manifest>, BackupError> {
        backup_dirs(&self.root)?.iter().map(|dir| Manifest::read(dir)).collect()
    }

    /// Deletes the backups created before `now - keep`; their names.
    pub fn prune(&self, keep: chrono::Duration, now: DateTime<Utc>) -> Result<Vec<String>, BackupError> {
        let mut pruned = Vec::new();
        for dir in backup_dirs(&self.root)? {
            let manifest = Manifest::read(&dir)?;
            if manifest.created_at < now - keep {
                std::fs::remove_dir_all(&dir).map_err(BackupError::io(&dir))?;
                pruned.push(manifest.name);
            }
        }
        Ok(pruned)
    }

    /// Restores backup `name` into the empty database of `into` (a `sqlite://` file or `postgres://` URL).
    pub async fn restore(&self, name: &str, into: &str) -> Result<Manifest, BackupError> {
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(BackupError::NotFound(name.to_owned()));
        }
        let dir = self.root.join(name);
        if !dir.join(manifest::MANIFEST).is_file() {
            return Err(BackupError::NotFound(name.to_owned()));
        }
        let manifest = Manifest::read(&dir)?;
        manifest.verify(&dir)?;
        let wants_postgres = into.starts_with("postgres");
        if wants_postgres != (manifest.backend == "postgres") {
            return Err(BackupError::Usage(format!(
                "a {} backup is restored into a {} database",
                manifest.backend, manifest.backend
            )));
        }
        if !engine::is_empty(into).await? {
            return Err(BackupError::NotEmpty);
        }
        let keys = keys::to_models(&keys::read_file(&dir)?)?;
        if wants_postgres {
            engine::pg_restore(into, &dir.join(engine::POSTGRES_FILE)).await?;
        } else {
            let target = engine::sqlite_path(into)?;
            std::fs::copy(dir.join(engine::SQLITE_FILE), &target).map_err(BackupError::io(&target))?;
            restrict(&target)?;
        }
        engine::put_keys(into, keys).await?;
        Ok(manifest)
    }

    /// Removes each key destroyed in the live database from every backup's keys file; how many.
    pub async fn remove_destroyed_keys(&self, db: &DatabaseConnection) -> Result<u64, BackupError> {
        keys::remove_destroyed(db, &self.root).await
    }
}

fn restrict(path: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(BackupError::io(path))?;
    }
    Ok(())
}

async fn latest_migration(db: &DatabaseConnection) -> Result<String, BackupError> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1",
        ))
        .await
        .map_err(BackupError::db)?;
    row.map_or(Ok(String::new()), |r| r.try_get_by_index(0))
        .map_err(BackupError::db)
}

/// The backups as the retention sweep sees them: destroyed keys leave every backup in each sweep.
#[derive(Debug, Clone)]
pub struct BackupKeysOf {
    backups: Backups,
    db: DatabaseConnection,
}

impl BackupKeysOf {
    pub fn new(backups: Backups, store: &crate::SeaStore) -> Self {
        Self {
            backups,
            db: store.connection().clone(),
        }
    }
}

#[async_trait]
impl BackupKeys for BackupKeysOf {
    async fn remove_destroyed_keys(&self) -> Result<u64, InternalError> {
        self.backups
            .remove_destroyed_keys(&self.db)
            .await
            .map_err(InternalError::new)
    }
}
