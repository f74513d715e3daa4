//! [`ZipPackages`]: disclosure packages as zip files under `<exports dir>/lawful`.
//!
//! Rules: written like the data exports (`crate::privacy::files`: a `.part` file of mode 0600 in a directory
//! of mode 0700, renamed once complete, the zip written on a blocking task fed by a bounded channel), under a
//! name made of ids only ([`PackageName`]). The SHA-256 of a finished package is read back from the file in
//! 64 KiB chunks on the blocking pool, so what is recorded is what is on disk.

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sha2::{Digest as _, Sha256};
use tgos_domain::compliance::lawful::{PackageFiles, PackageName};
use tgos_domain::privacy::ports::{ArchiveError, ArchiveWriter};

use crate::privacy::files::{failed, start_zip};
use crate::private_fs;

/// The packages' directory.
#[derive(Debug, Clone)]
pub struct ZipPackages {
    dir: PathBuf,
}

impl ZipPackages {
    /// The `lawful` directory under the exports directory, created (mode 0700, with its parent) when missing.
    pub fn under(exports_dir: &Path) -> std::io::Result<Self> {
        private_fs::create_private_dir(exports_dir)?;
        let dir = exports_dir.join("lawful");
        private_fs::create_private_dir(&dir)?;
        Ok(Self { dir })
    }

    fn part(&self, name: &PackageName) -> PathBuf {
        self.dir.join(format!("{name}.part"))
    }
}

#[async_trait]
impl PackageFiles for ZipPackages {
    fn create(&self, name: &PackageName) -> Result<Box<dyn ArchiveWriter>, ArchiveError> {
        start_zip(self.part(name), self.locate(name))
    }

    async fn sha256(&self, name: &PackageName) -> Result<[u8; 32], ArchiveError> {
        let path = self.locate(name);
        tokio::task::spawn_blocking(move || {
            let mut file = fs::File::open(&path).map_err(failed)?;
            let mut hasher = Sha256::new();
            let mut chunk = vec![0_u8; 64 * 1024];
            loop {
                let read = file.read(&mut chunk).map_err(failed)?;
                if read == 0 {
                    break;
                }
                hasher.update(&chunk[..read]);
            }
            Ok(hasher.finalize().into())
        })
        .await
        .map_err(failed)?
    }

    fn locate(&self, name: &PackageName) -> PathBuf {
        self.dir.join(name.as_str())
    }

    fn delete(&self, name: &PackageName) -> Result<(), ArchiveError> {
        for path in [self.locate(name), self.part(name)] {
            match fs::remove_file(&path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(failed(error)),
                _ => {}
            }
        }
        Ok(())
    }
}
