//! The console's user pages over HTTP, on both databases: a lookup by email, username or id, a person's page
//! (workspaces and roles, sessions with IP and user agent), and a suspension that signs them out, refuses
//! their sign-in and tells them, until it is lifted; every view and action audited.

use serde_json::json;
use tgos_tests::app::PASSWORD;
use tgos_tests::console::ConsoleBrowser;
use tgos_tests::{TestOptions, backend_tests};

fn quiet() -> TestOptions {
    TestOptions {
        workers: false,
        ..TestOptions::default()
    }
}

backend_tests!(
    staff_find_a_person_and_suspend_and_unsuspend_them,
    options = quiet(),
    |app| {
        let console = app.start_console().await?;
        let mut root = app.create_staff("root", None).await?;
        let dora = app.sign_up("dora").await?;
        app.create_workspace(&dora, "Dora's shop").await?;
        let id = app
            .gql(Some(&dora), "{ me { user { id } } }", json!({}))
            .await?
            .str_at("/data/me/user/id")?;
        let mut browser = ConsoleBrowser::new(&console)?;
        browser.sign_in(&mut root).await?;

        for query in ["dora@example.com", "DORA", id.as_str()] {
            let found = browser.get(&format!("/users?q={}", urlencode(query))).await?;
            assert_eq!(found.status, 200, "{}", found.body);
            assert!(found.body.contains(&format!("/users/{id}")), "{query}: {}", found.body);
        }
        let nobody = browser.get("/users?q=nobody%40example.com").await?;
        assert!(nobody.body.contains("No account has that"), "{}", nobody.body);

        let page = browser.get(&format!("/users/{id}")).await?;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body.contains("Dora&#x27;s shop") && page.body.contains("OWNER"),
            "{}",
            page.body
        );
        assert!(page.body.contains("account.created"), "the audit trail: {}", page.body);

        // Suspend: a reason is required; then signed out everywhere, sign-in refused, the person told.
        let csrf = page.csrf()?;
        let blank = browser
            .post(&format!("/users/{id}/suspend"), &[("csrf", &csrf), ("text", " ")])
            .await?;
        assert_eq!(blank.status, 400, "{}", blank.body);
        let suspended = browser
            .post(
                &format!("/users/{id}/suspend"),
                &[("csrf", &csrf), ("text", "reported for spam")],
            )
            .await?;
        assert_eq!(suspended.status, 303, "{}", suspended.body);
        let refused = app.sign_in("dora", PASSWORD).await?;
        assert_eq!(refused.code().as_deref(), Some("FORBIDDEN"), "{}", refused.body);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let me = app.gql(Some(&dora), "{ me { user { id } } }", json!({})).await?;
            if me.code().as_deref() == Some("UNAUTHENTICATED") {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "still signed in: {}", me.body);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        app.send_notices_now().await?;
        app.mailbox().wait_for("dora@example.com", "reported for spam").await?;
        let again = browser
            .post(&format!("/users/{id}/suspend"), &[("csrf", &csrf), ("text", "twice")])
            .await?;
        assert_eq!(again.status, 409, "{}", again.body);

        // Unsuspend: sign-in works again, and the person is told.
        let unsuspended = browser
            .post(&format!("/users/{id}/unsuspend"), &[("csrf", &csrf)])
            .await?;
        assert_eq!(unsuspended.status, 303, "{}", unsuspended.body);
        let back = app.sign_in("dora", PASSWORD).await?;
        assert!(back.str_at("/data/signIn/session/token").is_ok(), "{}", back.body);
        app.send_notices_now().await?;
        app.mailbox()
            .wait_for("dora@example.com", "lifted the suspension")
            .await?;

        let db = app.db().await?;
        use sea_orm::{ConnectionTrait as _, Statement};
        let count = |action: &'static str| {
            let db = db.clone();
            async move {
                let backend = db.get_database_backend();
                let row = db
                    .query_one_raw(Statement::from_string(
                        backend,
                        format!(
                            "SELECT COUNT(*) AS n FROM audit_log WHERE chain = 'platform' AND action = '{action}' AND \
                         actor_kind = 'STAFF' AND ip_address = '127.0.0.1'"
                        ),
                    ))
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no count"))?;
                anyhow::Ok(row.try_get::<i64>("", "n")?)
            }
        };
        assert_eq!(count("console.user_suspended").await?, 1);
        assert_eq!(count("console.user_unsuspended").await?, 1);
        assert!(count("console.viewed").await? >= 5, "each lookup and page view");
        console.stop().await?;
        Ok(())
    }
);

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
