//! `tgos-console lawful …` end to end: the real binary, a real database, two staff members signing in with
//! backup codes. Each outcome has its own exit status, `--json` prints the request, and each step is audited
//! on the platform chain as the staff member who took it.

use sha2::{Digest as _, Sha256};
use tgos_domain::audit::ActorKind;
use tgos_domain::audit::ports::AuditRepository as _;
use tgos_domain::identity::ports::UserRepository as _;
use tgos_persistence::{DatabaseSettings, Privileges, connect};

mod common;
use common::{Run, backup_codes, prepared_data_dir, run_console, run_create, run_second, staff_answers, totp_code};

const SECOND_PASSWORD: &str = "another long passphrase";

/// `lawful ARGS` as `staff` (its sign-in answers).
fn lawful(dir: &std::path::Path, args: &[&str], staff: &[&str]) -> anyhow::Result<Run> {
    let args: Vec<&str> = ["lawful"].iter().chain(args).copied().collect();
    run_console(dir, &args, staff)
}

fn json(run: &Run) -> anyhow::Result<serde_json::Value> {
    anyhow::ensure!(run.ok, "{run:?}");
    Ok(serde_json::from_str(run.stdout.trim())?)
}

#[tokio::test]
async fn staff_register_approve_package_and_deliver_with_a_distinct_status_for_each_refusal() -> anyhow::Result<()> {
    let dir = prepared_data_dir().await?;
    let (ok, transcript) = run_create(dir.path(), totp_code)?;
    assert!(ok, "{transcript}");
    let mut root = backup_codes(&transcript).into_iter();
    let mut root_code = || root.next().ok_or_else(|| anyhow::anyhow!("out of backup codes"));
    let before = ["a long staff passphrase".to_owned(), root_code()?];
    let (status, transcript) = run_second(dir.path(), &["--login", "root"], &before)?;
    assert_eq!(status, Some(0), "{transcript}");
    let mut second = backup_codes(&transcript).into_iter();
    let mut second_code = || second.next().ok_or_else(|| anyhow::anyhow!("out of backup codes"));

    let url = format!("sqlite://{}?mode=rw", dir.path().join("tgos.db").display());
    let store = connect(&DatabaseSettings {
        url,
        owner_url: None,
        max_connections: 1,
        privileges: Privileges::Owner,
        migrate: tgos_persistence::MigrateMode::Auto,
    })
    .await?;
    let user = |login: &str| {
        let store = &store;
        let login = login.to_owned();
        async move {
            store
                .find_user_by_login(&login)
                .await?
                .ok_or_else(|| anyhow::anyhow!("{login} missing"))
        }
    };
    let (root_id, second_id) = (user("root").await?.id, user("second").await?.id);
    let subject = root_id.to_string();
    let register = [
        "register",
        "--authority",
        "Regional Court",
        "--reference",
        "RC-2026/7",
        "--legal-basis",
        "Production order",
        "--received-on",
        "2026-01-05",
        "--due-on",
        "2026-01-19",
        "--user",
        subject.as_str(),
        "--category",
        "profile,audit",
        "--from",
        "2020-01-01",
        "--to",
        "2100-01-01",
        "--json",
    ];

    let unknown = lawful(dir.path(), &["register", "--category", "PASSWORDS"], &[])?;
    assert_eq!(unknown.status, Some(2), "{unknown:?}");
    let code = root_code()?;
    let mut reversed: Vec<&str> = register.to_vec();
    let last = reversed.len() - 1;
    reversed[last - 3] = "2100-01-01";
    reversed[last - 1] = "2020-01-01";
    let refused = lawful(dir.path(), &reversed, &staff_answers(&code))?;
    assert_eq!(refused.status, Some(2), "{refused:?}");
    assert!(refused.stderr.contains("period"), "{refused:?}");

    let code = root_code()?;
    let registered = json(&lawful(dir.path(), &register, &staff_answers(&code))?)?;
    assert_eq!(registered["stage"], "REGISTERED");
    assert_eq!(
        registered["scope"]["categories"],
        serde_json::json!(["PROFILE", "AUDIT"])
    );
    let id = registered["id"].as_str().unwrap_or_default().to_owned();

    let code = root_code()?;
    let again = lawful(dir.path(), &register, &staff_answers(&code))?;
    assert_eq!(again.status, Some(5), "a reference registered twice: {again:?}");
    let code = root_code()?;
    let own = lawful(dir.path(), &["approve", &id, "--json"], &staff_answers(&code))?;
    assert_eq!(own.status, Some(1), "the registrar approving: {own:?}");
    assert!(own.stderr.contains("registrar"), "{own:?}");
    let refused: serde_json::Value = serde_json::from_str(own.stdout.trim())?;
    assert_eq!(refused["error"]["code"], "FORBIDDEN", "{own:?}");
    let code = root_code()?;
    let early = lawful(dir.path(), &["package", &id, "--json"], &staff_answers(&code))?;
    assert_eq!(early.status, Some(5), "a package before the approval: {early:?}");
    let refused: serde_json::Value = serde_json::from_str(early.stdout.trim())?;
    assert_eq!(refused["error"]["code"], "CONFLICT", "{early:?}");
    assert_eq!(refused["error"]["field"], "request", "{early:?}");
    let code = root_code()?;
    let missing = lawful(dir.path(), &["show", &uuid_like()], &staff_answers(&code))?;
    assert_eq!(missing.status, Some(4), "{missing:?}");

    let code = second_code()?;
    let answers = ["second", SECOND_PASSWORD, code.as_str()];
    let approved = json(&lawful(dir.path(), &["approve", &id, "--json"], &answers)?)?;
    assert_eq!(approved["stage"], "APPROVED");
    assert_eq!(approved["approval"]["by"], second_id.to_string());

    let code = root_code()?;
    let packaged = json(&lawful(dir.path(), &["package", &id, "--json"], &staff_answers(&code))?)?;
    assert_eq!(packaged["stage"], "PACKAGED");
    let path = std::path::PathBuf::from(packaged["package"]["path"].as_str().unwrap_or_default());
    assert!(path.starts_with(dir.path().join("exports").join("lawful")), "{path:?}");
    let bytes = std::fs::read(&path)?;
    assert_eq!(packaged["package"]["bytes"], bytes.len());
    assert_eq!(packaged["package"]["sha256"], hex::encode(Sha256::digest(&bytes)));

    let code = second_code()?;
    let answers = ["second", SECOND_PASSWORD, code.as_str()];
    let deliver = ["deliver", &id, "--note", "registered post", "--json"];
    let delivered = json(&lawful(dir.path(), &deliver, &answers)?)?;
    assert_eq!(delivered["stage"], "DELIVERED");
    assert_eq!(delivered["delivery"]["note"], "registered post");

    let code = root_code()?;
    let listed = lawful(dir.path(), &["list"], &staff_answers(&code))?;
    assert!(listed.ok, "{listed:?}");
    assert!(
        listed.stdout.contains(&id) && listed.stdout.contains("DELIVERED"),
        "{listed:?}"
    );

    let (entries, _) = store.chain_entries("platform").await?;
    let steps: Vec<_> = entries
        .iter()
        .filter(|e| e.action.starts_with("lawful."))
        .map(|e| (e.action.as_str(), e.actor.id.clone(), e.actor.kind))
        .collect();
    let (root_id, second_id) = (Some(root_id.to_string()), Some(second_id.to_string()));
    assert_eq!(
        steps,
        [
            ("lawful.registered", root_id.clone(), ActorKind::Staff),
            ("lawful.approved", second_id.clone(), ActorKind::Staff),
            ("lawful.packaged", root_id, ActorKind::Staff),
            ("lawful.delivered", second_id, ActorKind::Staff),
        ]
    );
    Ok(())
}

/// An id no request has.
fn uuid_like() -> String {
    tgos_domain::ids::LawfulRequestId::generate().to_string()
}
