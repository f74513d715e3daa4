//! GraphiQL in a real browser: headless Chromium, driven by chromedriver over the W3C WebDriver HTTP API,
//! opens `/graphql`, sees the editor and the schema's docs, runs a query and sees its result, with the page's
//! `default-src 'self'` policy in force and nothing blocked by it.
//!
//! Skipped (and says so) when `chromium` or `chromedriver` is not installed; `TGOS_REQUIRE_CHROMIUM=1` makes
//! their absence a failure (CI sets it).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};
use tgos_tests::{Backend, TestOptions};

const CHROMIUM: &[&str] = &[
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
];
const CHROMEDRIVER: &[&str] = &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"];
const PATIENCE: Duration = Duration::from_secs(60);

#[expect(
    clippy::disallowed_methods,
    reason = "the test harness reads its own switches from the environment"
)]
fn chromium_required() -> bool {
    std::env::var("TGOS_REQUIRE_CHROMIUM").as_deref() == Ok("1")
}

fn first_existing(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|path| path.is_file())
}

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _killed = self.child.kill();
        let _reaped = self.child.wait();
    }
}

impl Driver {
    async fn start(chromedriver: &PathBuf) -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start chromedriver")?;
        let driver = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let started = Instant::now();
        loop {
            let ready = driver.http.get(format!("{}/status", driver.base)).send().await;
            if let Ok(response) = ready
                && let Ok(status) = response.json::<Value>().await
                && status.pointer("/value/ready") == Some(&Value::Bool(true))
            {
                return Ok(driver);
            }
            anyhow::ensure!(started.elapsed() < PATIENCE, "chromedriver did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// One WebDriver command; the answer's `value`, or the WebDriver error as an error.
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
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
    driver: &'d Driver,
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
    let (Some(chromium), Some(chromedriver)) = (first_existing(CHROMIUM), first_existing(CHROMEDRIVER)) else {
        anyhow::ensure!(
            !chromium_required(),
            "TGOS_REQUIRE_CHROMIUM=1 but chromium or chromedriver is missing (apt-get install -y chromium chromium-driver)"
        );
        eprintln!(
            "SKIPPED (browser): chromium or chromedriver is not installed; `apt-get install -y chromium chromium-driver` \
             to run the GraphiQL browser test"
        );
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
