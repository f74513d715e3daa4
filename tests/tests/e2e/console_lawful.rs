//! The lawful requests register's pages over HTTP, on both databases: registration, an approval refused to the
//! registrar and given by a second staff member, the package built and downloaded, the delivery recorded; each
//! step and view audited, and a form without its token refused.

use tgos_tests::console::ConsoleBrowser;
use tgos_tests::{TestOptions, backend_tests};

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
            format!("SELECT COUNT(*) AS n FROM audit_log WHERE chain = 'platform' AND action = '{action}'"),
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count"))?;
    Ok(row.try_get::<i64>("", "n")?)
}

backend_tests!(
    a_lawful_request_is_registered_approved_by_another_packaged_and_delivered,
    options = quiet(),
    |app| {
        let console = app.start_console().await?;
        let mut root = app.create_staff("root", None).await?;
        let mut second = app.create_staff("second", Some(&mut root)).await?;
        let dora = app.sign_up("dora").await?;
        let id = app
            .gql(Some(&dora), "{ me { user { id } } }", serde_json::json!({}))
            .await?
            .str_at("/data/me/user/id")?;
        let mut browser = ConsoleBrowser::new(&console)?;
        browser.sign_in(&mut root).await?;

        let page = browser.get("/lawful").await?;
        assert_eq!(page.status, 200, "{}", page.body);
        let today = chrono::Utc::now().date_naive();
        let form = |csrf: String| {
            vec![
                ("csrf", csrf),
                ("authority", "District Court".to_owned()),
                ("reference", "DC-2026-117".to_owned()),
                ("legal_basis", "Production order under section 12".to_owned()),
                ("received_on", today.to_string()),
                ("due_on", (today + chrono::Duration::days(14)).to_string()),
                ("users", id.clone()),
                ("categories", "PROFILE, SESSIONS".to_owned()),
                ("from", (today - chrono::Duration::days(30)).to_string()),
                ("to", (today + chrono::Duration::days(1)).to_string()),
            ]
        };
        let pairs = |fields: &Vec<(&'static str, String)>| -> Vec<(&'static str, String)> { fields.clone() };
        let without = pairs(&form(String::new()));
        let refs: Vec<(&str, &str)> = without.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            browser.post("/lawful", &refs).await?.status,
            403,
            "no token, nothing registered"
        );
        let with = pairs(&form(page.csrf()?));
        let refs: Vec<(&str, &str)> = with.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let registered = browser.post("/lawful", &refs).await?;
        assert_eq!(registered.status, 303, "{}", registered.body);
        let location = registered.location.clone().unwrap_or_default();

        // The registrar cannot approve it.
        let shown = browser.get(&location).await?;
        assert!(
            shown.body.contains("DC-2026-117") && shown.body.contains("REGISTERED"),
            "{}",
            shown.body
        );
        let own = browser
            .post(&format!("{location}/approve"), &[("csrf", &shown.csrf()?)])
            .await?;
        assert_eq!(own.status, 403, "{}", own.body);
        let early = browser
            .post(&format!("{location}/package"), &[("csrf", &shown.csrf()?)])
            .await?;
        assert_eq!(early.status, 409, "no package before the approval: {}", early.body);

        // A second staff member approves; the package is built, downloaded and delivered.
        let mut other = ConsoleBrowser::new(&console)?;
        other.sign_in(&mut second).await?;
        let shown = other.get(&location).await?;
        let approved = other
            .post(&format!("{location}/approve"), &[("csrf", &shown.csrf()?)])
            .await?;
        assert_eq!(approved.status, 303, "{}", approved.body);
        let built = browser
            .post(&format!("{location}/package"), &[("csrf", &shown.csrf()?)])
            .await;
        assert_eq!(built?.status, 403, "another session's token is refused");
        let mine = browser.get(&location).await?;
        let built = browser
            .post(&format!("{location}/package"), &[("csrf", &mine.csrf()?)])
            .await?;
        assert_eq!(built.status, 303, "{}", built.body);
        let zip = browser.get(&format!("{location}/package.zip")).await?;
        assert_eq!(zip.status, 200);
        assert!(zip.body.as_bytes().starts_with(b"PK"), "a zip archive");
        let mine = browser.get(&location).await?;
        let delivered = browser
            .post(
                &format!("{location}/deliver"),
                &[("csrf", &mine.csrf()?), ("note", "the court's portal")],
            )
            .await?;
        assert_eq!(delivered.status, 303, "{}", delivered.body);
        let done = browser.get(&location).await?;
        assert!(
            done.body.contains("DELIVERED") && done.body.contains("the court"),
            "{}",
            done.body
        );

        for action in [
            "lawful.registered",
            "lawful.approved",
            "lawful.packaged",
            "lawful.delivered",
        ] {
            assert_eq!(platform_count(&app, action).await?, 1, "{action}");
        }
        assert!(platform_count(&app, "console.viewed").await? >= 6);
        console.stop().await?;
        Ok(())
    }
);
