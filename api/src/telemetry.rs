//! Logging and tracing setup: `tracing` with an env-style filter, as text or JSON lines (colours only on a
//! terminal), and, when `telemetry.otlp_endpoint` is set, every span exported over OTLP/HTTP as well
//! ([`otlp`]).
//!
//! Rules:
//! - Without an endpoint nothing changes: the same log lines, no exporter, no thread.
//! - The spans are the ones the logs already carry (`request`, `websocket`, `job`, `relay_pass`, the use cases'
//!   and the sweeps'), so what a trace shows is what a log line names; their fields never hold a token or a
//!   secret (the access log's rule, `http/access_log.rs`).
//! - The caller keeps the [`Telemetry`] and calls [`Telemetry::shutdown`] before exiting, which sends the
//!   spans still buffered.

pub mod otlp;

use std::io::IsTerminal as _;

use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::{LogSettings, TelemetrySettings};

/// What [`init`] started; [`Telemetry::shutdown`] flushes it.
#[derive(Debug, Default)]
#[must_use = "keep it and call shutdown() before exiting, or buffered spans are lost"]
pub struct Telemetry {
    exporter: Option<otlp::Exporter>,
}

impl Telemetry {
    /// Whether spans are being exported.
    pub fn exporting(&self) -> bool {
        self.exporter.is_some()
    }

    /// Sends the spans still buffered and stops the exporter (a no-op without one). Blocks for at most the
    /// exporter's timeout, on a blocking thread.
    pub async fn shutdown(self) {
        if let Some(exporter) = self.exporter {
            let flushed = tokio::task::spawn_blocking(move || exporter.shutdown()).await;
            if let Err(error) = flushed {
                tracing::warn!(%error, "flushing spans failed");
            }
        }
    }
}

/// Installs the global subscriber: the log lines, and the OTLP export when `telemetry` names an endpoint. A
/// second call installs nothing (the first subscriber stays) and exports nothing.
pub fn init(log: &LogSettings, telemetry: &TelemetrySettings) -> Telemetry {
    let filter = tracing_subscriber::EnvFilter::try_new(&log.filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::stdout().is_terminal();
    let lines = if log.format == "json" {
        tracing_subscriber::fmt::layer().json().with_target(false).boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_ansi(ansi)
            .boxed()
    };
    let (exporter, spans) = match otlp::start(telemetry) {
        Ok(Some((exporter, layer))) => (Some(exporter), Some(layer)),
        Ok(None) => (None, None),
        Err(error) => {
            // Logging is not up yet: say it on stderr, and serve without the export rather than not at all.
            #[expect(clippy::print_stderr, reason = "the subscriber that would log it is being set up")]
            {
                eprintln!("tgos: spans are not exported: {error}");
            }
            (None, None)
        }
    };
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(lines)
        .with(spans)
        .try_init()
        .is_ok();
    match exporter {
        Some(exporter) if installed => {
            tracing::info!(
                service = %telemetry.service_name,
                "exporting spans over OTLP/HTTP to {}",
                exporter.endpoint()
            );
            Telemetry {
                exporter: Some(exporter),
            }
        }
        Some(exporter) => {
            exporter.shutdown();
            Telemetry::default()
        }
        None => Telemetry::default(),
    }
}
