//! The master key file of the embedded default: generated once under the data directory, readable by the
//! owner only. Production sets `TGOS_MASTER_KEY` instead.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use tgos_domain::crypto::MasterKey;
use tgos_domain::crypto::master_key::MasterKeyError;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read or write the key file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the key file {path} is malformed: {source}")]
    Malformed {
        path: String,
        #[source]
        source: MasterKeyError,
    },
}

/// Whether the key was read or had to be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    Existing,
    Created,
}

/// Reads the key at `path`, creating it (mode 0600) when absent.
pub fn load_or_create(path: &Path) -> Result<(MasterKey, KeyOrigin), KeyFileError> {
    let shown = path.display().to_string();
    let io = |source| KeyFileError::Io {
        path: shown.clone(),
        source,
    };
    match fs::read_to_string(path) {
        Ok(text) => {
            let key = MasterKey::from_base64(&text).map_err(|source| KeyFileError::Malformed {
                path: shown.clone(),
                source,
            })?;
            Ok((key, KeyOrigin::Existing))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                crate::private_fs::create_private_dir(parent).map_err(io)?;
            }
            let key = MasterKey::generate();
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            let mut file = options.open(path).map_err(io)?;
            file.write_all(key.to_base64().as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            Ok((key, KeyOrigin::Created))
        }
        Err(error) => Err(io(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_owner_only_then_reused() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("master.key");
        let (first, origin) = load_or_create(&path)?;
        assert_eq!(origin, KeyOrigin::Created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
        }
        let (second, origin) = load_or_create(&path)?;
        assert_eq!(origin, KeyOrigin::Existing);
        assert_eq!(first.to_base64(), second.to_base64());
        Ok(())
    }

    #[test]
    fn malformed_file_is_refused_without_printing_it() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("master.key");
        fs::write(&path, "not-a-key-SECRETISH")?;
        let error = load_or_create(&path).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("malformed"));
        assert!(!error.contains("SECRETISH"));
        Ok(())
    }
}
