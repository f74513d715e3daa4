//! The staff console's request pages over HTTP, on both databases: who is refused (no session, a person who
//! is not staff, staff with a wrong code, a form without its token, a session that went idle), an emailed
//! export request worked from intake to completion, an erasure that runs only once a second staff member
//! approves it, a restriction that stops sending, and the audit entry every view and action leaves.

use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement, Value as DbValue};
use serde_json::json;
use tgos_tests::app::PASSWORD;
use tgos_tests::console::{ConsoleBrowser, hidden};
use tgos_tests::{TestApp, TestOptions, backend_tests, totp};

use super::inbox::conversation;

/// The platform chain's entries of `action`: (actor kind, actor id, ip address, user agent, target id).
async fn platform_entries(
    app: &TestApp,
    action: &str,
) -> anyhow::Result<Vec<(String, String, String, String, String)>> {
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let sql = "SELECT actor_kind, COALESCE(actor_id, '') AS actor, COALESCE(ip_address, '') AS ip, \
               COALESCE(user_agent, '') AS agent, COALESCE(target_id, '') AS target FROM audit_log WHERE chain = \
               'platform' AND action = $1 ORDER BY sequence";
    let sql = if backend == DatabaseBackend::Postgres {
        sql.to_owned()
    } else {
        sql.replace("$1", "?")
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [DbValue::from(action)]))
        .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get::<String>("", "actor_kind")?,
                row.try_get::<String>("", "actor")?,
                row.try_get::<String>("", "ip")?,
                row.try_get::<String>("", "agent")?,
                row.try_get::<String>("", "target")?,
            ))
        })
        .collect()
}

/// No background workers: the test runs the jobs it means to, and counts them.
fn quiet() -> TestOptions {
    TestOptions {
        workers: false,
        ..TestOptions::default()
    }
}

/// The id in a `/requests/<id>` location.
fn request_of(location: Option<&str>) -> anyhow::Result<String> {
    location
        .and_then(|l| l.strip_prefix("/requests/"))
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("not a request location: {location:?}"))
}

/// Registers an emailed request of `kind` from `email` through the form; its id.
async fn register(browser: &mut ConsoleBrowser, email: &str, kind: &str, details: &str) -> anyhow::Result<String> {
    let form = browser.get("/requests/new").await?;
    assert_eq!(form.status, 200, "{}", form.body);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let registered = browser
        .post(
            "/requests",
            &[
                ("csrf", &form.csrf()?),
                ("email", email),
                ("kind", kind),
                ("received", &today),
                ("details", details),
            ],
        )
        .await?;
    assert_eq!(registered.status, 303, "{}", registered.body);
    request_of(registered.location.as_deref())
}

/// Posts `action` on request `id` with the page's token and `fields`.
async fn act(
    browser: &mut ConsoleBrowser,
    id: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> anyhow::Result<tgos_tests::console::Page> {
    let page = browser.get(&format!("/requests/{id}")).await?;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.csrf()?;
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    browser.post(&format!("/requests/{id}/{action}"), &form).await
}

backend_tests!(
    the_console_lets_in_only_signed_in_staff_and_forms_with_their_token,
    |app| {
        let console = app.start_console().await?;
        let mut root = app.create_staff("root", None).await?;
        let mut browser = ConsoleBrowser::new(&console)?;

        // No session: sent to sign in.
        let page = browser.get("/requests").await?;
        assert_eq!((page.status, page.location.as_deref()), (303, Some("/login")));

        // A person who is not staff, without and with two-factor: refused, and no session is left behind.
        let olive = app.sign_up("olive").await?;
        let refused = browser.password_step("olive", PASSWORD).await?;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(
            refused.body.contains("staff account with two-factor"),
            "{}",
            refused.body
        );
        assert!(!browser.has_session());
        let (secret, _) = app.enable_totp(&olive).await?;
        let step = browser.password_step("olive", PASSWORD).await?;
        assert_eq!(step.status, 200, "{}", step.body);
        let code = totp::code(&secret, 1)?;
        let refused = browser
            .post(
                "/login/code",
                &[
                    ("csrf", &step.csrf()?),
                    ("challenge", &hidden(&step.body, "challenge")?),
                    ("code", &code),
                ],
            )
            .await?;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(!browser.has_session());

        // Staff with a wrong code; then a sign-in form without its token.
        let wrong = browser.sign_in_with("root", "000000").await?;
        assert_eq!(wrong.status, 401, "{}", wrong.body);
        assert!(!browser.has_session());
        let forged = browser
            .post(
                "/login",
                &[
                    ("csrf", "0000"),
                    ("login", "root"),
                    ("password", "a long staff passphrase"),
                ],
            )
            .await?;
        assert_eq!(forged.status, 403, "{}", forged.body);

        // Signed in: the queue shows; its view is audited.
        browser.sign_in(&mut root).await?;
        let queue = browser.get("/requests").await?;
        assert_eq!(queue.status, 200, "{}", queue.body);
        assert!(queue.body.contains("Data-subject requests"));

        // A form without the session's token, or with another's, changes nothing.
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let form = [
            ("email", "olive@example.com"),
            ("kind", "ACCESS"),
            ("received", today.as_str()),
            ("details", "what do you hold about me?"),
        ];
        let missing = browser.post("/requests", &form).await?;
        assert_eq!(missing.status, 403, "{}", missing.body);
        let mut with_wrong = vec![("csrf", "a".repeat(64))];
        with_wrong.extend(form.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let pairs: Vec<(&str, &str)> = with_wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let wrong_token = browser.post("/requests", &pairs).await?;
        assert_eq!(wrong_token.status, 403, "{}", wrong_token.body);
        assert!(
            app.store.queue_requests(&Default::default(), 10).await?.is_empty(),
            "nothing was registered"
        );

        // A session unused for 16 minutes is refused (read by a console with nothing in memory).
        let db = app.db().await?;
        let backend = db.get_database_backend();
        let sql = "UPDATE sessions SET last_seen_at = $1, created_at = $1 WHERE revoked_at IS NULL AND user_agent = 'console-test/1.0'";
        let sql = if backend == DatabaseBackend::Postgres {
            sql.to_owned()
        } else {
            sql.replace("$1", "?1")
        };
        let idle = chrono::Utc::now() - chrono::Duration::minutes(16);
        db.execute_raw(Statement::from_sql_and_values(backend, sql, [DbValue::from(idle)]))
            .await?;
        let fresh = app.start_console().await?;
        let mut later = browser.at(&fresh);
        let expired = later.get("/requests").await?;
        assert_eq!((expired.status, expired.location.as_deref()), (303, Some("/login")));

        let views = platform_entries(&app, "console.viewed").await?;
        assert_eq!(views.len(), 1, "one queue view: {views:?}");
        assert_eq!(views[0].0, "STAFF");
        assert_eq!(views[0].2, "127.0.0.1");
        assert_eq!(views[0].3, "console-test/1.0");
        fresh.stop().await?;
        console.stop().await?;
        Ok(())
    }
);

backend_tests!(
    an_emailed_export_request_is_worked_from_intake_to_completion,
    options = quiet(),
    |app| {
        let console = app.start_console().await?;
        let mut root = app.create_staff("root", None).await?;
        let mut browser = ConsoleBrowser::new(&console)?;
        browser.sign_in(&mut root).await?;
        app.sign_up("dora").await?;

        let unknown = browser.get("/requests/new").await?;
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let nobody = browser
            .post(
                "/requests",
                &[
                    ("csrf", &unknown.csrf()?),
                    ("email", "nobody@example.com"),
                    ("kind", "EXPORT"),
                    ("received", &today),
                    ("details", "x"),
                ],
            )
            .await?;
        assert_eq!(nobody.status, 404, "{}", nobody.body);

        let id = register(
            &mut browser,
            "dora@example.com",
            "EXPORT",
            "Please send me a copy of my data.",
        )
        .await?;
        let queue = browser.get("/requests").await?;
        assert!(
            queue.body.contains("dora@example.com") && queue.body.contains(&id),
            "{}",
            queue.body
        );

        // Not before the requester is verified.
        let early = act(&mut browser, &id, "export", &[]).await?;
        assert_eq!(early.status, 409, "{}", early.body);
        let blank = act(&mut browser, &id, "verify", &[("text", "  ")]).await?;
        assert_eq!(blank.status, 400, "an emailed request needs the method: {}", blank.body);
        let verified = act(
            &mut browser,
            &id,
            "verify",
            &[("text", "replied from the account's address")],
        )
        .await?;
        assert_eq!(verified.status, 303, "{}", verified.body);
        let generated = act(&mut browser, &id, "export", &[]).await?;
        assert_eq!(generated.status, 303, "{}", generated.body);
        assert_eq!(app.run_jobs_now(&["export.build"]).await?, 1);

        let done = browser.get(&format!("/requests/{id}")).await?;
        assert!(done.body.contains("COMPLETED"), "{}", done.body);
        assert!(
            done.body.contains("replied from the account&#x27;s address"),
            "escaped: {}",
            done.body
        );
        assert!(done.body.contains("downloadable by the subject until"), "{}", done.body);

        // The subject was told at each step, and the archive is theirs to download.
        app.send_notices_now().await?;
        let mailbox = app.mailbox();
        mailbox
            .wait_for("dora@example.com", "Your export request is now received")
            .await?;
        mailbox
            .wait_for("dora@example.com", "Your export request is now in progress")
            .await?;
        mailbox
            .wait_for("dora@example.com", "Your data export is ready")
            .await?;

        for action in [
            "privacy.request_received",
            "console.identity_verified",
            "console.export_generated",
        ] {
            let entries = platform_entries(&app, action).await?;
            assert_eq!(entries.len(), 1, "{action}: {entries:?}");
            assert_eq!(entries[0].0, "STAFF", "{action}");
            assert_eq!(entries[0].2, "127.0.0.1", "{action}");
            assert_eq!(entries[0].4, id, "{action}");
        }
        let views = platform_entries(&app, "console.viewed").await?;
        assert!(
            views.iter().any(|v| v.4 == id),
            "the request page's views are audited: {views:?}"
        );
        console.stop().await?;
        Ok(())
    }
);

backend_tests!(
    an_erasure_runs_only_once_a_second_staff_member_approves_it,
    options = quiet(),
    |app| {
        let console = app.start_console().await?;
        let mut root = app.create_staff("root", None).await?;
        let mut second = app.create_staff("second", Some(&mut root)).await?;
        let dora = app.sign_up("dora").await?;
        let mut first_browser = ConsoleBrowser::new(&console)?;
        first_browser.sign_in(&mut root).await?;

        let id = register(&mut first_browser, "dora@example.com", "DELETION", "Delete my account.").await?;
        let unverified = act(&mut first_browser, &id, "propose-erasure", &[]).await?;
        assert_eq!(unverified.status, 409, "{}", unverified.body);
        assert_eq!(
            act(&mut first_browser, &id, "verify", &[("text", "video call, ID shown")])
                .await?
                .status,
            303
        );
        assert_eq!(act(&mut first_browser, &id, "propose-erasure", &[]).await?.status, 303);

        // The proposer cannot approve it: nothing closes.
        let own = act(&mut first_browser, &id, "approve-erasure", &[]).await?;
        assert_eq!(own.status, 403, "{}", own.body);
        assert!(own.body.contains("second staff member"), "{}", own.body);
        let still = app.gql(Some(&dora), "{ me { user { username } } }", json!({})).await?;
        assert_eq!(still.str_at("/data/me/user/username")?, "dora", "{}", still.body);
        assert_eq!(
            app.run_jobs_now(&["erasure.account"]).await?,
            0,
            "no erasure was queued"
        );

        // A second staff member approves: the account closes now and its erasure runs.
        let mut second_browser = ConsoleBrowser::new(&console)?;
        second_browser.sign_in(&mut second).await?;
        let page = second_browser.get(&format!("/requests/{id}")).await?;
        assert!(page.body.contains("Approve the erasure"), "{}", page.body);
        let approved = act(&mut second_browser, &id, "approve-erasure", &[]).await?;
        assert_eq!(approved.status, 303, "{}", approved.body);
        // The server is another process: it sees the revocation when its credential cache lets go (seconds).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let signed_out = app.gql(Some(&dora), "{ me { user { username } } }", json!({})).await?;
            if signed_out.code().as_deref() == Some("UNAUTHENTICATED") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still signed in: {}",
                signed_out.body
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert_eq!(app.run_jobs_now(&["erasure.account"]).await?, 1);
        let gone = app.sign_in("dora", PASSWORD).await?;
        assert_eq!(gone.code().as_deref(), Some("UNAUTHENTICATED"), "{}", gone.body);

        let proposed = platform_entries(&app, "console.erasure_proposed").await?;
        let approvals = platform_entries(&app, "console.erasure_approved").await?;
        assert_eq!((proposed.len(), approvals.len()), (1, 1), "{proposed:?} {approvals:?}");
        assert_ne!(proposed[0].1, approvals[0].1, "two different staff members");
        assert_eq!(platform_entries(&app, "account.erased").await?.len(), 1);
        console.stop().await?;
        Ok(())
    }
);

backend_tests!(a_restriction_stops_sending_in_the_subjects_workspaces, |app| {
    let (owner, _workspace, account, dialog) = conversation(&app).await?;
    let console = app.start_console().await?;
    let mut root = app.create_staff("root", None).await?;
    let mut browser = ConsoleBrowser::new(&console)?;
    browser.sign_in(&mut root).await?;
    let send =
        "mutation($a: ID!, $d: ID!, $t: String!) { sendMessage(accountId: $a, dialogId: $d, text: $t) { status } }";
    let before = app
        .gql(Some(&owner), send, json!({ "a": account, "d": dialog, "t": "before" }))
        .await?;
    assert!(before.is_ok(), "{}", before.body);

    let id = register(
        &mut browser,
        "olive@example.com",
        "RESTRICTION",
        "Stop processing my data.",
    )
    .await?;
    assert_eq!(
        act(
            &mut browser,
            &id,
            "verify",
            &[("text", "replied from the account's address")]
        )
        .await?
        .status,
        303
    );
    let restricted = act(
        &mut browser,
        &id,
        "restrict",
        &[("text", "pending the outcome of their complaint")],
    )
    .await?;
    assert_eq!(restricted.status, 303, "{}", restricted.body);

    let after = app
        .gql(Some(&owner), send, json!({ "a": account, "d": dialog, "t": "after" }))
        .await?;
    assert_eq!(after.code().as_deref(), Some("FORBIDDEN"), "{}", after.body);
    assert_eq!(platform_entries(&app, "console.restriction_applied").await?.len(), 1);
    console.stop().await?;
    Ok(())
});
