//! `tgos-console accounts …` and `keys rotate` end to end: the real binary, a real database, a staff sign-in
//! answered over pipes with the backup codes `staff create` printed (the TOTP code of the enrollment step was
//! used by the enrollment itself, and a code works once).

use std::path::Path;

mod common;
use common::{
    backup_codes, column, count, database, prepared_data_dir, run_console, run_console_with, run_create, staff_answers,
    telethon_session, totp_code,
};

const ACCOUNTS: &str = "SELECT COUNT(*) FROM telegram_accounts";
const LIVE_SESSIONS: &str = "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL";

/// A data directory with a staff account; its backup codes.
async fn with_staff() -> anyhow::Result<(tempfile::TempDir, Vec<String>)> {
    let dir = prepared_data_dir().await?;
    let (created, transcript) = run_create(dir.path(), totp_code)?;
    assert!(created, "{transcript}");
    let codes = backup_codes(&transcript);
    assert_eq!(codes.len(), 10, "{transcript}");
    Ok((dir, codes))
}

fn write_file(dir: &Path, name: &str, lines: &[&str]) -> anyhow::Result<String> {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n")?;
    Ok(path.display().to_string())
}

fn import(dir: &Path, file: &str, answers: &[&str]) -> anyhow::Result<common::Run> {
    run_console(
        dir,
        &[
            "accounts",
            "import",
            "--format",
            "telethon",
            file,
            "--price-per-day",
            "250",
        ],
        answers,
    )
}

/// Nothing the command printed contains a session string or a recognisable piece of one.
fn assert_no_session_in(output: &str, sessions: &[&str]) {
    for session in sessions {
        assert!(!output.contains(session), "a session string was printed: {output}");
        assert!(
            !output.contains(&session[40..80]),
            "part of a session string was printed: {output}"
        );
    }
}

#[tokio::test]
async fn import_seals_every_line_for_the_platform_and_audits_the_staff_member() -> anyhow::Result<()> {
    let (dir, codes) = with_staff().await?;
    let (first, second) = (telethon_session(1), telethon_session(2));
    let file = write_file(dir.path(), "sessions.txt", &["# two accounts", &first, &second])?;

    let run = import(dir.path(), &file, &staff_answers(&codes[0]))?;
    assert!(run.ok, "{}", run.everything());
    assert!(run.stdout.contains("imported 2 accounts"), "{}", run.stdout);
    assert_no_session_in(&run.everything(), &[&first, &second]);

    let db = database(dir.path()).await?;
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM telegram_accounts WHERE key_owner = 'platform' AND key_version = 1"
        )
        .await?,
        2
    );
    let ids = column(
        &db,
        "SELECT CASE typeof(id) WHEN 'blob' THEN lower(hex(id)) ELSE replace(id, '-', '') END FROM telegram_accounts",
    )
    .await?;
    for id in &ids {
        let printed = run.stdout.replace('-', "");
        assert!(
            printed.contains(id.as_str()),
            "the summary names account {id}: {}",
            run.stdout
        );
    }
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'accounts.imported' AND chain = 'platform' \
             AND actor_kind = 'STAFF' AND actor_name = 'root'"
        )
        .await?,
        1
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.signed_out'").await?,
        1,
        "the console session is signed out at the end"
    );
    assert_eq!(count(&db, LIVE_SESSIONS).await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_file_with_one_malformed_line_imports_nothing_and_names_the_line() -> anyhow::Result<()> {
    let (dir, codes) = with_staff().await?;
    let good = telethon_session(3);
    let file = write_file(dir.path(), "broken.txt", &[&good, "1AAAA-not-a-session"])?;

    let run = import(dir.path(), &file, &staff_answers(&codes[0]))?;
    assert!(!run.ok, "{}", run.everything());
    assert!(run.stderr.contains("line 2:"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was imported"), "{}", run.stderr);
    assert!(!run.stderr.contains("line 1:"), "{}", run.stderr);
    assert_no_session_in(&run.everything(), &[&good]);

    let db = database(dir.path()).await?;
    assert_eq!(count(&db, ACCOUNTS).await?, 0);
    assert_eq!(count(&db, LIVE_SESSIONS).await?, 0, "signed out after a failure too");
    Ok(())
}

#[tokio::test]
async fn importing_the_same_file_twice_is_a_conflict_naming_the_line() -> anyhow::Result<()> {
    let (dir, codes) = with_staff().await?;
    let sessions = [telethon_session(4), telethon_session(5)];
    let file = write_file(dir.path(), "sessions.txt", &[&sessions[0], &sessions[1]])?;

    let run = import(dir.path(), &file, &staff_answers(&codes[0]))?;
    assert!(run.ok, "{}", run.everything());
    let again = import(dir.path(), &file, &staff_answers(&codes[1]))?;
    assert!(!again.ok, "{}", again.everything());
    assert!(
        again.stderr.contains("line 1: this session is already in the pool"),
        "{}",
        again.stderr
    );
    assert_no_session_in(&again.everything(), &[&sessions[0], &sessions[1]]);

    let db = database(dir.path()).await?;
    assert_eq!(count(&db, ACCOUNTS).await?, 2, "the second run added nothing");
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM audit_log WHERE action = 'accounts.imported'").await?,
        1
    );
    Ok(())
}

#[tokio::test]
async fn wrong_credentials_and_non_staff_accounts_are_refused_and_import_nothing() -> anyhow::Result<()> {
    let (dir, codes) = with_staff().await?;
    let session = telethon_session(6);
    let file = write_file(dir.path(), "sessions.txt", &[&session])?;
    let db = database(dir.path()).await?;

    let run = import(dir.path(), &file, &["root", "not the passphrase", &codes[0]])?;
    assert!(!run.ok, "{}", run.everything());
    assert!(run.stderr.contains("invalid login or password"), "{}", run.stderr);

    let run = import(dir.path(), &file, &staff_answers("00000-00000"))?;
    assert!(!run.ok, "{}", run.everything());
    assert!(run.stderr.contains("invalid two-factor code"), "{}", run.stderr);

    // An ordinary user (no staff flag, no two-factor) with a password that is right.
    let id_type = column(&db, "SELECT typeof(id) FROM users").await?;
    let new_id = if id_type.first().map(String::as_str) == Some("blob") {
        "X'0192f0c0000070008000000000000001'"
    } else {
        "'0192f0c0-0000-7000-8000-000000000001'"
    };
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        &format!(
            "INSERT INTO users (id, email, email_key, full_name, username, username_key, password_hash, is_staff, \
             created_at) SELECT {new_id}, 'op@example.com', 'op@example.com', 'Operator', 'op', 'op', \
             password_hash, false, created_at FROM users WHERE username = 'root'"
        ),
    )
    .await?;
    let run = import(dir.path(), &file, &["op", "a long staff passphrase", &codes[0]])?;
    assert!(!run.ok, "{}", run.everything());
    assert!(run.stderr.contains("staff account with two-factor"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("Code:"),
        "no code is asked without two-factor: {}",
        run.stderr
    );

    // A staff member whose staff flag was taken away signs in, but may not act.
    sea_orm::ConnectionTrait::execute_unprepared(&db, "UPDATE users SET is_staff = false WHERE username = 'root'")
        .await?;
    let run = import(dir.path(), &file, &staff_answers(&codes[0]))?;
    assert!(!run.ok, "{}", run.everything());
    assert!(run.stderr.contains("staff account with two-factor"), "{}", run.stderr);

    assert_eq!(count(&db, ACCOUNTS).await?, 0);
    assert_eq!(
        count(&db, LIVE_SESSIONS).await?,
        0,
        "every session a refusal opened is closed"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM audit_log WHERE action = 'accounts.imported'").await?,
        0
    );
    Ok(())
}

#[tokio::test]
async fn create_sandbox_adds_sandbox_accounts_with_the_login_from_the_environment() -> anyhow::Result<()> {
    let (dir, codes) = with_staff().await?;
    let run = run_console_with(
        dir.path(),
        &["accounts", "create-sandbox", "--count", "3", "--price-per-day", "100"],
        &["a long staff passphrase", &codes[0]],
        &[("TGOS_CONSOLE_LOGIN", "root")],
    )?;
    assert!(run.ok, "{}", run.everything());
    assert!(run.stdout.contains("created 3 sandbox accounts"), "{}", run.stdout);
    assert!(
        !run.stderr.contains("Login:"),
        "the login came from the environment: {}",
        run.stderr
    );

    let db = database(dir.path()).await?;
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM telegram_accounts WHERE sandbox = true AND key_owner = 'platform'"
        )
        .await?,
        3
    );
    assert_eq!(count(&db, ACCOUNTS).await?, 3);

    let too_many = run_console(
        dir.path(),
        &[
            "accounts",
            "create-sandbox",
            "--count",
            "1001",
            "--price-per-day",
            "100",
        ],
        &staff_answers(&codes[1]),
    )?;
    assert!(!too_many.ok, "{}", too_many.everything());
    assert_eq!(count(&db, ACCOUNTS).await?, 3);
    Ok(())
}

#[tokio::test]
async fn rotating_the_platform_key_reseals_every_pool_account_under_version_two() -> anyhow::Result<()> {
    let (dir, codes) = with_staff().await?;
    let sessions = [telethon_session(7), telethon_session(8)];
    let file = write_file(dir.path(), "sessions.txt", &[&sessions[0], &sessions[1]])?;
    let run = import(dir.path(), &file, &staff_answers(&codes[0]))?;
    assert!(run.ok, "{}", run.everything());
    let db = database(dir.path()).await?;
    let before = column(
        &db,
        "SELECT lower(hex(sealed_session)) FROM telegram_accounts ORDER BY id",
    )
    .await?;

    let run = run_console(dir.path(), &["keys", "rotate", "--platform"], &staff_answers(&codes[1]))?;
    assert!(run.ok, "{}", run.everything());
    assert!(run.stdout.contains("from v1 to v2"), "{}", run.stdout);
    assert!(run.stdout.contains("re-sealed 2 payloads"), "{}", run.stdout);

    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM telegram_accounts WHERE key_owner = 'platform' AND key_version = 2"
        )
        .await?,
        2
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM data_keys WHERE owner = 'platform' AND version = 2"
        )
        .await?,
        1
    );
    let after = column(
        &db,
        "SELECT lower(hex(sealed_session)) FROM telegram_accounts ORDER BY id",
    )
    .await?;
    assert!(
        before.iter().zip(&after).all(|(b, a)| b != a),
        "every payload was re-encrypted"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'keys.rotated' AND chain = 'platform' \
             AND actor_kind = 'STAFF' AND target_id = 'platform'"
        )
        .await?,
        1
    );

    // A session imported after the rotation is sealed under the new version.
    let third = telethon_session(9);
    let more = write_file(dir.path(), "more.txt", &[&third])?;
    let run = import(dir.path(), &more, &staff_answers(&codes[2]))?;
    assert!(run.ok, "{}", run.everything());
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM telegram_accounts WHERE key_version = 2").await?,
        3
    );

    // A workspace that never sealed anything has no key to rotate; nothing is created for it.
    let run = run_console(
        dir.path(),
        &["keys", "rotate", "--workspace", "0192f0c0-0000-7000-8000-000000000000"],
        &staff_answers(&codes[3]),
    )?;
    assert!(!run.ok, "{}", run.everything());
    assert!(run.stderr.contains("not found"), "{}", run.stderr);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM data_keys WHERE owner LIKE 'workspace:%'").await?,
        0
    );

    let verify = run_console(dir.path(), &["audit", "verify"], &[])?;
    assert!(verify.ok, "{}", verify.everything());
    Ok(())
}
