//! The console's retention and backups pages over HTTP, on both databases: the retention report changes
//! nothing and a run audits the staff member's request and the sweep's own summary; a form without its token
//! runs nothing; the backups page lists a backup made by the backup code path, with its age, and offers no
//! action. Each view is audited on the platform chain.

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait as _, Statement};
use serde_json::json;
use tgos_persistence::backup::Backups;
use tgos_tests::console::ConsoleBrowser;
use tgos_tests::{TestApp, backend_tests};

use super::console_pool::{quiet, staff_entries, statement};

/// How many platform entries of `action` there are, whoever wrote them.
async fn platform_count(app: &TestApp, action: &str) -> anyhow::Result<i64> {
    let db = app.db().await?;
    let sql = "SELECT COUNT(*) AS n FROM audit_log WHERE chain = 'platform' AND action = $1";
    let row = db
        .query_one_raw(statement(db.get_database_backend(), sql, vec![action.into()]))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count"))?;
    Ok(row.try_get::<i64>("", "n")?)
}

/// The lockout counter the retention test planted, still there or not.
async fn old_throttles(app: &TestApp) -> anyhow::Result<i64> {
    let db = app.db().await?;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM auth_throttles WHERE key = 'login:long-ago'",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count"))?;
    Ok(row.try_get::<i64>("", "n")?)
}

backend_tests!(
    staff_see_the_retention_report_and_a_run_audits_the_request_and_its_summary,
    options = quiet(),
    |app| {
        let db = app.db().await?;
        db.execute_unprepared(
            "INSERT INTO auth_throttles (key, failures, lock_count, locked_until, updated_at) VALUES \
             ('login:long-ago', 1, 0, NULL, '2020-01-01 00:00:00+00:00')",
        )
        .await?;
        let console = app.start_console().await?;
        let mut root = app.create_staff("root", None).await?;
        let mut browser = ConsoleBrowser::new(&console)?;
        browser.sign_in(&mut root).await?;

        let report = browser.get("/retention").await?;
        assert_eq!(report.status, 200, "{}", report.body);
        assert!(
            report.body.contains("stale_throttles</td><td>1</td>"),
            "{}",
            report.body
        );
        assert!(
            report.body.contains("workspace_erasure") || report.body.contains("data_keys"),
            "other classes"
        );
        assert_eq!(old_throttles(&app).await?, 1, "a report changes nothing");
        assert_eq!(platform_count(&app, "retention.swept").await?, 0);

        let forged = browser.post("/retention/run", &[("csrf", "")]).await?;
        assert_eq!(forged.status, 403, "{}", forged.body);
        assert_eq!(old_throttles(&app).await?, 1);

        let ran = browser.post("/retention/run", &[("csrf", &report.csrf()?)]).await?;
        assert_eq!(ran.status, 200, "{}", ran.body);
        assert!(ran.body.contains("The sweep ran"), "{}", ran.body);
        assert!(ran.body.contains("stale_throttles</td><td>1</td>"), "{}", ran.body);
        assert_eq!(old_throttles(&app).await?, 0, "the run deleted it");
        let requests = staff_entries(&app, "console.retention_run").await?;
        assert_eq!(requests.len(), 1, "{requests:?}");
        assert_eq!(requests[0]["expiredCredentialsDays"], json!(7));
        assert_eq!(
            platform_count(&app, "retention.swept").await?,
            1,
            "the sweep's own summary"
        );
        let views = staff_entries(&app, "console.viewed").await?;
        assert!(views.iter().any(|m| m["page"] == "retention"), "{views:?}");
        console.stop().await?;
        Ok(())
    }
);

backend_tests!(staff_see_the_backups_with_their_age, options = quiet(), |app| {
    let console = app.start_console().await?;
    let mut root = app.create_staff("root", None).await?;
    let mut browser = ConsoleBrowser::new(&console)?;
    browser.sign_in(&mut root).await?;
    let none = browser.get("/backups").await?;
    assert_eq!(none.status, 200, "{}", none.body);
    assert!(none.body.contains("No backups yet."), "{}", none.body);
    assert!(
        none.body.contains("tgos-console backup create"),
        "creating stays a command"
    );

    // A backup made by the backup code path, into the directory the console reads by default.
    let backups = Backups::new(app.data_dir.path().join("backups"));
    let live = app.console_store().await?;
    let url = app
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", app.data_dir.path().join("tgos.db").display()));
    let manifest = backups
        .create(live.connection(), &url, Utc::now() - Duration::days(2))
        .await?;
    let listed = browser.get("/backups").await?;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert!(listed.body.contains(&manifest.name), "{}", listed.body);
    assert!(listed.body.contains("2 days"), "its age: {}", listed.body);
    assert!(
        !listed.body.contains("<form class=\"action\""),
        "read only: {}",
        listed.body
    );
    let views = staff_entries(&app, "console.viewed").await?;
    assert_eq!(views.iter().filter(|m| m["page"] == "backups").count(), 2, "{views:?}");
    console.stop().await?;
    Ok(())
});
