//! The emails a test server wrote with the file mailer, read the way a person would: decoded, newest first.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use serde_json::json;
use std::sync::Arc;
use tgos_domain::clock::SystemClock;
use tgos_domain::jobs::JobWorker;

use crate::app::TestApp;

/// How long a test waits for a queued email to be sent.
const PATIENCE: Duration = Duration::from_secs(20);

/// The file mailer's directory of a test server.
#[derive(Debug, Clone)]
pub struct Mailbox {
    dir: PathBuf,
}

/// Undoes quoted-printable encoding (soft line breaks and `=XX` escapes); other text passes unchanged.
pub fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..(i + 3).min(bytes.len())]).ok())
            .flatten()
            .filter(|hex| hex.len() == 2 && hex.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Mailbox {
    pub fn at(dir: &Path) -> Self {
        Self { dir: dir.to_owned() }
    }

    /// Every email to `to` whose decoded text contains `containing`, oldest first.
    pub fn all(&self, to: &str, containing: &str) -> anyhow::Result<Vec<String>> {
        let mut found: Vec<(SystemTime, String)> = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Ok(Vec::new());
        };
        for entry in entries {
            let entry = entry?;
            let text = decode_quoted_printable(&std::fs::read_to_string(entry.path())?);
            if text.contains(&format!("To: {to}")) && text.contains(containing) {
                found.push((entry.metadata()?.modified()?, text));
            }
        }
        found.sort_by_key(|(at, _)| *at);
        Ok(found.into_iter().map(|(_, text)| text).collect())
    }

    /// Waits for an email to `to` containing `containing`; the newest such.
    pub async fn wait_for(&self, to: &str, containing: &str) -> anyhow::Result<String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(text) = self.all(to, containing)?.pop() {
                return Ok(text);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "no email to {to} containing {containing:?} within {PATIENCE:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// The token of a link `…/<path>?token=<token>` in an email's text.
pub fn link_token(text: &str, path: &str) -> anyhow::Result<String> {
    let marker = format!("{path}?token=");
    let start = text.find(&marker).context("the email holds no such link")? + marker.len();
    Ok(text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect())
}

impl TestApp {
    pub fn mailbox(&self) -> Mailbox {
        Mailbox::at(&self.data_dir.path().join("mail"))
    }

    /// Sends the notices that are due now with a worker of the test's own (the server's worker may be off,
    /// or sleeping until its next poll); claims are exclusive, so nothing is sent twice.
    pub async fn send_notices_now(&self) -> anyhow::Result<usize> {
        let mut worker = JobWorker::new(Arc::clone(&self.store), Arc::new(SystemClock), "test-notices");
        for handler in &self.job_handlers.0 {
            if handler.kinds().contains(&tgos_domain::notices::KIND) {
                worker = worker.with_handler(Arc::clone(handler));
            }
        }
        Ok(worker.run_once().await?)
    }

    /// Confirms `username@example.com` through the link sign-up sent.
    pub async fn verify_email_of(&self, username: &str) -> anyhow::Result<()> {
        let email = format!("{username}@example.com");
        self.send_notices_now().await?;
        let mail = self.mailbox().wait_for(&email, "verify-email?token=").await?;
        let token = link_token(&mail, "verify-email")?;
        let response = self
            .gql(
                None,
                "mutation($t: String!) { verifyEmail(token: $t) { emailVerified } }",
                json!({ "t": token }),
            )
            .await?;
        anyhow::ensure!(
            response.at("/data/verifyEmail/emailVerified")? == &json!(true),
            "verifyEmail failed: {}",
            response.body
        );
        Ok(())
    }
}
