//! The staff console in headless Chromium: a staff member signs in with TOTP, works an emailed export
//! request from intake to completion, proposes an erasure that a second staff member approves; the main pages
//! are photographed along the way.
//!
//! Skipped (and says so) without `chromium` and `chromedriver`; `TGOS_REQUIRE_CHROMIUM=1` (CI) requires them.
//! Screenshots go to a temporary directory, or to `TGOS_CONSOLE_SCREENSHOTS` when set (how the pictures in
//! `docs/console/` are made: `TGOS_CONSOLE_SCREENSHOTS=$PWD/docs/console cargo nextest run -p tgos-tests -E
//! 'test(console_browser)'`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use fantoccini::{Client, Locator};
use tgos_tests::browser::{Driver, PATIENCE, locate};
use tgos_tests::console::{STAFF_PASSWORD, StaffAccount};
use tgos_tests::{Backend, TestOptions, totp};

#[expect(
    clippy::disallowed_methods,
    reason = "the test harness reads its own switches from the environment"
)]
fn screenshots_dir() -> Option<PathBuf> {
    std::env::var_os("TGOS_CONSOLE_SCREENSHOTS").map(PathBuf::from)
}

/// Waits until the page's text contains `text`; the text.
async fn wait_for_text(browser: &Client, text: &str) -> anyhow::Result<String> {
    let started = Instant::now();
    loop {
        // The page may change under the read (a form just submitted): read again.
        let shown = match browser.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if shown.contains(text) {
            return Ok(shown);
        }
        anyhow::ensure!(
            started.elapsed() < PATIENCE,
            "waited for {text:?}; the page shows: {}",
            shown.chars().take(2000).collect::<String>()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn fill(browser: &Client, css: &str, value: &str) -> anyhow::Result<()> {
    let field = browser
        .find(Locator::Css(css))
        .await
        .with_context(|| format!("no field {css}"))?;
    field.clear().await?;
    field.send_keys(value).await?;
    Ok(())
}

async fn click(browser: &Client, css: &str) -> anyhow::Result<()> {
    browser
        .find(Locator::Css(css))
        .await
        .with_context(|| format!("nothing to click at {css}"))?
        .click()
        .await?;
    Ok(())
}

/// Saves the page as `name`.png in `dir`, and checks it is a picture.
async fn photograph(browser: &Client, dir: &Path, name: &str) -> anyhow::Result<()> {
    let png = browser.screenshot().await?;
    anyhow::ensure!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: not a PNG");
    std::fs::write(dir.join(format!("{name}.png")), png)?;
    Ok(())
}

/// Signs `staff` in through the pages with a TOTP code `step` steps from now.
async fn sign_in(browser: &Client, base: &str, staff: &StaffAccount, step: i64) -> anyhow::Result<()> {
    browser.goto(&format!("{base}/login")).await?;
    fill(browser, "#login", &staff.username).await?;
    fill(browser, "#password", STAFF_PASSWORD).await?;
    click(browser, "form button[type=submit]").await?;
    wait_for_text(browser, "Second factor").await?;
    fill(browser, "#code", &totp::code(&staff.secret, step)?).await?;
    click(browser, "form button[type=submit]").await?;
    wait_for_text(browser, "Data-subject requests").await?;
    Ok(())
}

/// Registers an emailed request through the form; the request page's URL.
async fn register(browser: &Client, base: &str, email: &str, kind: &str, details: &str) -> anyhow::Result<String> {
    browser.goto(&format!("{base}/requests/new")).await?;
    fill(browser, "#email", email).await?;
    browser
        .find(Locator::Css(&format!("#kind option[value={kind}]")))
        .await?
        .click()
        .await?;
    fill(browser, "#details", details).await?;
    click(browser, "form.action button[type=submit]").await?;
    wait_for_text(browser, &format!("{kind} request")).await?;
    Ok(browser.current_url().await?.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_work_requests_in_chromium() -> anyhow::Result<()> {
    let Some((chromium, chromedriver)) = locate("the console's browser test")? else {
        return Ok(());
    };
    let options = TestOptions {
        workers: false,
        ..TestOptions::default()
    };
    Backend::Sqlite
        .run(options, move |app| async move {
            let temporary = tempfile::tempdir()?;
            let shots = screenshots_dir().unwrap_or_else(|| temporary.path().to_owned());
            std::fs::create_dir_all(&shots)?;
            let mut root = app.create_staff("root", None).await?;
            let second = app.create_staff("second", Some(&mut root)).await?;
            app.sign_up("dora").await?;
            app.sign_up("erin").await?;
            let console = app.start_console().await?;
            let base = format!("http://{}", console.addr);
            let driver = Driver::start(&chromedriver).await?;
            let profile = tempfile::tempdir()?;
            let browser = driver.open(&chromium, profile.path()).await?;

            // Sign in with TOTP (the creation spent this step's code: the next one).
            browser.goto(&format!("{base}/login")).await?;
            wait_for_text(&browser, "Staff sign-in").await?;
            photograph(&browser, &shots, "sign-in").await?;
            sign_in(&browser, &base, &root, 1).await?;

            // An emailed export request, from intake to completion.
            let export = register(&browser, &base, "dora@example.com", "EXPORT", "Please send me my data.").await?;
            fill(&browser, "#method", "replied from the account's address").await?;
            click(&browser, "form[action$='/verify'] button").await?;
            wait_for_text(&browser, "IN_PROGRESS").await?;
            click(&browser, "form[action$='/export'] button").await?;
            wait_for_text(&browser, "IN_PROGRESS").await?;
            assert_eq!(app.run_jobs_now(&["export.build"]).await?, 1, "the export was built");
            browser.goto(&export).await?;
            let done = wait_for_text(&browser, "COMPLETED").await?;
            assert!(done.contains("downloadable by the subject until"), "{done}");
            photograph(&browser, &shots, "request-completed").await?;

            // A deletion request: proposed by one staff member, approved by another.
            let deletion = register(&browser, &base, "erin@example.com", "DELETION", "Delete my account.").await?;
            fill(&browser, "#method", "video call with ID").await?;
            click(&browser, "form[action$='/verify'] button").await?;
            wait_for_text(&browser, "Propose erasure").await?;
            click(&browser, "form[action$='/propose-erasure'] button").await?;
            let proposed = wait_for_text(&browser, "Erasure proposed").await?;
            assert!(
                !proposed.contains("Approve erasure"),
                "the proposer is not offered the approval"
            );
            browser.goto(&format!("{base}/requests?status=ALL")).await?;
            wait_for_text(&browser, "erin@example.com").await?;
            photograph(&browser, &shots, "requests-queue").await?;
            click(&browser, "header form button").await?;
            wait_for_text(&browser, "Staff sign-in").await?;

            sign_in(&browser, &base, &second, 1).await?;
            browser.goto(&deletion).await?;
            wait_for_text(&browser, "Approve the erasure").await?;
            photograph(&browser, &shots, "erasure-approval").await?;
            click(&browser, "form[action$='/approve-erasure'] button").await?;
            let approved = wait_for_text(&browser, "Erasure approved").await?;
            assert!(approved.contains("by second"), "{approved}");
            assert_eq!(app.run_jobs_now(&["erasure.account"]).await?, 1, "the erasure ran");

            // The other main pages, photographed as staff see them.
            for (path, shows, name) in [
                ("/users?q=dora%40example.com", "@dora", "users"),
                ("/staff", "@root", "staff"),
                ("/lawful", "Lawful requests register", "lawful-requests"),
                ("/audit", "console.erasure_approved", "audit"),
                ("/pool", "Pool", "pool"),
                ("/retention", "Retention", "retention"),
            ] {
                browser.goto(&format!("{base}{path}")).await?;
                wait_for_text(&browser, shows).await?;
                photograph(&browser, &shots, name).await?;
            }

            browser.close().await?;
            console.stop().await?;
            Ok(())
        })
        .await
}
