//! "Your data": data-subject requests and the data export, end to end. A person lists only their own
//! requests; the archive holds exactly their data (their owned workspace's messages, never another tenant's,
//! nor a workspace they merely belong to; the invitations to their verified address, not another person's;
//! their own entries in a workspace they left, not another member's), no secret, downloads for its owner only,
//! expires after 7 days, and a 100,000-message workspace exports in bounded memory. The archive's reach beyond
//! the person's workspaces is tested in `data_export_reach`.

use std::io::Read as _;
use std::sync::Arc;

use chrono::Duration;
use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
use serde_json::{Value, json};
use tgos_domain::clock::Clock as _;
use tgos_domain::jobs::{JobHandler, JobWorker};
use tgos_domain::privacy::ExportJobs;
use tgos_tests::clock::ManualClock;
use tgos_tests::{TestApp, TestOptions, backend_tests};

const SUBMIT: &str = "mutation($k: SubmittableRequestKind!, $d: String!) {
    submitDataSubjectRequest(kind: $k, details: $d) { id kind status receivedAt dueAt } }";
pub(super) const LIST: &str =
    "{ me { dataSubjectRequests { id kind status dueAt completedAt resolution downloadUrl } } }";
pub(super) const EXPORT: &str = "mutation { requestDataExport { id kind status downloadUrl } }";

/// The tests of this module run one at a time: the memory test measures the whole test process, so another
/// export or a seeding running beside it would count as its growth.
pub(super) static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(super) fn quiet() -> TestOptions {
    TestOptions {
        workers: false,
        ..TestOptions::default()
    }
}

/// Runs the export jobs due on `clock` with a worker of the test's own.
pub(super) async fn run_export_jobs(app: &TestApp, clock: Arc<ManualClock>) -> anyhow::Result<usize> {
    let service = app.privacy.clone().with_clock(clock.clone());
    let handler: Arc<dyn JobHandler> = Arc::new(ExportJobs::new(service));
    let worker = JobWorker::new(Arc::clone(&app.store), clock, "exports").with_handler(handler);
    Ok(worker.run_once().await?)
}

/// A dialog with `count` messages, each text holding `marker`, in `workspace` (batched INSERTs).
async fn seed_messages(app: &TestApp, workspace: &str, marker: &str, count: usize) -> anyhow::Result<()> {
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let workspace = uuid::Uuid::parse_str(workspace)?;
    let (dialog, account) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let now = chrono::Utc::now();
    let mark = |n: usize| {
        if backend == DatabaseBackend::Postgres {
            format!("${n}")
        } else {
            "?".to_owned()
        }
    };
    let sql = format!(
        "INSERT INTO inbox_dialogs (id, workspace_id, account_id, peer_key, title, unread_count, read_inbox_max_id, \
         top_message_id, updated_at) VALUES ({}, {}, {}, 42, {}, 0, 0, 0, {})",
        mark(1),
        mark(2),
        mark(3),
        mark(4),
        mark(5)
    );
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [
            dialog.into(),
            workspace.into(),
            account.into(),
            format!("{marker} dialog").into(),
            now.into(),
        ],
    ))
    .await?;
    const BATCH: usize = 1_000;
    let mut done = 0;
    while done < count {
        let rows = BATCH.min(count - done);
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(rows * 7);
        let mut tuples = Vec::with_capacity(rows);
        for n in 0..rows {
            let base = n * 7;
            tuples.push(format!(
                "({}, {}, {}, {}, 42, 1, {}, 'in', {}, {}, 'received', '[]')",
                mark(base + 1),
                mark(base + 2),
                mark(base + 3),
                mark(base + 4),
                mark(base + 5),
                mark(base + 6),
                mark(base + 7)
            ));
            let serial = i32::try_from(done + n + 1)?;
            values.extend([
                uuid::Uuid::now_v7().into(),
                workspace.into(),
                account.into(),
                dialog.into(),
                serial.into(),
                format!("{marker} message {serial}: the quick brown fox jumps over the lazy dog").into(),
                now.into(),
            ]);
        }
        let sql = format!(
            "INSERT INTO inbox_messages (id, workspace_id, account_id, dialog_id, peer_key, sequence_key, telegram_id, \
             direction, text, sent_at, status, edit_history) VALUES {}",
            tuples.join(", ")
        );
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        done += rows;
    }
    Ok(())
}

/// Every entry of a zip archive, by name, as text.
pub(super) fn unzip(bytes: &[u8]) -> anyhow::Result<Vec<(String, String)>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index)?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        entries.push((file.name()?.to_string(), text));
    }
    Ok(entries)
}

fn vm_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

backend_tests!(
    people_submit_and_list_their_own_requests_and_nobody_else_sees_them,
    options = quiet(),
    |app| {
        let _alone = ONE_AT_A_TIME.lock().await;
        let ada = app.sign_up("ada").await?;
        let bob = app.sign_up("bob").await?;
        let submitted = app
            .gql(
                Some(&ada),
                SUBMIT,
                json!({ "k": "RECTIFICATION", "d": "  My name is Ada Lovelace  " }),
            )
            .await?;
        assert!(submitted.is_ok(), "{:?}", submitted.body);
        assert_eq!(submitted.str_at("/data/submitDataSubjectRequest/status")?, "RECEIVED");
        let received =
            chrono::DateTime::parse_from_rfc3339(&submitted.str_at("/data/submitDataSubjectRequest/receivedAt")?)?;
        let due = chrono::DateTime::parse_from_rfc3339(&submitted.str_at("/data/submitDataSubjectRequest/dueAt")?)?;
        assert_eq!(due - received, Duration::days(30), "due 30 days after it was received");

        let empty = app
            .gql(Some(&ada), SUBMIT, json!({ "k": "OBJECTION", "d": "   " }))
            .await?;
        assert_eq!(empty.code().as_deref(), Some("BAD_USER_INPUT"));
        assert_eq!(empty.str_at("/errors/0/extensions/field")?, "details");
        let long = app
            .gql(Some(&ada), SUBMIT, json!({ "k": "OBJECTION", "d": "x".repeat(4_001) }))
            .await?;
        assert_eq!(long.code().as_deref(), Some("BAD_USER_INPUT"));

        let mine = app.gql(Some(&ada), LIST, json!({})).await?;
        let listed = mine
            .at("/data/me/dataSubjectRequests")?
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(listed.len(), 1, "{:?}", mine.body);
        assert_eq!(listed[0]["kind"], "RECTIFICATION");
        let theirs = app.gql(Some(&bob), LIST, json!({})).await?;
        assert_eq!(
            theirs.at("/data/me/dataSubjectRequests")?,
            &json!([]),
            "Bob sees none of Ada's"
        );

        for n in 0..4 {
            let more = app
                .gql(
                    Some(&ada),
                    SUBMIT,
                    json!({ "k": "ACCESS", "d": format!("question {n}") }),
                )
                .await?;
            assert!(more.is_ok(), "{:?}", more.body);
        }
        let sixth = app
            .gql(Some(&ada), SUBMIT, json!({ "k": "RESTRICTION", "d": "one too many" }))
            .await?;
        assert_eq!(sixth.code().as_deref(), Some("RATE_LIMITED"), "five open at most");

        let workspace = app.create_workspace(&ada, "Keys").await?;
        let key = app
            .gql(
                Some(&ada),
                "mutation($w: ID!) { createApiKey(workspaceId: $w, name: \"k\", scopes: [AUDIT_READ]) { secret } }",
                json!({ "w": workspace }),
            )
            .await?;
        let secret = key.str_at("/data/createApiKey/secret")?;
        let refused = app.gql(Some(&secret), EXPORT, json!({})).await?;
        assert_eq!(refused.code().as_deref(), Some("FORBIDDEN"), "people only");
        Ok(())
    }
);

backend_tests!(
    an_export_holds_exactly_the_requesters_data_and_downloads_for_them_alone,
    options = quiet(),
    |app| {
        let _alone = ONE_AT_A_TIME.lock().await;
        let ada = app.sign_up("ada").await?;
        app.verify_email_of("ada").await?;
        let owned = app.create_workspace(&ada, "Ada's").await?;
        seed_messages(&app, &owned, "MARKER-OWNED", 3).await?;
        let key = app
            .gql(
                Some(&ada),
                "mutation($w: ID!) { createApiKey(workspaceId: $w, name: \"ci\", scopes: [AUDIT_READ]) { secret } }",
                json!({ "w": owned }),
            )
            .await?;
        let key_secret = key.str_at("/data/createApiKey/secret")?;
        let bob = app.sign_up("bob").await?;
        let shared = app.create_workspace(&bob, "Bob's").await?;
        seed_messages(&app, &shared, "MARKER-MEMBER", 3).await?;
        let invited = app
            .gql(
                Some(&bob),
                "mutation($w: ID!) { inviteMember(workspaceId: $w, email: \"ada@example.com\", role: VIEWER) { id } }",
                json!({ "w": shared }),
            )
            .await?;
        assert!(invited.is_ok(), "{:?}", invited.body);
        let invitation = app.invitation_token_for("ada@example.com")?;
        let accepted = app
            .gql(
                Some(&ada),
                "mutation($t: String!) { acceptInvitation(token: $t) { id } }",
                json!({ "t": invitation }),
            )
            .await?;
        assert!(accepted.is_ok(), "{:?}", accepted.body);
        let carol = app.sign_up("carol").await?;
        let other = app.create_workspace(&carol, "Carol's").await?;
        seed_messages(&app, &other, "MARKER-OTHER-TENANT", 3).await?;

        let requested = app.gql(Some(&ada), EXPORT, json!({})).await?;
        assert!(requested.is_ok(), "{:?}", requested.body);
        assert_eq!(requested.str_at("/data/requestDataExport/status")?, "IN_PROGRESS");
        let id = requested.str_at("/data/requestDataExport/id")?;
        let again = app.gql(Some(&ada), EXPORT, json!({})).await?;
        assert_eq!(again.code().as_deref(), Some("CONFLICT"), "one export builds at a time");
        assert!(
            again.errors()[0]["message"].as_str().unwrap_or("").contains(&id),
            "names it: {:?}",
            again.body
        );

        let clock = ManualClock::starting_now();
        assert_eq!(run_export_jobs(&app, clock).await?, 1);
        let listed = app.gql(Some(&ada), LIST, json!({})).await?;
        let request = listed.at("/data/me/dataSubjectRequests/0")?.clone();
        assert_eq!(
            (request["id"].as_str(), request["status"].as_str()),
            (Some(id.as_str()), Some("COMPLETED"))
        );
        let url = request["downloadUrl"].as_str().unwrap_or_default().to_owned();
        assert!(url.starts_with("/exports/tgx_"), "{request}");
        app.send_notices_now().await?;
        let mail = app
            .mailbox()
            .wait_for("ada@example.com", "Your data export is ready")
            .await?;
        assert!(
            mail.contains("/account/data"),
            "the notice points at the app's data page: {mail}"
        );
        assert!(!mail.contains("tgx_"), "no download token travels by mail");

        for (who, expected) in [(Some(bob.as_str()), 404), (Some(key_secret.as_str()), 404), (None, 401)] {
            let mut get = app.http().get(app.url(&url));
            if let Some(token) = who {
                get = get.bearer_auth(token);
            }
            assert_eq!(get.send().await?.status().as_u16(), expected);
        }
        let unknown = app
            .http()
            .get(app.url("/exports/tgx_00"))
            .bearer_auth(&ada)
            .send()
            .await?;
        assert_eq!(unknown.status().as_u16(), 404);

        let response = app.http().get(app.url(&url)).bearer_auth(&ada).send().await?;
        assert_eq!(response.status().as_u16(), 200);
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        assert_eq!(header("content-type"), "application/zip");
        assert!(header("content-disposition").starts_with("attachment"));
        assert_eq!(header("cache-control"), "no-store");
        let bytes = response.bytes().await?;
        let entries = unzip(&bytes)?;
        let everything = entries.iter().map(|(_, text)| text.as_str()).collect::<String>();
        let manifest: Value = serde_json::from_str(
            &entries
                .iter()
                .find(|(name, _)| name == "manifest.json")
                .ok_or_else(|| anyhow::anyhow!("no manifest"))?
                .1,
        )?;
        assert_eq!(manifest["format_version"], 1);
        let files = manifest["files"].as_array().cloned().unwrap_or_default();
        let count = |name: &str| {
            files
                .iter()
                .find(|f| f["name"] == name)
                .and_then(|f| f["records"].as_u64())
        };
        assert_eq!(count(&format!("workspaces/{owned}/messages.json")), Some(3));
        assert_eq!(count(&format!("workspaces/{owned}/api_keys_created.json")), Some(1));
        assert_eq!(
            count(&format!("workspaces/{shared}/messages.json")),
            None,
            "a member's export has no owner data"
        );
        assert!(
            count(&format!("workspaces/{shared}/audit_by_me.json")).is_some(),
            "their own doing there is theirs"
        );
        assert!(files.iter().all(|f| !f["name"].as_str().unwrap_or("").contains(&other)));
        for file in &files {
            let name = file["name"].as_str().unwrap_or_default();
            assert!(
                entries.iter().any(|(entry, _)| entry == name),
                "listed and present: {name}"
            );
        }
        assert!(everything.contains("MARKER-OWNED message 3"));
        assert!(
            !everything.contains("MARKER-MEMBER"),
            "nothing of a workspace Ada merely belongs to"
        );
        assert!(!everything.contains("MARKER-OTHER-TENANT"), "nothing of another tenant");
        let sessions = &entries
            .iter()
            .find(|(name, _)| name == "sessions.json")
            .ok_or_else(|| anyhow::anyhow!("no sessions"))?
            .1;
        assert!(
            sessions.contains("127.0.0.1") && sessions.contains("tgos-tests/1.0"),
            "{sessions}"
        );

        let db = app.db().await?;
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT password_hash FROM users WHERE username = 'ada'",
            ))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no ada"))?;
        let password_hash: String = row.try_get("", "password_hash")?;
        assert!(password_hash.starts_with("$argon2"), "read the real hash");
        let token_hash = hex::encode(tgos_domain::crypto::token::hash(&ada));
        let key_hash = hex::encode(tgos_domain::crypto::token::hash(&key_secret));
        for secret in [
            password_hash.as_str(),
            ada.as_str(),
            token_hash.as_str(),
            key_secret.as_str(),
            key_hash.as_str(),
        ] {
            assert!(!everything.contains(secret), "a secret in the archive");
        }
        assert!(!everything.contains("password") && !everything.contains("totp_secret"));
        Ok(())
    }
);

backend_tests!(
    an_export_expires_after_seven_days_and_its_file_is_deleted,
    options = quiet(),
    |app| {
        let _alone = ONE_AT_A_TIME.lock().await;
        let ada = app.sign_up("ada").await?;
        let requested = app.gql(Some(&ada), EXPORT, json!({})).await?;
        let id: tgos_domain::ids::DataSubjectRequestId = requested.str_at("/data/requestDataExport/id")?.parse()?;
        // Built eight days ago: its seven days are over by the server's clock.
        let clock = ManualClock::starting_at(chrono::Utc::now() - Duration::days(8));
        let built = app.privacy.clone().with_clock(clock.clone());
        built.build_export(id).await?;
        let file = app.data_dir.path().join("exports").join(format!("{id}.zip"));
        assert!(file.exists(), "built");
        let request = app
            .store
            .request_by_id(id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("gone"))?;
        let url = built
            .download_path(&request)
            .ok_or_else(|| anyhow::anyhow!("not ready"))?;
        let late = app.http().get(app.url(&url)).bearer_auth(&ada).send().await?;
        assert_eq!(late.status().as_u16(), 404, "expired after 7 days");
        let listed = app.gql(Some(&ada), LIST, json!({})).await?;
        let shown = listed.at("/data/me/dataSubjectRequests/0")?;
        assert_eq!(shown["status"], "COMPLETED");
        assert!(shown["downloadUrl"].is_null(), "no link once expired: {shown}");

        clock.advance(Duration::days(6));
        assert_eq!(
            run_export_jobs(&app, clock.clone()).await?,
            0,
            "the expiry is not due before 7 days"
        );
        assert!(file.exists());
        clock.set(chrono::Utc::now());
        assert!(clock.now() > request.archive.as_ref().map(|a| a.expires_at).unwrap_or_default());
        // The expiry, and the build job enqueued with the request, which finds it completed and does nothing.
        assert_eq!(run_export_jobs(&app, clock).await?, 2);
        assert!(!file.exists(), "the file is deleted");
        let kept = app
            .store
            .request_by_id(id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("gone"))?;
        assert_eq!(kept.status.as_str(), "COMPLETED", "the request keeps its history");
        assert!(kept.archive.as_ref().and_then(|a| a.expired_at).is_some());
        Ok(())
    }
);

backend_tests!(
    a_hundred_thousand_message_workspace_exports_in_bounded_memory,
    options = quiet(),
    |app| {
        let _alone = ONE_AT_A_TIME.lock().await;
        let ada = app.sign_up("ada").await?;
        app.verify_email_of("ada").await?;
        let owned = app.create_workspace(&ada, "Big").await?;
        seed_messages(&app, &owned, "BULK", 100_000).await?;
        let requested = app.gql(Some(&ada), EXPORT, json!({})).await?;
        assert!(requested.is_ok(), "{:?}", requested.body);
        let before = vm_rss_kib();
        let mut peak = before;
        let clock = ManualClock::starting_now();
        let build = run_export_jobs(&app, clock);
        tokio::pin!(build);
        let built = loop {
            tokio::select! {
                done = &mut build => break done?,
                () = tokio::time::sleep(std::time::Duration::from_millis(20)) => peak = peak.max(vm_rss_kib()),
            }
        };
        peak = peak.max(vm_rss_kib());
        assert_eq!(built, 1);
        let grown_mib = peak.saturating_sub(before) as f64 / 1024.0;
        println!("export of 100,000 messages: resident memory grew by {grown_mib:.1} MiB (from {before} KiB)");
        assert!(before > 0, "VmRSS is readable");
        assert!(grown_mib < 64.0, "resident memory grew by {grown_mib:.1} MiB");
        let id = requested.str_at("/data/requestDataExport/id")?;
        let file = app.data_dir.path().join("exports").join(format!("{id}.zip"));
        let mut archive = zip::ZipArchive::new(std::fs::File::open(file)?)?;
        let mut manifest = String::new();
        archive.by_name("manifest.json")?.read_to_string(&mut manifest)?;
        assert!(manifest.contains("\"records\": 100000"), "{manifest}");
        Ok(())
    }
);
