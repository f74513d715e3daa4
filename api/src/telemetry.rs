//! Logging setup: `tracing` with an env-style filter, as text or JSON lines. Colours only on a terminal.

use std::io::IsTerminal as _;

use crate::config::LogSettings;

/// Installs the global subscriber; a second call is a no-op.
pub fn init(settings: &LogSettings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal());
    let _already_set = if settings.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
