//! `tgos-console accounts login` end to end, on both databases: the console process signs a sandbox test
//! number in by phone (its own simulated network, the code and cloud password piped on stdin), the account
//! lands in the pool sealed, labelled sandbox, with its phone masked and an audit entry naming the staff
//! member; the server, with a network of its own, rents it and connects it. Refusals are named after
//! Telegram's errors, exit 1 and add nothing; the cloud password appears in no output and nowhere in the
//! database.

use std::process::{Command, Stdio};

use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
use serde_json::{Value, json};
use tgos_domain::ids::AccountId;
use tgos_domain::inbox::DialogQuery;
use tgos_telegram::sandbox::SANDBOX_CLOUD_PASSWORD;
use tgos_tests::console::{STAFF_PASSWORD, StaffAccount};
use tgos_tests::{TestApp, backend_tests};

use super::accounts::{RENT, funded};

/// What one run of the console printed, and how it ended.
#[derive(Debug)]
struct Run {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> anyhow::Result<Value> {
        Ok(serde_json::from_str(self.stdout.trim())?)
    }
}

/// Runs `tgos-console accounts login` as `staff` against the app's database (the sandbox gateway), with the
/// staff sign-in and then `answers` on stdin.
fn login(app: &TestApp, staff: &mut StaffAccount, args: &[&str], answers: &[&str]) -> anyhow::Result<Run> {
    use std::io::Write as _;
    let backup = staff
        .backup_codes
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no backup codes left"))?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_console-under-test"));
    command
        .args(["accounts", "login", "--login", &staff.username])
        .args(args)
        .env("TGOS_DATA_DIR", app.data_dir.path())
        .env("TGOS_TELEGRAM__GATEWAY", "sandbox")
        .env_remove("TGOS_MASTER_KEY")
        .env_remove("TGOS_CONSOLE_LOGIN")
        .env_remove("TGOS_TELEGRAM__API_ID")
        .env_remove("TGOS_TELEGRAM__API_HASH")
        .env_remove("TGOS_TELEGRAM__TEST_DC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match &app.database_url {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    let mut child = command.spawn()?;
    let mut stdin = child.stdin.take().ok_or_else(|| anyhow::anyhow!("no stdin"))?;
    for answer in [STAFF_PASSWORD, backup.as_str()].iter().chain(answers) {
        // The command may stop reading early (a refused number); a closed pipe is not the test's failure.
        if writeln!(stdin, "{answer}").is_err() {
            break;
        }
    }
    drop(stdin);
    let output = child.wait_with_output()?;
    Ok(Run {
        status: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// One pool account as stored, read behind the use cases' back.
#[derive(Debug)]
struct Stored {
    id: String,
    sandbox: bool,
    phone_masked: Option<String>,
    display_name: Option<String>,
    telegram_user_id: Option<i64>,
    key_owner: String,
    sealed_len: usize,
}

async fn pool(app: &TestApp) -> anyhow::Result<Vec<Stored>> {
    let db = app.db().await?;
    let id = if db.get_database_backend() == DatabaseBackend::Postgres {
        "CAST(id AS TEXT)"
    } else {
        "lower(substr(hex(id),1,8)||'-'||substr(hex(id),9,4)||'-'||substr(hex(id),13,4)||'-'||substr(hex(id),17,4)||'-'||substr(hex(id),21))"
    };
    let sql = format!(
        "SELECT {id} AS id_text, CASE WHEN sandbox THEN 1 ELSE 0 END AS sandbox_flag, phone_masked, display_name, \
         telegram_user_id, key_owner, sealed_session FROM telegram_accounts ORDER BY created_at"
    );
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Stored {
                id: row.try_get("", "id_text")?,
                sandbox: row.try_get::<i32>("", "sandbox_flag")? == 1,
                phone_masked: row.try_get("", "phone_masked")?,
                display_name: row.try_get("", "display_name")?,
                telegram_user_id: row.try_get("", "telegram_user_id")?,
                key_owner: row.try_get("", "key_owner")?,
                sealed_len: row.try_get::<Vec<u8>>("", "sealed_session")?.len(),
            })
        })
        .collect()
}

/// The platform chain's `accounts.imported` entries: actor kind, actor name and metadata, oldest first.
async fn imports(app: &TestApp) -> anyhow::Result<Vec<(String, String, Value)>> {
    let db = app.db().await?;
    let sql = "SELECT actor_kind, actor_name, metadata FROM audit_log WHERE chain = 'platform' \
               AND action = 'accounts.imported' ORDER BY sequence";
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("", "actor_kind")?,
                row.try_get("", "actor_name")?,
                serde_json::from_str(&row.try_get::<String>("", "metadata")?)?,
            ))
        })
        .collect()
}

backend_tests!(staff_add_an_account_by_phone_that_a_server_rents_and_connects, |app| {
    let mut root = app.create_staff("root", None).await?;
    let run = login(
        &app,
        &mut root,
        &["--phone", "+99966 2 1234", "--price-per-day", "500", "--json"],
        &["22222"],
    )?;
    assert_eq!(run.status, Some(0), "{run:?}");
    let added = run.json()?;
    let id = added["added"].as_str().unwrap_or_default().to_owned();
    assert_eq!(added, json!({ "added": id, "sandbox": true, "phone": "+99 ••••••34" }));

    // In the pool: sealed under the platform's key, labelled sandbox, the phone masked, the user known.
    let stored = pool(&app).await?;
    assert_eq!(stored.len(), 1, "{stored:?}");
    let account = &stored[0];
    assert_eq!(account.id, id);
    assert!(account.sandbox);
    assert_eq!(account.phone_masked.as_deref(), Some("+99 ••••••34"));
    assert_eq!(account.display_name.as_deref(), Some("Sandbox 21234"));
    assert_eq!(account.telegram_user_id, Some(800_000_021_234));
    assert_eq!(account.key_owner, "platform");
    assert!(account.sealed_len > 256, "the session is stored sealed");
    let entries = imports(&app).await?;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let (kind, actor, metadata) = &entries[0];
    assert_eq!(kind, "STAFF");
    assert!(actor.contains("root"), "names the staff member: {actor}");
    assert_eq!(metadata["via"], json!("phone_login"));
    assert_eq!(metadata["count"], json!(1));
    assert_eq!(metadata["sandbox"], json!(1));

    // The same person again is refused: one Telegram user is in the pool once.
    let again = login(
        &app,
        &mut root,
        &["--phone", "+9996621234", "--price-per-day", "500"],
        &["22222"],
    )?;
    assert_eq!(again.status, Some(1), "{again:?}");
    assert!(again.stderr.contains("already in the pool"), "{again:?}");
    assert_eq!(pool(&app).await?.len(), 1);

    // The server (its own sandbox network) rents the account and connects it: a message reaches the inbox.
    let (owner, workspace) = funded(&app, "olive", 10_000).await?;
    let rented = app
        .gql(Some(&owner), RENT, json!({ "w": workspace, "o": id, "d": 1 }))
        .await?;
    assert!(rented.is_ok(), "{:?}", rented.body);
    assert_eq!(rented.at("/data/rentAccount/account/sandbox")?, &json!(true));
    let scope = app.scope_of(&owner, &workspace).await?;
    let account_id: AccountId = id.parse()?;
    let record = app.accounts.held(&scope, account_id).await?;
    app.inbox.sync_account(&scope, &record).await?;
    let network = app
        .sandbox()
        .ok_or_else(|| anyhow::anyhow!("the sandbox gateway is off"))?;
    network.contact_send(800_000_021_234, "Ada", "welcome")?;
    app.inbox.sync_account(&scope, &record).await?;
    let dialogs = app
        .inbox
        .dialogs(&scope, DialogQuery::newest(10).of_account(account_id))
        .await?
        .items;
    assert_eq!(dialogs.len(), 1, "{dialogs:?}");
    assert_eq!(dialogs[0].title, "Ada");
    Ok(())
});

backend_tests!(a_cloud_password_is_asked_for_once_and_kept_nowhere, |app| {
    let mut root = app.create_staff("root", None).await?;
    let args = ["--phone", "+9996620009", "--price-per-day", "700"];
    let wrong = login(&app, &mut root, &args, &["22222", "not-the-password"])?;
    assert_eq!(wrong.status, Some(1), "{wrong:?}");
    assert!(
        wrong
            .stderr
            .contains("PASSWORD_HASH_INVALID: the cloud password is wrong"),
        "{wrong:?}"
    );
    assert!(wrong.stderr.contains("hint: the sandbox's cloud password"), "{wrong:?}");
    assert!(pool(&app).await?.is_empty(), "nothing added");

    let right = login(&app, &mut root, &args, &["22222", SANDBOX_CLOUD_PASSWORD])?;
    assert_eq!(right.status, Some(0), "{right:?}");
    let stored = pool(&app).await?;
    assert_eq!(stored.len(), 1);
    assert!(right.stdout.contains(&stored[0].id), "{right:?}");
    assert_eq!(stored[0].telegram_user_id, Some(800_000_020_009));
    for output in [&wrong.stdout, &wrong.stderr, &right.stdout, &right.stderr] {
        assert!(!output.contains(SANDBOX_CLOUD_PASSWORD), "{output}");
        assert!(!output.contains("not-the-password"), "{output}");
    }

    // Nowhere in the database: not in the audit log, not in the account's row, not in the file's bytes.
    let db = app.db().await?;
    let backend = db.get_database_backend();
    for sql in [
        "SELECT metadata AS t FROM audit_log",
        "SELECT COALESCE(display_name, '') || COALESCE(username, '') || COALESCE(phone_masked, '') AS t \
         FROM telegram_accounts",
    ] {
        for row in db.query_all_raw(Statement::from_string(backend, sql)).await? {
            let text: String = row.try_get("", "t")?;
            assert!(!text.contains(SANDBOX_CLOUD_PASSWORD), "{text}");
        }
    }
    if app.database_url.is_none() {
        db.close().await?;
        for entry in std::fs::read_dir(app.data_dir.path())? {
            let path = entry?.path();
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("tgos.db"))
            {
                let bytes = std::fs::read(&path)?;
                let needle = SANDBOX_CLOUD_PASSWORD.as_bytes();
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{} holds the password",
                    path.display()
                );
            }
        }
    }
    Ok(())
});

backend_tests!(refused_logins_are_named_after_telegrams_errors_and_add_nothing, |app| {
    let mut root = app.create_staff("root", None).await?;
    let price = ["--price-per-day", "500"];

    // Three wrong codes: PHONE_CODE_INVALID, exit 1, as JSON with --json.
    let run = login(
        &app,
        &mut root,
        &["--phone", "+9996621111", price[0], price[1], "--json"],
        &["11111", "33333", "12345", "22222"],
    )?;
    assert_eq!(run.status, Some(1), "{run:?}");
    let error = run.json()?;
    assert_eq!(error["error"]["code"], json!("PHONE_CODE_INVALID"), "{run:?}");
    assert_eq!(error["error"]["field"], json!("code"));
    assert_eq!(
        error["error"]["message"],
        json!("PHONE_CODE_INVALID: the code is wrong")
    );
    assert!(run.stderr.contains("2 attempt(s) left"), "{run:?}");

    // An unoccupied number: refused before any code is asked for.
    let run = login(&app, &mut root, &["--phone", "+447911123456", price[0], price[1]], &[])?;
    assert_eq!(run.status, Some(1), "{run:?}");
    assert!(
        run.stderr
            .contains("PHONE_NUMBER_UNOCCUPIED: no Telegram account uses this phone number"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("Login code"), "{run:?}");

    // The real gateway without its settings: refused before anyone signs in or any code is sent.
    let run = login(
        &app,
        &mut root,
        &[
            "--phone",
            "+9996621111",
            price[0],
            price[1],
            "--telegram-gateway",
            "mtproto",
            "--json",
        ],
        &[],
    )?;
    assert_eq!(run.status, Some(1), "{run:?}");
    assert_eq!(run.json()?["error"]["code"], json!("BAD_USER_INPUT"), "{run:?}");
    assert!(run.stderr.contains("telegram.api_id"), "{run:?}");
    assert!(!run.stderr.contains("Password"), "no sign-in was asked for: {run:?}");

    // An expired code ends the login.
    let run = login(
        &app,
        &mut root,
        &["--phone", "+9996621237", price[0], price[1]],
        &["22222", "22222"],
    )?;
    assert_eq!(run.status, Some(1), "{run:?}");
    assert!(run.stderr.contains("PHONE_CODE_EXPIRED"), "{run:?}");
    assert!(pool(&app).await?.is_empty(), "nothing was added");
    assert!(imports(&app).await?.is_empty(), "nothing was audited as added");

    // A wrong code, then the right one: added.
    let run = login(
        &app,
        &mut root,
        &["--phone", "+9996621111", price[0], price[1]],
        &["11111", "22222"],
    )?;
    assert_eq!(run.status, Some(0), "{run:?}");
    assert!(run.stdout.starts_with("added 1 account"), "{run:?}");
    assert_eq!(pool(&app).await?.len(), 1);
    Ok(())
});
