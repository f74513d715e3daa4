//! The data keys of a backup, kept apart from its database copy, and their removal once destroyed.
//!
//! Rule: a backup's database copy never holds a wrapped data key (SQLite: `wrapped` nulled and the copy
//! vacuumed with secure delete; PostgreSQL: the table's data left out of the dump). The wrapped keys live in
//! the backup's keys file alone, so removing a key destroyed in the live database from every keys file
//! ([`remove_destroyed`]) makes the payloads it sealed unreadable in every backup too (crypto-erasure).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _};
use serde::{Deserialize, Serialize};

use super::BackupError;
use super::manifest::{Manifest, describe};
use crate::entities::data_keys;

pub(super) const KEYS: &str = "keys.json";

/// One row of `data_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct KeyRow {
    pub owner: String,
    pub version: i32,
    /// Hex of the wrapped key; `None` once destroyed.
    pub wrapped: Option<String>,
    pub created_at: DateTime<Utc>,
    pub destroyed_at: Option<DateTime<Utc>>,
}

pub(super) async fn read_live(db: &DatabaseConnection) -> Result<Vec<KeyRow>, BackupError> {
    let rows = data_keys::Entity::find().all(db).await.map_err(BackupError::db)?;
    Ok(rows
        .into_iter()
        .map(|row| KeyRow {
            owner: row.owner,
            version: row.version,
            wrapped: row.wrapped.map(hex::encode),
            created_at: row.created_at,
            destroyed_at: row.destroyed_at,
        })
        .collect())
}

pub(super) fn read_file(dir: &Path) -> Result<Vec<KeyRow>, BackupError> {
    let path = dir.join(KEYS);
    let text = std::fs::read(&path).map_err(BackupError::io(&path))?;
    serde_json::from_slice(&text).map_err(|_| BackupError::Damaged(format!("{} does not read", path.display())))
}

pub(super) fn write_file(dir: &Path, rows: &[KeyRow]) -> Result<(), BackupError> {
    let text = serde_json::to_vec(rows).map_err(|e| BackupError::Damaged(e.to_string()))?;
    super::replace_file(&dir.join(KEYS), &text)
}

/// The rows as the restored database takes them back.
pub(super) fn to_models(rows: &[KeyRow]) -> Result<Vec<data_keys::Model>, BackupError> {
    rows.iter()
        .map(|row| {
            Ok(data_keys::Model {
                owner: row.owner.clone(),
                version: row.version,
                wrapped: row
                    .wrapped
                    .as_deref()
                    .map(hex::decode)
                    .transpose()
                    .map_err(|_| BackupError::Damaged("a wrapped key is not hex".to_owned()))?,
                created_at: row.created_at,
                destroyed_at: row.destroyed_at,
            })
        })
        .collect()
}

/// Removes from every backup under `root` each key destroyed in the live database; how many were removed.
/// The keys file and its manifest entry are rewritten together.
pub async fn remove_destroyed(db: &DatabaseConnection, root: &Path) -> Result<u64, BackupError> {
    let destroyed: BTreeMap<(String, i32), DateTime<Utc>> = data_keys::Entity::find()
        .filter(data_keys::Column::DestroyedAt.is_not_null())
        .all(db)
        .await
        .map_err(BackupError::db)?
        .into_iter()
        .filter_map(|row| row.destroyed_at.map(|at| ((row.owner, row.version), at)))
        .collect();
    if destroyed.is_empty() || !root.exists() {
        return Ok(0);
    }
    let mut removed = 0;
    for dir in super::backup_dirs(root)? {
        let mut rows = read_file(&dir)?;
        let mut changed = 0;
        for row in &mut rows {
            if let Some(at) = destroyed.get(&(row.owner.clone(), row.version))
                && row.wrapped.is_some()
            {
                row.wrapped = None;
                row.destroyed_at = Some(*at);
                changed += 1;
            }
        }
        if changed > 0 {
            let mut manifest = Manifest::read(&dir)?;
            write_file(&dir, &rows)?;
            let entry = describe(&dir.join(KEYS))?;
            for file in &mut manifest.files {
                if file.name == KEYS {
                    *file = entry.clone();
                }
            }
            manifest.write(&dir)?;
            removed += changed;
        }
    }
    Ok(removed)
}
