//! A backup's manifest: when, from which database and schema, and each file with its size and SHA-256.
//!
//! Rule: nothing in a backup is trusted before its checksum matches the manifest ([`Manifest::verify`]); a
//! file rewritten on purpose (a keys file losing destroyed keys) gets its entry rewritten with it.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::BackupError;

pub(super) const MANIFEST: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFile {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The newest migration applied to the database backed up.
    pub latest_migration: String,
    pub files: Vec<BackupFile>,
}

/// Size and SHA-256 of a file, read in pieces.
pub(super) fn describe(path: &Path) -> Result<BackupFile, BackupError> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path).map_err(BackupError::io(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0_u8; 1 << 16];
    let mut bytes = 0_u64;
    loop {
        let read = file.read(&mut buffer).map_err(BackupError::io(path))?;
        if read == 0 {
            break;
        }
        bytes += read as u64;
        hasher.update(&buffer[..read]);
    }
    Ok(BackupFile {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}

impl Manifest {
    pub(super) fn read(dir: &Path) -> Result<Self, BackupError> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read(&path).map_err(BackupError::io(&path))?;
        serde_json::from_slice(&text).map_err(|_| BackupError::Damaged(format!("{} does not read", path.display())))
    }

    /// Writes the manifest next to its files (a temporary file, then a rename).
    pub(super) fn write(&self, dir: &Path) -> Result<(), BackupError> {
        let text = serde_json::to_vec_pretty(self).map_err(|e| BackupError::Damaged(e.to_string()))?;
        super::replace_file(&dir.join(MANIFEST), &text)
    }

    /// Checks every file against its size and checksum.
    pub fn verify(&self, dir: &Path) -> Result<(), BackupError> {
        for expected in &self.files {
            let found = describe(&dir.join(&expected.name))?;
            if found.bytes != expected.bytes || found.sha256 != expected.sha256 {
                return Err(BackupError::Checksum(expected.name.clone()));
            }
        }
        Ok(())
    }

    /// The entry of a file.
    pub fn file(&self, name: &str) -> Option<&BackupFile> {
        self.files.iter().find(|f| f.name == name)
    }
}
