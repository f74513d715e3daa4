//! Files only the server's own user may read: the data directory and what is written into it.
//!
//! Rule: the server creates directories mode 0700 and files mode 0600 (on Unix; elsewhere the platform's
//! defaults apply), whatever the process umask, because they hold mail with sign-in links and invitation
//! tokens, the SQLite database and, with the embedded default, the master key. A directory that already
//! exists is left as the operator made it, with a warning when others may read it.

use std::fs;
use std::io::Write as _;
use std::path::Path;

/// Creates `dir` and any missing parents with mode 0700.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                dir = %dir.display(),
                mode = format!("{:o}", mode & 0o777),
                "a data directory others may read; restrict it to the server's user (chmod 700)"
            );
        }
    }
    Ok(())
}

/// Writes a new file (never overwriting one) with mode 0600.
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    Ok(())
}

/// Creates a new file (never opening an existing one) with mode 0600, for writing as it goes.
pub fn create_private_file(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn directories_are_0700_and_files_0600_whatever_the_umask() -> std::io::Result<()> {
        let root = tempfile::tempdir()?;
        let dir = root.path().join("a/b");
        create_private_dir(&dir)?;
        assert_eq!(fs::metadata(&dir)?.permissions().mode() & 0o777, 0o700);
        assert_eq!(fs::metadata(root.path().join("a"))?.permissions().mode() & 0o777, 0o700);
        let file = dir.join("x.eml");
        write_private_file(&file, b"hello")?;
        assert_eq!(fs::metadata(&file)?.permissions().mode() & 0o777, 0o600);
        assert!(write_private_file(&file, b"again").is_err(), "never overwrites");
        Ok(())
    }
}
