//! Headless Chromium for browser tests, driven by chromedriver through `fantoccini`.
//!
//! A test asks [`locate`] first: without `chromium` and `chromedriver` it is skipped and says so, unless
//! `TGOS_REQUIRE_CHROMIUM=1` (CI) makes their absence a failure.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

const CHROMIUM: &[&str] = &[
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
];
const CHROMEDRIVER: &[&str] = &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"];
/// How long the browser and pages get.
pub const PATIENCE: Duration = Duration::from_secs(60);

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

/// The browser and its driver, or `None` when the test is to be skipped (it printed why); an error when
/// they are required and missing.
pub fn locate(test: &str) -> anyhow::Result<Option<(PathBuf, PathBuf)>> {
    match (first_existing(CHROMIUM), first_existing(CHROMEDRIVER)) {
        (Some(chromium), Some(driver)) => Ok(Some((chromium, driver))),
        _ => {
            anyhow::ensure!(
                !chromium_required(),
                "TGOS_REQUIRE_CHROMIUM=1 but chromium or chromedriver is missing (apt-get install -y chromium \
                 chromium-driver)"
            );
            eprintln!(
                "SKIPPED (browser): chromium or chromedriver is not installed; `apt-get install -y chromium \
                 chromium-driver` to run {test}"
            );
            Ok(None)
        }
    }
}

/// chromedriver on a free port, killed when dropped.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _killed = self.child.kill();
        let _reaped = self.child.wait();
    }
}

impl Driver {
    pub async fn start(chromedriver: &PathBuf) -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start chromedriver")?;
        let driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(response) = http.get(format!("{}/status", driver.url)).send().await
                && let Ok(status) = response.json::<serde_json::Value>().await
                && status.pointer("/value/ready") == Some(&serde_json::Value::Bool(true))
            {
                return Ok(driver);
            }
            anyhow::ensure!(started.elapsed() < PATIENCE, "chromedriver did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A headless Chromium session with its own profile directory and a laptop-sized window.
    pub async fn open(&self, chromium: &PathBuf, profile: &std::path::Path) -> anyhow::Result<Client> {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_owned(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,900", "--hide-scrollbars", format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .context("cannot open a Chromium session")?;
        Ok(client)
    }
}
