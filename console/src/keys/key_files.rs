//! The key files of a master-key rotation: the new key's file, and the swap of the embedded default's key
//! file (`<data dir>/master.key`) once everything is under the new key.
//!
//! Rules:
//! - A key file holds base64 of 32 bytes; it is written once with `create_new` and mode 0600, then synced
//!   (file and directory), so a key is durably on disk before anything depends on it. An existing file is
//!   never overwritten; its contents are never printed.
//! - The swap keeps the old key: `master.key.old` (mode 0600) is written and synced first, then the new key
//!   goes to a temporary file that is renamed over `master.key` (atomic), then the directory is synced. Run
//!   again after an interruption, it finds `master.key.old` holding the same old key and carries on.
//! - `master.key.old` is never overwritten with another key: one left by an earlier rotation must be removed by
//!   the operator first.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tgos_domain::crypto::MasterKey;
use zeroize::Zeroizing;

/// Where the embedded default keeps the previous key after a rotation.
pub fn old_key_path(key_file: &Path) -> PathBuf {
    key_file.with_file_name("master.key.old")
}

/// The temporary file the new key is written to before it is renamed over the key file.
fn temporary_path(key_file: &Path) -> PathBuf {
    key_file.with_file_name("master.key.tmp")
}

/// The names in the data directory a new key file may not take: the swap writes them.
pub fn reserved_paths(key_file: &Path) -> [PathBuf; 3] {
    [key_file.to_path_buf(), old_key_path(key_file), temporary_path(key_file)]
}

/// Whether `path` names the same file as `other` (their directories resolved; the files may not exist yet).
pub fn same_place(path: &Path, other: &Path) -> bool {
    let resolve = |p: &Path| {
        let parent = match p.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        (fs::canonicalize(parent).ok(), p.file_name().map(ToOwned::to_owned))
    };
    let (a, b) = (resolve(path), resolve(other));
    a.0.is_some() && a == b
}

/// Reads a key file (never printing it) and syncs it, so the key is on disk before it is relied upon.
pub fn read(path: &Path) -> anyhow::Result<MasterKey> {
    let text = Zeroizing::new(
        fs::read_to_string(path).with_context(|| format!("cannot read the key file {}", path.display()))?,
    );
    let key = MasterKey::from_base64(&text).map_err(|_| {
        anyhow::anyhow!(
            "the key file {} is malformed: it must hold base64 of exactly 32 bytes",
            path.display()
        )
    })?;
    fs::File::open(path)
        .and_then(|file| file.sync_all())
        .with_context(|| format!("cannot sync the key file {}", path.display()))?;
    Ok(key)
}

/// Whether others than the owner may read or write the file (the key should be the owner's alone).
#[cfg(unix)]
pub fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
pub fn readable_by_others(_path: &Path) -> bool {
    false
}

/// Writes `key` to a new file at `path` (refusing an existing one), mode 0600, synced with its directory.
pub fn write_new(path: &Path, key: &MasterKey) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| {
        if path.exists() {
            format!("{} exists; it is never overwritten", path.display())
        } else {
            format!("cannot create {}", path.display())
        }
    })?;
    let text = Zeroizing::new(key.to_base64());
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    sync_directory(path)
}

/// Syncs the directory holding `path`, so a file created or renamed there survives a crash.
fn sync_directory(path: &Path) -> anyhow::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    fs::File::open(directory)
        .and_then(|dir| dir.sync_all())
        .with_context(|| format!("cannot sync the directory {}", directory.display()))?;
    #[cfg(not(unix))]
    let _ = directory;
    Ok(())
}

/// Fails unless `master.key.old` is absent or holds `current` (left by an interrupted run of this rotation).
pub fn check_old_key_slot(key_file: &Path, current: &MasterKey) -> anyhow::Result<()> {
    let old = old_key_path(key_file);
    if !old.exists() {
        return Ok(());
    }
    let kept = read(&old)?;
    anyhow::ensure!(
        kept.same_key(current),
        "{} exists and holds another key, from an earlier rotation; once nothing needs it, delete it (or move it \
         away) and run again",
        old.display()
    );
    Ok(())
}

/// Replaces the key file `old` with `new`, keeping `old` in `master.key.old`. Fails, changing nothing, when the
/// key file no longer holds `old`.
pub fn replace_key_file(key_file: &Path, old: &MasterKey, new: &MasterKey) -> anyhow::Result<PathBuf> {
    anyhow::ensure!(
        read(key_file)?.same_key(old),
        "{} changed during the rotation; it was left as it is",
        key_file.display()
    );
    check_old_key_slot(key_file, old)?;
    let old_path = old_key_path(key_file);
    if !old_path.exists() {
        write_new(&old_path, old)?;
    }
    let temporary = temporary_path(key_file);
    if temporary.exists() {
        fs::remove_file(&temporary).with_context(|| format!("cannot remove {}", temporary.display()))?;
    }
    write_new(&temporary, new)?;
    fs::rename(&temporary, key_file)
        .with_context(|| format!("cannot move {} over {}", temporary.display(), key_file.display()))?;
    sync_directory(key_file)?;
    Ok(old_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_swap_keeps_the_old_key_and_refuses_to_overwrite_an_older_one() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let key_file = dir.path().join("master.key");
        let (old, new) = (MasterKey::generate(), MasterKey::generate());
        write_new(&key_file, &old)?;
        assert!(
            write_new(&key_file, &new).is_err(),
            "an existing key file is never overwritten"
        );

        let kept = replace_key_file(&key_file, &old, &new)?;
        assert!(read(&key_file)?.same_key(&new));
        assert!(read(&kept)?.same_key(&old));
        assert!(!temporary_path(&key_file).exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for path in [&key_file, &kept] {
                assert_eq!(fs::metadata(path)?.permissions().mode() & 0o777, 0o600);
            }
        }

        // A second rotation finds the first one's old key still there and refuses before touching anything.
        let newer = MasterKey::generate();
        assert!(check_old_key_slot(&key_file, &new).is_err());
        assert!(replace_key_file(&key_file, &new, &newer).is_err());
        assert!(read(&key_file)?.same_key(&new));
        Ok(())
    }

    #[test]
    fn reserved_names_are_recognised_through_other_spellings() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let key_file = dir.path().join("master.key");
        let spelled = dir.path().join(".").join("master.key.old");
        assert!(reserved_paths(&key_file).iter().any(|p| same_place(&spelled, p)));
        assert!(
            !reserved_paths(&key_file)
                .iter()
                .any(|p| same_place(&dir.path().join("new.key"), p))
        );
        Ok(())
    }
}
