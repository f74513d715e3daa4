//! The NATS server tests of many replicas share (the machine's, or `TGOS_TEST_NATS_URL`), and a subject prefix
//! of each test's own so tests never see each other's events.
//!
//! Without a reachable server the tests that need one print that they were skipped; `TGOS_REQUIRE_NATS=1`
//! (CI) makes that a failure.

use std::time::Duration;

/// The NATS server a test may use, `None` when the test is to be skipped (after saying so).
pub async fn nats_url(test: &str) -> anyhow::Result<Option<String>> {
    let url = env("TGOS_TEST_NATS_URL").unwrap_or_else(|| "nats://127.0.0.1:4222".to_owned());
    let address = url.trim_start_matches("nats://").to_owned();
    let reachable = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(&address))
        .await
        .is_ok_and(|connected| connected.is_ok());
    if reachable {
        return Ok(Some(url));
    }
    if env("TGOS_REQUIRE_NATS").as_deref() == Some("1") {
        anyhow::bail!("TGOS_REQUIRE_NATS=1 but no NATS server answers at {url}");
    }
    eprintln!(
        "SKIPPED (NATS) {test}: no NATS server answers at {url}; set TGOS_TEST_NATS_URL or start nats-server -js"
    );
    Ok(None)
}

/// A subject prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("tgos_test_{}", uuid::Uuid::now_v7().simple())
}

#[expect(
    clippy::disallowed_methods,
    reason = "the test harness reads its own switches from the environment"
)]
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
