//! `tgos-console staff create` end to end: the real binary, a real database, an authenticator's code.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};

use tgos_domain::identity::ports::UserRepository as _;
use tgos_persistence::{DatabaseSettings, connect, key_file};

async fn prepared_data_dir() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("tgos.db").display());
    connect(&DatabaseSettings {
        url,
        max_connections: 1,
    })
    .await?;
    key_file::load_or_create(&dir.path().join("master.key"))?;
    Ok(dir)
}

fn totp_code(secret: &str) -> anyhow::Result<String> {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 0, 30, bytes, None, "t".to_owned());
    Ok(totp.generate_current()?)
}

/// Runs `staff create`, answering the prompts; `code` turns the printed secret into the code typed.
fn run_create(dir: &std::path::Path, code: impl Fn(&str) -> anyhow::Result<String>) -> anyhow::Result<(bool, String)> {
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

async fn stored_user(dir: &std::path::Path) -> anyhow::Result<Option<tgos_domain::identity::records::UserRecord>> {
    let url = format!("sqlite://{}?mode=rw", dir.join("tgos.db").display());
    let store = connect(&DatabaseSettings {
        url,
        max_connections: 1,
    })
    .await?;
    Ok(store.find_user_by_login("root").await?)
}

#[tokio::test]
async fn staff_account_is_created_only_with_a_valid_code_and_has_two_factor_on() -> anyhow::Result<()> {
    let dir = prepared_data_dir().await?;
    let (ok, transcript) = run_create(dir.path(), |_| Ok("000000".to_owned()))?;
    assert!(!ok, "a wrong code must fail: {transcript}");
    assert!(
        stored_user(dir.path()).await?.is_none(),
        "nothing is stored without a valid code"
    );

    let (ok, transcript) = run_create(dir.path(), totp_code)?;
    assert!(ok, "{transcript}");
    assert!(transcript.contains("otpauth://totp/"), "{transcript}");
    let backup_codes = transcript
        .lines()
        .filter(|line| line.starts_with("  ") && line.trim().len() == 11 && line.trim().as_bytes()[5] == b'-')
        .count();
    assert_eq!(backup_codes, 10, "ten backup codes are shown once: {transcript}");
    assert!(
        !transcript.contains("a long staff passphrase"),
        "the password is never echoed"
    );
    let user = stored_user(dir.path())
        .await?
        .ok_or_else(|| anyhow::anyhow!("staff user missing"))?;
    assert!(user.is_staff);
    assert!(user.two_factor_enabled());
    Ok(())
}
