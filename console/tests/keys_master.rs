//! `tgos-console keys rotate-master` end to end: the real binary on a real database with imported accounts (so
//! data keys exist) and a staff member with two-factor enrolled (so a TOTP secret is sealed under the master
//! key). Sign-ins use the backup codes `staff create` printed, and once a TOTP code computed from the printed
//! secret, which proves the re-sealed secret opens with the new key through the real sign-in.

use std::path::Path;

use tgos_domain::crypto::MasterKey;

mod common;
use common::{
    backup_codes, column, count, database, prepared_data_dir, run_console, run_console_with, run_create, staff_answers,
    telethon_session, totp_code,
};

const WRAPPED_KEYS: &str = "SELECT lower(hex(wrapped)) FROM data_keys ORDER BY owner, version";
const TOTP_SECRETS: &str = "SELECT lower(hex(totp_secret_sealed)) FROM users ORDER BY id";
const MASTER_ROTATED: &str = "SELECT COUNT(*) FROM audit_log WHERE action = 'keys.master_rotated'";

/// A staff member; the data directory, the backup codes and the TOTP secret printed at creation.
struct Staffed {
    dir: tempfile::TempDir,
    codes: Vec<String>,
    secret: String,
}

/// A data directory with a staff account and two imported accounts (sealed under the platform's data key).
async fn with_staff_and_accounts() -> anyhow::Result<Staffed> {
    let dir = prepared_data_dir().await?;
    let (created, transcript) = run_create(dir.path(), totp_code)?;
    assert!(created, "{transcript}");
    let codes = backup_codes(&transcript);
    assert_eq!(codes.len(), 10, "{transcript}");
    let secret = transcript
        .lines()
        .find_map(|line| line.trim().strip_prefix("secret:"))
        .map(|secret| secret.trim().to_owned())
        .ok_or_else(|| anyhow::anyhow!("no secret printed: {transcript}"))?;
    let file = dir.path().join("sessions.txt");
    std::fs::write(&file, format!("{}\n{}\n", telethon_session(11), telethon_session(12)))?;
    let file = file.display().to_string();
    let import = run_console(
        dir.path(),
        &[
            "accounts",
            "import",
            "--format",
            "telethon",
            &file,
            "--price-per-day",
            "100",
        ],
        &staff_answers(&codes[0]),
    )?;
    assert!(import.ok, "{}", import.everything());
    Ok(Staffed { dir, codes, secret })
}

fn read_key(path: &Path) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(path)?.trim().to_owned())
}

fn rotate_master(dir: &Path, new_key: &Path, generate: bool, code: &str) -> anyhow::Result<common::Run> {
    rotate_master_with(dir, new_key, generate, code, &[])
}

fn rotate_master_with(
    dir: &Path,
    new_key: &Path,
    generate: bool,
    code: &str,
    env: &[(&str, &str)],
) -> anyhow::Result<common::Run> {
    let path = new_key.display().to_string();
    let mut args = vec!["keys", "rotate-master", "--new-key-file", path.as_str()];
    if generate {
        args.push("--generate");
    }
    run_console_with(dir, &args, &staff_answers(code), env)
}

#[cfg(unix)]
fn mode(path: &Path) -> anyhow::Result<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o777)
}

#[tokio::test]
async fn rotating_the_master_key_moves_every_data_key_and_totp_secret_and_switches_the_key_file() -> anyhow::Result<()>
{
    let Staffed { dir, codes, secret } = with_staff_and_accounts().await?;
    let (key_file, old_file, new_file) = (
        dir.path().join("master.key"),
        dir.path().join("master.key.old"),
        dir.path().join("new.key"),
    );
    let old_key = read_key(&key_file)?;
    let db = database(dir.path()).await?;
    let (keys_before, totp_before) = (column(&db, WRAPPED_KEYS).await?, column(&db, TOTP_SECRETS).await?);
    assert_eq!(
        keys_before.len(),
        2,
        "the import made the platform's data key, staff creation the backup-code key"
    );

    let run = rotate_master(dir.path(), &new_file, true, &codes[1])?;
    assert!(run.ok, "{}", run.everything());
    assert!(run.stderr.contains("stop every tgos server"), "{}", run.stderr);
    assert!(
        run.stdout.contains("re-wrapped 2 data keys (0 already"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("re-sealed 1 two-factor secrets (0 already"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("master.key.old"), "{}", run.stdout);

    let new_key = read_key(&new_file)?;
    assert!(
        MasterKey::from_base64(&new_key).is_ok(),
        "the generated file holds a key"
    );
    assert_ne!(new_key, old_key);
    assert_eq!(read_key(&key_file)?, new_key, "master.key holds the new key");
    assert_eq!(read_key(&old_file)?, old_key, "master.key.old holds the old key");
    assert!(!dir.path().join("master.key.tmp").exists());
    #[cfg(unix)]
    for path in [&key_file, &old_file, &new_file] {
        assert_eq!(mode(path)?, 0o600, "{}", path.display());
    }
    for printed in [&old_key, &new_key] {
        assert!(!run.everything().contains(printed.as_str()), "a key was printed");
    }

    let (keys_after, totp_after) = (column(&db, WRAPPED_KEYS).await?, column(&db, TOTP_SECRETS).await?);
    assert_eq!(keys_after.len(), 2);
    assert!(
        keys_after.iter().all(|key| !keys_before.contains(key)),
        "every data key was re-wrapped"
    );
    assert_ne!(totp_after, totp_before, "the TOTP secret was re-sealed");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'keys.master_rotated' AND chain = 'platform' \
             AND actor_kind = 'STAFF' AND actor_name = 'root' AND target_type = 'MASTER_KEY' \
             AND metadata LIKE '%\"dataKeysRewrapped\":2%' AND metadata LIKE '%\"totpResealed\":1%' \
             AND metadata LIKE '%\"complete\":true%'"
        )
        .await?,
        1
    );
    let metadata = column(
        &db,
        "SELECT metadata FROM audit_log WHERE action = 'keys.master_rotated'",
    )
    .await?;
    for printed in [&old_key, &new_key] {
        assert!(!metadata.concat().contains(printed.as_str()), "a key was audited");
    }

    // The TOTP code of the enrollment's step was used by the enrollment; forget that step so a code of the
    // current step is accepted again. Signing in with it opens the re-sealed secret with the new key, and
    // rotating the platform's data key unwraps it and re-seals both payloads under the new key.
    sea_orm::ConnectionTrait::execute_unprepared(&db, "UPDATE users SET totp_last_step = NULL").await?;
    let code = totp_code(&secret)?;
    let run = run_console(dir.path(), &["keys", "rotate", "--platform"], &staff_answers(&code))?;
    assert!(run.ok, "{}", run.everything());
    assert!(run.stdout.contains("re-sealed 2 payloads"), "{}", run.stdout);

    let verify = run_console(dir.path(), &["audit", "verify"], &[])?;
    assert!(verify.ok, "{}", verify.everything());

    // Run again with the same file: it is the current key now.
    let again = rotate_master(dir.path(), &new_file, false, &codes[2])?;
    assert!(!again.ok, "{}", again.everything());
    assert!(
        again.stderr.contains("already the current master key"),
        "{}",
        again.stderr
    );

    // Another rotation waits until the operator has dealt with master.key.old; nothing is created meanwhile.
    let newer = dir.path().join("newer.key");
    let refused = rotate_master(dir.path(), &newer, true, &codes[2])?;
    assert!(!refused.ok, "{}", refused.everything());
    assert!(refused.stderr.contains("master.key.old exists"), "{}", refused.stderr);
    assert!(!newer.exists());
    assert_eq!(count(&db, MASTER_ROTATED).await?, 1);
    Ok(())
}

#[tokio::test]
async fn a_wrong_current_key_changes_nothing() -> anyhow::Result<()> {
    let Staffed { dir, codes, .. } = with_staff_and_accounts().await?;
    let key_file = dir.path().join("master.key");
    let new_file = dir.path().join("new.key");
    let old_key = read_key(&key_file)?;
    let db = database(dir.path()).await?;
    let (keys_before, totp_before) = (column(&db, WRAPPED_KEYS).await?, column(&db, TOTP_SECRETS).await?);

    // The console runs with a key that wraps nothing. Nobody can sign in under it: the TOTP secret is sealed under
    // the master key, and the backup-code key is a data key it does not unwrap, so the refusal comes at sign-in,
    // naming the key as the cause, before the rotation could look at anything.
    let wrong = MasterKey::generate().to_base64();
    let run = rotate_master_with(dir.path(), &new_file, true, &codes[1], &[("TGOS_MASTER_KEY", &wrong)])?;
    assert!(!run.ok, "{}", run.everything());
    assert!(
        run.stderr.contains("neither the current master key nor the new one"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("sign-in refused"), "{}", run.stderr);
    assert!(!run.everything().contains(&wrong));

    assert_eq!(column(&db, WRAPPED_KEYS).await?, keys_before);
    assert_eq!(column(&db, TOTP_SECRETS).await?, totp_before);
    assert_eq!(read_key(&key_file)?, old_key);
    assert!(!dir.path().join("master.key.old").exists());
    assert_eq!(count(&db, MASTER_ROTATED).await?, 0, "a refusal writes nothing");
    assert!(!new_file.exists(), "refused at sign-in, before a new key was generated");

    // The right key then rotates to a fresh key.
    let run = rotate_master(dir.path(), &new_file, true, &codes[2])?;
    assert!(run.ok, "{}", run.everything());
    assert_eq!(read_key(&key_file)?, read_key(&new_file)?);
    let run = run_console(dir.path(), &["keys", "rotate", "--platform"], &staff_answers(&codes[3]))?;
    assert!(run.ok, "{}", run.everything());
    Ok(())
}

#[tokio::test]
async fn with_tgos_master_key_the_operator_switches_it_and_a_second_run_finds_everything_moved() -> anyhow::Result<()> {
    let Staffed { dir, codes, .. } = with_staff_and_accounts().await?;
    let key_file = dir.path().join("master.key");
    let new_file = dir.path().join("new.key");
    let old_key = read_key(&key_file)?;
    let from_env = [("TGOS_MASTER_KEY", old_key.as_str())];

    let run = rotate_master_with(dir.path(), &new_file, true, &codes[1], &from_env)?;
    assert!(run.ok, "{}", run.everything());
    assert!(run.stdout.contains("set TGOS_MASTER_KEY"), "{}", run.stdout);
    let new_key = read_key(&new_file)?;
    assert!(!run.everything().contains(&new_key), "the new key is never printed");
    assert_eq!(
        read_key(&key_file)?,
        old_key,
        "the key file is not the console's to change here"
    );
    assert!(!dir.path().join("master.key.old").exists());

    // Interrupted before the operator switched: running again moves nothing and succeeds.
    let again = rotate_master_with(dir.path(), &new_file, false, &codes[2], &from_env)?;
    assert!(again.ok, "{}", again.everything());
    assert!(
        again.stdout.contains("re-wrapped 0 data keys (2 already"),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains("re-sealed 0 two-factor secrets (1 already"),
        "{}",
        again.stdout
    );

    // With the new key, the data keys unwrap.
    let run = run_console_with(
        dir.path(),
        &["keys", "rotate", "--platform"],
        &staff_answers(&codes[3]),
        &[("TGOS_MASTER_KEY", new_key.as_str())],
    )?;
    assert!(run.ok, "{}", run.everything());
    let db = database(dir.path()).await?;
    assert_eq!(count(&db, MASTER_ROTATED).await?, 2);
    Ok(())
}

#[tokio::test]
async fn generate_never_overwrites_and_the_key_files_own_names_are_refused() -> anyhow::Result<()> {
    let Staffed { dir, codes, .. } = with_staff_and_accounts().await?;
    let key_file = dir.path().join("master.key");
    let old_key = read_key(&key_file)?;
    let existing = dir.path().join("existing.key");
    std::fs::write(&existing, "keep me")?;

    let run = rotate_master(dir.path(), &existing, true, &codes[1])?;
    assert!(!run.ok, "{}", run.everything());
    assert!(run.stderr.contains("never overwrites"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&existing)?, "keep me");

    for name in ["master.key", "master.key.old", "master.key.tmp"] {
        let run = rotate_master(dir.path(), &dir.path().join(name), true, &codes[1])?;
        assert!(!run.ok, "{}", run.everything());
        assert!(run.stderr.contains("a name the key file"), "{name}: {}", run.stderr);
    }

    let run = rotate_master(dir.path(), &existing, false, &codes[1])?;
    assert!(!run.ok, "{}", run.everything());
    assert!(run.stderr.contains("malformed"), "{}", run.stderr);
    assert!(!run.stderr.contains("keep me"));

    assert_eq!(read_key(&key_file)?, old_key);
    let db = database(dir.path()).await?;
    assert_eq!(count(&db, MASTER_ROTATED).await?, 0);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.signed_in'").await?,
        1,
        "refused before the sign-in: only the import signed in"
    );
    Ok(())
}
