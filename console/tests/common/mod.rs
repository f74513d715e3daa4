//! Shared set-up of the console's tests: a migrated embedded database and key file, an authenticator.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};

use tgos_persistence::{DatabaseSettings, Privileges, connect, key_file};

pub async fn prepared_data_dir() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("tgos.db").display());
    connect(&DatabaseSettings {
        url,
        max_connections: 1,
        privileges: Privileges::Owner,
    })
    .await?;
    key_file::load_or_create(&dir.path().join("master.key"))?;
    Ok(dir)
}

pub fn totp_code(secret: &str) -> anyhow::Result<String> {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 0, 30, bytes, None, "t".to_owned());
    Ok(totp.generate_current()?)
}

/// Runs `staff create`, answering the prompts; `code` turns the printed secret into the code typed.
pub fn run_create(
    dir: &std::path::Path,
    code: impl Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<(bool, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgos-console"))
        .args([
            "staff",
            "create",
            "--email",
            "root@example.com",
            "--full-name",
            "Root Staff",
        ])
        .env("TGOS_DATA_DIR", dir)
        .env_remove("DATABASE_URL")
        .env_remove("TGOS_MASTER_KEY")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or_else(|| anyhow::anyhow!("no stdin"))?;
    writeln!(stdin, "a long staff passphrase")?;
    writeln!(stdin, "a long staff passphrase")?;
    let stderr = child.stderr.take().ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let mut lines = BufReader::new(stderr).lines();
    let mut transcript = String::new();
    for line in lines.by_ref() {
        let line = line?;
        transcript.push_str(&line);
        transcript.push('\n');
        if let Some(secret) = line.trim().strip_prefix("secret:") {
            writeln!(stdin, "{}", code(secret.trim())?)?;
            break;
        }
    }
    drop(stdin);
    for line in lines {
        transcript.push_str(&line?);
        transcript.push('\n');
    }
    Ok((child.wait()?.success(), transcript))
}
