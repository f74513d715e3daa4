//! The console's staff page over HTTP, on both databases: adding an account as staff (usable once it has
//! two-factor), a two-factor reset that needs a second staff member, disabling, and the audit entry of each.

use tgos_tests::app::PASSWORD;
use tgos_tests::console::{ConsoleBrowser, STAFF_PASSWORD};
use tgos_tests::{TestOptions, backend_tests, totp};

fn quiet() -> TestOptions {
    TestOptions {
        workers: false,
        ..TestOptions::default()
    }
}

async fn platform_count(app: &tgos_tests::TestApp, action: &str) -> anyhow::Result<i64> {
    use sea_orm::{ConnectionTrait as _, Statement};
    let db = app.db().await?;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM audit_log WHERE chain = 'platform' AND action = '{action}' AND actor_kind = 'STAFF'"),
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count"))?;
    Ok(row.try_get::<i64>("", "n")?)
}

/// The id of the staff member `username` in the page's rows (from its disable form).
fn id_in(page: &str, username: &str) -> anyhow::Result<String> {
    let row = page
        .split("<tr>")
        .find(|row| row.contains(&format!("@{username}<")))
        .ok_or_else(|| anyhow::anyhow!("no row of {username}"))?;
    let start = row
        .find("/staff/")
        .ok_or_else(|| anyhow::anyhow!("no action in the row of {username}"))?
        + 7;
    Ok(row[start..start + 36].to_owned())
}

backend_tests!(
    staff_are_added_reset_by_two_people_and_disabled,
    options = quiet(),
    |app| {
        let console = app.start_console().await?;
        let mut root = app.create_staff("root", None).await?;
        let mut second = app.create_staff("second", Some(&mut root)).await?;
        let third = app.create_staff("third", Some(&mut root)).await?;
        let olive = app.sign_up("olive").await?;
        let mut browser = ConsoleBrowser::new(&console)?;
        browser.sign_in(&mut root).await?;

        // Added: listed, but no console until two-factor is on.
        let page = browser.get("/staff").await?;
        let added = browser
            .post("/staff", &[("csrf", &page.csrf()?), ("text", "olive@example.com")])
            .await?;
        assert_eq!(added.status, 303, "{}", added.body);
        let page = browser.get("/staff").await?;
        assert!(
            page.body.contains("@olive") && page.body.contains("not usable until enrolled"),
            "{}",
            page.body
        );
        let mut olive_browser = ConsoleBrowser::new(&console)?;
        let refused = olive_browser.password_step("olive", PASSWORD).await?;
        assert_eq!(refused.status, 403, "{}", refused.body);
        let (secret, _) = app.enable_totp(&olive).await?;
        let step = olive_browser.password_step("olive", PASSWORD).await?;
        let csrf = step.csrf()?;
        let challenge = tgos_tests::console::hidden(&step.body, "challenge")?;
        let signed_in = olive_browser
            .post(
                "/login/code",
                &[
                    ("csrf", &csrf),
                    ("challenge", &challenge),
                    ("code", &totp::code(&secret, 1)?),
                ],
            )
            .await?;
        assert_eq!(signed_in.status, 303, "olive acts as staff now: {}", signed_in.body);

        // A two-factor reset: proposed by root, refused to root, approved by second.
        let third_id = id_in(&page.body, "third")?;
        let proposed = browser
            .post(&format!("/staff/{third_id}/propose-reset"), &[("csrf", &page.csrf()?)])
            .await?;
        assert_eq!(proposed.status, 303, "{}", proposed.body);
        let own = browser
            .post(&format!("/staff/{third_id}/approve-reset"), &[("csrf", &page.csrf()?)])
            .await?;
        assert_eq!(own.status, 403, "{}", own.body);
        let mut third_browser = ConsoleBrowser::new(&console)?;
        let still = third_browser.password_step("third", STAFF_PASSWORD).await?;
        assert!(
            still.body.contains("Second factor"),
            "third keeps two-factor until approved: {}",
            still.body
        );

        let mut second_browser = ConsoleBrowser::new(&console)?;
        second_browser.sign_in(&mut second).await?;
        let page = second_browser.get("/staff").await?;
        assert!(page.body.contains("reset proposed by root"), "{}", page.body);
        let approved = second_browser
            .post(&format!("/staff/{third_id}/approve-reset"), &[("csrf", &page.csrf()?)])
            .await?;
        assert_eq!(approved.status, 303, "{}", approved.body);
        let reset = third_browser.password_step("third", STAFF_PASSWORD).await?;
        assert_eq!(reset.status, 403, "third has no second factor now: {}", reset.body);
        drop(third);

        // Disable: not oneself; olive loses the console at once.
        let page = browser.get("/staff").await?;
        let root_id = app
            .store
            .find_user_by_login("root")
            .await?
            .ok_or_else(|| anyhow::anyhow!("no root"))?
            .id;
        let myself = browser
            .post(&format!("/staff/{root_id}/disable"), &[("csrf", &page.csrf()?)])
            .await?;
        assert_eq!(myself.status, 409, "{}", myself.body);
        let olive_id = id_in(&page.body, "olive")?;
        let disabled = browser
            .post(&format!("/staff/{olive_id}/disable"), &[("csrf", &page.csrf()?)])
            .await?;
        assert_eq!(disabled.status, 303, "{}", disabled.body);
        let gone = olive_browser.get("/requests").await?;
        assert!(
            gone.status == 303 || gone.status == 403,
            "olive is out: {} {}",
            gone.status,
            gone.body
        );

        for (action, n) in [
            ("console.staff_granted", 1),
            ("console.totp_reset_proposed", 1),
            ("console.totp_reset_approved", 1),
            ("console.staff_disabled", 1),
        ] {
            assert_eq!(platform_count(&app, action).await?, n, "{action}");
        }
        console.stop().await?;
        Ok(())
    }
);
