//! GraphiQL in a real browser: headless Chromium, driven by chromedriver over the W3C WebDriver HTTP API,
//! opens `/graphql`, sees the editor and the schema's docs, runs a query and sees its result, with the page's
//! `default-src 'self'` policy in force and nothing blocked by it.
//!
//! Skipped (and says so) when `chromium` or `chromedriver` is not installed; `TGOS_REQUIRE_CHROMIUM=1` makes
//! their absence a failure (CI sets it).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};
use tgos_tests::browser::{Driver, PATIENCE, locate};
use tgos_tests::{Backend, TestOptions};

/// WebDriver commands over plain HTTP, for what `fantoccini` does not offer (the browser's console log).
struct Raw<'d> {
    driver: &'d Driver,
    http: reqwest::Client,
}

impl Raw<'_> {
    /// One WebDriver command; the answer's `value`, or the WebDriver error as an error.
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.driver.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let status_and_body = request.send().await?;
        let status = status_and_body.status();
        let answer: Value = status_and_body.json().await?;
        anyhow::ensure!(status.is_success(), "WebDriver {path} answered {status}: {answer}");
        Ok(answer.get("value").cloned().unwrap_or(Value::Null))
    }
}

/// A browser session, deleted when the test ends well (the driver's exit ends it otherwise).
struct Session<'d> {
    driver: Raw<'d>,
    id: String,
}

impl<'d> Session<'d> {
    async fn open(driver: &'d Driver, chromium: &PathBuf, profile: &std::path::Path) -> anyhow::Result<Self> {
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1400,900", format!("--user-data-dir={}", profile.display()),
                ],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        }}});
        let driver = Raw {
            driver,
            http: reqwest::Client::new(),
        };
        let value = driver
            .command(reqwest::Method::POST, "/session", Some(capabilities))
            .await?;
        let id = value
            .get("sessionId")
            .and_then(Value::as_str)
            .context("no session id")?
            .to_owned();
        Ok(Self { driver, id })
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.driver
            .command(
                reqwest::Method::POST,
                &format!("/session/{}{path}", self.id),
                Some(body),
            )
            .await
    }

    async fn script(&self, script: &str) -> anyhow::Result<Value> {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    /// Polls `script` until it returns a non-empty string, and returns that.
    async fn wait_for(&self, what: &str, script: &str) -> anyhow::Result<String> {
        let started = Instant::now();
        loop {
            if let Some(text) = self.script(script).await?.as_str().filter(|t| !t.is_empty()) {
                return Ok(text.to_owned());
            }
            if started.elapsed() > PATIENCE {
                let body = self.script("return document.body.innerText.slice(0, 2000);").await?;
                anyhow::bail!("waited {PATIENCE:?} for {what}; the page shows: {body}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn click(&self, css: &str) -> anyhow::Result<()> {
        let element = self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await?;
        let id = element
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .with_context(|| format!("no element {css}"))?
            .to_owned();
        self.post(&format!("/element/{id}/click"), json!({})).await?;
        Ok(())
    }

    /// The browser console's messages so far (chromedriver's log endpoint).
    async fn console(&self) -> anyhow::Result<Vec<String>> {
        let entries = self.post("/se/log", json!({ "type": "browser" })).await?;
        Ok(entries
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|e| e.get("message").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn close(self) -> anyhow::Result<()> {
        self.driver
            .command(reqwest::Method::DELETE, &format!("/session/{}", self.id), None)
            .await?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_shows_the_editor_and_the_docs_and_runs_a_query_in_chromium() -> anyhow::Result<()> {
    let Some((chromium, chromedriver)) = locate("the GraphiQL browser test")? else {
        return Ok(());
    };
    // The default limits: GraphiQL's own introspection query must pass them (introspection is measured apart
    // from data depth and cost).
    let options = TestOptions::default();
    Backend::Sqlite
        .run(options, move |app| async move {
            let driver = Driver::start(&chromedriver).await?;
            let profile = tempfile::tempdir()?;
            let session = Session::open(&driver, &chromium, profile.path()).await?;
            session.post("/url", json!({ "url": app.url("/graphql") })).await?;

            // The editor.
            session
                .wait_for(
                    "the query editor",
                    "const e = document.querySelector('.graphiql-query-editor .CodeMirror');
                     return e ? 'editor' : '';",
                )
                .await?;

            // The schema's docs: the explorer lists the root types once the schema has loaded.
            session
                .click("button[aria-label='Show Documentation Explorer']")
                .await?;
            let docs = session
                .wait_for(
                    "the documentation explorer with the schema",
                    "const d = document.querySelector('.graphiql-doc-explorer');
                     return d && d.innerText.includes('Mutation') ? d.innerText : '';",
                )
                .await?;
            assert!(docs.contains("Query"), "the docs show the root types: {docs}");
            session
                .click(".graphiql-doc-explorer a.graphiql-doc-explorer-type-name")
                .await?;
            let query_type = session
                .wait_for(
                    "the Query type's fields",
                    "const d = document.querySelector('.graphiql-doc-explorer');
                     return d && d.innerText.includes('Viewer!') ? d.innerText : '';",
                )
                .await?;
            assert!(
                query_type.contains("me"),
                "the Query type's `me: Viewer!`: {query_type}"
            );

            // A query, run with the execute button, and its result.
            session
                .script(
                    "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
                       .setValue('{ __typename }');",
                )
                .await?;
            session.click("button.graphiql-execute-button").await?;
            let result = session
                .wait_for(
                    "the query's result",
                    "const r = document.querySelector('.graphiql-response .CodeMirror');
                     const text = r ? r.CodeMirror.getValue() : '';
                     return text.includes('__typename') ? text : '';",
                )
                .await?;
            let result: Value = serde_json::from_str(&result).with_context(|| format!("result is JSON: {result}"))?;
            assert_eq!(result["data"], json!({ "__typename": "Query" }), "{result}");
            assert!(
                result["extensions"]["cost"].is_number(),
                "every response says its cost: {result}"
            );

            // Nothing was refused by the page's policy nor failed to load (but the browser's own guess at a
            // favicon, which the server does not have).
            let console = session.console().await?;
            let blocked: Vec<_> = console
                .iter()
                .filter(|m| m.contains("Content Security Policy") || m.contains("Failed to load"))
                .filter(|m| !m.contains("/favicon.ico"))
                .collect();
            assert!(
                blocked.is_empty(),
                "the browser refused or missed something: {blocked:#?}"
            );
            session.close().await?;
            Ok(())
        })
        .await
}
