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
        owner_url: None,
        max_connections: 1,
        privileges: Privileges::Owner,
        migrate: tgos_persistence::MigrateMode::Auto,
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

/// Runs `staff create` for a second account with `args` and the environment `env`, answering `before` first
/// (the sign-in's prompts), then the new password twice and the authenticator's code. Exit status and
/// everything printed.
pub fn run_second(dir: &std::path::Path, args: &[&str], before: &[String]) -> anyhow::Result<(Option<i32>, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgos-console"))
        .args([
            "staff",
            "create",
            "--email",
            "second@example.com",
            "--username",
            "second",
        ])
        .args(args)
        .env("TGOS_DATA_DIR", dir)
        .env_remove("DATABASE_URL")
        .env_remove("TGOS_MASTER_KEY")
        .env_remove("TGOS_CONSOLE_LOGIN")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or_else(|| anyhow::anyhow!("no stdin"))?;
    // The command may stop reading early (a refusal); a closed pipe is not the test's failure.
    let mut answer = |line: &str| {
        let _closed = writeln!(stdin, "{line}");
    };
    for line in before {
        answer(line);
    }
    answer("another long passphrase");
    answer("another long passphrase");
    let stderr = child.stderr.take().ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let mut transcript = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line?;
        transcript.push_str(&line);
        transcript.push('\n');
        if let Some(secret) = line.trim().strip_prefix("secret:") {
            answer(&totp_code(secret.trim())?);
        }
    }
    drop(stdin);
    Ok((child.wait()?.code(), transcript))
}

/// The backup codes `staff create` printed (each signs in once).
pub fn backup_codes(transcript: &str) -> Vec<String> {
    transcript
        .lines()
        .map(str::trim)
        .filter(|line| line.len() == 11 && line.as_bytes()[5] == b'-')
        .map(str::to_owned)
        .collect()
}

/// What a console command did: whether it exited 0, its stdout and its stderr.
#[derive(Debug)]
pub struct Run {
    pub ok: bool,
    /// The exit status (`None` when a signal ended it).
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Both streams, for assertions about everything the command printed.
    pub fn everything(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `tgos-console ARGS` on the data directory, answering the prompts with `answers` (one line each).
pub fn run_console(dir: &std::path::Path, args: &[&str], answers: &[&str]) -> anyhow::Result<Run> {
    run_console_with(dir, args, answers, &[])
}

/// [`run_console`] with extra environment variables.
pub fn run_console_with(
    dir: &std::path::Path,
    args: &[&str],
    answers: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<Run> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgos-console"))
        .args(args)
        .env("TGOS_DATA_DIR", dir)
        .env_remove("DATABASE_URL")
        .env_remove("TGOS_MASTER_KEY")
        .env_remove("TGOS_CONSOLE_LOGIN")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or_else(|| anyhow::anyhow!("no stdin"))?;
    for answer in answers {
        // The command may stop reading early (a refused sign-in); a closed pipe is not the test's failure.
        if writeln!(stdin, "{answer}").is_err() {
            break;
        }
    }
    drop(stdin);
    let output = child.wait_with_output()?;
    Ok(Run {
        ok: output.status.success(),
        status: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// The staff created by `run_create` signs in with these answers (login, password, a backup code).
pub fn staff_answers(code: &str) -> [&str; 3] {
    ["root", "a long staff passphrase", code]
}

/// A valid Telethon session string: "1" + URL-safe base64 of dc id, IPv4 address, port (big-endian) and a
/// 256-byte auth key derived from `seed` (distinct seeds give distinct keys).
pub fn telethon_session(seed: u8) -> String {
    use base64::Engine as _;
    let mut data = vec![2u8, 149, 154, 167, 51];
    data.extend_from_slice(&443u16.to_be_bytes());
    data.extend((0..=255u8).map(|i| i.wrapping_mul(7).wrapping_add(seed)));
    format!("1{}", base64::engine::general_purpose::URL_SAFE.encode(data))
}

/// The embedded database of a data directory, opened directly (as the tests' inspector).
pub async fn database(dir: &std::path::Path) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let url = format!("sqlite://{}?mode=rw", dir.join("tgos.db").display());
    Ok(sea_orm::Database::connect(url).await?)
}

/// The first column of every row `sql` returns, as text.
pub async fn column(db: &sea_orm::DatabaseConnection, sql: &str) -> anyhow::Result<Vec<String>> {
    use sea_orm::ConnectionTrait as _;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, sql))
        .await?;
    rows.iter()
        .map(|row| {
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .map_err(|e| anyhow::anyhow!("{e:?}"))
        })
        .collect()
}

/// The number `sql` (`SELECT COUNT(*) …`) counts.
pub async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let values = column(db, sql).await?;
    let first = values.first().ok_or_else(|| anyhow::anyhow!("no row from {sql}"))?;
    Ok(first.parse()?)
}
